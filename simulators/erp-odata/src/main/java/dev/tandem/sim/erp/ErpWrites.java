package dev.tandem.sim.erp;

import static dev.tandem.sim.erp.ErpSimulator.error;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.erp.ErpServices.Field;
import dev.tandem.sim.erp.ErpServices.Service;
import dev.tandem.sim.erp.ErpSimulator.ErpError;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writing to a web service as Business Central validates it: inserts with defaults, number series (Manual Nos.),
 * the table's relations and unique key; modifies and deletes with If-Match on the row's ETag; the sales-document
 * rules and the header lock through {@link ErpSalesDocuments}; each write's server time charged.
 */
final class ErpWrites {

  private final ErpSimulator sim;
  private final Map<String, AtomicLong> numberSeries = new ConcurrentHashMap<>();
  private final Map<String, Boolean> manualNumbers = new ConcurrentHashMap<>();

  ErpWrites(ErpSimulator sim) {
    this.sim = sim;
  }

  /** Manual Nos. back to their defaults (the store was reset). */
  void reset() {
    manualNumbers.clear();
  }

  SimResponse create(Service s, SimRequest r) {
    Map<String, Object> body = ErpRows.parseBody(r);
    sim.chargeWrite(ErpCosts.Op.INSERT);
    return sim.sales().underHeaderLock(s, body, null, () -> sim.store().write(() -> {
      Map<String, Object> row = insert(s, body, true);
      sim.notify(s, row, "created");
      return SimResponse.json(201, ErpRows.present(row));
    }));
  }

  /**
   * Inserts a row the way the page's insert trigger does, for seeding and the admin API: table relations are
   * checked, read-only fields and explicit numbers accepted (data migration writes them). Call inside write().
   */
  Map<String, Object> insert(Service s, Map<String, Object> body) {
    if (ErpLedger.SUMS.stream().anyMatch(f -> f.ledger().equals(s.name()))) {
      return sim.ledger().post(s.name(), body);
    }
    return insert(s, body, false);
  }

