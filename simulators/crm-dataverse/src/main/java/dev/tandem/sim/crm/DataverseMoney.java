package dev.tandem.sim.crm;

import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/**
 * Money columns and their base-currency values. For every money column {@code x} of a table Dataverse keeps a
 * read-only {@code x_base}, the value in the organization's base currency: {@code x_base = x / exchangerate}, where
 * {@code exchangerate} is the record's own read-only copy of its transaction currency's rate, taken when the record
 * is created or updated (a later change of the currency's rate changes no stored record until it is written again).
 * Both are system-computed: neither is valid for create or update. Sources: Microsoft, "Transaction currency
 * (currency) table" (learn.microsoft.com/power-apps/developer/data-platform/transaction-currency-currency-entity:
 * "for every money attribute … Dataverse automatically creates a corresponding read-only, system-calculated money
 * attribute called base", {@code creditlimit_base = creditlimit / exchangerate}), {@code MoneyAttributeMetadata.
 * IsBaseCurrency} ("each transaction currency money attribute … will have a corresponding base currency money
 * attribute … <money attribute name>_Base"), and the table references (account {@code ExchangeRate} and
 * {@code CreditLimit_Base}: IsValidForCreate False, IsValidForUpdate False).
 *
 * <p>The error a write of either column gets is modelled: Microsoft documents that they are read-only, not the
 * answer; the simulator uses {@code 0x80048d19} (the Web API's "Error identified in Payload provided by the user"),
 * as for its other columns that are not valid for create or update (docs/simulators.md).
 */
final class DataverseMoney {

  /** The column holding the record's exchange rate. */
  static final String EXCHANGE_RATE = "exchangerate";
  /** Suffix of a money column's base-currency value. */
  static final String BASE = "_base";

  /**
   * Money columns of the tables the simulator serves, from their table references (type Money). Tandem's own
   * {@code account.tandem_balance} is a decimal (a balance already in the ERP's local currency), not money.
   */
  private static final Map<String, List<String>> MONEY = Map.of(
      "accounts", List.of("creditlimit", "revenue"),
      "products", List.of("price", "standardcost", "currentcost"),
      "productpricelevels", List.of("amount"),
      "salesorders", List.of("totalamount", "totallineitemamount", "totallineitemdiscountamount",
          "totaldiscountamount", "totalamountlessfreight", "totaltax", "discountamount", "freightamount"),
      "salesorderdetails", List.of("priceperunit", "baseamount", "extendedamount", "manualdiscountamount", "tax",
          "volumediscountamount"),
      "invoices", List.of("totalamount", "totallineitemamount", "totallineitemdiscountamount", "totaldiscountamount",
          "totalamountlessfreight", "totaltax", "discountamount", "freightamount"),
      "invoicedetails", List.of("priceperunit", "baseamount", "extendedamount", "manualdiscountamount", "tax",
          "volumediscountamount"),
      "opportunities", List.of("estimatedvalue"));

  /** Lines take their currency (and so their rate) from their header. */
  private static final Map<String, String[]> HEADER = Map.of(
      "salesorderdetails", new String[] {"salesorders", "_salesorderid_value"},
      "invoicedetails", new String[] {"invoices", "_invoiceid_value"});

  private DataverseMoney() {}

  /** @return the table's money columns (empty when it has none) */
  static List<String> money(Entity e) {
    return MONEY.getOrDefault(e.set(), List.of());
  }

  /** @return whether the column is one of the table's money columns */
  static boolean isMoney(Entity e, String column) {
    return money(e).contains(column);
  }

  /** @return whether the column is a computed one: a money column's {@code _base} or the record's exchange rate */
  static boolean isComputed(Entity e, String column) {
    List<String> m = money(e);
    if (m.isEmpty()) {
      return false;
    }
    return column.equals(EXCHANGE_RATE)
        || column.endsWith(BASE) && m.contains(column.substring(0, column.length() - BASE.length()));
  }

  /** Refuses a body that writes a computed column; call before the body is applied. */
  static void refuseWrites(Entity e, Map<String, Object> body, boolean create) {
    for (String name : body.keySet()) {
      if (isComputed(e, name)) {
        throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x80048d19", "Error identified in "
            + "Payload provided by the user for Entity :'" + e.set() + "': the attribute '" + name + "' of "
            + e.logical() + " is not valid for " + (create ? "create" : "update") + " (IsValidFor"
            + (create ? "Create" : "Update") + " False): it is computed from the record's transaction currency."));
      }
    }
  }

  /**
   * Sets the record's exchange rate from its transaction currency (a line's from its header) and every money
   * column's base value; call inside write() whenever the row is created or updated. A record without a currency
   * is in the base currency (rate 1).
   */
  static void compute(DataverseSimulator sim, Entity e, Map<String, Object> row) {
    List<String> columns = money(e);
    if (columns.isEmpty()) {
      return;
    }
    BigDecimal rate = rate(sim, e, row);
    row.put(EXCHANGE_RATE, rate);
    for (String c : columns) {
      Object v = row.get(c);
      row.put(c + BASE, v instanceof Number || v instanceof String s && !s.isBlank()
          ? base(new BigDecimal(String.valueOf(v)), rate) : null);
    }
  }

  private static BigDecimal base(BigDecimal value, BigDecimal rate) {
    // Money carries at most four decimals (MoneyAttributeMetadata.MaxSupportedPrecision).
    return value.divide(rate, 4, RoundingMode.HALF_UP).stripTrailingZeros();
  }

  private static BigDecimal rate(DataverseSimulator sim, Entity e, Map<String, Object> row) {
    Object currency = row.get("_transactioncurrencyid_value");
    String[] header = HEADER.get(e.set());
    if (currency == null && header != null && row.get(header[1]) != null) {
      Map<String, Object> h = sim.store().table(header[0]).get(String.valueOf(row.get(header[1])));
      if (h != null && h.get(EXCHANGE_RATE) != null) {
        return new BigDecimal(String.valueOf(h.get(EXCHANGE_RATE)));
      }
    }
    if (currency != null) {
      Map<String, Object> c = sim.store().table("transactioncurrencies").get(String.valueOf(currency));
      if (c != null && c.get(EXCHANGE_RATE) instanceof Number n && n.doubleValue() > 0) {
        return new BigDecimal(String.valueOf(n)).stripTrailingZeros();
      }
    }
    return BigDecimal.ONE;
  }
}
