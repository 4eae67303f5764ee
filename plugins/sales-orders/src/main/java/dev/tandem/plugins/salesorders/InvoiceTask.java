package dev.tandem.plugins.salesorders;

import dev.tandem.api.ChildMapping;
import dev.tandem.api.Coupled;
import dev.tandem.api.CrmWrite;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.ErpKey;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.FieldMapper;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.RecordError;
import dev.tandem.api.RecordPage;
import dev.tandem.api.Stage;
import dev.tandem.api.SyncTask;
import dev.tandem.api.TandemException;
import dev.tandem.api.TaskContext;
import dev.tandem.api.WriteOutcome;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * POSTEDSALESINV-INV's task, ERP to CRM: each posted sales invoice not coupled yet becomes a CRM invoice with one
 * invoice product per line (write-in products with the line's description, price and quantity, so the CRM's totals
 * are the ERP's amounts), bound to the customer (CUSTOMER), the CRM order it came from (SALESORDER-ORDER, through
 * the invoice's Order No.) and that order's price list and currency. It works by pages of invoices: one coupling
 * lookup per mapping, one ERP read for the page's lines, one CRM read for its orders; rows are written by upsert
 * under ids derived from the ERP keys, the page's headers in one batched write, then their lines in one, and
 * coupled once they went through: a retry after a crash or a lost answer writes the same rows again, never a
 * second invoice. An invoice whose customer is not
 * coupled is a record error at LOOKUP and is tried first in every run until it is.
 */
final class InvoiceTask extends SyncTask {

  private static final Duration OVERLAP = Duration.ofSeconds(5);

  /** Invoices handled together: one coupling lookup per mapping, one ERP lines read, one CRM read, batched writes. */
  private static final int PAGE = 50;
  /** Pages written side by side. */
  static final int IN_FLIGHT = 8;
  /** Operations per CRM request: a page's details go in several requests side by side, not one long one. */
  static final int PER_REQUEST = 50;

  @Override
  public Future<JobOutcome> run(TaskContext ctx) {
    return toCrm(ctx);
  }

  /**
   * The invoices with open record errors first, then those posted since the watermark, page by page; the watermark
   * moves after each page (an invoice that failed is in the error log and tried first next time).
   */
  @Override
  public Future<JobOutcome> toCrm(TaskContext ctx) {
    MappingDefinition head = ctx.mapping();
    Set<ErpKey> failing = new HashSet<>();
    JobOutcome[] sum = {JobOutcome.EMPTY};
    return ctx.errors().open(200)
        .compose(errors -> {
          errors.stream().filter(e -> e.erpKey() != null).forEach(e -> failing.add(ErpKey.of("No",
              String.valueOf(e.erpKey().get("No")))));
          List<String> retry = failing.stream().map(k -> "No eq " + ErpConnector.literal(String.valueOf(k.get("No"))))
              .toList();
          return retry.isEmpty() ? Future.succeededFuture(List.<JsonObject>of())
              : ctx.erp().read(head.erpEntitySet(), String.join(" or ", retry), null, retry.size());
        })
        .compose(retried -> chunks(ctx, retried, failing, sum))
        .compose(v -> ctx.state().watermark(Direction.TO_CRM))
        .compose(mark -> ctx.erp().page(head.erpEntitySet(), mark == null ? null
            : "SystemModifiedAt gt " + mark.minus(OVERLAP), null, "SystemModifiedAt"))
        .compose(p -> pages(ctx, p, failing, sum))
        .map(v -> sum[0]);
  }

  private Future<Void> pages(TaskContext ctx, RecordPage page, Set<ErpKey> failing, JobOutcome[] sum) {
    OffsetDateTime highest = null;
    for (JsonObject r : page.rows()) {
      String m = r.getString("SystemModifiedAt");
      if (m != null) {
        OffsetDateTime t = OffsetDateTime.parse(m);
        highest = highest == null || t.isAfter(highest) ? t : highest;
      }
    }
    OffsetDateTime mark = highest;
    return chunks(ctx, page.rows(), failing, sum)
        .compose(v -> mark == null || ctx.cancelled() ? Future.succeededFuture()
            : ctx.state().advance(Direction.TO_CRM, mark))
        .compose(v -> page.hasNext() && !ctx.cancelled()
            ? ctx.erp().next(page.nextLink()).compose(n -> pages(ctx, n, failing, sum)) : Future.succeededFuture());
  }

  /**
   * The rows in pages of {@value #PAGE}, {@value #IN_FLIGHT} pages side by side: Dataverse executes a batch's
   * operations one after another, so one page at a time used one or two of the user's 52 concurrent requests and
   * a tenth of what the service protection allows (SalesOrdersBenchmark); the connector's budget keeps the pages'
   * requests inside the limits.
   */
  private Future<Void> chunks(TaskContext ctx, List<JsonObject> rows, Set<ErpKey> failing, JobOutcome[] sum) {
    List<List<JsonObject>> parts = new ArrayList<>();
    for (int i = 0; i < rows.size(); i += PAGE) {
      parts.add(rows.subList(i, Math.min(rows.size(), i + PAGE)));
    }
    AtomicInteger next = new AtomicInteger();
    List<Future<Void>> workers = new ArrayList<>();
    for (int w = 0; w < Math.min(IN_FLIGHT, parts.size()); w++) {
      workers.add(worker(ctx, parts, next, failing, sum));
    }
    // Every worker ends (no page is left half-written by a failure elsewhere), then the first failure fails the job.
    return Future.join(workers).transform(ar -> {
      for (Future<Void> f : workers) {
        if (f.failed()) {
          return Future.failedFuture(f.cause());
        }
      }
      return Future.succeededFuture();
    });
  }

  /** Takes the next page not taken yet, writes it, and so on until none is left (or a page failed). */
  private Future<Void> worker(TaskContext ctx, List<List<JsonObject>> parts, AtomicInteger next,
      Set<ErpKey> failing, JobOutcome[] sum) {
    int i = next.getAndIncrement();
    if (i >= parts.size() || ctx.cancelled()) {
      return Future.succeededFuture();
    }
    return page(ctx, parts.get(i), failing).compose(o -> {
      JobOutcome soFar;
      synchronized (sum) {
        sum[0] = sum[0].plus(o);
        soFar = sum[0];
      }
      ctx.progress(soFar, null);
      return worker(ctx, parts, next, failing, sum);
    });
  }

  /** One page of invoices: what is coupled already is skipped, the rest written together. */
  private Future<JobOutcome> page(TaskContext ctx, List<JsonObject> rows, Set<ErpKey> failing) {
    MappingDefinition head = ctx.mapping();
    ChildMapping child = head.children().get(0);
    MappingDefinition lines = child.lines();
    Map<ErpKey, JsonObject> invoices = new LinkedHashMap<>();
    rows.forEach(r -> invoices.put(ErpKey.of("No", r.getString("No")), r));
    return ctx.couplings().byErpKeys(head.name(), invoices.keySet()).compose(coupled -> {
      List<JsonObject> todo = new ArrayList<>();
      invoices.forEach((k, r) -> {
        if (!coupled.containsKey(k)) {
          todo.add(r);
        }
      });
      JobOutcome skipped = new JobOutcome(0, 0, 0, invoices.size() - todo.size(), 0, 0, 0, 0, null);
      if (todo.isEmpty()) {
        return Future.succeededFuture(skipped);
      }
      Set<ErpKey> customerKeys = new LinkedHashSet<>();
      Set<ErpKey> orderKeys = new LinkedHashSet<>();
      for (JsonObject inv : todo) {
        customerKeys.add(ErpKey.of("No", inv.getString("Sell_to_Customer_No", "")));
        ErpKey o = orderKey(inv);
        if (o != null) {
          orderKeys.add(o);
        }
      }
      Future<Map<ErpKey, Coupled>> customers = ctx.couplings().byErpKeys(SalesOrderMappings.CUSTOMER, customerKeys);
      Future<Map<ErpKey, Coupled>> orders = ctx.couplings().byErpKeys(SalesOrderMappings.ORDERS, orderKeys);
      // BC allows OR on one field only: the page's lines are one read per group (Document_No eq … or …).
      List<JsonObject> found = new ArrayList<>();
      Future<Void> read = Future.succeededFuture();
      for (String f : ErpKey.filters(todo.stream()
          .map(inv -> ErpKey.of(child.parentValues(ErpKey.of("No", inv.getString("No"))))).toList())) {
        read = read.compose(v -> ctx.erp().read(lines.erpEntitySet(), f, null, Integer.MAX_VALUE)
            .map(found::addAll).mapEmpty());
      }
      Future<List<JsonObject>> erpLines = read.map(v -> found);
      return Future.all(customers, orders, erpLines)
          .compose(v -> crmOrders(ctx, orders.result().values().stream().map(Coupled::crmId).toList()))
          .compose(crmOrders -> {
            Map<ErpKey, List<JsonObject>> linesOf = new HashMap<>();
            for (JsonObject l : erpLines.result()) {
              linesOf.computeIfAbsent(child.headerOf(lines.erpKeyOf(l)), x -> new ArrayList<>()).add(l);
            }
            List<JsonObject> allLines = new ArrayList<>();
            todo.forEach(inv -> allLines.addAll(linesOf.getOrDefault(ErpKey.of("No", inv.getString("No")), List.of())));
            return ctx.mapper(head).map(Direction.TO_CRM, todo)
                .compose(mh -> ctx.mapper(lines).map(Direction.TO_CRM, allLines).compose(ml -> {
                  List<Invoice> ready = new ArrayList<>();
                  List<RecordError> errors = new ArrayList<>();
                  int at = 0;
                  for (int i = 0; i < todo.size(); i++) {
                    JsonObject inv = todo.get(i);
                    ErpKey key = ErpKey.of("No", inv.getString("No"));
                    List<JsonObject> own = linesOf.getOrDefault(key, List.of());
                    List<FieldMapper.Mapped> mapped = ml.subList(at, at + own.size());
                    at += own.size();
                    Coupled customer = customers.result().get(ErpKey.of("No", inv.getString("Sell_to_Customer_No",
                        "")));
                    ErpKey ok = orderKey(inv);
                    Coupled order = ok == null ? null : orders.result().get(ok);
                    JsonObject crmOrder = order == null ? null : crmOrders.get(order.crmId().toLowerCase(Locale.ROOT));
                    String cause = customer == null ? "ERP SalesInvoice " + key + ": its customer "
                        + inv.getString("Sell_to_Customer_No") + " is not coupled in mapping "
                        + SalesOrderMappings.CUSTOMER + ": couple or synchronize CUSTOMER first"
                        : causes(mh.get(i), mapped);
                    if (cause != null) {
                      errors.add(new RecordError(Direction.TO_CRM, key, null, ErrorKind.DATA,
                          customer == null ? Stage.LOOKUP : stage(mh.get(i), mapped), cause));
                    } else {
                      ready.add(invoice(ctx, inv, key, customer.crmId(), crmOrder, mh.get(i), mapped, own));
                    }
                  }
                  return report(ctx, errors, failing).compose(n -> write(ctx, ready, failing))
                      .map(o -> o.plus(skipped).plus(new JobOutcome(0, 0, 0, 0, 0, errors.size(), 0, 0, null)));
                }));
          });
    });
  }

  private static ErpKey orderKey(JsonObject inv) {
    String orderNo = inv.getString("Order_No");
    if (orderNo == null || orderNo.isEmpty()) {
      return null;
    }
    Map<String, Object> k = new LinkedHashMap<>();
    k.put("Document_Type", "Order");
    k.put("No", orderNo);
    return ErpKey.of(k);
  }

  private static String causes(FieldMapper.Mapped header, List<FieldMapper.Mapped> lines) {
    List<String> causes = new ArrayList<>();
    if (!header.ok()) {
      causes.add(header.error().getMessage());
    }
    lines.stream().filter(m -> !m.ok()).forEach(m -> causes.add(m.error().getMessage()));
    return causes.isEmpty() ? null : String.join("; ", causes);
  }

  private static Stage stage(FieldMapper.Mapped header, List<FieldMapper.Mapped> lines) {
    return !header.ok() ? header.error().stage()
        : lines.stream().filter(m -> !m.ok()).findFirst().map(m -> m.error().stage()).orElse(Stage.TRANSFORM);
  }

  /** One invoice's CRM writes (the header's upsert, its details' upserts) and its couplings. */
  private record Invoice(ErpKey key, String id, CrmWrite header, List<CrmWrite> details, List<Coupled> pairs) {}

  private static Invoice invoice(TaskContext ctx, JsonObject inv, ErpKey key, String customer, JsonObject crmOrder,
      FieldMapper.Mapped header, List<FieldMapper.Mapped> mappedLines, List<JsonObject> erpLines) {
    MappingDefinition head = ctx.mapping();
    MappingDefinition lines = head.children().get(0).lines();
    String id = id(head.name(), key.toString());
    JsonObject body = new JsonObject(new LinkedHashMap<>(header.values()))
        .put("customerid_account@odata.bind", "/accounts(" + customer + ")");
    if (crmOrder != null) {
      body.put("salesorderid@odata.bind", "/salesorders(" + crmOrder.getString("salesorderid") + ")");
      if (crmOrder.getString("_pricelevelid_value") != null) {
        body.put("pricelevelid@odata.bind", "/pricelevels(" + crmOrder.getString("_pricelevelid_value") + ")");
      }
      if (crmOrder.getString("_transactioncurrencyid_value") != null) {
        body.put("transactioncurrencyid@odata.bind", "/transactioncurrencies("
            + crmOrder.getString("_transactioncurrencyid_value") + ")");
      }
    }
    List<CrmWrite> details = new ArrayList<>();
    List<Coupled> pairs = new ArrayList<>();
    for (int i = 0; i < erpLines.size(); i++) {
      ErpKey lineKey = lines.erpKeyOf(erpLines.get(i));
      String lineId = id(lines.name(), lineKey.toString());
      JsonObject d = new JsonObject(new LinkedHashMap<>(mappedLines.get(i).values()))
          .put("invoiceid@odata.bind", "/invoices(" + id + ")").put("isproductoverridden", true)
          .put("ispriceoverridden", true).put("lineitemnumber", i + 1);
      if (d.getString("productdescription") == null || d.getString("productdescription").isBlank()) {
        d.put("productdescription", erpLines.get(i).getString("No", "line " + (i + 1)));
      }
      details.add(CrmWrite.update(lines.crmEntitySet(), lineId, d));
      pairs.add(new Coupled(lines.name(), lineKey, lineId, null, null, key));
    }
    return new Invoice(key, id, CrmWrite.update(head.crmEntitySet(), id, body), details, pairs);
  }

  /**
   * The page's invoices: every header upsert in one batched write, then the details of those that went through in
   * one, then their couplings (headers, then lines) in one transaction each. A retry after a crash or a lost
   * answer writes the same rows again under the same ids.
   */
  private static Future<JobOutcome> write(TaskContext ctx, List<Invoice> ready, Set<ErpKey> failing) {
    if (ready.isEmpty()) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    Map<Invoice, String> refused = new LinkedHashMap<>();
    return split(ctx, ready.stream().map(Invoice::header).toList())
        .compose(out -> {
          TandemException retry = refusals(ready, out, refused);
          if (retry != null) {
            return Future.failedFuture(retry);
          }
          List<Invoice> withLines = ready.stream().filter(i -> !refused.containsKey(i)).toList();
          List<CrmWrite> details = new ArrayList<>();
          List<Invoice> owners = new ArrayList<>();
          for (Invoice i : withLines) {
            details.addAll(i.details());
            i.details().forEach(d -> owners.add(i));
          }
          return details.isEmpty() ? Future.succeededFuture() : split(ctx, details).compose(o2 -> {
            TandemException r2 = refusals(owners, o2, refused);
            return r2 != null ? Future.failedFuture(r2) : Future.succeededFuture();
          });
        })
        .compose(v -> {
          List<Invoice> done = ready.stream().filter(i -> !refused.containsKey(i)).toList();
          List<Coupled> heads = done.stream().map(i -> Coupled.of(ctx.mapping().name(), i.key(), i.id())).toList();
          List<Coupled> lines = done.stream().flatMap(i -> i.pairs().stream()).toList();
          List<RecordError> errors = new ArrayList<>();
          refused.forEach((i, message) -> errors.add(new RecordError(Direction.TO_CRM, i.key(), null, ErrorKind.DATA,
              Stage.WRITE, "ERP SalesInvoice " + i.key() + " to CRM invoices(" + i.id() + "): " + message)));
          return ctx.couplings().couple(heads)
              .compose(x -> ctx.couplings().couple(lines))
              .compose(x -> {
                // Only the invoices that had an open error: one query each, not one per invoice written.
                Future<Void> resolved = Future.succeededFuture();
                for (Invoice i : done) {
                  if (failing.contains(i.key())) {
                    resolved = resolved.compose(y -> ctx.errors().resolve(i.key(), null));
                  }
                }
                return resolved;
              })
              .compose(x -> report(ctx, errors, failing))
              .map(x -> new JobOutcome(done.size(), 0, 0, 0, 0, errors.size(), done.size(), 0, null));
        });
  }

  /** The writes in requests of at most {@value #PER_REQUEST}, side by side; the outcomes in the writes' order. */
  private static Future<List<WriteOutcome>> split(TaskContext ctx, List<CrmWrite> writes) {
    List<Future<List<WriteOutcome>>> parts = new ArrayList<>();
    for (int i = 0; i < writes.size(); i += PER_REQUEST) {
      parts.add(ctx.crm().write(writes.subList(i, Math.min(writes.size(), i + PER_REQUEST))));
    }
    return Future.join(parts).transform(ar -> {
      List<WriteOutcome> out = new ArrayList<>(writes.size());
      for (Future<List<WriteOutcome>> f : parts) {
        if (f.failed()) {
          return Future.failedFuture(f.cause());
        }
        out.addAll(f.result());
      }
      return Future.succeededFuture(out);
    });
  }

  /** Notes each refused write's invoice (the first cause); a retriable failure is returned to fail the job. */
  private static TandemException refusals(List<Invoice> owners, List<WriteOutcome> out, Map<Invoice, String> refused) {
    for (int i = 0; i < out.size(); i++) {
      WriteOutcome o = out.get(i);
      if (o.ok()) {
        continue;
      }
      if (o.error().kind() == ErrorKind.RETRIABLE) {
        return o.error();
      }
      refused.putIfAbsent(owners.get(i), o.error().getMessage());
    }
    return null;
  }

  /**
   * The CRM orders by id (lower case), 50 ids per query, every page of it: the price list and currency an invoice
   * takes.
   */
  private static Future<Map<String, JsonObject>> crmOrders(TaskContext ctx, List<String> ids) {
    Map<String, JsonObject> out = new HashMap<>();
    if (ids.isEmpty()) {
      return Future.succeededFuture(out);
    }
    String filter = String.join(" or ", ids.stream().map(x -> "salesorderid eq " + x).toList());
    return SalesOrderTask.byId(ctx, "salesorders?$select=salesorderid,_pricelevelid_value,_transactioncurrencyid_value"
        + "&$filter=" + filter.replace(" ", "%20"), out).map(v -> out);
  }

  /** The CRM id of a record Tandem creates: derived from mapping and ERP key, so a retry writes the same row. */
  static String id(String mapping, String erpKey) {
    return UUID.nameUUIDFromBytes((mapping + "\u0000" + erpKey).getBytes(StandardCharsets.UTF_8)).toString()
        .toLowerCase(Locale.ROOT);
  }

  /** One open error per record: those before are resolved by their newer cause. */
  private static Future<Void> report(TaskContext ctx, List<RecordError> errors, Set<ErpKey> failing) {
    Future<Void> chain = Future.succeededFuture();
    for (RecordError e : errors) {
      if (failing.contains(e.erpKey())) {
        chain = chain.compose(v -> ctx.errors().resolve(e.erpKey(), null));
      }
    }
    return chain.compose(v -> ctx.errors().report(errors));
  }
}
