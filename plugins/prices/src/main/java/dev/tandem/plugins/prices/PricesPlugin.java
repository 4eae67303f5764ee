package dev.tandem.plugins.prices;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Setting;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.pf4j.Extension;

/**
 * The prices plugin: CURRENCY (ERP currencies to CRM transaction currencies) and one of two pricing models. Legacy
 * pricing (NAV, BC before extended pricing): CUSTPRCGRP-PRICE (customer price groups to price lists) and
 * SALESPRC-PRODPRICE (sales prices to price list items). Price lists (Business Central online): PLHEADER-PRICE (sales
 * price list headers to price lists) and PLLINE-PRODPRICE / PLLINE-RESPRICE (their item and resource lines to price
 * list items). It declares mappings only; the runtime's engine runs them.
 *
 * <p>Setting: {@code plugins.prices.localCurrencyCode}, the ERP's local currency (LCY) code, default
 * {@value PriceMappings#DEFAULT_LOCAL_CURRENCY}. Price lists are in that currency, and so are sales prices with an
 * empty currency code.
 *
 * <p>Setting: {@code plugins.prices.legacyPricing}, which pair is declared: {@code true} the legacy pair,
 * {@code false} the price lists, as the reference system switches on "extended price calculation". It follows the
 * ERP profile the runtime passes as {@code erpProfile}: legacy on {@code nav}, price lists on {@code bc-online},
 * whose current versions no longer have the Sales Price table (removed in BC 26).
 */
@Extension
public class PricesPlugin implements EntityPlugin {

  /** {@code plugins.prices.localCurrencyCode}. */
  static final Setting LOCAL_CURRENCY_CODE = Setting.string("localCurrencyCode")
      .defaultValue(PriceMappings.DEFAULT_LOCAL_CURRENCY)
      .check("1 to 10 letters or digits (case and surrounding spaces ignored)", v -> {
        try {
          PriceMappings.checkCurrencyCode((String) v);
          return null;
        } catch (IllegalArgumentException e) {
          return "is not an ERP currency code (1 to 10 letters or digits, e.g. USD)";
        }
      })
      .doc("the ERP's local currency code (LCY): the currency of every price list and of sales prices with no "
          + "currency code; must be coupled in CURRENCY (see [user-guide.md](user-guide.md#prices)); an invalid code "
          + "fails the prices plugin with a message naming this setting");
  /** {@code plugins.prices.legacyPricing}. */
  static final Setting LEGACY_PRICING = Setting.bool("legacyPricing")
      .defaultDoc("`true` on nav, `false` on bc-online")
      .doc("which pricing pair is declared: `true` the legacy CUSTPRCGRP-PRICE and SALESPRC-PRODPRICE (the Sales "
          + "Price page, removed from current BC versions), `false` the price lists PLHEADER-PRICE, PLLINE-PRODPRICE "
          + "and PLLINE-RESPRICE");

  private String localCurrency = PriceMappings.DEFAULT_LOCAL_CURRENCY;
  private boolean legacyPricing = true;

  @Override
  public void configure(JsonObject settings) {
    Object code = settings.getValue("localCurrencyCode");
    if (code != null) {
      localCurrency = PriceMappings.checkCurrencyCode(String.valueOf(code));
    }
    Object legacy = settings.getValue("legacyPricing");
    if (legacy != null) {
      if (!(legacy instanceof Boolean b)) {
        throw new IllegalArgumentException("plugins.prices.legacyPricing '" + legacy + "' must be true or false");
      }
      legacyPricing = b;
    } else {
      legacyPricing = !"bc-online".equals(settings.getString("erpProfile"));
    }
  }

  @Override
  public List<Setting> settings() {
    return List.of(LOCAL_CURRENCY_CODE, LEGACY_PRICING);
  }

  @Override
  public List<MappingDefinition> mappings() {
    List<MappingDefinition> out = new ArrayList<>(List.of(PriceMappings.currency()));
    if (legacyPricing) {
      out.add(PriceMappings.customerPriceGroup(localCurrency));
      out.add(PriceMappings.salesPrice(localCurrency));
    } else {
      out.add(PriceMappings.priceListHeader(localCurrency));
      out.add(PriceMappings.priceListItemLine(localCurrency));
      out.add(PriceMappings.priceListResourceLine(localCurrency));
    }
    return out;
  }
}
