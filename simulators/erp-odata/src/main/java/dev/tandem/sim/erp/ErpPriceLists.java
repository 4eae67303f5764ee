package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Business Central's price lists (tables 7000 "Price List Header" and 7001 "Price List Line", BC 16 and later): the
 * table relations that depend on a type field, and what a new line takes over from its header.
 */
final class ErpPriceLists {

  /** Fields a line copies from its header unless the header allows lines their own ({@code Allow_Updating_Defaults}). */
  private static final List<String> HEADER_DEFAULTS = List.of("Source_Type", "Source_No", "Starting_Date",
      "Ending_Date", "Currency_Code");

  private ErpPriceLists() {}

  /**
   * The conditional TableRelation of the price list fields: {@code Source_No} names a customer or a customer price
   * group as {@code Source_Type} says, {@code Asset_No} an item or a resource as {@code Asset_Type} says; other types
   * (campaigns, vendors, jobs, G/L accounts) are not modelled and not checked.
   *
   * @param field the field being validated
   * @param row the row as it will be stored
   * @param fixed the field's fixed relation, if any
   * @return the service the value must name, or null
   */
  static String relation(String field, Map<String, Object> row, String fixed) {
    if (field.equals("Source_No")) {
      return switch (String.valueOf(row.get("Source_Type"))) {
        case "Customer" -> "Customer";
        case "Customer Price Group" -> "CustomerPriceGroup";
        default -> null;
      };
    }
    if (field.equals("Asset_No")) {
      return switch (String.valueOf(row.get("Asset_Type"))) {
        case "Item" -> "Item";
        case "Resource" -> "Resource";
        default -> null;
      };
    }
    return fixed;
  }

  /**
   * A new line as the page's insert does it: the next line number of its price list when none is given (Line No.
   * is AutoIncrement), and the header's price type and amount type, and, unless the header allows updating
   * defaults, its assign-to, dates and currency (CopyFrom(PriceListHeader)). Call inside a store write.
   *
   * @param store the store
   * @param row the new line, body applied
   * @param written the fields the request set
   */
  static void newLine(EntityStore store, Map<String, Object> row, Set<String> written) {
    String code = String.valueOf(row.get("Price_List_Code"));
    ErpServices.Service hs = ErpServices.ALL.get("PriceListHeader");
    Map<String, Object> header = store.table(hs.name()).get(ErpKeys.of(hs, Map.of("Code", code)));
    if (header == null) {
      return; // the table relation check names the missing header
    }
    row.put("Price_Type", header.get("Price_Type"));
    if (!"Any".equals(header.get("Amount_Type"))) {
      row.put("Amount_Type", header.get("Amount_Type"));
    }
    if (!Boolean.TRUE.equals(header.get("Allow_Updating_Defaults"))) {
      HEADER_DEFAULTS.forEach(f -> row.put(f, header.get(f)));
    } else {
      HEADER_DEFAULTS.stream().filter(f -> !written.contains(f)).forEach(f -> row.put(f, header.get(f)));
    }
    Object no = row.get("Line_No");
    if (no == null || no instanceof Number n && n.intValue() == 0) {
      int last = 0;
      for (Map<String, Object> l : store.table("PriceListLine").all(r -> code.equalsIgnoreCase(
          String.valueOf(r.get("Price_List_Code"))), null)) {
        last = Math.max(last, ((Number) l.get("Line_No")).intValue());
      }
      row.put("Line_No", last + 10_000);
    }
  }
}
