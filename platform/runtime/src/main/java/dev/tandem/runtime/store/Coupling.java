package dev.tandem.runtime.store;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;

/**
 * A coupling: one ERP record and one CRM record of a mapping that are kept in step. A pending row has one side
 * empty: its counterpart could not be created yet and is retried first in the next run.
 *
 * @param id id
 * @param mapping mapping name
 * @param erpId ERP key, or null while pending from the CRM side
 * @param crmId CRM key, or null while pending from the ERP side
 * @param erpModifiedOn ERP modified-on as last synchronized
 * @param crmModifiedOn CRM modified-on as last synchronized
 * @param lastResultToCrm last result of the ERP-to-CRM direction, or null
 * @param lastResultFromCrm last result of the CRM-to-ERP direction, or null
 * @param lastError the last error message, or null
 * @param errorRepeats how many times in a row that error happened
 * @param skipped left alone until someone retries it
 * @param lastJobId the last job that touched it
 * @param synced both sides' bidirectional field values as of the last synchronization
 *     ({@code {"erp":{...},"crm":{...}}}), or null when none were recorded
 * @param erpVersion the ERP row's ETag as last synchronized (read or written by Tandem), or null
 * @param crmVersion the CRM row's ETag as last synchronized (read or written by Tandem), or null
 */
public record Coupling(long id, String mapping, String erpId, String crmId, OffsetDateTime erpModifiedOn,
    OffsetDateTime crmModifiedOn, String lastResultToCrm, String lastResultFromCrm, String lastError,
    int errorRepeats, boolean skipped, Long lastJobId, JsonObject synced, String erpVersion, String crmVersion) {

  static final String COLUMNS = "id, mapping, erp_id, crm_id, erp_modified_on, crm_modified_on, last_result_to_crm, "
      + "last_result_from_crm, last_error, error_repeats, skipped, last_job_id, synced, erp_version, crm_version";

  /** A coupling without recorded versions. */
  public Coupling(long id, String mapping, String erpId, String crmId, OffsetDateTime erpModifiedOn,
      OffsetDateTime crmModifiedOn, String lastResultToCrm, String lastResultFromCrm, String lastError,
      int errorRepeats, boolean skipped, Long lastJobId, JsonObject synced) {
    this(id, mapping, erpId, crmId, erpModifiedOn, crmModifiedOn, lastResultToCrm, lastResultFromCrm, lastError,
        errorRepeats, skipped, lastJobId, synced, null, null);
  }

  /** A coupling without recorded field values. */
  public Coupling(long id, String mapping, String erpId, String crmId, OffsetDateTime erpModifiedOn,
      OffsetDateTime crmModifiedOn, String lastResultToCrm, String lastResultFromCrm, String lastError,
      int errorRepeats, boolean skipped, Long lastJobId) {
    this(id, mapping, erpId, crmId, erpModifiedOn, crmModifiedOn, lastResultToCrm, lastResultFromCrm, lastError,
        errorRepeats, skipped, lastJobId, null);
  }

  static Coupling from(Row r) {
    return new Coupling(r.getLong("id"), r.getString("mapping"), r.getString("erp_id"), r.getString("crm_id"),
        r.getOffsetDateTime("erp_modified_on"), r.getOffsetDateTime("crm_modified_on"),
        r.getString("last_result_to_crm"), r.getString("last_result_from_crm"), r.getString("last_error"),
        r.getInteger("error_repeats"), r.getBoolean("skipped"), r.getLong("last_job_id"),
        (JsonObject) r.getJson("synced"), r.getString("erp_version"), r.getString("crm_version"));
  }

  /** @return true when both sides are known */
  public boolean coupled() {
    return erpId != null && crmId != null;
  }

  /** @return the admin API's view */
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("mapping", mapping).put("erpId", erpId).put("crmId", crmId)
        .put("erpModifiedOn", erpModifiedOn == null ? null : erpModifiedOn.toInstant().toString())
        .put("crmModifiedOn", crmModifiedOn == null ? null : crmModifiedOn.toInstant().toString())
        .put("lastResultToCrm", lastResultToCrm).put("lastResultFromCrm", lastResultFromCrm)
        .put("lastError", lastError).put("errorRepeats", errorRepeats).put("skipped", skipped)
        .put("lastJobId", lastJobId).put("state", coupled() ? "COUPLED" : "PENDING");
  }
}
