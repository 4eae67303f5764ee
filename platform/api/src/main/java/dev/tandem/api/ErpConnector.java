package dev.tandem.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The ERP's OData web services as the runtime offers them to a plugin: authenticated, throttled, retried and
 * counted in the runtime's endpoint metrics. Failures are {@link TandemException}s of the kind and stage they
 * belong to. Create one per verticle (in its {@code start}), from {@link PluginContext#erp()}.
 */
public interface ErpConnector {

  /**
   * Reads the rows of a service that pass a filter, following server-driven paging up to {@code limit} rows.
   *
   * @param service the web service, e.g. {@code Item}
   * @param filter an OData filter whose values were escaped with {@link #literal(String)}, or null
   * @param select the fields to return, or null for all
   * @param limit the most rows to read
   * @return the rows
   */
  Future<List<JsonObject>> read(String service, String filter, List<String> select, int limit);

  /** Releases the connection pool. */
  void close();

  /**
   * @param value a text value
   * @return the OData string literal, quotes doubled: {@code 'O''Brien'}
   */
  static String literal(String value) {
    return "'" + value.replace("'", "''") + "'";
  }
}
