package dev.tandem.api;

import java.util.Objects;

/**
 * One record that failed, for the record error log ({@code GET /api/v1/errors}).
 *
 * @param direction the direction the record went
 * @param erpKey the ERP record's key, or null
 * @param crmId the CRM record's id, or null
 * @param kind {@link ErrorKind#DATA} for a bad record; a record waiting for a reference is DATA at {@link Stage#LOOKUP}
 * @param stage where it failed
 * @param message what failed, naming the record and field
 */
public record RecordError(Direction direction, ErpKey erpKey, String crmId, ErrorKind kind, Stage stage,
    String message) {

  /** Validates. */
  public RecordError {
    Objects.requireNonNull(direction, "direction");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(message, "message");
    if (erpKey == null && crmId == null) {
      throw new IllegalArgumentException("a record error names the ERP or the CRM record");
    }
  }

  /**
   * @param direction the direction
   * @param erpKey the ERP key or null
   * @param crmId the CRM id or null
   * @param e the failure
   * @return the error with the failure's kind, stage and message
   */
  public static RecordError of(Direction direction, ErpKey erpKey, String crmId, TandemException e) {
    return new RecordError(direction, erpKey, crmId, e.kind(), e.stage(), e.getMessage());
  }
}
