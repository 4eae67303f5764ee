package dev.tandem.api;

import io.vertx.core.Future;
import java.util.List;

/**
 * The CRM's Dataverse Web API as the runtime offers it to a plugin: authenticated as Tandem's application user,
 * throttled by the CRM's service protection budget, retried and counted in the endpoint metrics. Failures are
 * {@link TandemException}s of their kind and stage. A task gets one from {@link TaskContext#crm()}.
 */
public interface CrmConnector {

  /**
   * Reads one page of a query, following server-driven paging through {@link #next(String)}.
   *
   * @param entitySetAndQuery e.g. {@code salesorderdetails?$select=quantity&$filter=_salesorderid_value eq <id>},
   *     values escaped with {@link #literal(String)}
   * @return the first page
   */
  Future<RecordPage> page(String entitySetAndQuery);

  /**
   * @param nextLink a page's {@link RecordPage#nextLink()}
   * @return the page it links to
   */
  Future<RecordPage> next(String nextLink);

  /**
   * Reads every page of a query, one after another, and appends their rows: for reads whose size the caller does
   * not bound by the CRM's page size (a filter of 50 ids may still come back in pages of 5).
   *
   * @param entitySetAndQuery as for {@link #page(String)}
   * @param into the rows of every page, appended in order
   * @return done after the last page
   */
  default Future<Void> readAll(String entitySetAndQuery, List<io.vertx.core.json.JsonObject> into) {
    return page(entitySetAndQuery).compose(p -> readRest(p, into));
  }

  /**
   * Appends a page's rows and those of every page after it.
   *
   * @param page a page already read
   * @param into the rows, appended in order
   * @return done after the last page
   */
  default Future<Void> readRest(RecordPage page, List<io.vertx.core.json.JsonObject> into) {
    into.addAll(page.rows());
    return page.hasNext() ? next(page.nextLink()).compose(n -> readRest(n, into)) : Future.succeededFuture();
  }

  /**
   * Starts CRM change tracking on a table ({@code Prefer: odata.track-changes}): every row, page by page, and on
   * the last page a {@link RecordPage#deltaLink()}. Following that link later with {@link #next(String)} gives
   * the rows changed since, deletions as {@code $deletedEntity} rows ({@link RecordPage#deleted}).
   *
   * @param entitySet e.g. {@code salesorderdetails}
   * @param select the columns to return
   * @return the first page
   */
  Future<RecordPage> track(String entitySet, List<String> select);

  /**
   * Sends writes as {@code $batch} requests with {@code odata.continue-on-error}: each write on its own.
   *
   * @param writes the writes
   * @return one outcome per write, in order
   */
  Future<List<WriteOutcome>> write(List<CrmWrite> writes);

  /**
   * @param value a text value
   * @return the OData string literal, quotes doubled and the query's reserved characters percent-encoded
   */
  static String literal(String value) {
    return ErpConnector.literal(value).replace("%", "%25").replace("&", "%26").replace("#", "%23")
        .replace("+", "%2B");
  }
}
