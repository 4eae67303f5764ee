package dev.tandem.plugins.salesorders;

import dev.tandem.api.Coupled;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.FieldMapper;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.api.TaskContext;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The field mapper of an order's header or lines: the runtime's mapper for the plain fields, then the references
 * resolved here through the other mappings' couplings, one query per mapping and page. Every cause a row cannot be
 * written for is collected into its one error (an uncoupled customer, each product not coupled, each blocked item),
 * so the record error names them all and the order is tried again once they are fixed.
 */
final class OrderFieldMapper implements FieldMapper {

  private final TaskContext ctx;
  private final FieldMapper plain;
  private final boolean header;
  private final String writeInItem;
  private final String localCurrency;

  OrderFieldMapper(TaskContext ctx, FieldMapper plain, boolean header, String writeInItem, String localCurrency) {
    this.ctx = ctx;
    this.plain = plain;
    this.header = header;
    this.writeInItem = writeInItem;
    this.localCurrency = localCurrency;
  }

  @Override
  public Future<List<Mapped>> map(Direction flow, List<JsonObject> rows) {
    if (flow != Direction.FROM_CRM) {
      return plain.map(flow, rows);
    }
    return plain.map(flow, rows).compose(mapped -> header ? headers(rows, mapped) : lines(rows, mapped));
  }

