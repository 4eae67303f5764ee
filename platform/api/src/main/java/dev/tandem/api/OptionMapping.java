package dev.tandem.api;

import java.util.Map;
import java.util.Objects;

/**
 * Maps ERP codes (payment terms, shipment methods) to the integer values of a CRM option set. Option
 * mappings are one-way, as in the reference system: never bidirectional.
 *
 * @param erpField the ERP code field, e.g. {@code Payment_Terms_Code}
 * @param crmField the CRM option-set column, e.g. {@code paymenttermscode}
 * @param direction {@link Direction#TO_CRM} or {@link Direction#FROM_CRM}
 * @param values ERP code to CRM option value
 */
public record OptionMapping(String erpField, String crmField, Direction direction, Map<String, Integer> values) {

  /** Validates the direction and copies the values. */
  public OptionMapping {
    Objects.requireNonNull(erpField, "erpField");
    Objects.requireNonNull(crmField, "crmField");
    if (direction == null || direction == Direction.BIDIRECTIONAL) {
      throw new IllegalArgumentException("option mapping " + erpField + " <-> " + crmField
          + " must be TO_CRM or FROM_CRM: option mappings are never bidirectional");
    }
    values = Map.copyOf(values);
  }
}
