package dev.tandem.runtime.store;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why one record failed: its kind, stage and message. A coupling keeps it in one column ({@link #encoded()},
 * "[STAGE] message", which is also what the job's record results show); the error log keeps the three apart, so
 * it can be filtered by kind and stage.
 *
 * @param kind the kind (per-record failures are {@link ErrorKind#DATA})
 * @param stage where it happened
 * @param message what happened, naming the record and field
 */
public record RecordFailure(ErrorKind kind, Stage stage, String message) {

  private static final Pattern ENCODED = Pattern.compile("^\\[([A-Z]+)\\] (.*)$", Pattern.DOTALL);

  /** @throws NullPointerException when a part is missing */
  public RecordFailure {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
  }

  /**
   * @param stage where
   * @param message what
   * @return the one-column form of a data error: "[STAGE] message"
   */
  public static String text(Stage stage, String message) {
    return new RecordFailure(ErrorKind.DATA, stage, message).encoded();
  }

  /** @return "[STAGE] message" */
  public String encoded() {
    return "[" + stage.name() + "] " + message;
  }

  /**
   * Reads the one-column form back. A text without a stage prefix is a note the engine found while reading (a
   * deletion the policy leaves alone).
   *
   * @param text what a coupling or an outcome holds
   * @return its parts
   */
  public static RecordFailure decode(String text) {
    Matcher m = ENCODED.matcher(text);
    if (m.matches()) {
      try {
        return new RecordFailure(ErrorKind.DATA, Stage.valueOf(m.group(1)), m.group(2));
      } catch (IllegalArgumentException notAStage) {
        // falls through: the brackets were part of the message
      }
    }
    return new RecordFailure(ErrorKind.DATA, Stage.READ, text);
  }
}
