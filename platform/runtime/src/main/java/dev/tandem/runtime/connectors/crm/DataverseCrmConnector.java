package dev.tandem.runtime.connectors.crm;

import dev.tandem.api.CrmConnector;
import dev.tandem.api.CrmWrite;
import dev.tandem.api.RecordPage;
import dev.tandem.api.WriteOutcome;
import dev.tandem.runtime.connectors.Page;
import io.vertx.core.Future;
import java.util.List;
import java.util.Map;

/** The SPI's {@link CrmConnector} over the runtime's {@link DataverseClient}. */
public final class DataverseCrmConnector implements CrmConnector {

  private final DataverseClient client;
  private final boolean owned;

  /**
   * @param client the client
   * @param owned whether {@link #close()} closes it (false: it belongs to a verticle that closes it)
   */
  public DataverseCrmConnector(DataverseClient client, boolean owned) {
    this.client = client;
    this.owned = owned;
  }

  @Override
  public Future<RecordPage> page(String entitySetAndQuery) {
    return client.query(entitySetAndQuery).map(DataverseCrmConnector::page);
  }

  @Override
  public Future<RecordPage> next(String nextLink) {
    return client.follow(nextLink).map(DataverseCrmConnector::page);
  }

  @Override
  public Future<RecordPage> track(String entitySet, List<String> select) {
    return client.trackChanges(entitySet, String.join(",", select)).map(DataverseCrmConnector::page);
  }

  @Override
  public Future<List<WriteOutcome>> write(List<CrmWrite> writes) {
    return client.batch(writes.stream().map(w -> new BatchOperation(w.method(), w.path(), Map.of(), w.body()))
        .toList()).map(rs -> rs.stream().map(r -> new WriteOutcome(r.status(), r.entityId(), r.body(), r.error()))
            .toList());
  }

  /** Closes the client if this connector owns it. */
  public void close() {
    if (owned) {
      client.close();
    }
  }

  private static RecordPage page(Page p) {
    return new RecordPage(p.rows(), p.nextLink(), p.deltaLink());
  }
}