  private Future<List<Mapped>> headers(List<JsonObject> rows, List<Mapped> mapped) {
    Set<String> customers = ids(rows, "_customerid_value");
    Set<String> currencies = ids(rows, "_transactioncurrencyid_value");
    Set<String> lists = ids(rows, "_pricelevelid_value");
    Future<Map<String, Coupled>> c = ctx.couplings().byCrmIds(SalesOrderMappings.CUSTOMER, customers);
    Future<Map<String, Coupled>> cur = ctx.couplings().byCrmIds(SalesOrderMappings.CURRENCY, currencies);
    Future<Map<String, Coupled>> pl = ctx.couplings().byCrmIds(SalesOrderMappings.PRICE_GROUP, lists);
    return Future.all(c, cur, pl).map(v -> {
      List<Mapped> out = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        JsonObject row = rows.get(i);
        String where = "salesorders(" + row.getString("salesorderid") + ")";
        List<String> causes = new ArrayList<>();
        Map<String, Object> values = new LinkedHashMap<>();
        String customer = lower(row.getString("_customerid_value"));
        Coupled cc = customer == null ? null : c.result().get(customer);
        if (customer == null) {
          causes.add(where + ": the order has no customer");
        } else if (cc == null) {
          causes.add(where + ": its customer " + customer + " is not coupled to an ERP customer ("
              + SalesOrderMappings.CUSTOMER + "): couple or synchronize the account first");
        } else {
          values.put("Sell_to_Customer_No", cc.erpKey().toString());
        }
        // Without a coupled currency or price list the ERP takes the customer's (validating Sell-to Customer No.).
        Coupled currency = get(cur.result(), row.getString("_transactioncurrencyid_value"));
        if (currency != null) {
          String code = currency.erpKey().toString();
          values.put("Currency_Code", code.equalsIgnoreCase(localCurrency) ? "" : code);
        }
        Coupled group = get(pl.result(), row.getString("_pricelevelid_value"));
        if (group != null) {
          values.put("Customer_Price_Group", group.erpKey().toString());
        }
        out.add(combine(mapped.get(i), values, causes, Stage.LOOKUP));
      }
      return out;
    });
  }

  private Future<List<Mapped>> lines(List<JsonObject> rows, List<Mapped> mapped) {
    Set<String> products = ids(rows, "_productid_value");
    Set<String> units = ids(rows, "_uomid_value");
    Future<Map<String, Coupled>> items = ctx.couplings().byCrmIds(SalesOrderMappings.ITEM_PRODUCT, products);
    Future<Map<String, Coupled>> resources = ctx.couplings().byCrmIds(SalesOrderMappings.RESOURCE_PRODUCT, products);
    Future<Map<String, Coupled>> uoms = ctx.couplings().byCrmIds(SalesOrderMappings.BASE_UNIT, units);
    return Future.all(items, resources, uoms).compose(v -> {
      Set<String> itemNos = new LinkedHashSet<>();
      Set<String> resourceNos = new LinkedHashSet<>();
      items.result().values().forEach(x -> itemNos.add(x.erpKey().toString()));
      resources.result().values().forEach(x -> resourceNos.add(x.erpKey().toString()));
      if (rows.stream().anyMatch(r -> Boolean.TRUE.equals(r.getValue("isproductoverridden")))) {
        itemNos.add(writeInItem);
      }
      return blocked("Item", itemNos).compose(bi -> blocked("Resource", resourceNos).map(br -> {
        List<Mapped> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          JsonObject row = rows.get(i);
          String where = "salesorderdetails(" + row.getString("salesorderdetailid") + ")";
          List<String> causes = new ArrayList<>();
          Map<String, Object> values = new LinkedHashMap<>();
          Object number = row.getValue("lineitemnumber");
          if (number instanceof Number n) {
            values.put("Line_No", n.longValue() * 10_000L);
          } else {
            causes.add(where + ": the line has no line item number (lineitemnumber)");
          }
          String product = lower(row.getString("_productid_value"));
          if (Boolean.TRUE.equals(row.getValue("isproductoverridden"))) {
            values.put("Type", "Item");
            values.put("No", writeInItem);
            if (bi.contains(writeInItem)) {
              causes.add(where + ": the write-in item " + writeInItem + " is blocked in the ERP");
            }
          } else if (product == null) {
            causes.add(where + ": the line has neither a product nor a write-in description");
          } else if (items.result().containsKey(product)) {
            String no = items.result().get(product).erpKey().toString();
            values.put("Type", "Item");
            values.put("No", no);
            if (bi.contains(no)) {
              causes.add(where + ": item " + no + " is blocked in the ERP");
            }
          } else if (resources.result().containsKey(product)) {
            String no = resources.result().get(product).erpKey().toString();
            values.put("Type", "Resource");
            values.put("No", no);
            if (br.contains(no)) {
              causes.add(where + ": resource " + no + " is blocked in the ERP");
            }
          } else {
            causes.add(where + ": product " + product + " is not coupled to an ERP item ("
                + SalesOrderMappings.ITEM_PRODUCT + ") or resource (" + SalesOrderMappings.RESOURCE_PRODUCT + ")");
          }
          String unit = lower(row.getString("_uomid_value"));
          if (unit != null) {
            Coupled u = uoms.result().get(unit);
            if (u == null) {
              causes.add(where + ": unit " + unit + " is not coupled to an ERP unit of measure ("
                  + SalesOrderMappings.BASE_UNIT + ")");
            } else {
              values.put("Unit_of_Measure_Code", u.erpKey().toString());
            }
          }
          values.put("Line_Discount_Percent", discountPercent(row).doubleValue());
          out.add(combine(mapped.get(i), values, causes, Stage.LOOKUP));
        }
        return out;
      }));
    });
  }

  /** The CRM's manual discount (an amount) as the ERP's line discount percent of price times quantity. */
  static BigDecimal discountPercent(JsonObject line) {
    BigDecimal discount = decimal(line.getValue("manualdiscountamount"));
    BigDecimal gross = decimal(line.getValue("priceperunit")).multiply(decimal(line.getValue("quantity")));
    if (discount.signum() == 0 || gross.signum() == 0) {
      return BigDecimal.ZERO;
    }
    return discount.multiply(BigDecimal.valueOf(100)).divide(gross, 5, RoundingMode.HALF_UP).stripTrailingZeros();
  }

  private static BigDecimal decimal(Object v) {
    return v instanceof Number n ? new BigDecimal(n.toString()) : BigDecimal.ZERO;
  }

  /** The numbers among these that the ERP has blocked (one read per service and page). */
  private Future<Set<String>> blocked(String service, Set<String> numbers) {
    if (numbers.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    List<String> terms = numbers.stream().map(n -> "No eq " + ErpConnector.literal(n)).toList();
    return ctx.erp().read(service, "(" + String.join(" or ", terms) + ") and Blocked eq true", List.of("No"),
        numbers.size()).map(rows -> {
          Set<String> out = new java.util.HashSet<>();
          rows.forEach(r -> out.add(r.getString("No")));
          return out;
        });
  }

  /** The plain values, then the resolved ones; the plain mapper's error and every cause here as one error. */
  private static Mapped combine(Mapped plainRow, Map<String, Object> resolved, List<String> causes, Stage stage) {
    List<String> all = new ArrayList<>();
    Stage first = stage;
    if (!plainRow.ok()) {
      all.add(plainRow.error().getMessage());
      first = plainRow.error().stage();
    }
    all.addAll(causes);
    Map<String, Object> values = new LinkedHashMap<>();
    // Type before No: the ERP validates a line's No. against the table its Type names.
    resolved.forEach(values::put);
    plainRow.values().forEach((k, v) -> {
      if (v != null && !values.containsKey(k)) {
        values.put(k, v);
      }
    });
    return new Mapped(values, all.isEmpty() ? null : TandemException.data(first, String.join("; ", all)));
  }

  @Override
  public Map<String, Object> changes(Direction flow, Map<String, Object> desired, JsonObject current) {
    Map<String, Object> out = new LinkedHashMap<>();
    desired.forEach((k, v) -> {
      if (!same(v, current.getValue(k))) {
        out.put(k, v);
      }
    });
    return out;
  }

  static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
    }
    String s = a == null ? "" : a.toString();
    String t = b == null ? "" : b.toString();
    return Objects.equals(s, t);
  }

  private static Set<String> ids(List<JsonObject> rows, String column) {
    Set<String> out = new LinkedHashSet<>();
    rows.forEach(r -> {
      String v = lower(r.getString(column));
      if (v != null) {
        out.add(v);
      }
    });
    return out;
  }

  /** The coupling of a CRM id, or null for none (an order without a currency or price list: no key to look up). */
  private static Coupled get(Map<String, Coupled> coupled, String crmId) {
    return crmId == null ? null : coupled.get(lower(crmId));
  }

  private static String lower(String v) {
    return v == null ? null : v.toLowerCase(Locale.ROOT);
  }
}
