package dev.tandem.runtime.store;

import dev.tandem.api.Direction;
import dev.tandem.api.JobKind;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A job to enqueue.
 *
 * @param kind kind
 * @param mapping mapping name
 * @param direction direction, or null for the mapping's own
 * @param parameters parameters, or null
 * @param priority lower runs first (default 100)
 * @param maxAttempts attempts before it fails for good, or 0 for the configured default
 * @param parentId parent job, or null
 */
public record NewJob(JobKind kind, String mapping, Direction direction, JsonObject parameters, int priority,
    int maxAttempts, Long parentId) {

  /** Validates. */
  public NewJob {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(mapping, "mapping");
    parameters = parameters == null ? new JsonObject() : parameters;
  }

  /**
   * @param kind kind
   * @param mapping mapping
   * @return a job with default priority, attempts and no parameters
   */
  public static NewJob of(JobKind kind, String mapping) {
    return new NewJob(kind, mapping, null, null, 100, 0, null);
  }
}
