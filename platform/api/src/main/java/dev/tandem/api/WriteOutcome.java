package dev.tandem.api;

import io.vertx.core.json.JsonObject;

/**
 * What became of one write of a batch or change set.
 *
 * @param status the inner HTTP status, 0 when the endpoint gave no answer for it
 * @param id the id the endpoint gave the record (the CRM's GUID, the ERP's {@code SystemId}), or null
 * @param body the record as written (with its new etag), or the error body, or null
 * @param error the failure, with its kind and stage, or null when the write succeeded
 */
public record WriteOutcome(int status, String id, JsonObject body, TandemException error) {

  /** @return whether the write succeeded */
  public boolean ok() {
    return error == null;
  }
}
