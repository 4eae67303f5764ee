package dev.tandem.runtime.store;

import dev.tandem.api.Coupled;
import dev.tandem.api.CouplingWriter;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpKey;
import dev.tandem.api.MappingState;
import dev.tandem.api.RecordError;
import dev.tandem.api.RecordErrors;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a plugin's sync task stores through its {@code TaskContext}: couplings (composite keys as key segments, lines
 * under their header), record errors, watermarks and the job's checkpoint. Every write is fenced by the job's lease.
 */
public final class PgTaskStore {

  private static final String COLUMNS = "c.mapping, c.erp_id, c.crm_id, c.erp_modified_on, c.crm_modified_on, "
      + "p.mapping, p.erp_id";

  private final Pool pool;
  private final String mapping;
  private final long jobId;
  private final JobLease lease;
  private final Function<String, List<String>> keyFields;
  private final Map<String, String> parents;
  private final PgWatermarkStore watermarks = new PgWatermarkStore();

  /**
   * @param pool PostgreSQL
   * @param mapping the task's mapping
   * @param jobId the job
   * @param lease the job's lease
   * @param keyFields a mapping's ERP key fields (to read couplings' keys back)
   * @param parents lines' mapping name to its header's mapping name
   */
  public PgTaskStore(Pool pool, String mapping, long jobId, JobLease lease, Function<String, List<String>> keyFields,
      Map<String, String> parents) {
    this.pool = pool;
    this.mapping = mapping;
    this.jobId = jobId;
    this.lease = lease;
    this.keyFields = keyFields;
    this.parents = Map.copyOf(parents);
  }

  /** @return the coupling writer */
  public CouplingWriter couplings() {
    return new Couplings();
  }

  /** @return the record error log of the job */
  public RecordErrors errors() {
    return new Errors();
  }

  /**
   * @param checkpoint the checkpoint the job came with, or null
   * @return the mapping's watermarks and the job's checkpoint
   */
  public MappingState state(JsonObject checkpoint) {
    return new State(checkpoint);
  }

  private Coupled coupled(Row r) {
    String m = r.getString(0);
    String parentMapping = r.getString(5);
    String parentErp = r.getString(6);
    return new Coupled(m, ErpKey.parse(keyFields.apply(m), r.getString(1)), r.getString(2),
        r.getOffsetDateTime(3), r.getOffsetDateTime(4),
        parentErp == null ? null : ErpKey.parse(keyFields.apply(parentMapping), parentErp));
  }

  private <T> Future<T> fenced(Function<io.vertx.sqlclient.SqlConnection, Future<T>> body) {
    return lease.check().compose(v -> pool.withTransaction(tx -> lease.verify(tx).compose(w -> body.apply(tx))));
  }

  private final class Couplings implements CouplingWriter {

    private final PgCouplingService reads = new PgCouplingService(pool);

    @Override
    public Future<Optional<String>> erpIdOf(String m, String crmId) {
      return reads.erpIdOf(m, crmId);
    }

    @Override
    public Future<Optional<String>> crmIdOf(String m, String erpId) {
      return reads.crmIdOf(m, erpId);
    }

    @Override
    public Future<Optional<ErpKey>> erpKeyOf(String m, String crmId) {
      return reads.erpIdOf(m, crmId).map(o -> o.map(id -> ErpKey.parse(keyFields.apply(m), id)));
    }

    @Override
    public Future<Map<String, Coupled>> byCrmIds(String m, Collection<String> crmIds) {
      if (crmIds.isEmpty()) {
        return Future.succeededFuture(Map.of());
      }
      return pool.preparedQuery("SELECT " + COLUMNS + " FROM coupling c LEFT JOIN coupling p ON p.id = c.parent_id "
              + "WHERE c.mapping = $1 AND c.crm_id = ANY($2::text[]) AND c.erp_id IS NOT NULL")
          .execute(Tuple.tuple().addValue(m).addValue(crmIds.stream().map(id -> id.toLowerCase(Locale.ROOT))
              .toArray(String[]::new)))
          .map(rows -> {
            Map<String, Coupled> out = new HashMap<>();
            rows.forEach(r -> out.put(r.getString(2), coupled(r)));
            return out;
          });
    }

