package dev.tandem.sim.erp;

import static dev.tandem.sim.erp.ErpSimulator.error;

import dev.tandem.sim.erp.ErpServices.Field;
import dev.tandem.sim.erp.ErpServices.Service;
import dev.tandem.sim.erp.ErpSimulator.ErpError;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Business Central's ledgers and the FlowFields that sum them: posting an entry (item, customer) with the next Entry
 * No., the owner's sums kept as SIFT keeps them (the owner's ETag changes, its SystemModifiedAt does not), and the
 * date-dependent Balance Due calculated when a Customer is read.
 */
final class ErpLedger {

  /** FlowFields per page: calculated on every read (sums over ledger entries), costlier than stored fields. */
  static final Map<String, List<String>> FLOW_FIELDS = Map.of("Customer", List.of("Balance_LCY", "Balance_Due_LCY",
      "Outstanding_Orders_LCY", "Shipped_Not_Invoiced_LCY", "Sales_LCY"),
      "Item", List.of("Inventory"), "SalesOrder", List.of("Amount"));

  /**
   * A FlowField {@code CalcFormula = Sum(ledger.amount WHERE (ownerField = FIELD(No)))}: table 27 Item field 68
   * Inventory sums "Item Ledger Entry".Quantity by "Item No."; table 18 Customer "Balance (LCY)" sums the customer's
   * ledger amounts in LCY. BC keeps such sums in SIFT indexes that posting maintains; the simulator keeps the sum on
   * the owner row the same way, updated by every posted entry, without touching the row's SystemModifiedAt.
   */
  record FlowField(String owner, String field, String ledger, String ownerField, String amountField) {}

  static final List<FlowField> SUMS = List.of(
      new FlowField("Item", "Inventory", "ItemLedgerEntries", "Item_No", "Quantity"),
      new FlowField("Customer", "Balance_LCY", "CustLedgerEntries", "Customer_No", "Amount_LCY"),
      // Table 18 field 62 Sales (LCY) = Sum("Cust. Ledger Entry"."Sales (LCY)"), under page 21's Date Filter
      // 0D..WORKDATE: every entry posted so far.
      new FlowField("Customer", "Sales_LCY", "CustLedgerEntries", "Customer_No", "Sales_LCY"));

  /**
   * The customer's remaining amounts (LCY) by due date, kept on the Customer row ({@code $dues}, never shown) by
   * every posted customer ledger entry: Balance Due (LCY) (table 18 field 67, Sum of the detailed entries' Amount
   * (LCY) WHERE Initial Entry Due Date = UPPERLIMIT(Date Filter), page 21 setting the Date Filter to 0D..WORKDATE)
   * depends on today's date, so it is calculated when the row is read, as BC calculates a FlowField.
   */
  static final String DUES = "$dues";


  private final Map<String, AtomicLong> entryNumbers = new ConcurrentHashMap<>();
  private final ErpSimulator sim;

  ErpLedger(ErpSimulator sim) {
    this.sim = sim;
  }

  /** Entry numbers start again at 1 (the store was reset). */
  void reset() {
    entryNumbers.clear();
  }

