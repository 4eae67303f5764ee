package dev.tandem.runtime.fullsync;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonObject;

/** The full synchronization review's recommendation policy per mapping, from the counts of both sides. */
final class FullSyncRecommendation {

  /** How the reason of a line skipped because its records must be coupled first begins. */
  static final String COUPLE_FIRST = "couple first: ";

  private FullSyncRecommendation() {}

  /**
   * The reference system's recommendation: a full synchronization from the side that has data when the other is
   * empty; coupling first when both hold data and nothing is coupled yet (a full synchronization would duplicate
   * records) — unless the mapping writes ERP to CRM by a CRM alternate key, which matches instead of duplicating;
   * nothing when both are empty. Once records are coupled, a full synchronization in the mapping's
   * direction (ERP to CRM for a bidirectional one) only creates what is still uncoupled and updates the rest.
   */
  static JsonObject recommend(MappingDefinition d, long erpRows, long crmRows, long coupled) {
    String rec;
    Direction dir = null;
    String why;
    if (erpRows == 0 && crmRows == 0) {
      rec = "NOTHING";
      why = "both sides are empty";
    } else if (erpRows > 0 && d.isOptionSet()) {
      // Codes are coupled with the option of the same label, or get a new one: never a duplicate option.
      rec = "FULL_SYNC";
      dir = Direction.TO_CRM;
      why = "ERP to CRM: each ERP code is coupled with the option of its label in " + d.crmEntitySet()
          + ", or gets a new option";
    } else if (erpRows > 0 && crmRows > 0 && coupled == 0 && d.crmAlternateKey() != null
        && d.direction().includes(Direction.TO_CRM)) {
      // Upserts by alternate key find the CRM row that already has the key: matched and coupled, never duplicated.
      rec = "FULL_SYNC";
      dir = Direction.TO_CRM;
      why = "ERP to CRM: both sides hold data, but the mapping writes by the CRM alternate key " + d.crmAlternateKey()
          + ", so a record that exists on both sides is updated and coupled, not duplicated";
    } else if (erpRows > 0 && crmRows > 0 && coupled == 0) {
      rec = "COUPLE_FIRST";
      why = COUPLE_FIRST + "both sides hold data and none of it is coupled (couple-by-match), or the full "
          + "synchronization would create duplicates";
    } else if (d.direction() == Direction.FROM_CRM) {
      rec = crmRows > 0 ? "FULL_SYNC" : "NOTHING";
      dir = crmRows > 0 ? Direction.FROM_CRM : null;
      why = crmRows > 0 ? "CRM to ERP" : "the CRM side is empty";
    } else if (d.direction() == Direction.TO_CRM) {
      rec = erpRows > 0 ? "FULL_SYNC" : "NOTHING";
      dir = erpRows > 0 ? Direction.TO_CRM : null;
      why = erpRows > 0 ? "ERP to CRM" : "the ERP side is empty";
    } else {
      rec = "FULL_SYNC";
      dir = erpRows == 0 ? Direction.FROM_CRM : Direction.TO_CRM;
      why = dir == Direction.FROM_CRM ? "the ERP side is empty: CRM to ERP" : "ERP to CRM";
    }
    return new JsonObject().put("recommendation", rec).put("direction", dir == null ? null : dir.name())
        .put("reason", why);
  }
}
