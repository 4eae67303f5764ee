package dev.tandem.plugins.salesorders;

import dev.tandem.api.Coupled;
import dev.tandem.api.CrmWrite;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpKey;
import dev.tandem.api.ErpWrite;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.HeaderLinesTask;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.RecordError;
import dev.tandem.api.RecordPage;
import dev.tandem.api.Stage;
import dev.tandem.api.TaskContext;
import dev.tandem.api.WriteOutcome;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * SALESORDER-ORDER's task. CRM to ERP it is {@link HeaderLinesTask} (header and lines in one transactional change
 * set) with the order's references resolved by {@link OrderFieldMapper}; then it brings back what the ERP did:
 *
 * <ul>
 *   <li>each coupled ERP order's number and status ({@code Open}, {@code Released}) into the CRM order's
 *       {@code tandem_erpordernumber} and {@code tandem_erpstatus};
 *   <li>a posted order (the ERP wrote a {@code SalesInvoice} with its {@code Order_No}): status {@code Invoiced} and
 *       the CRM order fulfilled ({@code FulfillSalesOrder}) with the posting date as the shipment date;
 *   <li>a CRM order cancelled while its ERP order is Open: the ERP order is deleted and uncoupled; once the ERP
 *       released it, a record error for the operator (the ERP order stays).
 * </ul>
 *
 * A submitted CRM order is read-only (Dataverse refuses changes to any column), so the columns are written by setting
 * the order back to Active, writing, and submitting it again, the three in order.
 */
final class SalesOrderTask extends HeaderLinesTask {

  private static final int ACTIVE = 0;
  private static final int SUBMITTED = 1;
  private static final int CANCELED = 2;
  private static final int INVOICED = 4;
  private static final int INVOICED_STATUS = 100003;
  private static final int IDS_PER_QUERY = 50;

  private final String writeInItem;
  private final String localCurrency;

  SalesOrderTask(String writeInItem, String localCurrency) {
    this.writeInItem = writeInItem;
    this.localCurrency = localCurrency;
  }

  @Override
  public Future<JobOutcome> run(TaskContext ctx) {
    // Every kind of job takes the submitted orders in, then brings the ERP's state back. A run on selected orders
    // and a full synchronization take them in as HeaderLinesTask does (those orders only; every order), the
    // references resolved the same way; any other run takes the orders changed since the last.
    boolean selectedOrFull = ctx.job().parameters().getJsonArray("records") != null
        || ctx.job().kind() == JobKind.FULL_SYNC;
    Future<JobOutcome> in = selectedOrFull && ctx.direction() != Direction.TO_CRM
        ? super.run(new OrderTaskContext(ctx, writeInItem, localCurrency)) : fromCrm(ctx);
    return in.compose(o -> ctx.cancelled() ? Future.succeededFuture(o) : statusBack(ctx).map(o::plus));
  }

  /** A description longer than the ERP's: the rest in comment lines after the line ({@link CommentLines}). */
  @Override
  protected List<JsonObject> attachedLines(dev.tandem.api.ChildMapping child, ErpKey lineKey, JsonObject crmLine,
      Map<String, Object> mapped) {
    return CommentLines.of(lineKey, crmLine);
  }

  @Override
  protected ErpKey attachedTo(dev.tandem.api.ChildMapping child, JsonObject erpLine) {
    return CommentLines.parentOf(erpLine);
  }

  @Override
  public Future<JobOutcome> fromCrm(TaskContext ctx) {
    return super.fromCrm(new OrderTaskContext(ctx, writeInItem, localCurrency));
  }

  @Override
  public Future<JobOutcome> toCrm(TaskContext ctx) {
    return statusBack(ctx);
  }