    @Override
    public Future<Map<ErpKey, Coupled>> byErpKeys(String m, Collection<ErpKey> erpKeys) {
      if (erpKeys.isEmpty()) {
        return Future.succeededFuture(Map.of());
      }
      return pool.preparedQuery("SELECT " + COLUMNS + " FROM coupling c LEFT JOIN coupling p ON p.id = c.parent_id "
              + "WHERE c.mapping = $1 AND c.erp_id = ANY($2::text[]) AND c.crm_id IS NOT NULL")
          .execute(Tuple.tuple().addValue(m).addValue(erpKeys.stream().map(ErpKey::toString).toArray(String[]::new)))
          .map(rows -> {
            Map<ErpKey, Coupled> out = new HashMap<>();
            rows.forEach(r -> {
              Coupled c = coupled(r);
              out.put(c.erpKey(), c);
            });
            return out;
          });
    }

    @Override
    public Future<List<Coupled>> children(String m, ErpKey parentErpKey) {
      String parent = parents.get(m);
      if (parent == null) {
        return Future.failedFuture(TandemException.permanent(Stage.COMMIT, "mapping " + m + " is no one's lines"));
      }
      return pool.preparedQuery("SELECT " + COLUMNS + " FROM coupling c JOIN coupling p ON p.id = c.parent_id "
              + "WHERE c.mapping = $1 AND p.mapping = $2 AND p.erp_id = $3 ORDER BY c.erp_id")
          .execute(Tuple.of(m, parent, parentErpKey.toString()))
          .map(rows -> {
            List<Coupled> out = new ArrayList<>();
            rows.forEach(r -> out.add(coupled(r)));
            return out;
          });
    }

    @Override
    public Future<Map<ErpKey, List<Coupled>>> children(String m, Collection<ErpKey> parentErpKeys) {
      String parent = parents.get(m);
      if (parent == null) {
        return Future.failedFuture(TandemException.permanent(Stage.COMMIT, "mapping " + m + " is no one's lines"));
      }
      Map<ErpKey, List<Coupled>> out = new java.util.LinkedHashMap<>();
      parentErpKeys.forEach(k -> out.put(k, new ArrayList<>()));
      if (out.isEmpty()) {
        return Future.succeededFuture(out);
      }
      return pool.preparedQuery("SELECT " + COLUMNS + " FROM coupling c JOIN coupling p ON p.id = c.parent_id "
              + "WHERE c.mapping = $1 AND p.mapping = $2 AND p.erp_id = ANY($3::text[]) ORDER BY p.erp_id, c.erp_id")
          .execute(Tuple.tuple().addValue(m).addValue(parent)
              .addValue(out.keySet().stream().map(ErpKey::toString).toArray(String[]::new)))
          .map(rows -> {
            rows.forEach(r -> {
              Coupled c = coupled(r);
              // Keyed by the header key as asked (the stored text parses back to an equal key).
              out.computeIfAbsent(c.parentErpKey(), k -> new ArrayList<>()).add(c);
            });
            return out;
          });
    }

    @Override
    public Future<Void> couple(List<Coupled> couplings) {
      if (couplings.isEmpty()) {
        return Future.succeededFuture();
      }
      List<Tuple> batch = new ArrayList<>(couplings.size());
      for (Coupled c : couplings) {
        String parent = c.parentErpKey() == null ? null : parents.get(c.mapping());
        if (c.parentErpKey() != null && parent == null) {
          return Future.failedFuture(TandemException.permanent(Stage.COMMIT, "mapping " + c.mapping()
              + " is no one's lines, but its coupling of " + c.erpKey() + " names a header"));
        }
        batch.add(Tuple.tuple().addValue(c.mapping()).addValue(c.erpKey().toString())
            .addValue(c.crmId().toLowerCase(Locale.ROOT)).addValue(c.erpModifiedOn()).addValue(c.crmModifiedOn())
            .addValue(parent).addValue(c.parentErpKey() == null ? null : c.parentErpKey().toString())
            .addValue(jobId));
      }
      // Coupling the same pair again refreshes its stamps; a line's header must be coupled already.
      return fenced(tx -> tx.preparedQuery("INSERT INTO coupling AS c (mapping, erp_id, crm_id, erp_modified_on, "
              + "crm_modified_on, parent_id, last_job_id) VALUES ($1, $2, $3, $4, $5, "
              + "(SELECT id FROM coupling WHERE mapping = $6 AND erp_id = $7), $8) "
              + "ON CONFLICT ON CONSTRAINT coupling_erp_once DO UPDATE SET crm_id = EXCLUDED.crm_id, "
              + "erp_modified_on = COALESCE(EXCLUDED.erp_modified_on, c.erp_modified_on), "
              + "crm_modified_on = COALESCE(EXCLUDED.crm_modified_on, c.crm_modified_on), "
              + "parent_id = COALESCE(EXCLUDED.parent_id, c.parent_id), last_job_id = EXCLUDED.last_job_id, "
              + "updated_at = now()")
          .executeBatch(batch).<Void>mapEmpty())
          .recover(e -> Future.failedFuture(e instanceof PgException p && "23505".equals(p.getSqlState())
              ? TandemException.data(Stage.COMMIT, "a coupling of " + mapping + " would pair a record twice: "
                  + p.getErrorMessage())
              : e));
    }

