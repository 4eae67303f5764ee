package dev.tandem.runtime.connectors.erp;

import dev.tandem.api.ErpConnector;
import dev.tandem.runtime.connectors.Page;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The SPI's {@link ErpConnector} over the runtime's {@link ODataErpClient}. */
public final class ODataErpConnector implements ErpConnector {

  private final ODataErpClient client;

  /** @param client the client, owned by this connector from now on */
  public ODataErpConnector(ODataErpClient client) {
    this.client = client;
  }

  @Override
  public Future<List<JsonObject>> read(String service, String filter, List<String> select, int limit) {
    List<JsonObject> rows = new ArrayList<>();
    return client.read(service, filter, select, null).compose(p -> collect(p, rows, limit)).map(v -> rows);
  }

  private Future<Void> collect(Page page, List<JsonObject> rows, int limit) {
    for (JsonObject r : page.rows()) {
      if (rows.size() >= limit) {
        return Future.succeededFuture();
      }
      rows.add(r);
    }
    return page.hasNext() && rows.size() < limit
        ? client.follow(page.nextLink()).compose(n -> collect(n, rows, limit)) : Future.succeededFuture();
  }

  @Override
  public Future<dev.tandem.api.RecordPage> page(String service, String filter, List<String> select, String orderBy) {
    return client.read(service, filter, select, orderBy).map(ODataErpConnector::page);
  }

  @Override
  public Future<dev.tandem.api.RecordPage> next(String nextLink) {
    return client.follow(nextLink).map(ODataErpConnector::page);
  }

  @Override
  public Future<List<dev.tandem.api.WriteOutcome>> write(List<dev.tandem.api.ErpWrite> writes) {
    return client.batch(writes.stream().map(ODataErpConnector::write).toList()).map(ODataErpConnector::outcomes);
  }

  @Override
  public Future<List<dev.tandem.api.WriteOutcome>> changeSet(List<dev.tandem.api.ErpWrite> writes) {
    return client.changeSet(writes.stream().map(ODataErpConnector::write).toList())
        .map(ODataErpConnector::outcomes);
  }

  private static dev.tandem.api.RecordPage page(Page p) {
    return new dev.tandem.api.RecordPage(p.rows(), p.nextLink());
  }

  private static ODataErpClient.Write write(dev.tandem.api.ErpWrite w) {
    return new ODataErpClient.Write(w.method(), w.service(), w.key() == null ? null : w.key().segment(), w.etag(),
        w.body());
  }

  private static List<dev.tandem.api.WriteOutcome> outcomes(List<dev.tandem.runtime.connectors.WriteResult> rs) {
    return rs.stream().map(r -> new dev.tandem.api.WriteOutcome(r.status(), r.entityId(), r.body(), r.error()))
        .toList();
  }

  @Override
  public void close() {
    client.close();
  }
}
