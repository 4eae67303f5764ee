package dev.tandem.runtime.connectors.crm;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Objects;

/**
 * One request inside a Dataverse {@code $batch}.
 *
 * @param method POST, PATCH or DELETE
 * @param path path relative to the Web API root, e.g. {@code accounts(accountnumber='C10000')}
 * @param headers extra headers (If-Match, If-None-Match, Prefer)
 * @param body JSON body, or null
 */
public record BatchOperation(String method, String path, Map<String, String> headers, JsonObject body) {

  /** Validates. */
  public BatchOperation {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }
}
