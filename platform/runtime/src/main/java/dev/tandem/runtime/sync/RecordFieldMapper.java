package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapper;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SPI's {@link FieldMapper} over the engine's {@link RecordMapper}: a page's lookups are loaded with one query
 * per referenced mapping, as the generic engine loads them.
 */
final class RecordFieldMapper implements FieldMapper {

  private final RecordMapper mapper;
  private final PgCouplingStore couplings;
  private final Pool pool;

  RecordFieldMapper(RecordMapper mapper, PgCouplingStore couplings, Pool pool) {
    this.mapper = mapper;
    this.couplings = couplings;
    this.pool = pool;
  }

  @Override
  public Future<List<Mapped>> map(Direction flow, List<JsonObject> rows) {
    if (flow == Direction.BIDIRECTIONAL) {
      return Future.failedFuture(new IllegalArgumentException("rows are mapped TO_CRM or FROM_CRM"));
    }
    Map<String, Map<String, Coupling>> lookups = new HashMap<>();
    List<Future<?>> loads = new ArrayList<>();
    mapper.references(flow, rows).forEach((mapping, ids) -> loads.add(couplings.bySourceIds(pool, mapping, flow, ids)
        .onSuccess(found -> lookups.put(mapping, found))));
    return Future.all(loads).map(v -> {
      RecordMapper.Lookups resolve = (mapping, f, key) -> {
        Coupling c = lookups.getOrDefault(mapping, Map.of()).get(key);
        return c == null ? null : f == Direction.TO_CRM ? c.crmId() : c.erpId();
      };
      List<Mapped> out = new ArrayList<>(rows.size());
      for (JsonObject row : rows) {
        RecordMapper.Mapped m = mapper.map(flow, row, resolve);
        out.add(new Mapped(m.values(), m.error()));
      }
      return out;
    });
  }

  @Override
  public Map<String, Object> changes(Direction flow, Map<String, Object> desired, JsonObject current) {
    return RecordMapper.changes(flow, desired, current);
  }
}
