package dev.tandem.plugins.prices;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.api.MatchField;
import dev.tandem.api.Transformation;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The default mappings of the reference system for currencies, customer price groups and sales prices. All three
 * flow from the ERP to the CRM: the ERP owns prices.
 */
public final class PriceMappings {

  /** The local currency when the configuration names none. */
  public static final String DEFAULT_LOCAL_CURRENCY = "USD";

  /** Dataverse keeps 0 to 4 decimals per currency. */
  private static final int MAX_CRM_PRECISION = 4;

  private static final Pattern CURRENCY_CODE = Pattern.compile("[A-Z0-9]{1,10}");

  /**
   * The ERP's amount rounding precision (0.01) as the CRM's currency precision (2 decimals); empty or zero means
   * the ERP default of 0.01.
   */
  static final Transformation ROUNDING_TO_DECIMALS = new Transformation("roundingPrecisionToDecimals", v -> {
    if (v == null || "".equals(v)) {
      return 2;
    }
    BigDecimal p = new BigDecimal(v.toString());
    if (p.signum() <= 0) {
      return 2;
    }
    return Math.max(0, Math.min(MAX_CRM_PRECISION, p.stripTrailingZeros().scale()));
  });

  private PriceMappings() {}

  /**
   * @param code an ERP currency code from the configuration
   * @return the code, upper case
   * @throws IllegalArgumentException when it is not an ERP currency code
   */
  static String checkCurrencyCode(String code) {
    String c = code == null ? "" : code.trim().toUpperCase(Locale.ROOT);
    if (!CURRENCY_CODE.matcher(c).matches()) {
      throw new IllegalArgumentException("plugins.prices.localCurrencyCode '" + code
          + "' is not an ERP currency code (1 to 10 letters or digits, e.g. USD)");
    }
    return c;
  }

  /**
   * @param value used for an empty source value
   * @return a transformation that replaces an empty value (an ERP code field holds '' for none)
   */
  static Transformation orElse(String value) {
    return new Transformation("orElse(" + value + ")", v -> v == null || "".equals(v) ? value : v);
  }