  /**
   * What the ERP did with the coupled orders, back to the CRM; cancellations in the CRM to the ERP. Incremental and
   * paged: the ERP orders changed since the mapping's ERP watermark (their SystemModifiedAt: Tandem's writes,
   * release, reopen), the posted invoices since it (posting deletes the order, so the invoice is how a posting is
   * seen) and the cancelled CRM orders still coupled; each page with one coupling lookup, one CRM read per
   * {@value #IDS_PER_QUERY} orders and its CRM writes in batches.
   */
  Future<JobOutcome> statusBack(TaskContext ctx) {
    OffsetDateTime[] highest = new OffsetDateTime[1];
    JobOutcome[] sum = {JobOutcome.EMPTY};
    return ctx.state().watermark(Direction.TO_CRM).compose(mark -> {
      String since = mark == null ? "" : " and SystemModifiedAt gt " + mark.minus(OVERLAP);
      return ctx.erp().page("SalesOrder", "Document_Type eq 'Order'" + since, null, null)
          .compose(p -> erpPages(ctx, p, highest, sum, rows -> orders(ctx, rows)))
          .compose(v -> ctx.erp().page("SalesInvoice", "Order_No ne ''" + since, null, null))
          .compose(p -> erpPages(ctx, p, highest, sum, rows -> posted(ctx, rows)));
    })
        .compose(v -> ctx.cancelled() ? Future.succeededFuture() : cancellations(ctx, sum))
        .compose(v -> highest[0] == null || ctx.cancelled() ? Future.succeededFuture(sum[0])
            : ctx.state().advance(Direction.TO_CRM, highest[0]).map(x -> sum[0]));
  }

  /** Every page of an ERP read, {@value #IDS_PER_QUERY} rows at a time, the highest SystemModifiedAt noted. */
  private Future<Void> erpPages(TaskContext ctx, RecordPage page, OffsetDateTime[] highest, JobOutcome[] sum,
      Function<List<JsonObject>, Future<JobOutcome>> part) {
    Future<Void> chain = Future.succeededFuture();
    List<JsonObject> rows = page.rows();
    for (int i = 0; i < rows.size(); i += IDS_PER_QUERY) {
      List<JsonObject> chunk = rows.subList(i, Math.min(rows.size(), i + IDS_PER_QUERY));
      chain = chain.compose(v -> ctx.cancelled() ? Future.succeededFuture() : part.apply(chunk).map(o -> {
        sum[0] = sum[0].plus(o);
        for (JsonObject r : chunk) {
          String m = r.getString("SystemModifiedAt");
          if (m != null) {
            OffsetDateTime t = OffsetDateTime.parse(m);
            highest[0] = highest[0] == null || t.isAfter(highest[0]) ? t : highest[0];
          }
        }
        return null;
      }));
    }
    return chain.compose(v -> page.hasNext() && !ctx.cancelled()
        ? ctx.erp().next(page.nextLink()).compose(n -> erpPages(ctx, n, highest, sum, part))
        : Future.succeededFuture());
  }

  /** Changed ERP orders: number and status to their CRM orders. */
  private Future<JobOutcome> orders(TaskContext ctx, List<JsonObject> rows) {
    Map<ErpKey, JsonObject> erp = new LinkedHashMap<>();
    rows.stream().filter(r -> r.getString("No") != null).forEach(r -> erp.put(ctx.mapping().erpKeyOf(r), r));
    return back(ctx, erp, Map.of());
  }

  /** Posted invoices of coupled orders: fulfilled and Invoiced. */
  private Future<JobOutcome> posted(TaskContext ctx, List<JsonObject> rows) {
    Map<ErpKey, JsonObject> invoices = new LinkedHashMap<>();
    for (JsonObject inv : rows) {
      if (inv.getString("Order_No") == null || inv.getString("Order_No").isEmpty()) {
        continue;
      }
      Map<String, Object> k = new LinkedHashMap<>();
      k.put("Document_Type", "Order");
      k.put("No", inv.getString("Order_No"));
      invoices.put(ErpKey.of(k), inv);
    }
    return back(ctx, Map.of(), invoices);
  }

