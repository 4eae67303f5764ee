package dev.tandem.runtime.connection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Tandem's Dataverse solution file: the zip {@code ImportSolution} takes, packed from the manifest
 * ({@code solution.xml}), the customizations ({@code customizations.xml}: change tracking, alternate keys, the
 * integration roles) and {@code [Content_Types].xml} kept as text in the runtime jar. Dataverse refuses a file
 * without all three at its root.
 */
public final class TandemSolution {

  /** The solution's unique name. */
  public static final String UNIQUE_NAME = ConnectionChecks.SOLUTION;

  private static final String FOLDER = "/dev/tandem/runtime/connection/solution/";
  private static final List<String> FILES = List.of("[Content_Types].xml", "solution.xml", "customizations.xml");

  private TandemSolution() {}

  /** @return the solution file's bytes (the same for the same jar: entries carry a fixed time) */
  public static byte[] zip() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (String name : FILES) {
        try (InputStream in = TandemSolution.class.getResourceAsStream(FOLDER + name)) {
          if (in == null) {
            throw new IllegalStateException("the solution's " + name + " is missing from the runtime jar");
          }
          ZipEntry e = new ZipEntry(name);
          e.setTime(0L);
          zip.putNextEntry(e);
          in.transferTo(zip);
          zip.closeEntry();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