  /**
   * CURRENCY: ERP currencies become CRM transaction currencies. The code is the match field and the CRM's alternate
   * key, so a currency the CRM already has (its base currency, say) is coupled, not duplicated. The ERP page has no
   * exchange rate: new currencies start at 1.0 and the rate is kept in the CRM.
   *
   * @return the mapping
   */
  public static MappingDefinition currency() {
    return MappingDefinition.builder("CURRENCY")
        .erp("Currency", "Code")
        .crm("transactioncurrencies", "transactioncurrencyid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Code", "isocurrencycode", Direction.TO_CRM).transformedBy(Transformation.UPPER_CASE)
            .transformedBy(Transformation.truncate(5)))
        .field(FieldMapping.of("Symbol", "currencysymbol", Direction.TO_CRM).transformedBy(orElse("¤"))
            .transformedBy(Transformation.truncate(10)))
        .field(FieldMapping.of("Description", "currencyname", Direction.TO_CRM).transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Amount_Rounding_Precision", "currencyprecision", Direction.TO_CRM)
            .transformedBy(ROUNDING_TO_DECIMALS))
        .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
        .match(MatchField.of("Code", "isocurrencycode", 1))
        .crmAlternateKey("isocurrencycode")
        .build();
  }

  /**
   * CUSTPRCGRP-PRICE: ERP customer price groups become CRM price lists in the local currency (the ERP price group
   * has no currency of its own), which is resolved through CURRENCY's couplings.
   *
   * @param localCurrency the ERP's local currency code
   * @return the mapping
   */
  public static MappingDefinition customerPriceGroup(String localCurrency) {
    return MappingDefinition.builder("CUSTPRCGRP-PRICE")
        .erp("CustomerPriceGroup", "Code")
        .crm("pricelevels", "pricelevelid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Code", "name", Direction.TO_CRM).transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Description", "description", Direction.TO_CRM)
            .transformedBy(Transformation.truncate(2000)))
        .field(FieldMapping.of(null, "transactioncurrencyid", Direction.TO_CRM).withConstant(localCurrency)
            .lookupThrough("CURRENCY"))
        .match(MatchField.of("Code", "name", 1))
        .crmAlternateKey("name")
        .dependsOn("CURRENCY")
        .build();
  }

  /**
   * SALESPRC-PRODPRICE: ERP sales prices of customer price groups become CRM price list items. The price list, the
   * product, the unit group and unit, and the currency are looked up through the couplings of CUSTPRCGRP-PRICE,
   * ITEM-PRODUCT, UNIT-OF-MEASURE, UNIT-OF-MEASURE-BASE and CURRENCY; an empty currency code is the local currency.
   * The ERP key of a sales price spans six fields, so the mapping is keyed by its {@code SystemId}.
   *
   * @param localCurrency the ERP's local currency code
   * @return the mapping
   */
  public static MappingDefinition salesPrice(String localCurrency) {
    return MappingDefinition.builder("SALESPRC-PRODPRICE")
        .erp("SalesPrice", "SystemId")
        .crm("productpricelevels", "productpricelevelid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Sales_Code", "pricelevelid", Direction.TO_CRM).lookupThrough("CUSTPRCGRP-PRICE"))
        .field(FieldMapping.of("Item_No", "productid", Direction.TO_CRM).lookupThrough("ITEM-PRODUCT"))
        .field(FieldMapping.of("Unit_of_Measure_Code", "uomscheduleid", Direction.TO_CRM)
            .lookupThrough("UNIT-OF-MEASURE"))
        .field(FieldMapping.of("Unit_of_Measure_Code", "uomid", Direction.TO_CRM).lookupThrough("UNIT-OF-MEASURE-BASE"))
        .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM)
            .transformedBy(orElse(localCurrency)).lookupThrough("CURRENCY"))
        .field("Unit_Price", "amount", Direction.TO_CRM)
        // Currency amount, no quantity control: the price list item is a plain unit price.
        .field(FieldMapping.of(null, "pricingmethodcode", Direction.TO_CRM).withConstant(1))
        .field(FieldMapping.of(null, "quantitysellingcode", Direction.TO_CRM).withConstant(1))
        .filters("Sales_Type eq 'Customer Price Group'", null)
        .dependsOn("CUSTPRCGRP-PRICE")
        .dependsOn("ITEM-PRODUCT")
        .dependsOn("UNIT-OF-MEASURE")
        .dependsOn("UNIT-OF-MEASURE-BASE")
        .dependsOn(MappingDependency.on("CURRENCY"))
        .build();
  }

  /**
   * An ERP date as a CRM date: Business Central's empty date {@code 0001-01-01} (or an empty value) is no date.
   */
  static final Transformation ERP_DATE = new Transformation("erpDate", v -> v == null || "".equals(v)
      || "0001-01-01".equals(String.valueOf(v)) ? null : String.valueOf(v));

  /** The ERP filter of the price list headers the CRM gets: sales prices, as the reference's PLHEADER-PRICE has it. */
  static final String SALES_PRICE_LISTS = "Price_Type eq 'Sale' and Amount_Type eq 'Price' and "
      + "Allow_Updating_Defaults eq false";

  /**
   * PLHEADER-PRICE: Business Central's sales price lists (Price List Header, price type Sale, amount type Price)
   * become CRM price lists with their currency (empty: the local currency, through CURRENCY) and their starting and
   * ending dates. Replaces CUSTPRCGRP-PRICE where price lists replace the Sales Price table.
   *
   * @param localCurrency the ERP's local currency code
   * @return the mapping
   */
  public static MappingDefinition priceListHeader(String localCurrency) {
    return MappingDefinition.builder("PLHEADER-PRICE")
        .erp("PriceListHeader", "Code")
        .crm("pricelevels", "pricelevelid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Code", "name", Direction.TO_CRM).transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Description", "description", Direction.TO_CRM)
            .transformedBy(Transformation.truncate(2000)))
        .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM)
            .transformedBy(orElse(localCurrency)).lookupThrough("CURRENCY"))
        .field(FieldMapping.of("Starting_Date", "begindate", Direction.TO_CRM).transformedBy(ERP_DATE))
        .field(FieldMapping.of("Ending_Date", "enddate", Direction.TO_CRM).transformedBy(ERP_DATE))
        .filters(SALES_PRICE_LISTS, null)
        .match(MatchField.of("Code", "name", 1))
        .crmAlternateKey("name")
        .dependsOn("CURRENCY")
        .build();
  }

  /**
   * PLLINE-PRODPRICE: the item lines of those price lists become CRM price list items, and PLLINE-RESPRICE the
   * resource lines ({@link #priceListResourceLine}). As in the reference, only lines of price type Sale and amount
   * type Price with minimum quantity 0 are taken: a CRM price list item has one price per product and unit, with no
   * quantity breaks. The price list, product, unit group, unit and currency are looked up through the couplings of
   * PLHEADER-PRICE, ITEM-PRODUCT, UNIT-OF-MEASURE, UNIT-OF-MEASURE-BASE and CURRENCY; the line is keyed by its
   * {@code SystemId} (its key is price list code and line number).
   *
   * @param localCurrency the ERP's local currency code
   * @return the mapping
   */
  public static MappingDefinition priceListItemLine(String localCurrency) {
    return priceListLine("PLLINE-PRODPRICE", "Item", "ITEM-PRODUCT", localCurrency);
  }

  /**
   * PLLINE-RESPRICE: the resource lines of the sales price lists, as {@link #priceListItemLine} for items, with the
   * product looked up through RESOURCE-PRODUCT. A separate mapping because a lookup goes through one mapping's
   * couplings, and item and resource numbers may coincide.
   *
   * @param localCurrency the ERP's local currency code
   * @return the mapping
   */
  public static MappingDefinition priceListResourceLine(String localCurrency) {
    return priceListLine("PLLINE-RESPRICE", "Resource", "RESOURCE-PRODUCT", localCurrency);
  }

  private static MappingDefinition priceListLine(String name, String assetType, String products,
      String localCurrency) {
    return MappingDefinition.builder(name)
        .erp("PriceListLine", "SystemId")
        .crm("productpricelevels", "productpricelevelid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Price_List_Code", "pricelevelid", Direction.TO_CRM).lookupThrough("PLHEADER-PRICE"))
        .field(FieldMapping.of("Asset_No", "productid", Direction.TO_CRM).lookupThrough(products))
        .field(FieldMapping.of("Unit_of_Measure_Code", "uomscheduleid", Direction.TO_CRM)
            .lookupThrough("UNIT-OF-MEASURE"))
        .field(FieldMapping.of("Unit_of_Measure_Code", "uomid", Direction.TO_CRM).lookupThrough("UNIT-OF-MEASURE-BASE"))
        .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM)
            .transformedBy(orElse(localCurrency)).lookupThrough("CURRENCY"))
        .field("Unit_Price", "amount", Direction.TO_CRM)
        .field(FieldMapping.of(null, "pricingmethodcode", Direction.TO_CRM).withConstant(1))
        .field(FieldMapping.of(null, "quantitysellingcode", Direction.TO_CRM).withConstant(1))
        .filters("Price_Type eq 'Sale' and Amount_Type eq 'Price' and Asset_Type eq '" + assetType
            + "' and Minimum_Quantity eq 0", null)
        .dependsOn("PLHEADER-PRICE")
        .dependsOn(products)
        .dependsOn("UNIT-OF-MEASURE")
        .dependsOn("UNIT-OF-MEASURE-BASE")
        .dependsOn("CURRENCY")
        .build();
  }
}