    @Override
    public Future<Integer> uncouple(String m, Collection<ErpKey> erpKeys) {
      if (erpKeys.isEmpty()) {
        return Future.succeededFuture(0);
      }
      return fenced(tx -> tx.preparedQuery("DELETE FROM coupling WHERE mapping = $1 AND erp_id = ANY($2::text[])")
          .execute(Tuple.tuple().addValue(m).addValue(erpKeys.stream().map(ErpKey::toString).toArray(String[]::new)))
          .map(RowSet::rowCount));
    }
  }

  private final class Errors implements RecordErrors {

    @Override
    public Future<Void> report(List<RecordError> errors) {
      if (errors.isEmpty()) {
        return Future.succeededFuture();
      }
      List<Tuple> batch = new ArrayList<>(errors.size());
      for (RecordError e : errors) {
        batch.add(Tuple.tuple().addValue(jobId).addValue(mapping).addValue(e.direction().name())
            .addValue(e.erpKey() == null ? null : e.erpKey().toString())
            .addValue(e.crmId() == null ? null : e.crmId().toLowerCase(Locale.ROOT)).addValue(e.message())
            .addValue(e.kind().name()).addValue(e.stage().name()));
      }
      return pool.preparedQuery("INSERT INTO record_error (job_id, mapping, direction, erp_id, crm_id, message, "
          + "kind, stage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").executeBatch(batch).mapEmpty();
    }

    @Override
    public Future<List<RecordError>> open(int limit) {
      return pool.preparedQuery("SELECT direction, erp_id, crm_id, kind, stage, message FROM record_error "
              + "WHERE mapping = $1 AND resolved_at IS NULL ORDER BY id LIMIT $2")
          .execute(Tuple.of(mapping, limit)).map(rows -> {
            List<RecordError> out = new ArrayList<>();
            for (Row r : rows) {
              String erp = r.getString(1);
              out.add(new RecordError(Direction.valueOf(r.getString(0)),
                  erp == null ? null : ErpKey.parse(keyFields.apply(mapping), erp), r.getString(2),
                  dev.tandem.api.ErrorKind.valueOf(r.getString(3)), Stage.valueOf(r.getString(4)), r.getString(5)));
            }
            return out;
          });
    }

    @Override
    public Future<Void> resolve(ErpKey erpKey, String crmId) {
      return pool.preparedQuery("UPDATE record_error SET resolved_at = now() WHERE mapping = $1 AND resolved_at IS "
              + "NULL AND (erp_id = $2 OR crm_id = $3)")
          .execute(Tuple.of(mapping, erpKey == null ? null : erpKey.toString(),
              crmId == null ? null : crmId.toLowerCase(Locale.ROOT)))
          .mapEmpty();
    }
  }

  private final class State implements MappingState {

    private final JsonObject checkpoint;

    State(JsonObject checkpoint) {
      this.checkpoint = checkpoint;
    }

    private PgWatermarkStore.Side side(Direction d) {
      if (d == Direction.BIDIRECTIONAL) {
        throw new IllegalArgumentException("a watermark belongs to one side: TO_CRM (ERP) or FROM_CRM (CRM)");
      }
      return d == Direction.TO_CRM ? PgWatermarkStore.Side.ERP : PgWatermarkStore.Side.CRM;
    }

    @Override
    public Future<OffsetDateTime> watermark(Direction d) {
      return watermarks.get(pool, mapping, side(d));
    }

    @Override
    public Future<Void> advance(Direction d, OffsetDateTime modifiedOn) {
      PgWatermarkStore.Side s = side(d);
      return fenced(tx -> watermarks.advance(tx, mapping, s, modifiedOn));
    }

    @Override
    public Future<String> deltaLink() {
      return watermarks.deltaLink(pool, mapping);
    }

    @Override
    public Future<Void> saveDeltaLink(String link) {
      return fenced(tx -> watermarks.deltaLink(tx, mapping, link));
    }

    @Override
    public JsonObject checkpoint() {
      return checkpoint == null ? null : checkpoint.copy();
    }

    @Override
    public Future<Void> saveCheckpoint(JsonObject cp) {
      return fenced(tx -> tx.preparedQuery("UPDATE job SET checkpoint = $2 WHERE id = $1")
          .execute(Tuple.of(jobId, cp)).mapEmpty());
    }
  }
}
