package dev.tandem.runtime.connectors.crm;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which CRM columns a mapping names that its table does not have. Dataverse refuses an unknown column in
 * {@code $select}, {@code $filter} or a body (0x80060888); checking them against the table's attributes names
 * every unknown one by mapping and field at once, instead of one refused request at a time.
 */
public final class DataverseColumns {

  private DataverseColumns() {}

  /**
   * @param def a mapping
   * @param columns the logical names of its CRM table's columns (lookups by their navigation name)
   * @return the unknown ones, each as {@code erpField -> crmColumn} (or the column alone when no ERP field maps to
   *     it), in the order the mapping names them; empty when every column exists
   */
  public static List<String> unknown(MappingDefinition def, Set<String> columns) {
    Set<String> named = new LinkedHashSet<>();
    named.add(def.crmKey());
    named.add(def.crmModifiedOn());
    if (def.crmAlternateKey() != null) {
      named.add(def.crmAlternateKey());
    }
    for (FieldMapping f : def.fields()) {
      if (f.enabled() && f.crmField() != null) {
        named.add(f.crmField());
      }
    }
    List<String> unknown = new ArrayList<>();
    for (String column : named) {
      if (!known(columns, column)) {
        String erp = def.fields().stream().filter(f -> column.equals(f.crmField()) && f.erpField() != null)
            .map(FieldMapping::erpField).findFirst().orElse(null);
        unknown.add(erp == null ? column : erp + " -> " + column);
      }
    }
    return unknown;
  }

  /**
   * @param def the mapping
   * @param unknown what {@link #unknown} found
   * @return the message naming them
   */
  public static String message(MappingDefinition def, List<String> unknown) {
    return "mapping " + def.name() + ": the CRM table " + def.crmEntitySet() + " has no column(s) "
        + String.join(", ", unknown) + " (fields ERP -> CRM); correct the mapping's fields";
  }

  /**
   * Columns the mapping would write to the CRM that Dataverse computes itself (valid neither for create nor for
   * update, such as a money column's {@code _base} value or the row's {@code exchangerate}): every write of the
   * record would be refused.
   *
   * @param def a mapping
   * @param readOnly its CRM table's read-only columns
   * @return them, each as {@code erpField -> crmColumn} (or the column alone for a constant); empty when none
   */
  public static List<String> readOnly(MappingDefinition def, Set<String> readOnly) {
    List<String> out = new ArrayList<>();
    if (!def.direction().includes(Direction.TO_CRM)) {
      return out;
    }
    for (FieldMapping f : def.fields()) {
      if (f.enabled() && f.crmField() != null && f.direction().includes(Direction.TO_CRM)
          && readOnly.contains(f.crmField())) {
        out.add(f.erpField() == null ? f.crmField() : f.erpField() + " -> " + f.crmField());
      }
    }
    return out;
  }

  /**
   * @param def the mapping
   * @param readOnly what {@link #readOnly} found
   * @return the message naming them
   */
  public static String readOnlyMessage(MappingDefinition def, List<String> readOnly) {
    return "mapping " + def.name() + ": the CRM computes column(s) " + String.join(", ", readOnly) + " of "
        + def.crmEntitySet() + " itself (valid neither for create nor for update; a money column's _base value and "
        + "the row's exchangerate follow from its transaction currency): map the field to CRM -> ERP only or remove it";
  }

  private static boolean known(Set<String> columns, String column) {
    if (columns.contains(column)) {
      return true;
    }
    // A typed bind of a polymorphic lookup: parentcustomerid_account names the lookup parentcustomerid.
    int us = column.lastIndexOf('_');
    return us > 0 && columns.contains(column.substring(0, us));
  }
}
