package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/**
 * The per-record results of coupling jobs in PostgreSQL ({@code job_record}): what happened to each record a
 * match-based coupling or a create-counterparts job looked at, and why when it was not coupled. Written one
 * {@code unnest} statement per chunk, read keyset-paged by the admin API.
 */
public final class PgJobRecordStore {

  /**
   * One record's result.
   *
   * @param erpId ERP key, or null
   * @param crmId CRM id, or null
   * @param result coupled, no_match, ambiguous, taken, created or failed
   * @param reason why, for people; null when coupled
   * @param candidates for an ambiguous match, the other side's keys it could be coupled with; else empty
   */
  public record Result(String erpId, String crmId, String result, String reason, List<String> candidates) {

    /** A result without candidates. */
    public Result(String erpId, String crmId, String result, String reason) {
      this(erpId, crmId, result, reason, List.of());
    }
  }

  private final Pool pool;

  /** @param pool the pool */
  public PgJobRecordStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * @param client the pool or a transaction's connection
   * @param jobId the job
   * @param mapping the mapping
   * @param results the results
   * @return nothing
   */
  public Future<Void> add(SqlClient client, long jobId, String mapping, List<Result> results) {
    if (results.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = results.size();
    String[] erp = new String[n];
    String[] crm = new String[n];
    String[] result = new String[n];
    String[] reason = new String[n];
    // Each record's candidates as one JSON array text: unnest cannot take an array of arrays of other lengths.
    String[] candidates = new String[n];
    for (int i = 0; i < n; i++) {
      Result r = results.get(i);
      erp[i] = r.erpId();
      crm[i] = r.crmId();
      result[i] = r.result();
      reason[i] = r.reason();
      candidates[i] = r.candidates() == null || r.candidates().isEmpty() ? null
          : new io.vertx.core.json.JsonArray(r.candidates()).encode();
    }
    return client.preparedQuery("INSERT INTO job_record (job_id, mapping, erp_id, crm_id, result, reason, "
            + "candidates) SELECT $1, $2, v.erp, v.crm, v.result, v.reason, "
            + "CASE WHEN v.cand IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(v.cand::jsonb)) END "
            + "FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) "
            + "AS v(erp, crm, result, reason, cand)")
        .execute(Tuple.tuple().addValue(jobId).addValue(mapping).addValue(erp).addValue(crm).addValue(result)
            .addValue(reason).addValue(candidates))
        .mapEmpty();
  }

  /**
   * Forgets a job's results: a job that runs again (another attempt) records them anew.
   *
   * @param jobId the job
   * @return nothing
   */
  public Future<Void> clear(long jobId) {
    return pool.preparedQuery("DELETE FROM job_record WHERE job_id = $1").execute(Tuple.of(jobId)).mapEmpty();
  }

  /**
   * @param jobId the job
   * @param result only this result, or null
   * @param afterId only ids above this
   * @param limit page size
   * @return the results as the admin API shows them
   */
  public Future<JsonArray> list(long jobId, String result, long afterId, int limit) {
    return pool.preparedQuery("SELECT id, erp_id, crm_id, result, reason, at, candidates FROM job_record "
            + "WHERE job_id = $1 "
            + "AND ($2::text IS NULL OR result = $2) AND id > $3 ORDER BY id LIMIT $4")
        .execute(Tuple.of(jobId, result, afterId, limit))
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject().put("id", r.getLong("id")).put("erpId", r.getString("erp_id"))
                .put("crmId", r.getString("crm_id")).put("result", r.getString("result"))
                .put("reason", r.getString("reason")).put("at", r.getOffsetDateTime("at").toInstant().toString()));
            String[] candidates = r.getArrayOfStrings("candidates");
            if (candidates != null) {
              out.getJsonObject(out.size() - 1).put("candidates", new JsonArray(List.of(candidates)));
            }
          }
          return out;
        });
  }

  /**
   * @param jobId the job
   * @return how many records of each result the job has
   */
  public Future<JsonObject> counts(long jobId) {
    return pool.preparedQuery("SELECT result, count(*) FROM job_record WHERE job_id = $1 GROUP BY result")
        .execute(Tuple.of(jobId)).map(rows -> {
          JsonObject out = new JsonObject();
          rows.forEach(r -> out.put(r.getString(0), r.getLong(1)));
          return out;
        });
  }
}