  private Future<JobOutcome> back(TaskContext ctx, Map<ErpKey, JsonObject> erp, Map<ErpKey, JsonObject> invoices) {
    List<ErpKey> keys = new ArrayList<>(erp.keySet());
    keys.addAll(invoices.keySet());
    return ctx.couplings().byErpKeys(ctx.mapping().name(), keys)
        .compose(coupled -> crmOrders(ctx, coupled.values().stream().map(Coupled::crmId).toList())
            .compose(crm -> {
              List<Back> writes = new ArrayList<>();
              Future<JobOutcome> cancelled = Future.succeededFuture(JobOutcome.EMPTY);
              for (Coupled c : coupled.values()) {
                JsonObject order = crm.get(c.crmId().toLowerCase(Locale.ROOT));
                JsonObject e = erp.get(c.erpKey());
                if (order != null && order.getInteger("statecode", ACTIVE) == CANCELED && e != null) {
                  // Cancelled before its number came back (so the cancellations pass would not see it).
                  cancelled = cancelled.compose(so -> cancelled(ctx, c, e).map(so::plus));
                  continue;
                }
                Back b = order == null ? null : back(c, order, e, invoices.get(c.erpKey()));
                if (b != null) {
                  writes.add(b);
                }
              }
              return cancelled.compose(so -> rounds(ctx, writes).map(so::plus));
            }));
  }

  /** The CRM writes that bring one order's ERP state back, in order; the write that restores it when one fails. */
  private record Back(Coupled coupling, String number, String status, List<CrmWrite> writes, CrmWrite restore) {}

