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

  /**
   * Reads one page of a service's rows, in order, without buffering the rest: follow {@link RecordPage#nextLink()}
   * with {@link #next(String)}.
   *
   * @param service the web service, e.g. {@code SalesOrderLine}
   * @param filter an OData filter (values escaped with {@link #literal(String)} or {@link ErpKey#filter()}), or null
   * @param select the fields to return, or null for all
   * @param orderBy an OData {@code $orderby}, or null for the page's key order
   * @return the first page
   */
  default Future<RecordPage> page(String service, String filter, List<String> select, String orderBy) {
    return Future.failedFuture(TandemException.permanent(Stage.READ, "this ERP connector does not page"));
  }

  /**
   * @param nextLink a page's {@link RecordPage#nextLink()}
   * @return the page it links to
   */
  default Future<RecordPage> next(String nextLink) {
    return Future.failedFuture(TandemException.permanent(Stage.READ, "this ERP connector does not page"));
  }

  /**
   * Sends writes as JSON {@code $batch} requests, each write on its own: one failing does not undo the others.
   *
   * @param writes the writes
   * @return one outcome per write, in order; a write's failure is in its outcome, not in the future
   */
  default Future<List<WriteOutcome>> write(List<ErpWrite> writes) {
    return Future.failedFuture(TandemException.permanent(Stage.WRITE, "this ERP connector cannot write"));
  }

  /**
   * Sends writes as ONE transactional {@code $batch} (Business Central's {@code Isolation: snapshot}): all take
   * effect or none does, so a header is never left without its lines. The first failing write stops the change
   * set and undoes the ones before it; its outcome carries the error, the others are answered as not applied.
   * A change set whose answer was lost (time-out, dropped connection) fails {@link ErrorKind#RETRIABLE} and is not
   * sent again by the connector: read the records back to learn whether it took effect.
   *
   * @param writes the writes, at most the connection's batch size
   * @return one outcome per write, in order
   */
  default Future<List<WriteOutcome>> changeSet(List<ErpWrite> writes) {
    return Future.failedFuture(TandemException.permanent(Stage.WRITE, "this ERP connector cannot write"));
  }

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
