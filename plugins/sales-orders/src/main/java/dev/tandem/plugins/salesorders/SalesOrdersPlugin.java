package dev.tandem.plugins.salesorders;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Setting;
import dev.tandem.api.SyncTask;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.pf4j.Extension;

/**
 * The sales-orders plugin: SALESORDER-ORDER with its lines SOLINE-ORDERDETAIL. Submitted CRM orders become ERP sales
 * orders with their lines in one transactional change set ({@link SalesOrderTask}); the ERP number, status, shipment
 * and invoicing go back to the CRM order, and a cancellation in the CRM deletes an ERP order that is still Open.
 */
@Extension
public class SalesOrdersPlugin implements EntityPlugin {

  /** {@code plugins.sales-orders.writeInItem}. */
  static final Setting WRITE_IN_ITEM = Setting.string("writeInItem").defaultValue("WRITE-IN")
      .check("1 to 20 characters", v -> ((String) v).trim().length() >= 1 && ((String) v).trim().length() <= 20
          ? null : "is not an ERP item number (1 to 20 characters)")
      .doc("the ERP item that CRM write-in products (`isproductoverridden`) are sold as, with the line's description");
  /** {@code plugins.sales-orders.localCurrencyCode}. */
  static final Setting LOCAL_CURRENCY_CODE = Setting.string("localCurrencyCode").defaultValue("USD")
      .check("1 to 10 letters or digits", v -> ((String) v).trim().matches("(?i)[a-z0-9]{1,10}") ? null
          : "is not an ERP currency code (1 to 10 letters or digits, e.g. USD)")
      .doc("the ERP's local currency code (LCY): an order in it gets an empty Currency Code in the ERP");

  private String writeInItem = (String) WRITE_IN_ITEM.defaultValue();
  private String localCurrency = (String) LOCAL_CURRENCY_CODE.defaultValue();

  @Override
  public List<Setting> settings() {
    return List.of(WRITE_IN_ITEM, LOCAL_CURRENCY_CODE);
  }

  @Override
  public void configure(JsonObject settings) {
    writeInItem = ((String) WRITE_IN_ITEM.read(settings)).trim().toUpperCase(java.util.Locale.ROOT);
    localCurrency = ((String) LOCAL_CURRENCY_CODE.read(settings)).trim().toUpperCase(java.util.Locale.ROOT);
  }

  @Override
  public List<MappingDefinition> mappings() {
    return List.of(SalesOrderMappings.orders(), SalesOrderMappings.invoices());
  }

  @Override
  public List<LedgerJobDefinition> ledgerJobs() {
    return List.of(SalesOrderMappings.customerStatistics());
  }

  @Override
  public SyncTask syncTask(MappingDefinition mapping) {
    return switch (mapping.name()) {
      case SalesOrderMappings.ORDERS -> new SalesOrderTask(writeInItem, localCurrency);
      case SalesOrderMappings.INVOICES -> new InvoiceTask();
      default -> null;
    };
  }
}
