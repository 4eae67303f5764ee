package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * The body the dispatcher sends to a mapping's address for each claimed job.
 *
 * @param jobId the job's id in the queue
 * @param kind what to do
 * @param mapping the mapping name
 * @param direction the direction asked for, or {@code null} for the mapping's own
 * @param attempt 1 for the first run, 2 for the first retry, ...
 * @param parameters job parameters (record selection, options), never {@code null}
 * @param checkpoint where an earlier attempt got to, or {@code null}
 */
public record JobRequest(long jobId, JobKind kind, String mapping, Direction direction, int attempt,
    JsonObject parameters, JsonObject checkpoint) {

  /** Validates. */
  public JobRequest {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(mapping, "mapping");
    parameters = parameters == null ? new JsonObject() : parameters;
  }

  /** @return the event-bus body */
  public JsonObject toJson() {
    return new JsonObject()
        .put("jobId", jobId)
        .put("kind", kind.name())
        .put("mapping", mapping)
        .put("direction", direction == null ? null : direction.name())
        .put("attempt", attempt)
        .put("parameters", parameters)
        .put("checkpoint", checkpoint);
  }

  /**
   * @param json an event-bus body made by {@link #toJson()}
   * @return the request
   */
  public static JobRequest fromJson(JsonObject json) {
    String direction = json.getString("direction");
    return new JobRequest(
        json.getLong("jobId"),
        JobKind.valueOf(json.getString("kind")),
        json.getString("mapping"),
        direction == null ? null : Direction.valueOf(direction),
        json.getInteger("attempt", 1),
        json.getJsonObject("parameters"),
        json.getJsonObject("checkpoint"));
  }
}
