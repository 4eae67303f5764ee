package dev.tandem.sim.crm;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local option sets (choices) of the CRM's picklist columns and their metadata: reading an attribute's options
 * through {@code EntityDefinitions(LogicalName='account')/Attributes(LogicalName='paymenttermscode')/
 * Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet}, and adding one with the unbound
 * {@code InsertOptionValue} action, which answers {@code NewOptionValue}. Tables and their other columns come from
 * the metadata model ({@link DataverseMetadata}), which lists these columns as Picklist attributes. Values the action assigns start at the
 * default publisher's option value prefix (10000, so 100000000 and up), as customizations do.
 */
final class DataverseOptionSets {

  /** The customization prefix of the default publisher, times 10,000: the first value a new option gets. */
  static final int FIRST_CUSTOM_VALUE = 100_000_000;

  private static final Pattern ATTRIBUTE = Pattern.compile("^EntityDefinitions\\(LogicalName='([a-z0-9_]+)'\\)"
      + "/Attributes\\(LogicalName='([a-z0-9_]+)'\\)(/Microsoft\\.Dynamics\\.CRM\\.([A-Za-z]+))?$");

  /** The picklist columns this model has option sets for (DataverseMetadata lists them as Picklist attributes). */
  private static final java.util.Set<String> PICKLISTS = java.util.Set.of("account.paymenttermscode",
      "account.address1_freighttermscode", "account.address1_shippingmethodcode", "account.address2_freighttermscode",
      "account.address2_shippingmethodcode", "account.customertypecode", "product.producttypecode",
      "productpricelevel.pricingmethodcode", "productpricelevel.quantitysellingcode",
      "productpricelevel.roundingpolicycode");

  /**
   * @param entity logical name
   * @param column column
   * @return whether the column is a picklist with an option set here
   */
  static boolean isPicklistColumn(String entity, String column) {
    return PICKLISTS.contains(entity + "." + column);
  }

  /**
   * The status reasons of each state, per table, the first one being the state's default status (the statuscode
   * Dataverse sets when an update names only the statecode). From the tables' reference pages
   * (learn.microsoft.com/power-apps/developer/data-platform/reference/entities/{table}, "statecode" and
   * "statuscode" choices): account, contact and most tables are Active 0 → Active 1, Inactive 1 → Inactive 2.
   */
  private static final Map<Integer, List<Integer>> ACTIVE_INACTIVE = Map.of(0, List.of(1), 1, List.of(2));
  private static final Map<String, Map<Integer, List<Integer>>> STATES = Map.of(
      // Active 0: Active 1; Retired 1: Retired 2; Draft 2: Draft 0; Under Revision 3: Under Revision 3
      "product", Map.of(0, List.of(1), 1, List.of(2), 2, List.of(0), 3, List.of(3)),
      // Active 0: Active 100001; Inactive 1: Inactive 100002
      "pricelevel", Map.of(0, List.of(100001), 1, List.of(100002)),
      // Active 0: New 1, Pending 2; Submitted 1: In Progress 3; Canceled 2: No Money 4;
      // Fulfilled 3: Complete 100001, Partial 100002; Invoiced 4: Invoiced 100003
      "salesorder", Map.of(0, List.of(1, 2), 1, List.of(3), 2, List.of(4), 3, List.of(100001, 100002), 4,
          List.of(100003)),
      // Active 0: New 1, Partially Shipped 2, Billed 4, Booked 5, Installed 6; Closed 1: Canceled 3, Paid in Full 7;
      // Paid 2: Complete 100001, Partial 100002; Canceled 3: Canceled 100003
      "invoice", Map.of(0, List.of(1, 2, 4, 5, 6), 1, List.of(3, 7), 2, List.of(100001, 100002), 3,
          List.of(100003)),
      // Open 0: In Progress 1, On Hold 2; Won 1: Won 3; Lost 2: Canceled 4, Out-Sold 5
      "opportunity", Map.of(0, List.of(1, 2), 1, List.of(3), 2, List.of(4, 5)));

  /**
   * @param logical a table with statecode and statuscode
   * @return its states, each with its status reasons (the default first)
   */
  static Map<Integer, List<Integer>> states(String logical) {
    return STATES.getOrDefault(logical, ACTIVE_INACTIVE);
  }

