package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One write to an ERP page web service, as {@link ErpConnector#write} and {@link ErpConnector#changeSet} send it.
 *
 * @param method {@code POST}, {@code PATCH} or {@code DELETE}
 * @param service the page web service, e.g. {@code SalesOrderLine}
 * @param key the record's key for PATCH and DELETE, null for POST
 * @param etag the row's {@code @odata.etag} for If-Match (PATCH and DELETE need one; {@code *} overwrites)
 * @param body the fields to write, or null
 */
public record ErpWrite(String method, String service, ErpKey key, String etag, JsonObject body) {

  /** Validates. */
  public ErpWrite {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(service, "service");
    if (!method.equals("POST") && !method.equals("PATCH") && !method.equals("DELETE")) {
      throw new IllegalArgumentException("an ERP write is POST, PATCH or DELETE, not " + method);
    }
    if (!method.equals("POST") && (key == null || etag == null)) {
      throw new IllegalArgumentException(method + " of " + service + " needs a key and an If-Match etag");
    }
  }

  /**
   * @param service the page
   * @param body the new record's fields (its key fields among them where the page does not number it)
   * @return a create
   */
  public static ErpWrite create(String service, JsonObject body) {
    return new ErpWrite("POST", service, null, null, body);
  }

  /**
   * @param service the page
   * @param key the record
   * @param etag its etag, or {@code *}
   * @param body the fields that change
   * @return an update
   */
  public static ErpWrite update(String service, ErpKey key, String etag, JsonObject body) {
    return new ErpWrite("PATCH", service, key, etag, body);
  }

  /**
   * @param service the page
   * @param key the record
   * @param etag its etag, or {@code *}
   * @return a delete
   */
  public static ErpWrite delete(String service, ErpKey key, String etag) {
    return new ErpWrite("DELETE", service, key, etag, null);
  }
}
