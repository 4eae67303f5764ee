package dev.tandem.api;

import java.util.List;
import java.util.Objects;

/**
 * One field of a mapping: which ERP field goes with which CRM field, in which direction, with which
 * transformations. A field with a {@link #constant()} writes that value to the destination instead of reading
 * a source field. A field with a {@link #lookupMapping()} holds a reference that is translated through the
 * couplings of that mapping (a customer's salesperson code becomes the CRM owner's id through SALESPEOPLE); a
 * constant with a lookup mapping is such a reference too (a price list's local currency code, through CURRENCY).
 * Transformations run before the lookup, so they may turn the reference into the key the lookup mapping knows.
 *
 * @param erpField ERP field name as the OData page names it, e.g. {@code Post_Code}; {@code null} for a constant to the ERP side
 * @param crmField CRM column or lookup navigation property, e.g. {@code address1_postalcode}
 * @param direction which way the value flows; must be allowed by the mapping's direction
 * @param constant a fixed value written to the destination, or {@code null}
 * @param transformations applied in order, source to destination
 * @param lookupMapping the mapping whose couplings translate this reference, or {@code null}
 * @param enabled disabled fields are kept for reference but never read or written
 * @param clearOnFailedLookup write {@code null} instead of failing the record when the lookup finds no coupling
 */
public record FieldMapping(
    String erpField,
    String crmField,
    Direction direction,
    Object constant,
    List<Transformation> transformations,
    String lookupMapping,
    boolean enabled,
    boolean clearOnFailedLookup) {

  /** Validates and copies the transformations. */
  public FieldMapping {
    Objects.requireNonNull(direction, "direction");
    if (erpField == null && crmField == null) {
      throw new IllegalArgumentException("a field mapping needs an ERP or a CRM field");
    }
    transformations = List.copyOf(transformations == null ? List.of() : transformations);
  }

  /**
   * A plain field mapping.
   *
   * @param erpField ERP field
   * @param crmField CRM field
   * @param direction direction
   * @return the mapping, enabled, without transformations
   */
  public static FieldMapping of(String erpField, String crmField, Direction direction) {
    return new FieldMapping(erpField, crmField, direction, null, List.of(), null, true, false);
  }

  /**
   * @param transformation appended to this field's transformations
   * @return a copy with the transformation added
   */
  public FieldMapping transformedBy(Transformation transformation) {
    List<Transformation> all = new java.util.ArrayList<>(transformations);
    all.add(transformation);
    return new FieldMapping(erpField, crmField, direction, constant, all, lookupMapping, enabled,
        clearOnFailedLookup);
  }

  /**
   * @param mapping the mapping whose couplings translate this field's reference
   * @return a copy that looks its value up through {@code mapping}
   */
  public FieldMapping lookupThrough(String mapping) {
    return new FieldMapping(erpField, crmField, direction, constant, transformations, mapping, enabled,
        clearOnFailedLookup);
  }

  /**
   * @param value the constant written to the destination
   * @return a copy writing a constant
   */
  public FieldMapping withConstant(Object value) {
    return new FieldMapping(erpField, crmField, direction, value, transformations, lookupMapping, enabled,
        clearOnFailedLookup);
  }

  /**
   * @param on whether the field is read and written
   * @return a copy with that setting
   */
  public FieldMapping withEnabled(boolean on) {
    return new FieldMapping(erpField, crmField, direction, constant, transformations, lookupMapping, on,
        clearOnFailedLookup);
  }

  /** @return true when this field writes a constant instead of copying a source value */
  public boolean isConstant() {
    return constant != null;
  }
}
