package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.erp.ErpServices.Service;
import dev.tandem.sim.erp.ErpSimulator.ErpError;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sales orders (table 36 "Sales Header", page 42) and their lines (table 37 "Sales Line", page 46) with Business
 * Central's rules, after its AL source (StefanMaron/MSDyn365BC.Code.History): lines need their header and an Item
 * or Resource; a line's unit price comes from the best sales price for the header's customer, price group and
 * currency when the client gives none; the line amount and the header's Amount (a FlowField over the lines) are
 * computed; Status (Editable = false) is Open or Released, and a Released order refuses changes to itself and its
 * lines (TestStatusOpen) until it is reopened; release, reopen and posting (ship and invoice: codeunit 80
 * "Sales-Post") are what a BC user or the API page's {@code Microsoft.NAV.shipAndInvoice} action does — page web
 * services publish no bound actions for them. A line write locks its header for the time of its transaction: a
 * concurrent line write of the same header from another request is refused (BC's web-service performance guide:
 * don't insert child records of the same parent in parallel).
 */
final class ErpSalesDocuments {

  /** How long a line write holds its header's lock (its transaction with the line's triggers); an estimate. */
  static final long DEFAULT_LINE_LOCK_MS = 10;
  private static final Pattern API_ORDER = Pattern.compile(
      "^companies\\(([^)]*)\\)/salesOrders\\(([0-9a-fA-F-]{36})\\)/Microsoft\\.NAV\\.shipAndInvoice$");

  private final ErpSimulator sim;
  /** Header key → the request holding its lock. */
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private volatile long lineLockMs = DEFAULT_LINE_LOCK_MS;
  /** The transactional batch running on this thread (the owner of the header locks it keeps), or null. */
  private final ThreadLocal<Object> transaction = new ThreadLocal<>();

  ErpSalesDocuments(ErpSimulator sim) {
    this.sim = sim;
  }

  void reset() {
    locks.clear();
    lineLockMs = DEFAULT_LINE_LOCK_MS;
  }

  private Service header() {
    return ErpServices.ALL.get("SalesOrder");
  }

  private Service line() {
    return ErpServices.ALL.get("SalesOrderLine");
  }

  private static String str(Object v) {
    return v == null ? "" : String.valueOf(v);
  }

  private static BigDecimal dec(Object v) {
    return v == null || "".equals(v) ? BigDecimal.ZERO : v instanceof BigDecimal b ? b : new BigDecimal(String.valueOf(v));
  }

  private static boolean noDate(Object d) {
    return d == null || "".equals(d) || "0001-01-01".equals(d);
  }

  // ---- the header lock -------------------------------------------------------------------------------------

  /**
   * Runs a client's write; a write of a sales line first takes its header's lock and keeps it for the line's
   * transaction ({@link #DEFAULT_LINE_LOCK_MS}, or as set), so another request writing a line of the same header
   * meanwhile is refused with 409. The parts of one {@code $batch} run one after another, so they never collide.
   *
   * @param s the page written
   * @param body the request body (create, update), or null
   * @param key the row's key (update, delete), or null
   * @param write the write
   * @return its answer
   */
  SimResponse underHeaderLock(Service s, Map<String, Object> body, String key, Supplier<SimResponse> write) {
    if (!s.name().equals("SalesOrderLine")) {
      return write.get();
    }
    String headerKey;
    if (key != null) {
      String[] parts = key.split("\u0001");
      headerKey = ErpKeys.of(header(), Map.of("Document_Type", parts[0], "No", parts.length > 1 ? parts[1] : ""));
    } else {
      Object type = body.get("Document_Type");
      headerKey = ErpKeys.of(header(), Map.of("Document_Type", type == null ? "Order" : type,
          "No", str(body.get("Document_No"))));
    }
    Object txn = transaction.get();
    if (txn != null && locks.get(headerKey) == txn) {
      return write.get();
    }
    Object me = txn != null ? txn : new Object();
    if (locks.putIfAbsent(headerKey, me) != null) {
      // Modelled message: BC documents the lock (BC-PERF), not the text the client then gets.
      return ErpSimulator.error(409, "Internal_LockTimeout", "The operation could not complete because a record in "
          + "the Sales Header table was locked by another user. Please retry the activity.");
    }
    if (txn != null) {
      // A transactional batch keeps the lock until it commits or rolls back (endTransaction).
      return write.get();
    }
    try {
      SimResponse r = write.get();
      long hold = Math.round(lineLockMs * sim.protection().costs().timeScale());
      if (hold > 0) {
        ErpServiceProtection.sleep(hold);
      }
      return r;
    } finally {
      locks.remove(headerKey, me);
    }
  }

  /**
   * Starts a transactional batch ({@code Isolation: snapshot}) on this thread: the header locks its parts take are
   * kept until {@link #endTransaction}, as a transaction holds its locks until it ends.
   */
  void beginTransaction() {
    transaction.set(new Object());
  }

  /** Ends the transactional batch on this thread: its header locks are released. */
  void endTransaction() {
    Object txn = transaction.get();
    transaction.remove();
    if (txn != null) {
      locks.values().removeIf(owner -> owner == txn);
    }
  }

  // ---- insert and modify -------------------------------------------------------------------------------------

  /**
   * Defaults of a new header or line before its key is formed: the pages show orders only (SourceTableView
   * Document Type = Order), and page 46 numbers a line after the last one of its document (AutoSplitKey, 10000
   * steps).
   */
  void defaults(Service s, Map<String, Object> row, Set<String> written) {
    if (!written.contains("Document_Type")) {
      row.put("Document_Type", "Order");
    }
    if (s.name().equals("SalesOrderLine")) {
      Object no = row.get("Line_No");
      if (no == null || no instanceof Number n && n.intValue() == 0) {
        String type = str(row.get("Document_Type"));
        String doc = str(row.get("Document_No"));
        int last = 0;
        for (Map<String, Object> l : linesOf(type, doc)) {
          last = Math.max(last, ((Number) l.get("Line_No")).intValue());
        }
        row.put("Line_No", last + 10_000);
      }
    } else if (noDate(row.get("Order_Date"))) {
      row.put("Order_Date", LocalDate.now(ZoneOffset.UTC).toString());
    }
  }

  /** A new header or line, after table relations are checked; call inside a store write. */
  void beforeInsert(Service s, Map<String, Object> row, Set<String> written) {
    if (s.name().equals("SalesOrder")) {
      if (written.contains("Sell_to_Customer_No")) {
        fromCustomer(row, written);
      }
    } else if (s.name().equals("SalesOrderLine")) {
      Map<String, Object> h = existingHeader(row);
      testStatusOpen(h);
      validateLine(h, row, written, true);
    }
  }

  /** A modified header or line; call inside a store write. */
  void beforeModify(Service s, Map<String, Object> current, Map<String, Object> row, Set<String> written) {
    if (s.name().equals("SalesOrder")) {
      testStatusOpen(current);
      if (written.contains("Sell_to_Customer_No")) {
        fromCustomer(row, written);
      }
    } else if (s.name().equals("SalesOrderLine")) {
      Map<String, Object> h = existingHeader(row);
      testStatusOpen(h);
      validateLine(h, row, written, false);
    }
  }

  /** A header's deletion deletes its lines (Sales Header OnDelete); a line of a Released order is kept. */
  void beforeDelete(Service s, Map<String, Object> current) {
    if (s.name().equals("SalesOrderLine")) {
      Map<String, Object> h = sim.store().table("SalesOrder").get(headerKey(current));
      if (h != null) {
        testStatusOpen(h);
        // Sales Line OnDelete: the lines attached to it (comment and extended-text lines) go with it.
        long no = current.get("Line_No") instanceof Number n ? n.longValue() : 0;
        for (Map<String, Object> l : lines(h)) {
          if (no != 0 && l.get("Attached_to_Line_No") instanceof Number a && a.longValue() == no
              && ((Number) l.get("Line_No")).longValue() != no) {
            sim.store().table("SalesOrderLine").delete((String) l.get("$key"));
          }
        }
      }
    } else if (s.name().equals("SalesOrder")) {
      for (Map<String, Object> l : lines(current)) {
        sim.store().table("SalesOrderLine").delete((String) l.get("$key"));
      }
      customerOrders(current.get("Sell_to_Customer_No"), dec(current.get(OUTSTANDING)).negate(),
          dec(current.get(SHIPPED_NOT_INVOICED)).negate());
    }
  }

  /** The header's share of its customer's Outstanding Orders (LCY) and Shipped Not Invoiced (LCY), never shown. */
  static final String OUTSTANDING = "$outstanding";
  static final String SHIPPED_NOT_INVOICED = "$shippedNotInvoiced";

  /**
   * Moves the customer's FlowFields Outstanding Orders (LCY) and Shipped Not Invoiced (LCY) (table 18 fields 113,
   * 114: sums of the order lines' Outstanding Amount (LCY) and Shipped Not Invoiced (LCY) by Bill-to Customer No.)
   * by the given amounts. Like every FlowField they change the Customer's ETag, not its SystemModifiedAt.
   */
  private void customerOrders(Object customerNo, BigDecimal outstanding, BigDecimal shippedNotInvoiced) {
    if (outstanding.signum() == 0 && shippedNotInvoiced.signum() == 0) {
      return;
    }
    Map<String, Object> c = customer(customerNo);
    if (c == null) {
      return;
    }
    Map<String, Object> changed = new LinkedHashMap<>(c);
    changed.put("Outstanding_Orders_LCY", dec(c.get("Outstanding_Orders_LCY")).add(outstanding));
    changed.put("Shipped_Not_Invoiced_LCY", dec(c.get("Shipped_Not_Invoiced_LCY")).add(shippedNotInvoiced));
    sim.tag(ErpServices.ALL.get("Customer"), changed);
    sim.store().table("Customer").put(changed);
  }

  /**
   * Keeps the header's Amount, a FlowField (CalcFormula = Sum("Sales Line".Amount)), equal to the sum of its lines:
   * like every FlowField it changes the ETag, not the header's SystemModifiedAt. Call inside a store write.
   */
  void afterLineWrite(Service s, Map<String, Object> lineRow) {
    if (!s.name().equals("SalesOrderLine")) {
      return;
    }
    Map<String, Object> h = sim.store().table("SalesOrder").get(headerKey(lineRow));
    if (h == null) {
      return;
    }
    BigDecimal sum = BigDecimal.ZERO;
    BigDecimal outstanding = BigDecimal.ZERO;
    BigDecimal shippedNotInvoiced = BigDecimal.ZERO;
    for (Map<String, Object> l : lines(h)) {
      BigDecimal amount = dec(l.get("Line_Amount"));
      sum = sum.add(amount);
      BigDecimal qty = dec(l.get("Quantity"));
      if (qty.signum() != 0) {
        // Sales Line: Outstanding Amount = Amount × Outstanding Quantity / Quantity; Shipped Not Invoiced = Amount ×
        // (Quantity Shipped − Quantity Invoiced) / Quantity (amounts excluding VAT: the simulator has no VAT).
        BigDecimal shipped = dec(l.get("Quantity_Shipped"));
        outstanding = outstanding.add(amount.multiply(qty.subtract(shipped)).divide(qty, 2, RoundingMode.HALF_UP));
        shippedNotInvoiced = shippedNotInvoiced.add(amount.multiply(shipped.subtract(dec(l.get("Quantity_Invoiced"))))
            .divide(qty, 2, RoundingMode.HALF_UP));
      }
    }
    Map<String, Object> changed = new LinkedHashMap<>(h);
    changed.put("Amount", sum);
    changed.put(OUTSTANDING, outstanding);
    changed.put(SHIPPED_NOT_INVOICED, shippedNotInvoiced);
    sim.tag(header(), changed);
    sim.store().table("SalesOrder").put(changed);
    customerOrders(h.get("Sell_to_Customer_No"), outstanding.subtract(dec(h.get(OUTSTANDING))),
        shippedNotInvoiced.subtract(dec(h.get(SHIPPED_NOT_INVOICED))));
  }

  private String headerKey(Map<String, Object> lineRow) {
    return ErpKeys.of(header(), Map.of("Document_Type", str(lineRow.get("Document_Type")),
        "No", str(lineRow.get("Document_No"))));
  }

  private List<Map<String, Object>> lines(Map<String, Object> h) {
    return linesOf(str(h.get("Document_Type")), str(h.get("No")));
  }

  /** The lines of one document, in key order: through the index on Document_No while every value is upper case. */
  private List<Map<String, Object>> linesOf(String type, String no) {
    EntityStore.Table t = sim.store().table("SalesOrderLine");
    java.util.function.Predicate<Map<String, Object>> mine = r -> type.equals(r.get("Document_Type"))
        && no.equalsIgnoreCase(str(r.get("Document_No")));
    List<Map<String, Object>> candidates = t.wellFormed("Document_No")
        ? t.withValue("Document_No", no.toUpperCase(java.util.Locale.ROOT)) : null;
    return candidates == null ? t.all(mine, null) : candidates.stream().filter(mine).toList();
  }

  /**
   * Validating Sell-to Customer No. refuses a blocked customer (CheckBlockedCustOnDocs) and copies the customer's
   * name, currency, price group and salesperson.
   */
  private void fromCustomer(Map<String, Object> row, Set<String> written) {
    Map<String, Object> c = customer(row.get("Sell_to_Customer_No"));
    if (c == null) {
      return;
    }
    checkBlocked(c, false);
    for (String[] f : new String[][] {{"Sell_to_Customer_Name", "Name"}, {"Currency_Code", "Currency_Code"},
        {"Customer_Price_Group", "Customer_Price_Group"}, {"Salesperson_Code", "Salesperson_Code"}}) {
      if (!written.contains(f[0])) {
        row.put(f[0], c.get(f[1]));
      }
    }
  }

  /**
   * Customer.CheckBlockedCustOnDocs for an order: blocked All, Invoice or Ship refuses creating it, and posting it
   * with shipment and invoice ("You cannot %1 this type of document when Customer %2 is blocked with type %3", %1
   * create or post).
   */
  private static void checkBlocked(Map<String, Object> customer, boolean posting) {
    String blocked = str(customer.get("Blocked"));
    if (blocked.equals("All") || blocked.equals("Invoice") || blocked.equals("Ship")) {
      throw new ErpError(ErpSimulator.error(400, "Application_DialogException", "You cannot " + (posting ? "post"
          : "create") + " this type of document when Customer " + customer.get("No") + " is blocked with type "
          + blocked));
    }
  }

  private Map<String, Object> customer(Object no) {
    if (no == null || "".equals(no)) {
      return null;
    }
    Service cs = ErpServices.ALL.get("Customer");
    return sim.store().table("Customer").get(ErpKeys.of(cs, Map.of("No", no)));
  }

  /** GetSalesHeader: a line's header must exist ("The Sales Header does not exist. …"). */
  private Map<String, Object> existingHeader(Map<String, Object> lineRow) {
    Map<String, Object> h = sim.store().table("SalesOrder").get(headerKey(lineRow));
    if (h == null) {
      throw new ErpError(ErpSimulator.error(404, "Internal_RecordNotFound", "The Sales Header does not exist. "
          + "Identification fields and values: Document Type='" + lineRow.get("Document_Type") + "',No.='"
          + lineRow.get("Document_No") + "'"));
    }
    return h;
  }

  /** TestStatusOpen: Status must be equal to 'Open' (TestField, Application_FieldValidationException). */
  private static void testStatusOpen(Map<String, Object> h) {
    if (!"Open".equals(h.get("Status"))) {
      throw new ErpError(ErpSimulator.error(400, "Application_FieldValidationException", "Status must be equal to "
          + "'Open'  in Sales Header: Document Type=" + h.get("Document_Type") + ", No.=" + h.get("No")
          + ". Current value is '" + h.get("Status") + "'."));
    }
  }

  /**
   * Sales Line validation of No. and Quantity: a blocked item is refused (TestField Blocked), the description and
   * unit of measure come from the item or resource unless given, the unit price from the best price unless given,
   * and Line Amount = Quantity × Unit Price × (1 − Line Discount % / 100), rounded to 2 decimals.
   */
  private void validateLine(Map<String, Object> h, Map<String, Object> row, Set<String> written, boolean insert) {
    row.put("Sell_to_Customer_No", h.get("Sell_to_Customer_No"));
    String type = str(row.get("Type"));
    Map<String, Object> master = null;
    if ((type.equals("Item") || type.equals("Resource")) && !str(row.get("No")).isEmpty()) {
      Service ms = ErpServices.ALL.get(type);
      master = sim.store().table(type).get(ErpKeys.of(ms, Map.of("No", row.get("No"))));
    }
    boolean newNo = insert || written.contains("No") || written.contains("Type");
    if (master != null && newNo) {
      if (Boolean.TRUE.equals(master.get("Blocked"))) {
        throw new ErpError(ErpSimulator.error(400, "Application_FieldValidationException", "Blocked must be equal "
            + "to 'No'  in " + type + ": No.=" + master.get("No") + ". Current value is 'Yes'."));
      }
      if (!written.contains("Description")) {
        row.put("Description", type.equals("Item") ? master.get("Description") : master.get("Name"));
      }
      if (!written.contains("Unit_of_Measure_Code")) {
        row.put("Unit_of_Measure_Code", master.get("Base_Unit_of_Measure"));
      }
    }
    boolean reprice = newNo || written.contains("Quantity") || written.contains("Unit_of_Measure_Code");
    if (master != null && reprice && !written.contains("Unit_Price")) {
      row.put("Unit_Price", unitPrice(h, row, master));
    }
    BigDecimal amount = dec(row.get("Quantity")).multiply(dec(row.get("Unit_Price")))
        .multiply(BigDecimal.ONE.subtract(dec(row.get("Line_Discount_Percent")).movePointLeft(2)))
        .setScale(2, RoundingMode.HALF_UP);
    row.put("Line_Amount", amount);
  }

  /**
   * The best (lowest) applicable sales price: on {@code bc-online} from active sale price list lines (table 7001)
   * for the item or resource, assigned to all customers, the customer or the header's price group, in the header's
   * currency, for the line's unit (or any), with a minimum quantity the line reaches, valid on the order date; on
   * {@code nav} from the legacy Sales Price table (items only). Without one, the item's or resource's Unit Price
   * (BC converts it to a foreign currency at the exchange rate, which is not modelled).
   */
  private BigDecimal unitPrice(Map<String, Object> h, Map<String, Object> row, Map<String, Object> master) {
    String type = str(row.get("Type"));
    String no = str(row.get("No"));
    String currency = str(h.get("Currency_Code"));
    String customer = str(h.get("Sell_to_Customer_No"));
    String group = str(h.get("Customer_Price_Group"));
    String date = str(h.get("Order_Date"));
    String uom = str(row.get("Unit_of_Measure_Code"));
    BigDecimal qty = dec(row.get("Quantity"));
    BigDecimal best = null;
    if (sim.options().profile() == ErpSimulator.Profile.BC_ONLINE) {
      for (Map<String, Object> p : sim.store().table("PriceListLine").all(r -> type.equals(r.get("Asset_Type"))
          && no.equalsIgnoreCase(str(r.get("Asset_No"))), null)) {
        String src = str(p.get("Source_Type"));
        boolean assigned = src.equals("All Customers") || src.equals("Customer") && customer.equalsIgnoreCase(
            str(p.get("Source_No"))) || src.equals("Customer Price Group") && !group.isEmpty()
            && group.equalsIgnoreCase(str(p.get("Source_No")));
        if (assigned && "Active".equals(p.get("Status")) && !"Purchase".equals(p.get("Price_Type"))
            && !"Discount".equals(p.get("Amount_Type")) && currency.equalsIgnoreCase(str(p.get("Currency_Code")))
            && (str(p.get("Unit_of_Measure_Code")).isEmpty() || uom.equalsIgnoreCase(str(p.get("Unit_of_Measure_Code"))))
            && dec(p.get("Minimum_Quantity")).compareTo(qty) <= 0
            && (noDate(p.get("Starting_Date")) || str(p.get("Starting_Date")).compareTo(date) <= 0)
            && (noDate(p.get("Ending_Date")) || str(p.get("Ending_Date")).compareTo(date) >= 0)) {
          BigDecimal price = dec(p.get("Unit_Price"));
          best = best == null || price.compareTo(best) < 0 ? price : best;
        }
      }
    } else if (type.equals("Item")) {
      for (Map<String, Object> p : sim.store().table("SalesPrice").all(r -> no.equalsIgnoreCase(
          str(r.get("Item_No"))), null)) {
        String st = str(p.get("Sales_Type"));
        boolean assigned = st.equals("All Customers") || st.equals("Customer") && customer.equalsIgnoreCase(
            str(p.get("Sales_Code"))) || st.equals("Customer Price Group") && !group.isEmpty()
            && group.equalsIgnoreCase(str(p.get("Sales_Code")));
        if (assigned && currency.equalsIgnoreCase(str(p.get("Currency_Code")))
            && (str(p.get("Unit_of_Measure_Code")).isEmpty() || uom.equalsIgnoreCase(str(p.get("Unit_of_Measure_Code"))))
            && dec(p.get("Minimum_Quantity")).compareTo(qty) <= 0
            && (noDate(p.get("Starting_Date")) || str(p.get("Starting_Date")).compareTo(date) <= 0)) {
          BigDecimal price = dec(p.get("Unit_Price"));
          best = best == null || price.compareTo(best) < 0 ? price : best;
        }
      }
    }
    return best != null ? best : dec(master.get("Unit_Price"));
  }

  // ---- release, reopen, post ---------------------------------------------------------------------------------

  private Map<String, Object> order(String no) {
    Map<String, Object> h = sim.store().table("SalesOrder").get(ErpKeys.of(header(),
        Map.of("Document_Type", "Order", "No", no)));
    if (h == null) {
      throw new ErpError(ErpSimulator.error(404, "Internal_RecordNotFound", "The Sales Header does not exist. "
          + "Identification fields and values: Document Type='Order',No.='" + no + "'"));
    }
    return h;
  }

  private Map<String, Object> setStatus(Map<String, Object> h, String status) {
    Map<String, Object> row = new LinkedHashMap<>(h);
    row.put("Status", status);
    sim.stamp(header(), row);
    sim.store().table("SalesOrder").put(row);
    sim.notify(header(), row, "updated");
    return row;
  }

  /**
   * Codeunit 414 "Release Sales Document": Sell-to Customer No. must have a value and some line must have a
   * quantity ("There is nothing to release …"); a Released order stays as it is. Call inside a store write.
   */
  Map<String, Object> release(String no) {
    Map<String, Object> h = order(no);
    if ("Released".equals(h.get("Status"))) {
      return h;
    }
    if (str(h.get("Sell_to_Customer_No")).isEmpty()) {
      throw new ErpError(ErpSimulator.error(400, "Application_FieldValidationException", "Sell-to Customer No. must "
          + "have a value in Sales Header: Document Type=Order, No.=" + no + ". It cannot be zero or empty."));
    }
    if (lines(h).stream().noneMatch(l -> dec(l.get("Quantity")).signum() != 0)) {
      throw new ErpError(ErpSimulator.error(400, "Application_DialogException", "There is nothing to release for "
          + "the document of type Order with the number " + no + "."));
    }
    return setStatus(h, "Released");
  }

  /** Reopen: a Released order becomes Open (editable) again. Call inside a store write. */
  Map<String, Object> reopen(String no) {
    Map<String, Object> h = order(no);
    return "Open".equals(h.get("Status")) ? h : setStatus(h, "Open");
  }

  /**
   * Codeunit 80 "Sales-Post", ship and invoice: releases an Open order first, writes the posted invoice (number
   * from its own series) with its lines, an item ledger entry per item line (Sale, negative quantity, so Inventory
   * falls) and a customer ledger entry (Invoice, the amount, so Balance (LCY) rises) — FlowFields, so Item and
   * Customer keep their SystemModifiedAt — and deletes the order, completely shipped and invoiced. Call inside a
   * store write.
   *
   * @return the posted invoice header
   */
  Map<String, Object> post(String no) {
    Map<String, Object> h = release(no);
    List<Map<String, Object>> lines = lines(h);
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    BigDecimal amount = BigDecimal.ZERO;
    for (Map<String, Object> l : lines) {
      amount = amount.add(dec(l.get("Line_Amount")));
    }
    Map<String, Object> c = customer(h.get("Sell_to_Customer_No"));
    if (c != null) {
      checkBlocked(c, true);
    }
    Map<String, Object> inv = new LinkedHashMap<>();
    inv.put("Sell_to_Customer_No", h.get("Sell_to_Customer_No"));
    inv.put("Sell_to_Customer_Name", h.get("Sell_to_Customer_Name"));
    inv.put("Order_No", h.get("No"));
    inv.put("External_Document_No", h.get("External_Document_No"));
    inv.put("Posting_Date", today);
    inv.put("Due_Date", dueDate(c, LocalDate.now(ZoneOffset.UTC)).toString());
    inv.put("Currency_Code", h.get("Currency_Code"));
    inv.put("Amount", amount);
    inv.put("Closed", false);
    Map<String, Object> posted = sim.insert(ErpServices.ALL.get("SalesInvoice"), inv);
    String invoiceNo = (String) posted.get("No");
    for (Map<String, Object> l : lines) {
      Map<String, Object> pl = new LinkedHashMap<>();
      pl.put("Document_No", invoiceNo);
      for (String f : List.of("Line_No", "Type", "No", "Description", "Quantity", "Unit_of_Measure_Code",
          "Unit_Price", "Line_Amount")) {
        pl.put(f, l.get(f));
      }
      sim.insert(ErpServices.ALL.get("SalesInvoiceLine"), pl);
      shipRest(l, invoiceNo, today);
    }
    Map<String, Object> ce = new LinkedHashMap<>();
    ce.put("Customer_No", h.get("Sell_to_Customer_No"));
    ce.put("Document_Type", "Invoice");
    ce.put("Document_No", invoiceNo);
    ce.put("Description", "Order " + h.get("No"));
    ce.put("Currency_Code", h.get("Currency_Code"));
    ce.put("Amount_LCY", amount);
    ce.put("Due_Date", inv.get("Due_Date"));
    ce.put("Open", true);
    ce.put("Posting_Date", today);
    sim.ledger().post("CustLedgerEntries", ce);
    for (Map<String, Object> l : lines) {
      sim.store().table("SalesOrderLine").delete((String) l.get("$key"));
    }
    Map<String, Object> last = sim.store().table("SalesOrder").get((String) h.get("$key"));
    sim.store().table("SalesOrder").delete((String) h.get("$key"));
    customerOrders(last.get("Sell_to_Customer_No"), dec(last.get(OUTSTANDING)).negate(),
        dec(last.get(SHIPPED_NOT_INVOICED)).negate());
    sim.notify(header(), h, "deleted");
    return posted;
  }

  /** The item ledger entry of a line's quantity not shipped yet (Sale, negative: Inventory falls). */
  private void shipRest(Map<String, Object> l, String documentNo, String today) {
    BigDecimal rest = dec(l.get("Quantity")).subtract(dec(l.get("Quantity_Shipped")));
    if ("Item".equals(l.get("Type")) && rest.signum() != 0) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("Item_No", l.get("No"));
      e.put("Entry_Type", "Sale");
      e.put("Document_No", documentNo);
      e.put("Description", l.get("Description"));
      e.put("Quantity", rest.negate());
      e.put("Posting_Date", today);
      sim.ledger().post("ItemLedgerEntries", e);
    }
  }

  /**
   * Codeunit 80 "Sales-Post", ship only: releases an Open order first, writes an item ledger entry for each line's
   * quantity not shipped yet and sets Quantity Shipped to the Quantity (the posted shipment document itself is not
   * modelled). The order stays, Released: its amount moves from Outstanding Orders (LCY) to Shipped Not Invoiced
   * (LCY) until it is invoiced ({@link #post}). Call inside a store write.
   *
   * @return the order's header
   */
  Map<String, Object> ship(String no) {
    Map<String, Object> h = release(no);
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    Map<String, Object> lastLine = null;
    for (Map<String, Object> l : lines(h)) {
      shipRest(l, h.get("No") + "-SHIP", today);
      Map<String, Object> changed = new LinkedHashMap<>(l);
      changed.put("Quantity_Shipped", dec(l.get("Quantity")));
      sim.stamp(line(), changed);
      sim.store().table("SalesOrderLine").put(changed);
      lastLine = changed;
    }
    if (lastLine != null) {
      afterLineWrite(line(), lastLine);
    }
    return sim.store().table("SalesOrder").get((String) h.get("$key"));
  }

  /** Due Date = posting date + the customer's payment terms' Due Date Calculation ({@code 14D}, {@code 1M}, …). */
  private LocalDate dueDate(Map<String, Object> customer, LocalDate posting) {
    if (customer == null || str(customer.get("Payment_Terms_Code")).isEmpty()) {
      return posting;
    }
    Service ps = ErpServices.ALL.get("PaymentTerms");
    Map<String, Object> terms = sim.store().table("PaymentTerms").get(ErpKeys.of(ps,
        Map.of("Code", customer.get("Payment_Terms_Code"))));
    Matcher m = Pattern.compile("^(\\d+)([DWMY])$").matcher(terms == null ? "" : str(terms.get("Due_Date_Calculation"))
        .trim().toUpperCase(java.util.Locale.ROOT));
    if (!m.matches()) {
      return posting;
    }
    int n = Integer.parseInt(m.group(1));
    return switch (m.group(2)) {
      case "D" -> posting.plusDays(n);
      case "W" -> posting.plusWeeks(n);
      case "M" -> posting.plusMonths(n);
      default -> posting.plusYears(n);
    };
  }

  /**
   * {@code POST …/api/v2.0/companies({id})/salesOrders({id})/Microsoft.NAV.shipAndInvoice} ({@code bc-online}):
   * the API page's bound action, answered 204 without content ("salesOrder resource type", BC API v2.0).
   */
  SimResponse shipAndInvoice(SimRequest r, String rest) {
    Matcher m = API_ORDER.matcher(rest);
    if (!r.method().equals("POST") || !m.matches()) {
      return ErpSimulator.error(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI '"
          + r.path() + "'.");
    }
    String id = m.group(2).toLowerCase(java.util.Locale.ROOT);
    try {
      return sim.store().write(() -> {
        Map<String, Object> h = sim.store().table("SalesOrder").byUnique("SystemId", id);
        if (h == null || !"Order".equals(h.get("Document_Type"))) {
          throw new ErpError(ErpSimulator.error(404, "Internal_RecordNotFound", "The salesOrder does not exist. "
              + "Identification fields and values: Id='" + id + "'"));
        }
        post((String) h.get("No"));
        return SimResponse.empty(204);
      });
    } catch (ErpError e) {
      return e.response;
    }
  }

  // ---- admin API ---------------------------------------------------------------------------------------------

  /**
   * {@code POST /__admin/sim/sales-orders/{release|reopen|ship|post}} {@code {"no":"SO100001"}} does what a user
   * of page 42 does with its Release, Reopen, Post (Ship) and Post (Ship and Invoice) actions; {@code POST /__admin/sim/sales-orders}
   * {@code {"lineLockMs":n}} sets how long a line write holds its header's lock.
   */
  static void register(ErpSimulator sim, SimulatorServer server) {
    ErpSalesDocuments sales = sim.sales();
    server.adminRoute("POST", "/sim/sales-orders", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      if (!(b.get("lineLockMs") instanceof Number n) || n.longValue() < 0) {
        throw new IllegalArgumentException("lineLockMs must be a number of milliseconds, 0 or more");
      }
      sales.lineLockMs = n.longValue();
      return SimResponse.json(200, Map.of("lineLockMs", sales.lineLockMs));
    });
    for (String action : List.of("release", "reopen", "ship", "post")) {
      server.adminRoute("POST", "/sim/sales-orders/" + action, (r, p) -> {
        Object no = Json.object(r.bodyText()).get("no");
        if (!(no instanceof String s) || s.isBlank()) {
          throw new IllegalArgumentException("no (the sales order's number) is required");
        }
        try {
          Map<String, Object> out = sim.store().write(() -> switch (action) {
            case "release" -> sales.release(s);
            case "reopen" -> sales.reopen(s);
            case "ship" -> sales.ship(s);
            default -> sales.post(s);
          });
          return SimResponse.json(200, ErpRows.present(out));
        } catch (ErpError e) {
          return e.response;
        }
      });
    }
  }
}
