package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One write to the CRM's Web API, as {@link CrmConnector#write} and {@link CrmConnector#changeSet} send it.
 *
 * @param method {@code POST} (create), {@code PATCH} (update, or upsert by alternate key) or {@code DELETE}
 * @param path the entity set for a create ({@code salesorders}), else the record
 *     ({@code salesorders(<id>)}, {@code transactioncurrencies(isocurrencycode='EUR')})
 * @param body the columns to write, lookups as {@code column@odata.bind}, or null
 */
public record CrmWrite(String method, String path, JsonObject body) {

  /** Validates. */
  public CrmWrite {
    Objects.requireNonNull(path, "path");
    if (!"POST".equals(method) && !"PATCH".equals(method) && !"DELETE".equals(method)) {
      throw new IllegalArgumentException("a CRM write is POST, PATCH or DELETE, not " + method);
    }
  }

  /**
   * @param entitySet e.g. {@code salesorders}
   * @param body the columns
   * @return a create
   */
  public static CrmWrite create(String entitySet, JsonObject body) {
    return new CrmWrite("POST", entitySet, body);
  }

  /**
   * @param entitySet e.g. {@code salesorders}
   * @param id the record's GUID
   * @param body the columns that change
   * @return an update
   */
  public static CrmWrite update(String entitySet, String id, JsonObject body) {
    return new CrmWrite("PATCH", entitySet + "(" + id + ")", body);
  }

  /**
   * @param entitySet e.g. {@code salesorderdetails}
   * @param id the record's GUID
   * @return a delete
   */
  public static CrmWrite delete(String entitySet, String id) {
    return new CrmWrite("DELETE", entitySet + "(" + id + ")", null);
  }
}
