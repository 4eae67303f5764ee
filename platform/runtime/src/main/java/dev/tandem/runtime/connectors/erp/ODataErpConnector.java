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
  public void close() {
    client.close();
  }
}
