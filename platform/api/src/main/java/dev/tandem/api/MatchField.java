package dev.tandem.api;

import java.util.Objects;

/**
 * A field used by match-based coupling. Fields with priority 1 are tried first; when they give no single
 * match, priority 2, and so on. Fields of the same priority must all match.
 *
 * @param erpField ERP field
 * @param crmField CRM field
 * @param priority 1 is tried first
 * @param caseSensitive text compared exactly when true; case-insensitively (the default) otherwise
 */
public record MatchField(String erpField, String crmField, int priority, boolean caseSensitive) {

  /** Validates. */
  public MatchField {
    Objects.requireNonNull(erpField, "erpField");
    Objects.requireNonNull(crmField, "crmField");
    if (priority < 1) {
      throw new IllegalArgumentException("match priority starts at 1, got " + priority);
    }
  }

  /**
   * @param erpField ERP field
   * @param crmField CRM field
   * @param priority priority, 1 first
   * @return a case-insensitive match field
   */
  public static MatchField of(String erpField, String crmField, int priority) {
    return new MatchField(erpField, crmField, priority, false);
  }
}
