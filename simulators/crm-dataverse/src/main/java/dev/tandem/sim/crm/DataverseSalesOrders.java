package dev.tandem.sim.crm;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import dev.tandem.sim.crm.DataverseSimulator.DvError;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sales orders, their products (salesorderdetail), invoices and invoice products as Dynamics 365 Sales handles them.
 *
 * <ul>
 *   <li>The order's states: Active 0 (New 1, Pending 2), Submitted 1 (In Progress 3), Canceled 2 (No Money 4),
 *       Fulfilled 3 (Complete 100001, Partial 100002), Invoiced 4 (Invoiced 100003). {@code statecode} is not valid
 *       for create. Only an Active order and its products can be edited; a Submitted, Canceled, Fulfilled or
 *       Invoiced order is read-only ("Dynamics 365 Sales and privacy": Order read-only when
 *       Fulfilled/Canceled/Submitted/Invoiced, Invoice when Paid/Canceled/Closed). State changes by SetState (PATCH of
 *       statecode/statuscode) are allowed except to Canceled and Fulfilled, which need CancelSalesOrder and
 *       FulfillSalesOrder: "This message can not be used to set the state of SalesOrder to Canceled. In order to set
 *       state of SalesOrder to Canceled, use the CancelSalesOrderRequest Request message instead." (the platform's
 *       message, as quoted on the Dynamics community forum; the Fulfilled one by analogy). BC's own integration sets
 *       Invoiced and Active by update (codeunit "CRM Sales Order to Sales Order", SetCRMSalesOrderStateAsInvoiced).
 *   <li>FulfillSalesOrder and CancelSalesOrder take {@code OrderClose} (an orderclose entity naming the order) and
 *       {@code Status} (a status reason of the target state, or -1 for its default), both not nullable; they create
 *       the order close activity and close the order, answering 204 (Web API action reference, CRM 2016/v9).
 *       ConvertSalesOrderToInvoice takes {@code SalesOrderId} and {@code ColumnSet} and returns the new invoice.
 *   <li>Pricing: a product line's {@code priceperunit} comes from the order's price list item for its product and
 *       unit ({@code productpricelevels}, by its pricing method) unless {@code ispriceoverridden}; what fails is
 *       recorded in {@code pricingerrorcode} (2 Missing Price Level, 3 Inactive Price Level, 10 Missing UOM, 11
 *       Product Not In Price Level; the salesorderdetail reference's choice) and the price is 0. baseamount =
 *       priceperunit × quantity − volume discount, extendedamount = baseamount − manualdiscountamount + tax (both
 *       IsValidForCreate False: computed). The order's totals as the salesorder reference describes its columns:
 *       Detail Amount (totallineitemamount) sums the products' amounts after their manual discounts,
 *       totallineitemdiscountamount the manual discounts, totaldiscountamount = discountamount + discountpercentage
 *       of the detail amount, totalamountlessfreight = detail − discount, totaltax the products' tax, totalamount =
 *       pre-freight + freightamount + totaltax.
 *   <li>Write-in products: {@code isproductoverridden} true with a {@code productdescription} and no
 *       {@code productid}; their price is the one given. {@code isproductoverridden} cannot be changed afterwards.
 * </ul>
 *
 * <p>Error codes the simulator gives where Microsoft publishes none for the case (read-only order, closed order,
 * SetState to Canceled/Fulfilled): {@code 0x80040203} (InvalidArgument) with a message saying what was refused.
 */
final class DataverseSalesOrders {

  static final int ACTIVE = 0;
  static final int SUBMITTED = 1;
  static final int CANCELED = 2;
  static final int FULFILLED = 3;
  static final int INVOICED = 4;
  private static final List<String> STATE_NAMES = List.of("Active", "Submitted", "Canceled", "Fulfilled", "Invoiced");
  /** Columns the pricing engine computes: what a client writes there is ignored (IsValidForCreate False). */
  private static final List<String> COMPUTED_ORDER = List.of("totallineitemamount", "totallineitemdiscountamount",
      "totaldiscountamount", "totalamountlessfreight", "totaltax", "totalamount", "pricingerrorcode");
  private static final List<String> COMPUTED_LINE = List.of("baseamount", "extendedamount", "pricingerrorcode");
  private static final Pattern BIND = Pattern.compile("^/?(?:.*/api/data/v9\\.2/)?salesorders\\(([0-9a-fA-F-]{36})\\)$");

  private DataverseSalesOrders() {}

  private static boolean isHeader(Entity e) {
    return e.set().equals("salesorders") || e.set().equals("invoices");
  }

  private static boolean isLine(Entity e) {
    return e.set().equals("salesorderdetails") || e.set().equals("invoicedetails");
  }

  /** The header table of a line table, and the column the line names its header by. */
  private static String parentSet(Entity line) {
    return line.set().equals("salesorderdetails") ? "salesorders" : "invoices";
  }

  private static String parentColumn(Entity line) {
    return line.set().equals("salesorderdetails") ? "_salesorderid_value" : "_invoiceid_value";
  }

  private static BigDecimal money(Object v) {
    BigDecimal d = v == null ? BigDecimal.ZERO : v instanceof BigDecimal b ? b : new BigDecimal(String.valueOf(v));
    return d.setScale(2, RoundingMode.HALF_UP);
  }

  private static int state(Map<String, Object> row) {
    return row.get("statecode") instanceof Number n ? n.intValue() : 0;
  }

  private static DvError refused(String message) {
    return new DvError(DataverseSimulator.error(400, "0x80040203", message));
  }

  private static String stateName(Entity e, int state) {
    if (e.set().equals("salesorders") && state < STATE_NAMES.size()) {
      return STATE_NAMES.get(state);
    }
    return switch (state) {
      case 1 -> "Closed";
      case 2 -> "Paid";
      case 3 -> "Canceled";
      default -> "Active";
    };
  }

  // ---- create, update, delete --------------------------------------------------------------------------------

  /** statecode and statuscode of an order are not valid for create (IsValidForCreate False). */
  static void beforeCreate(Entity e, Map<String, Object> body) {
    if (e.set().equals("salesorders") && (body.containsKey("statecode") || body.containsKey("statuscode"))) {
      throw new DvError(DataverseSimulator.error(400, "0x80048d19", "statecode and statuscode of salesorder are not "
          + "valid for create: an order is created Active (New) and submitted afterwards."));
    }
  }

  /**
   * Refuses edits of a closed order or invoice (and of their products) and the state changes that need an action;
   * drops the columns that are not valid for update. Call inside write().
   */
  static void beforeUpdate(DataverseSimulator sim, Entity e, Map<String, Object> current, Map<String, Object> body) {
    if (isHeader(e)) {
      COMPUTED_ORDER.forEach(body::remove);
      if (e.set().equals("salesorders")) {
        body.remove("ordernumber");
      } else {
        body.remove("invoicenumber");
      }
      boolean statechange = body.containsKey("statecode") || body.containsKey("statuscode");
      if (statechange && e.set().equals("salesorders") && body.get("statecode") instanceof Number n) {
        if (n.intValue() == CANCELED) {
          throw refused("This message can not be used to set the state of SalesOrder to Canceled. In order to set "
              + "state of SalesOrder to Canceled, use the CancelSalesOrderRequest Request message instead.");
        }
        if (n.intValue() == FULFILLED) {
          throw refused("This message can not be used to set the state of SalesOrder to Fulfilled. In order to set "
              + "state of SalesOrder to Fulfilled, use the FulfillSalesOrderRequest Request message instead.");
        }
      }
      boolean edits = body.keySet().stream().anyMatch(k -> !k.equals("statecode") && !k.equals("statuscode")
          && !k.startsWith("@odata."));
      if (edits && state(current) != ACTIVE) {
        throw refused("The " + e.logical() + " is " + stateName(e, state(current)) + " and therefore read-only: only "
            + "an active " + e.logical() + " can be edited.");
      }
    } else if (isLine(e)) {
      COMPUTED_LINE.forEach(body::remove);
      activeParent(sim, e, current);
      if (body.containsKey("isproductoverridden")
          && !Boolean.valueOf(Boolean.TRUE.equals(body.get("isproductoverridden")))
              .equals(Boolean.TRUE.equals(current.get("isproductoverridden")))) {
        throw refused("isproductoverridden of " + e.logical() + " cannot be updated: delete the line and create a "
            + (Boolean.TRUE.equals(current.get("isproductoverridden")) ? "product" : "write-in") + " line instead.");
      }
    }
  }

  /** A product of a closed order or invoice cannot be deleted either. Call inside write(). */
  static void beforeDelete(DataverseSimulator sim, Entity e, Map<String, Object> current) {
    if (isLine(e)) {
      activeParent(sim, e, current);
    }
  }

  private static Map<String, Object> activeParent(DataverseSimulator sim, Entity line, Map<String, Object> row) {
    Object id = row.get(parentColumn(line));
    Map<String, Object> parent = id == null ? null : sim.store().table(parentSet(line)).get(String.valueOf(id));
    if (parent != null && state(parent) != ACTIVE) {
      Entity pe = sim.entity(parentSet(line));
      throw refused("The " + pe.logical() + " is " + stateName(pe, state(parent)) + " and therefore read-only: its "
          + "products cannot be added, changed or deleted.");
    }
    return parent;
  }

  /**
   * Before a row is stored (created or updated): numbers a new order or invoice, prices and computes a product line,
   * computes a header's totals. Call inside write().
   */
  static void beforePut(DataverseSimulator sim, Entity e, Map<String, Object> current, Map<String, Object> row,
      Map<String, Object> body) {
    if (isHeader(e)) {
      if (current == null) {
        String column = e.set().equals("salesorders") ? "ordernumber" : "invoicenumber";
        if (row.get(column) == null) {
          row.put(column, number(sim, e));
        }
      }
      row.putAll(totals(sim, e, row));
    } else if (isLine(e)) {
      if (current == null) {
        COMPUTED_LINE.forEach(row::remove);
      }
      Map<String, Object> parent = activeParent(sim, e, row);
      price(sim, e, parent, row, current == null);
    }
  }

  /** After a product line is stored or deleted, its header's totals follow. Call inside write(). */
  static void afterPut(DataverseSimulator sim, Entity e, Map<String, Object> row, String user) {
    if (!isLine(e)) {
      return;
    }
    Object id = row.get(parentColumn(e));
    Entity pe = sim.entity(parentSet(e));
    Map<String, Object> parent = id == null ? null : sim.store().table(pe.set()).get(String.valueOf(id));
    if (parent == null) {
      return;
    }
    Map<String, Object> totals = totals(sim, pe, parent);
    boolean same = totals.entrySet().stream().allMatch(t -> t.getValue().equals(parent.get(t.getKey())));
    if (!same) {
      sim.records().systemUpdate(pe, parent, totals, user);
    }
  }

  /** The auto-number of a new order or invoice, e.g. {@code ORD-01001-B2R8F7}. */
  private static String number(DataverseSimulator sim, Entity e) {
    String prefix = e.set().equals("salesorders") ? "ORD-" : "INV-";
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 6).toUpperCase(Locale.ROOT);
    return prefix + String.format(Locale.ROOT, "%05d", 1001 + sim.store().table(e.set()).size()) + "-" + suffix;
  }

  /** A product line's price, amounts and pricing error; write-in lines keep the price they are given. */
  private static void price(DataverseSimulator sim, Entity e, Map<String, Object> parent, Map<String, Object> row,
      boolean insert) {
    boolean writeIn = Boolean.TRUE.equals(row.get("isproductoverridden"));
    row.put("isproductoverridden", writeIn);
    int error = 0;
    if (writeIn) {
      if (row.get("_productid_value") != null) {
        throw refused("A write-in product (isproductoverridden true) has no productid: give productdescription "
            + "instead.");
      }
      Object d = row.get("productdescription");
      if (d == null || String.valueOf(d).isBlank()) {
        throw new DvError(DataverseSimulator.error(400, "0x80040203", "Attribute 'productdescription' cannot be "
            + "NULL: a write-in product needs its description."));
      }
    } else {
      if (row.get("_productid_value") == null) {
        throw new DvError(DataverseSimulator.error(400, "0x80040203", "Attribute 'productid' cannot be NULL: a line "
            + "names a product of the catalog, or is a write-in product (isproductoverridden)."));
      }
      if (!Boolean.TRUE.equals(row.get("ispriceoverridden"))) {
        Object[] found = listPrice(sim, parent, row);
        error = (Integer) found[1];
        row.put("priceperunit", found[0]);
      }
    }
    if (!Boolean.TRUE.equals(row.get("ispriceoverridden")) && !writeIn) {
      row.putIfAbsent("ispriceoverridden", false);
    }
    BigDecimal qty = row.get("quantity") == null ? BigDecimal.ZERO : new BigDecimal(String.valueOf(row.get("quantity")));
    BigDecimal base = money(money(row.get("priceperunit")).multiply(qty)
        .subtract(money(row.get("volumediscountamount")).multiply(qty)));
    row.put("priceperunit", money(row.get("priceperunit")));
    row.put("baseamount", base);
    row.put("extendedamount", money(base.subtract(money(row.get("manualdiscountamount")))
        .add(money(row.get("tax")))));
    row.put("pricingerrorcode", error);
  }

  /**
   * The price list item of the header's price list for the line's product and unit, priced by its pricing method:
   * 1 Currency Amount, 2 Percent of List, 3/5 Percent Markup over current/standard cost, 4/6 Percent Margin.
   *
   * @return {price, pricing error code}
   */
  private static Object[] listPrice(DataverseSimulator sim, Map<String, Object> parent, Map<String, Object> row) {
    Object list = parent == null ? null : parent.get("_pricelevelid_value");
    if (list == null) {
      return new Object[] {BigDecimal.ZERO, 2};
    }
    Map<String, Object> level = sim.store().table("pricelevels").get(String.valueOf(list));
    if (level == null || state(level) != 0) {
      return new Object[] {BigDecimal.ZERO, 3};
    }
    Object uom = row.get("_uomid_value");
    if (uom == null) {
      return new Object[] {BigDecimal.ZERO, 10};
    }
    Object product = row.get("_productid_value");
    List<Map<String, Object>> items = sim.store().table("productpricelevels").all(p -> list.equals(
        p.get("_pricelevelid_value")) && product.equals(p.get("_productid_value")) && uom.equals(p.get("_uomid_value")),
        null);
    if (items.isEmpty()) {
      return new Object[] {BigDecimal.ZERO, 11};
    }
    Map<String, Object> item = items.get(0);
    Map<String, Object> p = sim.store().table("products").get(String.valueOf(product));
    int method = item.get("pricingmethodcode") instanceof Number n ? n.intValue() : 1;
    BigDecimal pct = item.get("percentage") == null ? BigDecimal.ZERO : new BigDecimal(String.valueOf(item.get("percentage")))
        .movePointLeft(2);
    BigDecimal price = switch (method) {
      case 2 -> money(p == null ? null : p.get("price")).multiply(pct);
      case 3 -> money(p == null ? null : p.get("currentcost")).multiply(BigDecimal.ONE.add(pct));
      case 4 -> margin(money(p == null ? null : p.get("currentcost")), pct);
      case 5 -> money(p == null ? null : p.get("standardcost")).multiply(BigDecimal.ONE.add(pct));
      case 6 -> margin(money(p == null ? null : p.get("standardcost")), pct);
      default -> money(item.get("amount"));
    };
    return new Object[] {money(price), 0};
  }

  private static BigDecimal margin(BigDecimal cost, BigDecimal pct) {
    BigDecimal rest = BigDecimal.ONE.subtract(pct);
    return rest.signum() <= 0 ? BigDecimal.ZERO : cost.divide(rest, 2, RoundingMode.HALF_UP);
  }

  /** A header's lines, in key order: through the index on the header column, else by a scan. */
  private static List<Map<String, Object>> linesOf(DataverseSimulator sim, String lineSet, String column, Object id) {
    List<Map<String, Object>> indexed = id instanceof String s ? sim.store().table(lineSet).withValue(column, s) : null;
    return indexed != null ? indexed : sim.store().table(lineSet).all(r -> id.equals(r.get(column)), null);
  }

  /** The header's totals from its product lines and its own discount and freight. */
  private static Map<String, Object> totals(DataverseSimulator sim, Entity header, Map<String, Object> row) {
    String lineSet = header.set().equals("salesorders") ? "salesorderdetails" : "invoicedetails";
    String column = header.set().equals("salesorders") ? "_salesorderid_value" : "_invoiceid_value";
    Object id = row.get(header.key());
    BigDecimal detail = BigDecimal.ZERO;
    BigDecimal manual = BigDecimal.ZERO;
    BigDecimal tax = BigDecimal.ZERO;
    int error = 0;
    for (Map<String, Object> l : linesOf(sim, lineSet, column, id)) {
      detail = detail.add(money(l.get("baseamount")).subtract(money(l.get("manualdiscountamount"))));
      manual = manual.add(money(l.get("manualdiscountamount")));
      tax = tax.add(money(l.get("tax")));
      if (l.get("pricingerrorcode") instanceof Number n && n.intValue() != 0) {
        error = 1;
      }
    }
    BigDecimal pct = row.get("discountpercentage") == null ? BigDecimal.ZERO
        : new BigDecimal(String.valueOf(row.get("discountpercentage")));
    BigDecimal discount = money(money(row.get("discountamount")).add(detail.multiply(pct).movePointLeft(2)));
    BigDecimal preFreight = money(detail.subtract(discount));
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("totallineitemamount", money(detail));
    t.put("totallineitemdiscountamount", money(manual));
    t.put("totaldiscountamount", discount);
    t.put("totalamountlessfreight", preFreight);
    t.put("totaltax", money(tax));
    t.put("totalamount", money(preFreight.add(money(row.get("freightamount"))).add(tax)));
    t.put("pricingerrorcode", error);
    return t;
  }

  // ---- actions -----------------------------------------------------------------------------------------------

  private static final Set<String> ACTIONS = Set.of("FulfillSalesOrder", "CancelSalesOrder",
      "ConvertSalesOrderToInvoice", "salesorders/Microsoft.Dynamics.CRM.FulfillSalesOrder");

  /** @return whether the path is one of the order actions */
  static boolean handles(String rest) {
    return ACTIONS.contains(rest);
  }

  /** {@code POST FulfillSalesOrder}, {@code CancelSalesOrder}, {@code ConvertSalesOrderToInvoice}. */
  static SimResponse action(DataverseSimulator sim, SimRequest r, String rest, String user) {
    SimResponse denied = DataverseSetup.dataAccess(sim, user, "salesorders", "PATCH");
    if (denied != null) {
      return denied;
    }
    String name = rest.substring(rest.lastIndexOf('.') + 1).replace("salesorders/", "");
    Map<String, Object> body = r.bodyText().isBlank() ? Map.of() : Json.object(r.bodyText());
    if (name.equals("ConvertSalesOrderToInvoice")) {
      return convert(sim, body, user);
    }
    boolean fulfill = name.equals("FulfillSalesOrder");
    for (String p : List.of("OrderClose", "Status")) {
      if (body.get(p) == null) {
        return missing(p, name);
      }
    }
    if (!(body.get("OrderClose") instanceof Map<?, ?> close) || !(body.get("Status") instanceof Number status)) {
      return DataverseSimulator.error(400, "0x80048d19", "Parameters of " + name + ": OrderClose must be an "
          + "orderclose entity and Status an Edm.Int32.");
    }
    Matcher m = BIND.matcher(String.valueOf(close.get("salesorderid@odata.bind")));
    if (!m.matches()) {
      return DataverseSimulator.error(400, "0x80040203", "The OrderClose of " + name + " must name its order: "
          + "\"salesorderid@odata.bind\": \"/salesorders(<id>)\".");
    }
    String id = m.group(1).toLowerCase(Locale.ROOT);
    Entity orders = sim.entity("salesorders");
    sim.charge(DataverseCosts.Op.UPDATE, r);
    return sim.store().write(() -> {
      Map<String, Object> order = sim.store().table("salesorders").get(id);
      if (order == null) {
        return sim.records().notFound(orders, id);
      }
      int target = fulfill ? FULFILLED : CANCELED;
      if (state(order) != ACTIVE && state(order) != SUBMITTED) {
        return DataverseSimulator.error(400, "0x80040203", "The salesorder is " + stateName(orders, state(order))
            + ": only an active or submitted order can be " + (fulfill ? "fulfilled." : "canceled."));
      }
      Map<String, Object> change = new LinkedHashMap<>();
      change.put("statecode", target);
      if (status.intValue() != -1) {
        change.put("statuscode", status.intValue());
      }
      Map<String, Object> set = new LinkedHashMap<>();
      DataverseOptionSets.stateAndStatus(orders, state(order), null, change, set);
      Object end = close.get("actualend");
      String when = end != null ? String.valueOf(end) : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
      Map<String, Object> activity = new LinkedHashMap<>();
      activity.put("ordercloseid", UUID.randomUUID().toString());
      activity.put("subject", close.get("subject"));
      activity.put("description", close.get("description"));
      activity.put("actualend", when);
      activity.put("_salesorderid_value", id);
      activity.put("statecode", 1);
      activity.put("statuscode", 2);
      sim.records().insertInternal(sim.entity("ordercloses"), activity, user);
      if (fulfill) {
        set.put("datefulfilled", when);
      }
      sim.records().systemUpdate(orders, order, set, user);
      return SimResponse.empty(204);
    });
  }

  private static SimResponse missing(String parameter, String action) {
    return DataverseSimulator.error(400, "0x80040203", "Required parameter '" + parameter + "' of action " + action
        + " is missing or null: it is not nullable.");
  }

  /** ConvertSalesOrderToInvoice: a new Active invoice with the order's header and products, returned. */
  private static SimResponse convert(DataverseSimulator sim, Map<String, Object> body, String user) {
    if (body.get("SalesOrderId") == null) {
      return missing("SalesOrderId", "ConvertSalesOrderToInvoice");
    }
    String id = String.valueOf(body.get("SalesOrderId")).toLowerCase(Locale.ROOT);
    Entity orders = sim.entity("salesorders");
    Entity invoices = sim.entity("invoices");
    Entity details = sim.entity("invoicedetails");
    sim.charge(DataverseCosts.Op.CREATE, null);
    return sim.store().write(() -> {
      Map<String, Object> order = sim.store().table("salesorders").get(id);
      if (order == null) {
        return sim.records().notFound(orders, id);
      }
      if (state(order) == CANCELED) {
        return DataverseSimulator.error(400, "0x80040203", "The salesorder is Canceled: a canceled order cannot be "
            + "invoiced.");
      }
      Map<String, Object> inv = new LinkedHashMap<>();
      String invoiceId = UUID.randomUUID().toString();
      inv.put("invoiceid", invoiceId);
      inv.put("name", order.get("name"));
      inv.put("invoicenumber", number(sim, invoices));
      for (String c : List.of("description", "discountamount", "discountpercentage", "freightamount",
          "_customerid_value", "_pricelevelid_value", "_transactioncurrencyid_value", "ispricelocked")) {
        if (order.get(c) != null) {
          inv.put(c, order.get(c));
        }
      }
      inv.put("_salesorderid_value", id);
      inv.put("_ownerid_value", order.get("_ownerid_value") != null ? order.get("_ownerid_value") : user);
      inv.put("statecode", 0);
      inv.put("statuscode", 1);
      Map<String, Object> stored = sim.records().insertInternal(invoices, inv, user);
      for (Map<String, Object> l : linesOf(sim, "salesorderdetails", "_salesorderid_value", id)) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("invoicedetailid", UUID.randomUUID().toString());
        d.put("_invoiceid_value", invoiceId);
        d.put("_salesorderdetailid_value", l.get("salesorderdetailid"));
        for (String c : List.of("_productid_value", "_uomid_value", "quantity", "priceperunit", "baseamount",
            "extendedamount", "manualdiscountamount", "tax", "ispriceoverridden", "isproductoverridden",
            "productdescription", "volumediscountamount", "lineitemnumber", "pricingerrorcode", "description")) {
          if (l.get(c) != null) {
            d.put(c, l.get(c));
          }
        }
        sim.records().insertInternal(details, d, user);
      }
      stored = sim.records().systemUpdate(invoices, stored, totals(sim, invoices, stored), user);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("@odata.context", sim.apiUrl() + "/$metadata#invoices/$entity");
      Object columns = body.get("ColumnSet");
      List<?> wanted = columns instanceof Map<?, ?> cs && !Boolean.TRUE.equals(cs.get("AllColumns"))
          && cs.get("Columns") instanceof List<?> l ? l : null;
      out.put("@odata.etag", DataverseSimulator.etag(stored));
      if (wanted == null) {
        out.putAll(stored);
      } else {
        out.put("invoiceid", invoiceId);
        for (Object c : wanted) {
          out.put(String.valueOf(c), stored.get(String.valueOf(c)));
        }
      }
      return SimResponse.json(200, out);
    });
  }
}
