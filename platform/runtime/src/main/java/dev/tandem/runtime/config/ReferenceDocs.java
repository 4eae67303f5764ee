package dev.tandem.runtime.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The generated parts of the reference pages (docs/operations.md): each sits between
 * {@code <!-- BEGIN GENERATED: name -->} and {@code <!-- END GENERATED: name -->} and is rendered from a declaration
 * (the runtime's {@link ConfigDef}, a plugin's settings). A test compares them; run it with
 * {@code -Dtandem.docs.update=true} and it writes the rendered text instead.
 */
public final class ReferenceDocs {

  /** The system property that makes {@link #check} write the block instead of comparing it. */
  public static final String UPDATE_PROPERTY = "tandem.docs.update";

  private ReferenceDocs() {}

  /**
   * @param page the page, relative to the repository root, e.g. {@code docs/operations.md}
   * @return the page, found from the working directory (a module's directory) upwards
   */
  public static Path find(String page) {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.isRegularFile(dir.resolve(page))) {
        return dir.resolve(page);
      }
      dir = dir.getParent();
    }
    throw new IllegalStateException(page + " not found above " + Path.of("").toAbsolutePath());
  }

  /**
   * Compares (or, with {@value #UPDATE_PROPERTY}, writes) one generated block.
   *
   * @param page the page
   * @param name the block's name
   * @param rendered what the declaration renders
   * @param regenerate the command that regenerates the block, for the message
   * @return null when the page holds the rendered text (or it was just written), else what differs and how to fix it
   * @throws IOException when the page cannot be read or written
   */
  public static String check(Path page, String name, String rendered, String regenerate) throws IOException {
    String begin = "<!-- BEGIN GENERATED: " + name + " -->\n";
    String end = "<!-- END GENERATED: " + name + " -->";
    String text = Files.readString(page);
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    if (b < 0 || e < b) {
      return page + " has no block '" + begin.trim() + "' … '" + end + "'";
    }
    String current = text.substring(b + begin.length(), e);
    if (current.equals(rendered)) {
      return null;
    }
    if (Boolean.getBoolean(UPDATE_PROPERTY)) {
      Files.writeString(page, text.substring(0, b + begin.length()) + rendered + text.substring(e));
      return null;
    }
    String[] want = rendered.split("\n", -1);
    String[] have = current.split("\n", -1);
    int line = 0;
    while (line < want.length && line < have.length && want[line].equals(have[line])) {
      line++;
    }
    return page + ": the block '" + name + "' differs from its declaration, first at its line " + (line + 1)
        + "\n  page:     " + (line < have.length ? have[line] : "(end)")
        + "\n  declared: " + (line < want.length ? want[line] : "(end)")
        + "\nThe declaration is the truth: regenerate the block with\n  " + regenerate;
  }
}
