package dev.tandem.testkit.orders;

import dev.tandem.api.Direction;
import dev.tandem.api.EntityPlugin;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.HeaderLinesTask;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Setting;
import dev.tandem.api.SyncTask;
import dev.tandem.api.Transformation;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test-only header-with-lines plugin: active CRM orders with write-in lines become ERP sales orders of one
 * configured customer, every line on one configured write-in item, the CRM order number the ERP order's No. Enough
 * to run the parent/child acceptance suite against the simulators; the real sales-order plugin is its own module.
 */
public final class TestOrdersPlugin implements EntityPlugin {

  /** The header mapping. */
  public static final String ORDERS = "TEST-ORDER";
  /** The lines' mapping. */
  public static final String LINES = "TEST-ORDER-LINE";

  private String customer = "C-ORDERS";
  private String item = "WRITE-IN";

  @Override
  public List<Setting> settings() {
    return List.of(Setting.string("customerNo").defaultValue("C-ORDERS").doc("ERP customer of every order"),
        Setting.string("writeInItem").defaultValue("WRITE-IN").doc("ERP item of every write-in line"));
  }

  @Override
  public void configure(JsonObject settings) {
    customer = settings.getString("customerNo", customer);
    item = settings.getString("writeInItem", item);
  }

  @Override
  public List<MappingDefinition> mappings() {
    MappingDefinition lines = MappingDefinition.builder(LINES)
        .erpKey("SalesOrderLine", "Document_Type", "Document_No", "Line_No")
        .crm("salesorderdetails", "salesorderdetailid")
        .direction(Direction.FROM_CRM)
        .field("Line_No", "lineitemnumber", Direction.FROM_CRM)
        .field(constant("Type", "Item"))
        .field(constant("No", item))
        .field("Description", "productdescription", Direction.FROM_CRM)
        .field("Quantity", "quantity", Direction.FROM_CRM)
        .field("Unit_Price", "priceperunit", Direction.FROM_CRM)
        .build();
    Map<String, String> parent = new LinkedHashMap<>();
    parent.put("Document_Type", "Document_Type");
    parent.put("Document_No", "No");
    return List.of(MappingDefinition.builder(ORDERS)
        .erpKey("SalesOrder", "Document_Type", "No")
        .crm("salesorders", "salesorderid")
        .direction(Direction.FROM_CRM)
        .filters(null, "statecode eq 0")
        .field(constant("Document_Type", "Order"))
        .field(FieldMapping.of("No", "ordernumber", Direction.FROM_CRM).transformedBy(Transformation.UPPER_CASE))
        // External Document No. is Code[35]: the ERP keeps it in upper case.
        .field(FieldMapping.of("External_Document_No", "name", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(35)).transformedBy(Transformation.UPPER_CASE))
        .field(constant("Sell_to_Customer_No", customer))
        .child(lines, parent, "salesorderid")
        .build());
  }

  private static FieldMapping constant(String erpField, Object value) {
    return new FieldMapping(erpField, null, Direction.FROM_CRM, value, List.of(), null, true, false);
  }

  @Override
  public SyncTask syncTask(MappingDefinition mapping) {
    return ORDERS.equals(mapping.name()) ? new HeaderLinesTask() : null;
  }
}