  private static Back back(Coupled c, JsonObject crm, JsonObject erp, JsonObject invoice) {
    int state = crm.getInteger("statecode", ACTIVE);
    String id = c.crmId().toLowerCase(Locale.ROOT);
    if (state != ACTIVE && state != SUBMITTED) {
      return null;      // Canceled (see cancellations), Fulfilled or Invoiced: closed in the CRM
    }
    String number = String.valueOf(c.erpKey().get("No"));
    String status = invoice != null ? "Invoiced" : erp == null ? null : erp.getString("Status");
    if (status == null || (number.equals(crm.getString("tandem_erpordernumber"))
        && status.equals(crm.getString("tandem_erpstatus")) && invoice == null)) {
      return null;
    }
    List<CrmWrite> writes = new ArrayList<>();
    CrmWrite resubmit = CrmWrite.update("salesorders", id, new JsonObject().put("statecode", SUBMITTED)
        .put("statuscode", 3));
    if (state == SUBMITTED) {
      writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("statecode", ACTIVE).put("statuscode", 1)));
    }
    writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("tandem_erpordernumber", number)
        .put("tandem_erpstatus", status)));
    if (invoice != null) {
      // Posting ships and invoices at once: the posting date is the shipment date (FulfillSalesOrder); then the
      // order is Invoiced by SetState, as BC's own integration sets it after posting
      // (SetCRMSalesOrderStateAsInvoiced) — the one closed state Dataverse lets SetState reach.
      writes.add(CrmWrite.create("FulfillSalesOrder", new JsonObject()
          .put("OrderClose", new JsonObject().put("@odata.type", "Microsoft.Dynamics.CRM.orderclose")
              .put("subject", "Shipped and invoiced in the ERP: " + invoice.getString("No"))
              .put("actualend", invoice.getString("Posting_Date"))
              .put("salesorderid@odata.bind", "/salesorders(" + id + ")"))
          .put("Status", 100001)));
      writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("statecode", INVOICED)
          .put("statuscode", INVOICED_STATUS)));
    } else if (state == SUBMITTED) {
      writes.add(resubmit);
    }
    return new Back(c, number, status, writes, state == SUBMITTED ? resubmit : null);
  }

  /**
   * The orders' writes in rounds: every order's first write in one batch, then every order's second, and so on
   * (one order's writes go in order: a reopened order is written, then submitted again). An order whose write
   * fails gets no more, is submitted again if it was reopened (unless it got past fulfilment), and gets a record
   * error.
   */
  private Future<JobOutcome> rounds(TaskContext ctx, List<Back> orders) {
    Map<Back, String> failures = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    int most = orders.stream().mapToInt(b -> b.writes().size()).max().orElse(0);
    for (int r = 0; r < most; r++) {
      int round = r;
      chain = chain.compose(v -> {
        List<Back> live = orders.stream().filter(b -> !failures.containsKey(b) && b.writes().size() > round)
            .toList();
        if (live.isEmpty()) {
          return Future.succeededFuture();
        }
        return ctx.crm().write(live.stream().map(b -> b.writes().get(round)).toList()).compose(out -> {
          List<CrmWrite> restore = new ArrayList<>();
          for (int i = 0; i < out.size(); i++) {
            WriteOutcome o = out.get(i);
            if (o.ok()) {
              continue;
            }
            if (o.error().kind() == ErrorKind.RETRIABLE) {
              return Future.failedFuture(o.error());
            }
            Back b = live.get(i);
            CrmWrite w = b.writes().get(round);
            failures.put(b, w.method() + " " + w.path() + ": " + o.error().getMessage());
            boolean reopened = round > 0 && b.restore() != null;
            boolean closed = w.path().equals("salesorders(" + b.coupling().crmId().toLowerCase(Locale.ROOT) + ")")
                && w.body() != null && Integer.valueOf(INVOICED).equals(w.body().getInteger("statecode"));
            if (reopened && !closed) {
              restore.add(b.restore());
            }
          }
          return restore.isEmpty() ? Future.<Void>succeededFuture() : ctx.crm().write(restore).mapEmpty();
        });
      });
    }
    return chain.compose(v -> {
      Future<JobOutcome> reports = Future.succeededFuture(JobOutcome.EMPTY);
      for (Map.Entry<Back, String> f : failures.entrySet()) {
        Back b = f.getKey();
        String id = b.coupling().crmId().toLowerCase(Locale.ROOT);
        reports = reports.compose(so -> report(ctx, b.coupling().erpKey(), id, Stage.WRITE, "salesorders(" + id
            + "): the ERP state of order " + b.number() + " (" + b.status() + ") could not be written back: "
            + f.getValue()).map(so::plus));
      }
      return reports;
    });
  }

  /**
   * Cancelled CRM orders still coupled: the Canceled orders that carry an ERP number (no more than were ever
   * cancelled after Tandem wrote them: a Canceled order is read-only, so the number stays), paged, with one
   * coupling lookup and one ERP read per page.
   */
  private Future<JobOutcome> cancellations(TaskContext ctx, JobOutcome[] sum) {
    String query = "salesorders?$select=salesorderid&$filter=" + ("statecode eq " + CANCELED
        + " and tandem_erpordernumber ne null").replace(" ", "%20");
    return ctx.crm().page(query).compose(p -> cancelledPage(ctx, p, sum)).map(v -> sum[0]);
  }

  private Future<Void> cancelledPage(TaskContext ctx, RecordPage page, JobOutcome[] sum) {
    List<String> ids = page.rows().stream().map(r -> r.getString("salesorderid").toLowerCase(Locale.ROOT)).toList();
    Future<Void> done = ctx.couplings().byCrmIds(ctx.mapping().name(), ids).compose(coupled -> {
      if (coupled.isEmpty()) {
        return Future.succeededFuture();
      }
      List<JsonObject> rows = new ArrayList<>();
      Future<Void> read = Future.succeededFuture();
      for (String f : ErpKey.filters(coupled.values().stream().map(Coupled::erpKey).toList())) {
        read = read.compose(v -> ctx.erp().read("SalesOrder", f, null, coupled.size()).map(rows::addAll).mapEmpty());
      }
      return read.compose(x -> {
        Map<ErpKey, JsonObject> erp = new HashMap<>();
        rows.forEach(r -> erp.put(ctx.mapping().erpKeyOf(r), r));
        Future<Void> chain = Future.succeededFuture();
        for (Coupled c : coupled.values()) {
          JsonObject e = erp.get(c.erpKey());
          if (e != null) {
            chain = chain.compose(v -> cancelled(ctx, c, e).map(o -> {
              sum[0] = sum[0].plus(o);
              return null;
            }));
          }
        }
        return chain;
      });
    });
    return done.compose(v -> page.hasNext() && !ctx.cancelled()
        ? ctx.crm().next(page.nextLink()).compose(n -> cancelledPage(ctx, n, sum)) : Future.succeededFuture());
  }

  /**
   * The CRM order was cancelled: an Open ERP order is deleted (its lines with it) and uncoupled; a Released one is
   * the operator's decision, so it stays and the order gets a record error.
   */
  private Future<JobOutcome> cancelled(TaskContext ctx, Coupled c, JsonObject erp) {
    String id = c.crmId().toLowerCase(Locale.ROOT);
    if (!"Open".equals(erp.getString("Status"))) {
      return report(ctx, c.erpKey(), id, Stage.WRITE, "salesorders(" + id + ") was cancelled in the CRM after the ERP"
          + " released order " + c.erpKey().get("No") + ": reopen and delete it in the ERP, or ship it and settle it"
          + " with the customer");
    }
    String etag = erp.getString("@odata.etag", "*");
    return ctx.erp().write(List.of(ErpWrite.delete("SalesOrder", c.erpKey(), etag))).compose(out -> {
      WriteOutcome o = out.get(0);
      if (!o.ok() && o.status() != 404) {
        if (o.error().kind() == ErrorKind.RETRIABLE) {
          return Future.failedFuture(o.error());
        }
        return report(ctx, c.erpKey(), id, Stage.WRITE, "salesorders(" + id + ") was cancelled in the CRM; deleting"
            + " ERP order " + c.erpKey().get("No") + " failed: " + o.error().getMessage());
      }
      return ctx.couplings().uncouple(ctx.mapping().name(), List.of(c.erpKey()))
          .compose(n -> ctx.errors().resolve(null, id))
          .map(v -> new JobOutcome(0, 0, 1, 0, 0, 0, 0, 1, null));
    });
  }

  private static Future<JobOutcome> report(TaskContext ctx, ErpKey key, String crmId, Stage stage, String message) {
    return ctx.errors().resolve(null, crmId)
        .compose(v -> ctx.errors().report(List.of(new RecordError(Direction.FROM_CRM, key, crmId, ErrorKind.DATA,
            stage, message))))
        .map(v -> new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null));
  }

  /** The CRM orders by id (lower case): state and the columns written back, 50 ids per query (all its pages). */
  private static Future<Map<String, JsonObject>> crmOrders(TaskContext ctx, List<String> ids) {
    Map<String, JsonObject> out = new HashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < ids.size(); i += IDS_PER_QUERY) {
      List<String> part = ids.subList(i, Math.min(ids.size(), i + IDS_PER_QUERY));
      String filter = String.join(" or ", part.stream().map(x -> "salesorderid eq " + x).toList());
      String query = "salesorders?$select=salesorderid,statecode,tandem_erpordernumber,tandem_erpstatus&$filter="
          + filter.replace(" ", "%20");
      chain = chain.compose(v -> byId(ctx, query, out));
    }
    return chain.map(v -> out);
  }

  /**
   * A read's rows by id (lower case), every page of it: the CRM's page size (connections.crm.pageSize) may be smaller
   * than the ids asked for.
   */
  static Future<Void> byId(TaskContext ctx, String query, Map<String, JsonObject> into) {
    List<JsonObject> rows = new java.util.ArrayList<>();
    return ctx.crm().readAll(query, rows).map(v -> {
      rows.forEach(r -> into.put(r.getString("salesorderid").toLowerCase(Locale.ROOT), r));
      return null;
    });
  }
}
