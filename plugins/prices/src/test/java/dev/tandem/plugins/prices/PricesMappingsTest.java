package dev.tandem.plugins.prices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class PricesMappingsTest {

  private static FieldMapping currencyField(MappingDefinition m) {
    return m.fields().stream().filter(f -> "transactioncurrencyid".equals(f.crmField())).findFirst().orElseThrow();
  }

  @Test
  void theLocalCurrencyComesFromTheSettingsAndDefaultsToUsd() {
    PricesPlugin plain = new PricesPlugin();
    plain.configure(new JsonObject());
    assertEquals("USD", currencyField(plain.mappings().get(1)).constant());

    PricesPlugin eur = new PricesPlugin();
    eur.configure(new JsonObject().put("localCurrencyCode", " eur "));
    List<MappingDefinition> defs = eur.mappings();
    assertEquals(List.of("CURRENCY", "CUSTPRCGRP-PRICE", "SALESPRC-PRODPRICE"),
        defs.stream().map(MappingDefinition::name).toList());
    assertEquals("EUR", currencyField(defs.get(1)).constant());
    assertEquals("CURRENCY", currencyField(defs.get(1)).lookupMapping());
    FieldMapping priceCurrency = currencyField(defs.get(2));
    assertEquals("EUR", priceCurrency.transformations().get(0).apply(""), "an empty currency code is the LCY");
    assertEquals("GBP", priceCurrency.transformations().get(0).apply("GBP"));
  }

  @Test
  void legacySalesPricesFollowTheErpProfileUnlessConfigured() {
    PricesPlugin nav = new PricesPlugin();
    nav.configure(new JsonObject().put("erpProfile", "nav"));
    assertEquals(List.of("CURRENCY", "CUSTPRCGRP-PRICE", "SALESPRC-PRODPRICE"),
        nav.mappings().stream().map(MappingDefinition::name).toList());
    PricesPlugin online = new PricesPlugin();
    online.configure(new JsonObject().put("erpProfile", "bc-online"));
    assertEquals(List.of("CURRENCY", "PLHEADER-PRICE", "PLLINE-PRODPRICE", "PLLINE-RESPRICE"),
        online.mappings().stream().map(MappingDefinition::name).toList(), "BC online: price lists, no Sales Price");
    PricesPlugin navWithPriceLists = new PricesPlugin();
    navWithPriceLists.configure(new JsonObject().put("erpProfile", "nav").put("legacyPricing", false));
    assertEquals(4, navWithPriceLists.mappings().size());
    PricesPlugin forced = new PricesPlugin();
    forced.configure(new JsonObject().put("erpProfile", "bc-online").put("legacyPricing", true));
    assertEquals(3, forced.mappings().size());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PricesPlugin().configure(new JsonObject().put("legacyPricing", "yes")));
    assertTrue(e.getMessage().contains("plugins.prices.legacyPricing"), e.getMessage());
  }

  @Test
  void anInvalidLocalCurrencyNamesTheSetting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PricesPlugin().configure(new JsonObject().put("localCurrencyCode", "US DOLLAR")));
    assertTrue(e.getMessage().contains("plugins.prices.localCurrencyCode 'US DOLLAR'"), e.getMessage());
  }

  @Test
  void roundingPrecisionBecomesDecimals() {
    assertEquals(2, PriceMappings.ROUNDING_TO_DECIMALS.apply(0.01));
    assertEquals(2, PriceMappings.ROUNDING_TO_DECIMALS.apply("0.010"));
    assertEquals(0, PriceMappings.ROUNDING_TO_DECIMALS.apply(1));
    assertEquals(0, PriceMappings.ROUNDING_TO_DECIMALS.apply(100));
    assertEquals(3, PriceMappings.ROUNDING_TO_DECIMALS.apply(0.001));
    assertEquals(4, PriceMappings.ROUNDING_TO_DECIMALS.apply(0.000001), "Dataverse keeps at most 4");
    assertEquals(2, PriceMappings.ROUNDING_TO_DECIMALS.apply(null), "empty: the ERP default 0.01");
    assertEquals(2, PriceMappings.ROUNDING_TO_DECIMALS.apply(0));
  }

  @Test
  void salesPricesAreKeyedBySystemIdAndDependOnTheirLookups() {
    MappingDefinition m = PriceMappings.salesPrice("USD");
    assertEquals("SystemId", m.erpKey());
    assertEquals("Sales_Type eq 'Customer Price Group'", m.erpFilter());
    assertEquals(List.of("CUSTPRCGRP-PRICE", "ITEM-PRODUCT", "UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE", "CURRENCY"),
        m.dependencies().stream().map(d -> d.mapping()).toList());
    assertTrue(m.dependencies().stream().noneMatch(d -> d.optional()));
  }

  @Test
  void priceListsFollowTheReferencesFilters() {
    MappingDefinition header = PriceMappings.priceListHeader("USD");
    assertEquals("Price_Type eq 'Sale' and Amount_Type eq 'Price' and Allow_Updating_Defaults eq false",
        header.erpFilter());
    assertEquals(List.of("CURRENCY"), header.dependencies().stream().map(d -> d.mapping()).toList());
    MappingDefinition items = PriceMappings.priceListItemLine("USD");
    assertEquals("SystemId", items.erpKey());
    assertEquals("Price_Type eq 'Sale' and Amount_Type eq 'Price' and Asset_Type eq 'Item' and Minimum_Quantity eq 0",
        items.erpFilter(), "minimum quantity 0 only, as the reference does");
    assertEquals(List.of("PLHEADER-PRICE", "ITEM-PRODUCT", "UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE", "CURRENCY"),
        items.dependencies().stream().map(d -> d.mapping()).toList());
    MappingDefinition resources = PriceMappings.priceListResourceLine("USD");
    assertTrue(resources.erpFilter().contains("Asset_Type eq 'Resource'"));
    assertTrue(resources.dependencies().stream().anyMatch(d -> d.mapping().equals("RESOURCE-PRODUCT")));
    assertEquals(null, PriceMappings.ERP_DATE.apply("0001-01-01"), "BC's empty date is no date");
    assertEquals("2026-12-31", PriceMappings.ERP_DATE.apply("2026-12-31"));
  }
}
