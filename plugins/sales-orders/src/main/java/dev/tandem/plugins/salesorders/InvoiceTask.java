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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * POSTEDSALESINV-INV's task, ERP to CRM: each posted sales invoice not coupled yet becomes a CRM invoice with one
 * invoice product per line (write-in products with the line's description, price and quantity, so the CRM's totals
 * are the ERP's amounts), bound to the customer (CUSTOMER), the CRM order it came from (SALESORDER-ORDER, through
 * the invoice's Order No.) and that order's price list and currency. Rows are written by upsert under ids derived
 * from the ERP keys, header first, then the lines in one batch, and coupled once all went through: a retry after a
 * crash or a lost answer writes the same rows again, never a second invoice. An invoice whose customer is not
 * coupled is a record error at LOOKUP and is tried first in every run until it is.
 */
final class InvoiceTask extends SyncTask {

  private static final Duration OVERLAP = Duration.ofSeconds(5);

  @Override
  public Future<JobOutcome> run(TaskContext ctx) {
    return toCrm(ctx);
  }

  @Override
  public Future<JobOutcome> toCrm(TaskContext ctx) {
    MappingDefinition head = ctx.mapping();
    Map<String, JsonObject> work = new LinkedHashMap<>();
    OffsetDateTime[] highest = new OffsetDateTime[1];
    return ctx.errors().open(200)
        .compose(errors -> {
          List<String> retry = errors.stream().filter(e -> e.erpKey() != null)
              .map(e -> "No eq " + ErpConnector.literal(String.valueOf(e.erpKey().get("No")))).distinct().toList();
          return retry.isEmpty() ? Future.succeededFuture(List.<JsonObject>of())
              : ctx.erp().read(head.erpEntitySet(), String.join(" or ", retry), null, retry.size());
        })
        .compose(retried -> {
          retried.forEach(r -> work.put(r.getString("No"), r));
          return ctx.state().watermark(Direction.TO_CRM);
        })
        .compose(mark -> ctx.erp().read(head.erpEntitySet(), mark == null ? null
            : "SystemModifiedAt gt " + mark.minus(OVERLAP), null, Integer.MAX_VALUE))
        .compose(rows -> {
          for (JsonObject r : rows) {
            work.put(r.getString("No"), r);
            String m = r.getString("SystemModifiedAt");
            if (m != null) {
              OffsetDateTime t = OffsetDateTime.parse(m);
              highest[0] = highest[0] == null || t.isAfter(highest[0]) ? t : highest[0];
            }
          }
          return ctx.couplings().byErpKeys(head.name(), work.keySet().stream()
              .map(no -> ErpKey.of("No", no)).toList());
        })
        .compose(coupled -> {
          Future<JobOutcome> chain = Future.succeededFuture(JobOutcome.EMPTY);
          for (JsonObject inv : work.values()) {
            if (coupled.containsKey(ErpKey.of("No", inv.getString("No")))) {
              chain = chain.map(so -> so.plus(new JobOutcome(0, 0, 0, 1, 0, 0, 0, 0, null)));
            } else {
              chain = chain.compose(so -> ctx.cancelled() ? Future.succeededFuture(so) : one(ctx, inv).map(so::plus));
            }
          }
          return chain;
        })
        .compose(o -> highest[0] == null || ctx.cancelled() ? Future.succeededFuture(o)
            : ctx.state().advance(Direction.TO_CRM, highest[0]).map(v -> o));
  }

  private Future<JobOutcome> one(TaskContext ctx, JsonObject inv) {
    MappingDefinition head = ctx.mapping();
    ChildMapping child = head.children().get(0);
    MappingDefinition lines = child.lines();
    String no = inv.getString("No");
    ErpKey key = ErpKey.of("No", no);
    Map<String, Object> orderKey = new LinkedHashMap<>();
    orderKey.put("Document_Type", "Order");
    String orderNo = inv.getString("Order_No") == null ? "" : inv.getString("Order_No");
    orderKey.put("No", orderNo);
    Future<Optional<String>> customer = ctx.couplings().crmIdOf(SalesOrderMappings.CUSTOMER,
        inv.getString("Sell_to_Customer_No") == null ? "" : inv.getString("Sell_to_Customer_No"));
    Future<Optional<String>> order = orderNo.isEmpty() ? Future.succeededFuture(Optional.empty())
        : ctx.couplings().crmIdOf(SalesOrderMappings.ORDERS, ErpKey.of(orderKey).toString());
    List<JsonObject> erpLines = new ArrayList<>();
    return Future.all(customer, order)
        .compose(v -> ctx.erp().read(lines.erpEntitySet(), child.filterOf(key), null, Integer.MAX_VALUE))
        .compose(rows -> {
          erpLines.addAll(rows);
          if (customer.result().isEmpty()) {
            return report(ctx, key, "ERP SalesInvoice " + no + ": its customer " + inv.getString("Sell_to_Customer_No")
                + " is not coupled in mapping " + SalesOrderMappings.CUSTOMER + ": couple or synchronize CUSTOMER first");
          }
          Future<JsonObject> crmOrder = order.result().isEmpty() ? Future.succeededFuture(null)
              : ctx.crm().page("salesorders?$select=salesorderid,_pricelevelid_value,_transactioncurrencyid_value"
                  + "&$filter=salesorderid%20eq%20" + order.result().get())
                  .map(p -> p.rows().isEmpty() ? null : p.rows().get(0));
          return crmOrder.compose(so -> ctx.mapper(head).map(Direction.TO_CRM, List.of(inv))
              .compose(mh -> ctx.mapper(lines).map(Direction.TO_CRM, erpLines)
                  .compose(ml -> write(ctx, inv, key, customer.result().get(), so, mh.get(0), ml, erpLines))));
        });
  }

  private Future<JobOutcome> write(TaskContext ctx, JsonObject inv, ErpKey key, String customer, JsonObject crmOrder,
      FieldMapper.Mapped header, List<FieldMapper.Mapped> mappedLines, List<JsonObject> erpLines) {
    MappingDefinition head = ctx.mapping();
    MappingDefinition lines = head.children().get(0).lines();
    List<String> causes = new ArrayList<>();
    if (!header.ok()) {
      causes.add(header.error().getMessage());
    }
    mappedLines.stream().filter(m -> !m.ok()).forEach(m -> causes.add(m.error().getMessage()));
    if (!causes.isEmpty()) {
      return report(ctx, key, String.join("; ", causes));
    }
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
    pairs.add(Coupled.of(head.name(), key, id));
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
    return ctx.crm().write(List.of(CrmWrite.update(head.crmEntitySet(), id, body)))
        .compose(out -> failure(out) != null ? Future.succeededFuture(out)
            : details.isEmpty() ? Future.succeededFuture(out) : ctx.crm().write(details))
        .compose(out -> {
          TandemException e = failure(out);
          if (e != null) {
            return e.kind() == ErrorKind.RETRIABLE ? Future.failedFuture(e)
                : report(ctx, key, Stage.WRITE, "ERP SalesInvoice " + key + " to CRM invoices(" + id + "): "
                    + e.getMessage());
          }
          return ctx.couplings().couple(pairs.subList(0, 1))
              .compose(v -> ctx.couplings().couple(pairs.subList(1, pairs.size())))
              .compose(v -> ctx.errors().resolve(key, null))
              .map(v -> new JobOutcome(1, 0, 0, 0, 0, 0, 1, 0, null));
        });
  }

  private static TandemException failure(List<WriteOutcome> out) {
    return out.stream().filter(o -> !o.ok()).map(WriteOutcome::error).findFirst().orElse(null);
  }

  /** The CRM id of a record Tandem creates: derived from mapping and ERP key, so a retry writes the same row. */
  static String id(String mapping, String erpKey) {
    return UUID.nameUUIDFromBytes((mapping + "\u0000" + erpKey).getBytes(StandardCharsets.UTF_8)).toString()
        .toLowerCase(Locale.ROOT);
  }

  private static Future<JobOutcome> report(TaskContext ctx, ErpKey key, String message) {
    return report(ctx, key, Stage.LOOKUP, message);
  }

  private static Future<JobOutcome> report(TaskContext ctx, ErpKey key, Stage stage, String message) {
    return ctx.errors().resolve(key, null)
        .compose(v -> ctx.errors().report(List.of(new RecordError(Direction.TO_CRM, key, null, ErrorKind.DATA,
            stage, message))))
        .map(v -> new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null));
  }
}
