package dev.tandem.runtime.store;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The per-record error log ({@code record_error}) as the admin API and the engine read it: newest first, filtered
 * by mapping, kind and stage; the coupling behind an entry; a job's open errors by stage. Entries are written with
 * the page that failed ({@link PgCouplingStore#record}).
 */
public final class PgRecordErrorStore {

  /**
   * What to list.
   *
   * @param mapping only this mapping, or null
   * @param kind only this kind, or null
   * @param stage only this stage, or null
   * @param all resolved entries too
   * @param before only entries with a smaller id (paging)
   * @param limit at most this many
   */
  public record Filter(String mapping, ErrorKind kind, Stage stage, boolean all, long before, int limit) {}

  /**
   * The coupling an error log entry belongs to.
   *
   * @param couplingId the coupling
   * @param mapping its mapping
   */
  public record Owner(long couplingId, String mapping) {}

  private final Pool pool;

  /** @param pool PostgreSQL */
  public PgRecordErrorStore(Pool pool) {
    this.pool = pool;
  }

  /** @return the open errors per mapping (the partial index of open errors answers it) */
  public Future<io.vertx.core.json.JsonObject> openPerMapping() {
    return pool.query("SELECT mapping, count(*) AS n FROM record_error WHERE resolved_at IS NULL GROUP BY mapping "
        + "ORDER BY mapping").execute().map(rows -> {
          io.vertx.core.json.JsonObject out = new io.vertx.core.json.JsonObject();
          rows.forEach(r -> out.put(r.getString("mapping"), r.getLong("n")));
          return out;
        });
  }

  /**
   * @param f what to list
   * @return the entries as the admin API shows them, newest first
   */
  public Future<JsonArray> list(Filter f) {
    return pool.preparedQuery("SELECT id, job_id, mapping, direction, erp_id, crm_id, kind, stage, message, "
            + "occurred_at, resolved_at FROM record_error WHERE ($1::text IS NULL OR mapping = $1) "
            + "AND ($2 OR resolved_at IS NULL) AND id < $3 AND ($5::text IS NULL OR kind = $5) "
            + "AND ($6::text IS NULL OR stage = $6) ORDER BY id DESC LIMIT $4")
        .execute(Tuple.of(f.mapping(), f.all(), f.before(), f.limit(), f.kind() == null ? null : f.kind().name(),
            f.stage() == null ? null : f.stage().name()))
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject().put("id", r.getLong("id")).put("jobId", r.getLong("job_id"))
                .put("mapping", r.getString("mapping")).put("direction", r.getString("direction"))
                .put("erpId", r.getString("erp_id")).put("crmId", r.getString("crm_id"))
                .put("kind", r.getString("kind")).put("stage", r.getString("stage"))
                .put("message", r.getString("message"))
                .put("occurredAt", r.getOffsetDateTime("occurred_at").toInstant().toString())
                .put("resolvedAt", r.getOffsetDateTime("resolved_at") == null ? null
                    : r.getOffsetDateTime("resolved_at").toInstant().toString()));
          }
          return out;
        });
  }

  /**
   * @param errorId an entry
   * @return the coupling of its record, if the record is still known
   */
  public Future<Optional<Owner>> owner(long errorId) {
    return pool.preparedQuery("SELECT c.id, e.mapping FROM record_error e JOIN coupling c ON c.mapping = e.mapping "
            + "AND ((e.direction = 'TO_CRM' AND c.erp_id = e.erp_id) OR (e.direction = 'FROM_CRM' "
            + "AND c.crm_id = e.crm_id)) WHERE e.id = $1")
        .execute(Tuple.of(errorId))
        .map(rows -> rows.rowCount() == 0 ? Optional.<Owner>empty()
            : Optional.of(new Owner(rows.iterator().next().getLong(0), rows.iterator().next().getString(1))));
  }

  /** @return the mappings that have records to retry: failed, in conflict, skipped or with a deletion pending */
  public Future<List<String>> mappingsWithFailures() {
    return pool.query("SELECT DISTINCT mapping FROM coupling WHERE skipped OR deleted_side IS NOT NULL "
            + "OR last_result_to_crm IN ('failed', 'conflict') OR last_result_from_crm IN ('failed', 'conflict')")
        .execute().map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * @param jobId a job
   * @return its open error log entries, counted by stage (a record that failed again in this job counts here)
   */
  public Future<Map<Stage, Long>> openByStage(long jobId) {
    return pool.preparedQuery("SELECT stage, count(*) FROM record_error WHERE job_id = $1 AND resolved_at IS NULL "
            + "GROUP BY stage").execute(Tuple.of(jobId)).map(rows -> {
              Map<Stage, Long> out = new EnumMap<>(Stage.class);
              rows.forEach(r -> out.put(Stage.valueOf(r.getString(0)), r.getLong(1)));
              return out;
            });
  }
}
