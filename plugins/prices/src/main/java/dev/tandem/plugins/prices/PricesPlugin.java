package dev.tandem.plugins.prices;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.pf4j.Extension;

/**
 * The prices plugin: CURRENCY (ERP currencies to CRM transaction currencies), CUSTPRCGRP-PRICE (customer price
 * groups to price lists) and SALESPRC-PRODPRICE (sales prices to price list items). It declares mappings only; the
 * runtime's engine runs them.
 *
 * <p>Setting: {@code plugins.prices.localCurrencyCode}, the ERP's local currency (LCY) code, default
 * {@value PriceMappings#DEFAULT_LOCAL_CURRENCY}. Price lists are in that currency, and so are sales prices with an
 * empty currency code.
 */
@Extension
public class PricesPlugin implements EntityPlugin {

  private String localCurrency = PriceMappings.DEFAULT_LOCAL_CURRENCY;

  @Override
  public void configure(JsonObject settings) {
    Object code = settings.getValue("localCurrencyCode");
    if (code != null) {
      localCurrency = PriceMappings.checkCurrencyCode(String.valueOf(code));
    }
  }

  @Override
  public List<MappingDefinition> mappings() {
    return List.of(PriceMappings.currency(), PriceMappings.customerPriceGroup(localCurrency),
        PriceMappings.salesPrice(localCurrency));
  }
}
