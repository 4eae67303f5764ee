package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * After a full synchronization CRM to ERP of a bidirectional mapping, the mirror of what the CRM's own-writes
 * filter does for the other direction: Business Central's page web services carry no "modified by" Tandem could
 * filter on, so the full synchronization's last job reads, key and stamp only, the ERP rows stamped since the ERP's
 * newest stamp when the line began, and compares each stamp with the one Tandem stored on the row's coupling when
 * it wrote it. Rows that match are Tandem's own writes; the others (a person's change, a customer created in the
 * ERP meanwhile) are the changes to synchronize. The ERP-to-CRM runs then skip the window up to the newest stamp
 * compared, less the overlap (a row committed late with an earlier stamp is read again, not lost), so the first of
 * them reads only what changed after it; the changes inside the window are the caller's to synchronize now.
 */
final class ErpOwnWrites {

  private final Pool pool;
  private final PgCouplingStore couplings;
  private final PgWatermarkStore watermarks;
  private final ODataErpClient erp;
  private final MappingDefinition def;
  private final Duration overlap;
  private final List<String> changed = new ArrayList<>();
  private OffsetDateTime newest;
  private long own;
  private long read;

  ErpOwnWrites(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks, ODataErpClient erp,
      MappingDefinition def, Duration overlap) {
    this.pool = pool;
    this.couplings = couplings;
    this.watermarks = watermarks;
    this.erp = erp;
    this.def = def;
    this.overlap = overlap;
  }

  /**
   * @param from the ERP's newest stamp when the line began, or null (it had no rows)
   * @return the ERP keys stamped in the window that are not Tandem's own writes
   */
  Future<List<String>> run(OffsetDateTime from) {
    String since = from == null ? null : ODataErpClient.modifiedSince(def.erpModifiedOn(), from.toInstant());
    return erp.read(def.erpEntitySet(), and(def.erpFilter(), since), List.of(def.erpKey(), def.erpModifiedOn()),
            def.erpModifiedOn()).compose(this::page)
        .compose(v -> {
          OffsetDateTime until = newest == null ? null : newest.minus(overlap);
          return until == null || (from != null && !until.isAfter(from)) ? Future.succeededFuture()
              : watermarks.ownErpWrites(pool, def.name(), from, until);
        }).map(v -> List.copyOf(changed));
  }

  /** @return a line for the job's message */
  String summary() {
    return "ERP rows since the line began: " + read + ", of which Tandem's own writes " + own + ", changed "
        + changed.size();
  }

  private Future<Void> page(Page page) {
    List<String> keys = new ArrayList<>(page.rows().size());
    page.rows().forEach(r -> keys.add(String.valueOf(r.getValue(def.erpKey()))));
    return couplings.bySourceIds(pool, def.name(), Direction.TO_CRM, keys).compose(byKey -> {
      compare(page.rows(), byKey);
      return page.hasNext() ? erp.follow(page.nextLink()).compose(this::page) : Future.succeededFuture();
    });
  }

  private void compare(List<JsonObject> rows, Map<String, Coupling> byKey) {
    for (JsonObject r : rows) {
      read++;
      String key = String.valueOf(r.getValue(def.erpKey()));
      String stamp = r.getString(def.erpModifiedOn());
      OffsetDateTime at = stamp == null ? null : OffsetDateTime.parse(stamp);
      if (at != null && (newest == null || at.isAfter(newest))) {
        newest = at;
      }
      Coupling c = byKey.get(key);
      if (c != null && c.erpModifiedOn() != null && at != null && c.erpModifiedOn().isEqual(at)) {
        own++;
      } else {
        changed.add(key);
      }
    }
  }

  private static String and(String a, String b) {
    if (a == null || a.isBlank()) {
      return b;
    }
    return b == null ? a : "(" + a + ") and " + b;
  }
}
