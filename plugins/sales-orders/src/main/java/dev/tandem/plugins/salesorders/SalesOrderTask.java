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

  /** What the ERP did with the coupled orders, back to the CRM; cancellations in the CRM to the ERP. */
  Future<JobOutcome> statusBack(TaskContext ctx) {
    Map<ErpKey, JsonObject> erpOrders = new LinkedHashMap<>();
    Map<ErpKey, JsonObject> invoices = new HashMap<>();
    OffsetDateTime[] highest = new OffsetDateTime[1];
    return ctx.erp().read("SalesOrder", "Document_Type eq 'Order'", null, Integer.MAX_VALUE)
        .compose(rows -> {
          rows.stream().filter(r -> r.getString("No") != null)
              .forEach(r -> erpOrders.put(ctx.mapping().erpKeyOf(r), r));
          return ctx.state().watermark(Direction.TO_CRM);
        })
        .compose(mark -> ctx.erp().read("SalesInvoice", mark == null ? "Order_No ne ''"
            : "SystemModifiedAt gt " + mark.minus(OVERLAP) + " and Order_No ne ''", null, Integer.MAX_VALUE))
        .compose(posted -> {
          for (JsonObject inv : posted) {
            if (inv.getString("Order_No") == null || inv.getString("Order_No").isEmpty()) {
              continue;
            }
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("Document_Type", "Order");
            k.put("No", inv.getString("Order_No"));
            invoices.put(ErpKey.of(k), inv);
            String m = inv.getString("SystemModifiedAt");
            if (m != null) {
              OffsetDateTime t = OffsetDateTime.parse(m);
              highest[0] = highest[0] == null || t.isAfter(highest[0]) ? t : highest[0];
            }
          }
          List<ErpKey> keys = new ArrayList<>(erpOrders.keySet());
          keys.addAll(invoices.keySet());
          return ctx.couplings().byErpKeys(ctx.mapping().name(), keys);
        })
        .compose(coupled -> crmOrders(ctx, coupled.values().stream().map(Coupled::crmId).toList())
            .compose(crm -> {
              Future<JobOutcome> chain = Future.succeededFuture(JobOutcome.EMPTY);
              for (Coupled c : coupled.values()) {
                JsonObject order = crm.get(c.crmId().toLowerCase(Locale.ROOT));
                if (order != null) {
                  chain = chain.compose(so -> one(ctx, c, order, erpOrders.get(c.erpKey()), invoices.get(c.erpKey()))
                      .map(so::plus));
                }
              }
              return chain;
            }))
        .compose(o -> highest[0] == null || ctx.cancelled() ? Future.succeededFuture(o)
            : ctx.state().advance(Direction.TO_CRM, highest[0]).map(v -> o));
  }

  private Future<JobOutcome> one(TaskContext ctx, Coupled c, JsonObject crm, JsonObject erp, JsonObject invoice) {
    int state = crm.getInteger("statecode", ACTIVE);
    String id = c.crmId().toLowerCase(Locale.ROOT);
    if (state == CANCELED) {
      return erp == null ? Future.succeededFuture(JobOutcome.EMPTY) : cancelled(ctx, c, erp);
    }
    if (state != ACTIVE && state != SUBMITTED) {
      return Future.succeededFuture(JobOutcome.EMPTY);      // Fulfilled or Invoiced: closed in the CRM
    }
    String number = String.valueOf(c.erpKey().get("No"));
    String status = invoice != null ? "Invoiced" : erp == null ? null : erp.getString("Status");
    if (status == null || (number.equals(crm.getString("tandem_erpordernumber"))
        && status.equals(crm.getString("tandem_erpstatus")) && invoice == null)) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    List<CrmWrite> writes = new ArrayList<>();
    if (state == SUBMITTED) {
      writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("statecode", ACTIVE).put("statuscode", 1)));
    }
    writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("tandem_erpordernumber", number)
        .put("tandem_erpstatus", status)));
    if (invoice != null) {
      // Posting ships and invoices at once: the posting date is the shipment date.
      writes.add(CrmWrite.create("FulfillSalesOrder", new JsonObject()
          .put("OrderClose", new JsonObject().put("@odata.type", "Microsoft.Dynamics.CRM.orderclose")
              .put("subject", "Shipped and invoiced in the ERP: " + invoice.getString("No"))
              .put("actualend", invoice.getString("Posting_Date"))
              .put("salesorderid@odata.bind", "/salesorders(" + id + ")"))
          .put("Status", 100001)));
    } else if (state == SUBMITTED) {
      writes.add(CrmWrite.update("salesorders", id, new JsonObject().put("statecode", SUBMITTED).put("statuscode", 3)));
    }
    return sequential(ctx, writes, 0).compose(failure -> failure == null
        ? Future.succeededFuture(new JobOutcome(0, 0, 0, 0, 0, 0, 0, 0, null))
        : report(ctx, c.erpKey(), id, Stage.WRITE, "salesorders(" + id + "): the ERP state of order " + number
            + " (" + status + ") could not be written back: " + failure));
  }

  /** The writes one after another (a reopened order must be submitted again); the first failure's text, or null. */
  private Future<String> sequential(TaskContext ctx, List<CrmWrite> writes, int from) {
    if (from == writes.size()) {
      return Future.succeededFuture(null);
    }
    return ctx.crm().write(List.of(writes.get(from))).compose(out -> {
      WriteOutcome o = out.get(0);
      if (!o.ok()) {
        if (o.error().kind() == ErrorKind.RETRIABLE) {
          return Future.failedFuture(o.error());
        }
        // Whatever failed, an order set back to Active is submitted again.
        CrmWrite last = writes.get(writes.size() - 1);
        boolean resubmit = from > 0 && last.body() != null && last.body().containsKey("statecode");
        return (resubmit ? ctx.crm().write(List.of(last)) : Future.succeededFuture(List.<WriteOutcome>of()))
            .map(x -> writes.get(from).method() + " " + writes.get(from).path() + ": " + o.error().getMessage());
      }
      return sequential(ctx, writes, from + 1);
    });
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

  /** The CRM orders by id (lower case): state and the columns written back, 50 ids per query. */
  private static Future<Map<String, JsonObject>> crmOrders(TaskContext ctx, List<String> ids) {
    Map<String, JsonObject> out = new HashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < ids.size(); i += IDS_PER_QUERY) {
      List<String> part = ids.subList(i, Math.min(ids.size(), i + IDS_PER_QUERY));
      String filter = String.join(" or ", part.stream().map(x -> "salesorderid eq " + x).toList());
      String query = "salesorders?$select=salesorderid,statecode,tandem_erpordernumber,tandem_erpstatus&$filter="
          + filter.replace(" ", "%20");
      chain = chain.compose(v -> ctx.crm().page(query).map(p -> {
        p.rows().forEach(r -> out.put(r.getString("salesorderid").toLowerCase(Locale.ROOT), r));
        return null;
      }));
    }
    return chain.map(v -> out);
  }
}