  /**
   * Posts a ledger entry as BC's posting routines do (item journal, sales posting, cash receipt): the entry gets
   * the next Entry No., and the owner's FlowField sum moves by its amount; the owner row keeps its SystemModifiedAt
   * (posting never modifies the Item or Customer record), only its ETag changes with the FlowField. Call inside
   * write().
   *
   * @param ledger ItemLedgerEntries or CustLedgerEntries
   * @param fields the entry's fields (the owner's number and the amount among them)
   * @return the entry
   */
  Map<String, Object> post(String ledger, Map<String, Object> fields) {
    List<FlowField> sums = SUMS.stream().filter(f -> f.ledger().equals(ledger)).toList();
    if (sums.isEmpty()) {
      throw new IllegalArgumentException(ledger + " is not a ledger");
    }
    FlowField sum = sums.get(0);
    Service ls = ErpServices.ALL.get(ledger);
    Service owner = ErpServices.ALL.get(sum.owner());
    Object ownerNo = fields.get(sum.ownerField());
    String ownerKey = ownerNo == null ? null : ErpKeys.of(owner, Map.of("No", ownerNo));
    Map<String, Object> ownerRow = ownerKey == null ? null : sim.store().table(owner.name()).get(ownerKey);
    if (ownerRow == null) {
      throw new ErpError(error(400, "Internal_InvalidTableRelation", "The field " + sum.ownerField() + " of table "
          + ledger + " contains a value (" + ownerNo + ") that cannot be found in the related table ("
          + owner.name() + ")."));
    }
    Map<String, Object> row = new LinkedHashMap<>();
    for (Field f : ls.fields().values()) {
      if (!f.name().equals("SystemModifiedAt")) {
        row.put(f.name(), ErpRows.defaultValue(f));
      }
    }
    ErpRows.applyFields(ls, row, fields, true, false);
    AtomicLong counter = entryNumbers.computeIfAbsent(ledger, n -> new AtomicLong());
    long no = fields.get("Entry_No") instanceof Number n ? n.longValue() : counter.get() + 1;
    counter.updateAndGet(prev -> Math.max(prev, no));
    row.put("Entry_No", no);
    if ("0001-01-01".equals(row.get("Posting_Date"))) {
      row.put("Posting_Date", LocalDate.now(ZoneOffset.UTC).toString());
    }
    BigDecimal amount = ErpRows.decimal(row.get(sum.amountField()));
    if (ls.fields().containsKey("Remaining_Quantity") && !fields.containsKey("Remaining_Quantity")) {
      row.put("Remaining_Quantity", amount.signum() > 0 ? amount : BigDecimal.ZERO);
      row.put("Open", amount.signum() > 0);
    }
    if (ledger.equals("CustLedgerEntries")) {
      customerEntryDefaults(row, fields.keySet(), amount);
    }
    String key = ErpKeys.of(ls, row);
    if (sim.store().table(ledger).get(key) != null) {
      throw new ErpError(error(400, "Internal_EntityWithSameKeyExists", "The record in table " + ledger
          + " already exists. Identification fields and values: Entry_No='" + no + "'"));
    }
    row.put("SystemId", UUID.randomUUID().toString());
    row.put("$key", key);
    sim.stamp(ls, row);
    sim.store().table(ledger).put(row);
    Map<String, Object> changed = new LinkedHashMap<>(ownerRow);
    for (FlowField f : sums) {
      changed.put(f.field(), ErpRows.decimal(ownerRow.get(f.field())).add(ErpRows.decimal(row.get(f.amountField()))));
    }
    if (ledger.equals("CustLedgerEntries")) {
      @SuppressWarnings("unchecked")
      Map<String, BigDecimal> dues = ownerRow.get(DUES) instanceof Map<?, ?> m
          ? new java.util.TreeMap<>((Map<String, BigDecimal>) m) : new java.util.TreeMap<>();
      dues.merge(String.valueOf(row.get("Due_Date")), ErpRows.decimal(row.get("Remaining_Amt_LCY")), BigDecimal::add);
      changed.put(DUES, dues);
    }
    sim.tag(owner, changed);
    sim.store().table(owner.name()).put(changed);
    return row;
  }

  /**
   * A posted customer ledger entry's defaults: Due Date the posting date (a payment, or an invoice without payment
   * terms), Remaining Amt. (LCY) its whole amount (entries are not applied to each other here), and Sales (LCY) the
   * amount of an invoice or credit memo (amounts excluding VAT: the simulator has no VAT), 0 for a payment.
   */
  private static void customerEntryDefaults(Map<String, Object> row, java.util.Set<String> given, BigDecimal amount) {
    if (!given.contains("Due_Date") || "0001-01-01".equals(row.get("Due_Date"))) {
      row.put("Due_Date", row.get("Posting_Date"));
    }
    if (!given.contains("Remaining_Amt_LCY")) {
      row.put("Remaining_Amt_LCY", amount);
    }
    if (!given.contains("Sales_LCY")) {
      Object type = row.get("Document_Type");
      row.put("Sales_LCY", "Invoice".equals(type) || "Credit Memo".equals(type) ? amount : BigDecimal.ZERO);
    }
  }

  /**
   * The row with its date-dependent FlowField calculated: a Customer's Balance Due (LCY) is the remaining amount of
   * its entries due today or earlier (see {@link #DUES}). Other rows are returned as they are.
   */
  static Map<String, Object> calculated(Service s, Map<String, Object> row) {
    if (!s.name().equals("Customer") || !(row.get(DUES) instanceof Map<?, ?> dues)) {
      return row;
    }
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    BigDecimal due = BigDecimal.ZERO;
    for (Map.Entry<?, ?> e : dues.entrySet()) {
      if (String.valueOf(e.getKey()).compareTo(today) <= 0) {
        due = due.add((BigDecimal) e.getValue());
      }
    }
    Map<String, Object> out = new LinkedHashMap<>(row);
    out.put("Balance_Due_LCY", due);
    return out;
  }
}
