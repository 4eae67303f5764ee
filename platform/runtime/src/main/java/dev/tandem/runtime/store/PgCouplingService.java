package dev.tandem.runtime.store;

import dev.tandem.api.CouplingService;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.Locale;
import java.util.Optional;

/** The SPI's read-only {@link CouplingService} over the {@code coupling} table. */
public final class PgCouplingService implements CouplingService {

  private final Pool pool;

  /** @param pool PostgreSQL */
  public PgCouplingService(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Optional<String>> erpIdOf(String mapping, String crmId) {
    // CRM ids are GUIDs, kept in lower case.
    return one("SELECT erp_id FROM coupling WHERE mapping = $1 AND crm_id = $2 AND erp_id IS NOT NULL", mapping,
        crmId.toLowerCase(Locale.ROOT));
  }

  @Override
  public Future<Optional<String>> crmIdOf(String mapping, String erpId) {
    return one("SELECT crm_id FROM coupling WHERE mapping = $1 AND erp_id = $2 AND crm_id IS NOT NULL", mapping,
        erpId);
  }

  private Future<Optional<String>> one(String sql, String mapping, String id) {
    return pool.preparedQuery(sql).execute(Tuple.of(mapping, id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getString(0)));
  }
}
