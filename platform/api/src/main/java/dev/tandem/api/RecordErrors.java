package dev.tandem.api;

import io.vertx.core.Future;
import java.util.List;

/**
 * The record error log of a task's job: each error keeps its kind and stage as columns, filterable in the admin
 * API, and counts against the mapping's error tolerance.
 */
public interface RecordErrors {

  /**
   * @param errors the records that failed in this job
   * @return done
   */
  Future<Void> report(List<RecordError> errors);

  /**
   * @param limit the most to return
   * @return the mapping's open record errors, oldest first: the records to try again before new changes
   */
  Future<List<RecordError>> open(int limit);

  /**
   * Marks a record's open errors of this mapping resolved, once it went through.
   *
   * @param erpKey the ERP record's key, or null
   * @param crmId the CRM record's id, or null
   * @return done
   */
  Future<Void> resolve(ErpKey erpKey, String crmId);
}
