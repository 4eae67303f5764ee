package dev.tandem.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The lines of a header: a mapping of their own (a sales line to a CRM order detail), whose records belong to one
 * record of the parent mapping and are written with it, in the same ERP change set
 * ({@link ErpConnector#changeSet}). Declared with {@link MappingDefinition.Builder#child}.
 *
 * <p>The lines' mapping is not run on its own: it has no jobs or schedule, and its couplings (under its name) each
 * name the header's coupling, so a header's lines are found by {@link CouplingWriter#children} and go when the
 * header is uncoupled.
 *
 * @param lines the lines' mapping (its ERP key holds the parent key fields, e.g.
 *     {@code Document_Type, Document_No, Line_No})
 * @param parentKey line ERP field to header ERP key field, in the header's key order, e.g.
 *     {@code Document_Type -> Document_Type, Document_No -> No}
 * @param crmParentColumn the lines' CRM lookup column to the header, e.g. {@code salesorderid} (read as
 *     {@code _salesorderid_value}, written as {@code salesorderid@odata.bind})
 */
public record ChildMapping(MappingDefinition lines, Map<String, String> parentKey, String crmParentColumn) {

  /** Validates and copies the parent key. */
  public ChildMapping {
    Objects.requireNonNull(lines, "lines");
    Objects.requireNonNull(crmParentColumn, "crmParentColumn");
    if (parentKey == null || parentKey.isEmpty()) {
      throw new IllegalArgumentException("lines " + lines.name() + ": the parent key fields are missing");
    }
    for (String f : parentKey.keySet()) {
      if (!lines.erpKeyFields().contains(f)) {
        throw new IllegalArgumentException("lines " + lines.name() + ": parent key field " + f
            + " is not one of its ERP key fields " + lines.erpKeyFields());
      }
    }
    parentKey = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parentKey));
  }

  /**
   * @param header the header's ERP key
   * @return the line fields that tie a line to that header, with the header's values
   */
  public Map<String, Object> parentValues(ErpKey header) {
    Map<String, Object> out = new LinkedHashMap<>();
    parentKey.forEach((line, head) -> {
      Object v = header.get(head);
      if (v == null) {
        throw new IllegalArgumentException("header key " + header + " has no field " + head);
      }
      out.put(line, v);
    });
    return out;
  }

  /**
   * @param header the header's ERP key
   * @return an OData filter selecting that header's lines, e.g.
   *     {@code Document_Type eq 'Order' and Document_No eq '1001'}
   */
  public String filterOf(ErpKey header) {
    return ErpKey.of(parentValues(header)).filter();
  }

  /**
   * @param line a line's ERP key
   * @return its header's ERP key
   */
  public ErpKey headerOf(ErpKey line) {
    Map<String, Object> out = new LinkedHashMap<>();
    parentKey.forEach((l, head) -> out.put(head, line.get(l)));
    return ErpKey.of(out);
  }
}
