package dev.tandem.runtime.connectors;

import dev.tandem.api.TandemException;
import io.vertx.core.json.JsonObject;

/**
 * The outcome of one write in a batched call, in the order the writes were given.
 *
 * @param index position of the write in the call
 * @param status HTTP status of the write (0 when it was not attempted)
 * @param entityId id of the row written, when the endpoint said (OData-EntityId, CreateMultiple's Ids)
 * @param body response body, or null
 * @param error the failure, or null when the write succeeded
 */
public record WriteResult(int index, int status, String entityId, JsonObject body, TandemException error) {

  /** @return true when the write succeeded */
  public boolean ok() {
    return error == null;
  }
}