  /**
   * Sets statecode and statuscode of a row being created or updated and refuses a status reason that does not belong
   * to its state: Dataverse answers InvalidStateCodeStatusCode (0x80048408, -2147187704, "State code is invalid or
   * state code is valid but status code is invalid for a specified state code.", Web service error codes,
   * learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes). "When you update the
   * statecode property, always set the desired statuscode"; a statecode alone takes the state's default status
   * (Update and delete table rows using the Web API, …/webapi/update-delete-entities-using-web-api).
   *
   * @param e the table
   * @param state the row's state before (0 on create, Draft for a product)
   * @param status its status before, or null on create (the state's default)
   * @param body what the request writes
   * @param row the row to set them on
   */
  static void stateAndStatus(DataverseEntities.Entity e, int state, Integer status, Map<String, Object> body,
      Map<String, Object> row) {
    Map<Integer, List<Integer>> states = states(e.logical());
    int newState = body.containsKey("statecode") ? integer(e, "statecode", body.get("statecode")) : state;
    Integer newStatus = body.containsKey("statuscode") ? Integer.valueOf(integer(e, "statuscode",
        body.get("statuscode"))) : body.containsKey("statecode") ? null : status;
    List<Integer> reasons = states.get(newState);
    if (reasons != null && newStatus == null) {
      newStatus = reasons.get(0);
    }
    if (reasons == null || !reasons.contains(newStatus)) {
      throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x80048408", "State code is invalid or "
          + "state code is valid but status code is invalid for a specified state code. (statecode " + newState
          + ", statuscode " + newStatus + " on " + e.logical() + ")"));
    }
    row.put("statecode", newState);
    row.put("statuscode", newStatus);
  }

  /**
   * Refuses a choice value outside the column's option set, as Dataverse does (0x8004431A, -2147204326: "A validation
   * error occurred. The value 5 of 'msdyn_paymentterms' on record of type '…' is outside the valid range. Accepted
   * Values: 1,2,3,192350001.", as quoted in Microsoft's Project Operations documentation of payment terms,
   * learn.microsoft.com/dynamics365/project-operations/project-management/…payment-terms), and a value that is not an
   * Edm.Int32 at all.
   *
   * @param e the table
   * @param column a column of it
   * @param value the value written (null clears it)
   */
  void checkValue(DataverseEntities.Entity e, String column, Object value) {
    Map<Integer, String> values;
    synchronized (this) {
      values = options.get(e.logical() + "." + column);
      values = values == null ? null : new LinkedHashMap<>(values);
    }
    if (values == null || value == null) {
      return;
    }
    int v = integer(e, column, value);
    if (!values.containsKey(v)) {
      throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x8004431A", "A validation error "
          + "occurred. The value " + v + " of '" + column + "' on record of type '" + e.logical() + "' is outside the "
          + "valid range. Accepted Values: " + String.join(",", values.keySet().stream().map(String::valueOf)
          .toList()) + "."));
    }
  }

  private static int integer(DataverseEntities.Entity e, String column, Object value) {
    if (value instanceof Integer i) {
      return i;
    }
    if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
      return n.intValue();
    }
    throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x80048d19", "Error identified in Payload "
        + "provided by the user for Entity :'" + e.logical() + "', Cannot convert the literal '" + value + "' to the "
        + "expected type 'Edm.Int32'."));
  }

  /** entity.attribute to option value to label, in value order as created. */
  private final Map<String, Map<Integer, String>> options = new LinkedHashMap<>();

  DataverseOptionSets() {
    reset();
  }

  /** Back to the options a new organization has (the Sales defaults of its option sets). */
  synchronized void reset() {
    options.clear();
    define("account", "paymenttermscode", "Net 30", "2% 10, Net 30", "Net 45", "Net 60");
    define("account", "address1_freighttermscode", "FOB", "No Charge");
    define("account", "address1_shippingmethodcode", "Airborne", "DHL", "FedEx", "UPS", "Postal Mail", "Full Load",
        "Will Call");
    define("account", "address2_freighttermscode", "FOB", "No Charge");
    define("account", "address2_shippingmethodcode", "Airborne", "DHL", "FedEx", "UPS", "Postal Mail", "Full Load",
        "Will Call");
    // The standard choices of the other picklist columns the model has, from the tables' reference pages
    // (learn.microsoft.com/power-apps/developer/data-platform/reference/entities/account#customertypecode-choicesoptions,
    // …/product#producttypecode-choicesoptions, …/productpricelevel#pricingmethodcode-choicesoptions).
    define("account", "customertypecode", "Competitor", "Consultant", "Customer", "Investor", "Partner", "Influencer",
        "Press", "Prospect", "Reseller", "Supplier", "Vendor", "Other");
    define("product", "producttypecode", "Sales Inventory", "Miscellaneous Charges", "Services", "Flat Fees");
    define("productpricelevel", "pricingmethodcode", "Currency Amount", "Percent of List",
        "Percent Markup - Current Cost", "Percent Margin - Current Cost", "Percent Markup - Standard Cost",
        "Percent Margin - Standard Cost");
    define("productpricelevel", "quantitysellingcode", "No Control", "Whole", "Whole and Fractional");
    define("productpricelevel", "roundingpolicycode", "None", "Up", "Down", "To Nearest");
  }

  private void define(String entity, String attribute, String... labels) {
    Map<Integer, String> m = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i++) {
      m.put(i + 1, labels[i]);
    }
    options.put(entity + "." + attribute, m);
  }

  /**
   * @param rest the path after the API root
   * @return whether it addresses an attribute's metadata
   */
  static boolean handles(String rest) {
    return ATTRIBUTE.matcher(rest).matches();
  }

  /** {@code GET EntityDefinitions(...)/Attributes(...)[/Microsoft.Dynamics.CRM.PicklistAttributeMetadata]}. */
  SimResponse attribute(DataverseSimulator sim, SimRequest r, String rest) {
    if (!r.method().equals("GET")) {
      return DataverseSimulator.error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed here.");
    }
    Matcher m = ATTRIBUTE.matcher(rest);
    if (!m.matches()) {
      throw new IllegalStateException(rest);
    }
    String entity = m.group(1);
    String attribute = m.group(2);
    String cast = m.group(4);
    DataverseEntities.Entity table = DataverseMetadata.byLogical(entity);
    if (table == null) {
      return DataverseSimulator.error(404, "0x80040217", "Could not find an entity with the name " + entity + ".");
    }
    Map<Integer, String> values;
    synchronized (this) {
      values = options.get(entity + "." + attribute);
      values = values == null ? null : new LinkedHashMap<>(values);
    }
    if (values == null) {
      // Another column of the table: its base metadata from the model; it has no option set to cast to.
      Map<String, Object> base = DataverseMetadata.attributes(table).stream()
          .filter(a -> attribute.equals(a.get("LogicalName"))).findFirst().orElse(null);
      if (base == null) {
        return DataverseSimulator.error(404, "0x80041103", "Could not find an attribute with specified name: '"
            + attribute + "' on entity '" + entity + "'.");
      }
      if (cast != null) {
        return DataverseSimulator.error(400, "0x80060888", "The attribute '" + attribute + "' is not of type "
            + cast + ".");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", sim.apiUrl() + "/$metadata#EntityDefinitions('" + DataverseMetadataApi.metadataId(table)
          + "')/Attributes/$entity");
      body.putAll(base);
      return SimResponse.json(200, body);
    }
    String expand = r.query().getOrDefault("$expand", "");
    String type = cast == null ? "AttributeMetadata" : cast;
    if (cast != null && !cast.equals("PicklistAttributeMetadata")) {
      return DataverseSimulator.error(400, "0x80060888", "The attribute '" + attribute + "' is of type "
          + "PicklistAttributeMetadata, not " + cast + ".");
    }
    if (expand.contains("OptionSet") && cast == null) {
      // OptionSet is a property of the derived type only: the request must cast to it.
      return DataverseSimulator.error(400, "0x80060888", "Could not find a property named 'OptionSet' on type "
          + "'Microsoft.Dynamics.CRM.AttributeMetadata'.");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("@odata.context", sim.apiUrl() + "/$metadata#EntityDefinitions('" + DataverseMetadataApi.metadataId(table)
        + "')/Attributes/"
        + "Microsoft.Dynamics.CRM." + type + "/$entity");
    body.put("LogicalName", attribute);
    body.put("MetadataId", id(entity + "." + attribute));
    body.put("AttributeType", "Picklist");
    body.put("EntityLogicalName", entity);
    if (expand.contains("OptionSet")) {
      List<Map<String, Object>> list = new ArrayList<>();
      values.forEach((v, label) -> list.add(Map.of("Value", v, "Label", label(label))));
      body.put("OptionSet", Map.of("MetadataId", id(entity + "." + attribute + ".options"), "Name",
          entity + "_" + attribute, "IsGlobal", false, "OptionSetType", "Picklist", "Options", list));
    }
    return SimResponse.json(200, body);
  }

  /** {@code POST InsertOptionValue}: adds an option to a local option set; answers its value. */
  SimResponse insert(DataverseSimulator sim, SimRequest r) {
    Map<String, Object> p;
    try {
      p = Json.object(r.bodyText());
    } catch (IllegalArgumentException e) {
      return DataverseSimulator.error(400, "0x80048d19", "Error identified in Payload provided by the user: "
          + e.getMessage());
    }
    for (String k : p.keySet()) {
      if (!List.of("OptionSetName", "EntityLogicalName", "AttributeLogicalName", "Value", "Label", "Description",
          "SolutionUniqueName", "ParentValues", "ExternalValue").contains(k)) {
        return DataverseSimulator.error(400, "0x80048d19", "Error identified in Payload provided by the user: the "
            + "property '" + k + "' does not exist on InsertOptionValue.");
      }
    }
    String label = labelText(p.get("Label"));
    if (label == null || label.isBlank()) {
      return DataverseSimulator.error(400, "0x80040203", "Label is required: it must contain a LocalizedLabel.");
    }
    if (p.get("OptionSetName") != null) {
      return DataverseSimulator.error(400, "0x80040203", "No global option set named '" + p.get("OptionSetName")
          + "' exists; the account's choices are local option sets: give EntityLogicalName and "
          + "AttributeLogicalName.");
    }
    Object entity = p.get("EntityLogicalName");
    Object attribute = p.get("AttributeLogicalName");
    if (entity == null || attribute == null) {
      return DataverseSimulator.error(400, "0x80040203", "EntityLogicalName and AttributeLogicalName are required for "
          + "a local option set.");
    }
    synchronized (this) {
      Map<Integer, String> values = options.get(entity + "." + attribute);
      if (values == null) {
        return DataverseSimulator.error(404, "0x80041103", "Could not find an attribute with specified name: '"
            + attribute + "' on entity '" + entity + "'.");
      }
      int value;
      if (p.get("Value") instanceof Number n) {
        value = n.intValue();
        if (values.containsKey(value)) {
          return DataverseSimulator.error(400, "0x80044155", "An option with the value " + value + " already "
              + "exists in the option set of " + entity + "." + attribute + ".");
        }
      } else {
        value = Math.max(FIRST_CUSTOM_VALUE, values.keySet().stream().mapToInt(Integer::intValue).max().orElse(0) + 1);
      }
      values.put(value, label);
      return SimResponse.json(200, Map.of("@odata.context", sim.apiUrl()
          + "/$metadata#Microsoft.Dynamics.CRM.InsertOptionValueResponse", "NewOptionValue", value));
    }
  }

  private static String labelText(Object label) {
    if (!(label instanceof Map<?, ?> m) || !(m.get("LocalizedLabels") instanceof List<?> l) || l.isEmpty()
        || !(l.get(0) instanceof Map<?, ?> first)) {
      return null;
    }
    Object text = first.get("Label");
    return text == null ? null : String.valueOf(text);
  }

  private static Map<String, Object> label(String text) {
    Map<String, Object> localized = Map.of("@odata.type", "Microsoft.Dynamics.CRM.LocalizedLabel", "Label", text,
        "LanguageCode", 1033, "IsManaged", false);
    return Map.of("@odata.type", "Microsoft.Dynamics.CRM.Label", "LocalizedLabels", List.of(localized),
        "UserLocalizedLabel", localized);
  }

  private static String id(String name) {
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