  /**
   * @param protocol a client's POST: read-only controls refused, explicit numbers only where the number series
   *     allows manual numbers
   */
  private Map<String, Object> insert(Service s, Map<String, Object> body, boolean protocol) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (Field f : s.fields().values()) {
      if (!f.name().equals("SystemModifiedAt")) {
        row.put(f.name(), ErpRows.defaultValue(f));
      }
    }
    ErpRows.applyFields(s, row, body, true, protocol);
    if (s.name().equals("PriceListLine")) {
      ErpPriceLists.newLine(sim.store(), row, body.keySet());
    }
    if (s.name().startsWith("SalesOrder")) {
      sim.sales().defaults(s, row, body.keySet());
    }
    String last = s.keys().get(s.keys().size() - 1);
    if (protocol && s.numberPrefix() != null && row.get(last) != null && !"".equals(row.get(last))
        && !manualNumbers.getOrDefault(s.name(), true)) {
      throw new ErpError(error(400, "Application_DialogException", "You may not enter numbers manually. If you "
          + "want to enter numbers manually, please activate Manual Nos. in No. Series " + s.numberPrefix() + "."));
    }
    if ((row.get(last) == null || "".equals(row.get(last))) && s.numberPrefix() != null) {
      row.put(last, nextNumber(s));
    }
    checkRelations(s, row, body.keySet());
    sim.sales().beforeInsert(s, row, body.keySet());
    for (String k : s.keys()) {
      Object v = row.get(k);
      if (v == null || "".equals(v) && !k.equals("Currency_Code") && !k.equals("Unit_of_Measure_Code")
          && !k.equals("Starting_Date")) {
        throw new ErpError(error(400, "Application_FieldMustHaveValue", k + " must have a value in " + s.name()
            + ": It cannot be zero or empty."));
      }
    }
    String key = ErpKeys.of(s, row);
    if (sim.store().table(s.name()).get(key) != null) {
      throw new ErpError(error(400, "Internal_EntityWithSameKeyExists", "The record in table " + s.name()
          + " already exists. Identification fields and values: " + ErpRows.describeKey(s, row)));
    }
    if (row.get("SystemId") == null || "".equals(row.get("SystemId"))) {
      row.put("SystemId", UUID.randomUUID().toString());
    }
    row.put("$key", key);
    // A ErpLedger.FlowField given to a data migration (seed, admin rows) is the sum of the entries: an opening entry.
    Map<String, Object> opening = null;
    for (ErpLedger.FlowField sum : ErpLedger.SUMS) {
      if (sum.owner().equals(s.name()) && ErpRows.decimal(row.get(sum.field())).signum() != 0) {
        BigDecimal amount = ErpRows.decimal(row.get(sum.field()));
        row.put(sum.field(), BigDecimal.ZERO);
        opening = new LinkedHashMap<>();
        opening.put("ledger", sum.ledger());
        opening.put(sum.ownerField(), row.get("No"));
        opening.put(sum.amountField(), amount);
        opening.put("Document_No", "OPENING");
        opening.put("Description", "Opening balance");
        if (sum.ledger().equals("ItemLedgerEntries")) {
          opening.put("Entry_Type", amount.signum() > 0 ? "Positive Adjmt." : "Negative Adjmt.");
        }
      }
    }
    sim.stamp(s, row);
    sim.store().table(s.name()).put(row);
    sim.sales().afterLineWrite(s, row);
    if (opening != null) {
      String entries = (String) opening.remove("ledger");
      sim.ledger().post(entries, opening);
      return sim.store().table(s.name()).get(key);
    }
    return row;
  }

  /**
   * Sets a number series' Manual Nos.: whether clients may give the number of a new row themselves.
   *
   * @param service a service with a number series
   * @param allowed Manual Nos.
   */
  void manualNumbers(String service, boolean allowed) {
    Service s = ErpSimulator.published(sim.options(), service);
    if (s == null || s.numberPrefix() == null) {
      throw new IllegalArgumentException("service " + service + " has no number series");
    }
    manualNumbers.put(s.name(), allowed);
  }

  /**
   * Business Central's TableRelation check on validate: a non-empty code must name an existing row of the
   * related table. Only fields the request sets are validated, as BC validates the fields a client writes.
   */
  private void checkRelations(Service s, Map<String, Object> row, java.util.Set<String> written) {
    for (Field f : s.fields().values()) {
      String target = f.relation();
      if (s.name().equals("SalesOrderLine") && f.name().equals("No")) {
        target = "Item".equals(row.get("Type")) ? "Item" : "Resource".equals(row.get("Type")) ? "Resource" : null;
      }
      if (s.name().startsWith("PriceList")) {
        target = ErpPriceLists.relation(f.name(), row, target);
      }
      if (target == null || !written.contains(f.name())) {
        continue;
      }
      Object v = row.get(f.name());
      if (v == null || "".equals(v)) {
        continue;
      }
      Service t = ErpServices.ALL.get(target);
      if (sim.store().table(t.name()).get(ErpKeys.of(t, Map.of(t.keys().get(0), v))) == null) {
        throw new ErpError(error(400, "Internal_InvalidTableRelation", "The field " + f.name() + " of table "
            + s.name() + " contains a value (" + v + ") that cannot be found in the related table (" + t.name()
            + ")."));
      }
    }
  }

  String nextNumber(Service s) {
    AtomicLong counter = numberSeries.computeIfAbsent(s.name(), n -> new AtomicLong(100_000));
    EntityStore.Table t = sim.store().table(s.name());
    String candidate;
    do {
      candidate = s.numberPrefix() + counter.incrementAndGet();
    } while (s.keys().size() == 1 && t.get(candidate) != null);
    return candidate;
  }

  SimResponse update(Service s, String key, SimRequest r) {
    Map<String, Object> body = ErpRows.parseBody(r);
    String ifMatch = r.header("If-Match");
    sim.chargeWrite(ErpCosts.Op.MODIFY);
    if (ifMatch == null) {
      return error(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the "
          + "service. Please provide a valid token in the client request.");
    }
    return sim.sales().underHeaderLock(s, body, key, () -> sim.store().write(() -> {
      Map<String, Object> current = sim.store().table(s.name()).get(key);
      SimResponse refused = checkIfMatch(s, current, ifMatch);
      if (refused != null) {
        return refused;
      }
      Map<String, Object> row = new LinkedHashMap<>(current);
      ErpRows.applyFields(s, row, body, false, true);
      checkRelations(s, row, body.keySet());
      sim.sales().beforeModify(s, current, row, body.keySet());
      if (!ErpKeys.of(s, row).equals(key)) {
        throw new ErpError(error(400, "BadRequest", "Key fields cannot be changed with PATCH; rename the record "
            + "in the client instead."));
      }
      sim.stamp(s, row);
      sim.store().table(s.name()).put(row);
      sim.sales().afterLineWrite(s, row);
      sim.notify(s, row, "updated");
      return SimResponse.json(200, ErpRows.present(row)).with("ETag", (String) row.get("@odata.etag"));
    }));
  }

  SimResponse delete(Service s, String key, SimRequest r) {
    String ifMatch = r.header("If-Match");
    sim.chargeWrite(ErpCosts.Op.DELETE);
    if (ifMatch == null) {
      return error(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the "
          + "service. Please provide a valid token in the client request.");
    }
    return sim.sales().underHeaderLock(s, null, key, () -> sim.store().write(() -> {
      Map<String, Object> current = sim.store().table(s.name()).get(key);
      SimResponse refused = checkIfMatch(s, current, ifMatch);
      if (refused != null) {
        return refused;
      }
      sim.sales().beforeDelete(s, current);
      sim.store().table(s.name()).delete(key);
      sim.sales().afterLineWrite(s, current);
      sim.notify(s, current, "deleted");
      return SimResponse.empty(204);
    }));
  }

  /** Business Central's concurrency check: the row must exist and the ETag match (or be {@code *}). */
  private static SimResponse checkIfMatch(Service s, Map<String, Object> current, String ifMatch) {
    if (current == null) {
      return ErpSimulator.notFound(s);
    }
    if (!ifMatch.equals("*") && !ifMatch.equals(current.get("@odata.etag"))) {
      return error(409, "Request_EntityChanged", "Another user has already changed the record.");
    }
    return null;
  }
}
