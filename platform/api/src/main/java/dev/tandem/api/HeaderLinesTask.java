package dev.tandem.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link SyncTask} for a header with lines ({@link MappingDefinition#children()}) from the CRM to the ERP: a CRM
 * order and its details become an ERP sales order and its lines, written together in ONE transactional change set
 * ({@link ErpConnector#changeSet}), so the ERP never holds a header without its lines or half of a change.
 *
 * <p>Per job it finds the headers to write: those with open record errors (tried first), those modified since the
 * CRM watermark (in {@code modifiedon} and key order, each page a query after the last row read: {@link
 * KeysetPaging}), and those whose lines changed or were deleted (CRM change tracking on the lines' table). It works
 * by pages of headers, each read one request or query per page (the CRM headers and their lines, the mapping of
 * headers and lines, the headers' couplings and their lines' couplings, the ERP headers and their lines); then for
 * each header of the page, side by side with the page's others, it writes in one change set: the header (create, or the fields that changed), each line (create, or the
 * fields that changed) and a delete for each line coupled earlier whose CRM line is gone. Once the change set went
 * through it couples header and lines; a header or line that cannot be mapped, or a change set the ERP refuses, is
 * one record error naming the cause, and the ERP is left as it was. Several headers' change sets travel in one
 * transactional {@code $batch} of at most {@value #GROUP_OPS} operations (all or nothing; a refusal sends each of
 * them again alone), about {@value #GROUPS_PER_PAGE} such groups per page.
 *
 * <p>The ERP keys come from the mapped values: the header's key fields (e.g. {@code Document_Type} as a constant,
 * {@code No} from the CRM order number) and each line's own key fields beyond the parent's (e.g. {@code Line_No}
 * from the CRM line item number). So a change set whose answer was lost is found again by key on the next attempt
 * and updated instead of created twice. Override {@link #headerKey} or {@link #lineKey} for another numbering.
 *
 * <p>A full synchronization reads every header; a run on selected records ({@code records}: CRM header ids) writes
 * those. ERP to CRM is not done by this task: a mapping that also runs that way overrides {@link #toCrm}.
 */
public class HeaderLinesTask extends SyncTask {

  /** How far before the watermark incremental reads start (late commits, clock skew). */
  protected static final Duration OVERLAP = Duration.ofSeconds(5);
  private static final int RETRY_FIRST = 200;
  /** Headers read and written together: one query per page for each read, their change sets side by side. */
  private static final int PAGE = 50;
  /** Operations per transactional $batch at most: Business Central online's limit per $batch. */
  static final int GROUP_OPS = 100;
  /**
   * Groups a page's change sets are packed into: more than the ERP user's 5 processing slots (and the connector's
   * 8 requests in flight), so the slots stay busy while a group's answer travels.
   */
  static final int GROUPS_PER_PAGE = 10;

  /** For subclasses and plugins that use it as it is. */
  public HeaderLinesTask() {}

  @Override
  public Future<JobOutcome> toCrm(TaskContext context) {
    return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + context.mapping().name()
        + ": its task writes headers with lines from the CRM to the ERP only; ERP to CRM needs an override of toCrm"));
  }

  /**
   * A full synchronization reads every header (not only those changed since the watermark); a run on selected
   * records (the job's {@code records}: CRM header ids) writes those headers only; other jobs as {@link SyncTask}.
   */
  @Override
  public Future<JobOutcome> run(TaskContext ctx) {
    JobRequest job = ctx.job();
    io.vertx.core.json.JsonArray records = job.parameters().getJsonArray("records");
    if (ctx.direction() == Direction.TO_CRM) {
      return toCrm(ctx);
    }
    if (records != null) {
      Set<String> ids = new LinkedHashSet<>();
      records.forEach(r -> ids.add(String.valueOf(r).toLowerCase(java.util.Locale.ROOT)));
      return sync(ctx, false, ids);
    }
    return job.kind() == JobKind.FULL_SYNC ? sync(ctx, true, null) : super.run(ctx);
  }

  @Override
  public Future<JobOutcome> fromCrm(TaskContext ctx) {
    return sync(ctx, false, null);
  }

  /**
   * @param full read every header, not only those changed since the watermark
   * @param selected only these CRM header ids, or null
   */
  private Future<JobOutcome> sync(TaskContext ctx, boolean full, Set<String> selected) {
    MappingDefinition head = ctx.mapping();
    if (head.children().size() != 1) {
      return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + head.name()
          + " declares " + head.children().size() + " kinds of lines; this task writes exactly one"));
    }
    ChildMapping child = head.children().get(0);
    Set<String> work = new LinkedHashSet<>();
    Map<String, JsonObject> rows = new HashMap<>();
    OffsetDateTime[] highest = new OffsetDateTime[1];
    String[] delta = new String[1];
    if (selected != null) {
      work.addAll(selected);
      return write(ctx, head, child, work, rows);
    }
    return ctx.errors().open(RETRY_FIRST)
        .compose(errors -> {
          errors.stream().filter(e -> e.direction() == Direction.FROM_CRM && e.crmId() != null)
              .forEach(e -> work.add(e.crmId()));
          return ctx.state().deltaLink();
        })
        .compose(link -> linesChanged(ctx, child, link, work, delta))
        .compose(v -> full ? Future.<OffsetDateTime>succeededFuture() : ctx.state().watermark(Direction.FROM_CRM))
        .compose(mark -> {
          String filter = mark == null ? null : head.crmModifiedOn() + " ge " + mark.minus(OVERLAP);
          String own = head.crmFilter() == null ? filter
              : filter == null ? head.crmFilter() : filter + " and (" + head.crmFilter() + ")";
          return headersChanged(ctx, head, new KeysetPaging(head.crmModifiedOn(), head.crmKey()), own, null, work,
              rows, highest);
        })
        .compose(v -> write(ctx, head, child, work, rows))
        .compose(o -> {
          if (ctx.cancelled()) {
            return Future.succeededFuture(o);
          }
          // Only after every header went through (or into the error log): a retried job reads them again.
          Future<Void> mark = highest[0] == null ? Future.succeededFuture()
              : ctx.state().advance(Direction.FROM_CRM, highest[0]);
          return mark.compose(v -> delta[0] == null ? Future.succeededFuture() : ctx.state().saveDeltaLink(delta[0]))
              .map(v -> o);
        });
  }

  /**
   * Writes the headers page by page: a page's reads (CRM headers and lines, couplings, ERP headers and lines) are
   * one request or query each, its change sets (one per header, as BC wants a header's lines) go out together and
   * the connector's budget spreads them over the ERP's concurrent requests; the next page is read while they go.
   */
  private Future<JobOutcome> write(TaskContext ctx, MappingDefinition head, ChildMapping child, Set<String> work,
      Map<String, JsonObject> rows) {
    List<List<String>> pages = new ArrayList<>();
    List<String> ids = new ArrayList<>(work);
    for (int i = 0; i < ids.size(); i += PAGE) {
      pages.add(ids.subList(i, Math.min(ids.size(), i + PAGE)));
    }
    if (pages.isEmpty()) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    return pages(ctx, head, child, pages, 0, prepare(ctx, head, child, pages.get(0), rows), rows, JobOutcome.EMPTY,
        work.size());
  }

  private Future<JobOutcome> pages(TaskContext ctx, MappingDefinition head, ChildMapping child,
      List<List<String>> pages, int k, Future<List<Prepared>> prepared, Map<String, JsonObject> rows, JobOutcome so,
      int total) {
    return prepared.compose(page -> {
      if (ctx.cancelled()) {
        return Future.succeededFuture(so);
      }
      List<Future<JobOutcome>> sent = new ArrayList<>();
      List<Plan> plans = new ArrayList<>();
      for (Prepared p : page) {
        if (p.outcome != null) {
          sent.add(p.outcome);
        } else {
          plans.add(plan(ctx, head, child, p.key, p.row, p.crmLines, p.header, p.lines, p.lineKeys, p.linked,
              p.erpHeader, p.erpLines));
        }
      }
      // The page's change sets in about GROUPS_PER_PAGE groups of at most GROUP_OPS operations: few requests, and
      // still enough side by side to keep the ERP's processing slots busy.
      int pageOps = plans.stream().mapToInt(pl -> pl.writes().size()).sum();
      int target = Math.min(GROUP_OPS, Math.max(1, (pageOps + GROUPS_PER_PAGE - 1) / GROUPS_PER_PAGE));
      List<Plan> group = new ArrayList<>();
      int ops = 0;
      for (Plan plan : plans) {
        if (plan.writes().isEmpty() || plan.writes().size() > GROUP_OPS) {
          sent.add(send(ctx, plan));
          continue;
        }
        if (!group.isEmpty() && ops + plan.writes().size() > target) {
          sent.add(group(ctx, List.copyOf(group)));
          group.clear();
          ops = 0;
        }
        group.add(plan);
        ops += plan.writes().size();
      }
      if (!group.isEmpty()) {
        sent.add(group(ctx, List.copyOf(group)));
      }
      Future<List<Prepared>> next = k + 1 < pages.size() ? prepare(ctx, head, child, pages.get(k + 1), rows) : null;
      return Future.join(sent).transform(ar -> {
        JobOutcome sum = so;
        for (Future<JobOutcome> f : sent) {
          if (f.failed()) {
            // A retriable failure fails the job (it is retried); the page's other headers went through or not.
            return Future.<JobOutcome>failedFuture(f.cause());
          }
          sum = sum.plus(f.result());
        }
        int done = Math.min(total, (k + 1) * PAGE);
        ctx.progress(sum, done + " of " + total + " headers");
        return next == null ? Future.succeededFuture(sum)
            : pages(ctx, head, child, pages, k + 1, next, rows, sum, total);
      });
    });
  }

  /** The headers whose lines changed or went since the last run, from change tracking on the lines' table. */
  private Future<Void> linesChanged(TaskContext ctx, ChildMapping child, String link, Set<String> work,
      String[] delta) {
    MappingDefinition lines = child.lines();
    String parentValue = "_" + child.crmParentColumn() + "_value";
    Future<RecordPage> first = link == null ? ctx.crm().track(lines.crmEntitySet(), List.of(lines.crmKey(),
        parentValue)) : ctx.crm().next(link);
    return first.compose(p -> linesPage(ctx, child, p, work, delta, parentValue));
  }

  private Future<Void> linesPage(TaskContext ctx, ChildMapping child, RecordPage page, Set<String> work,
      String[] delta, String parentValue) {
    List<String> gone = new ArrayList<>();
    for (JsonObject r : page.rows()) {
      if (RecordPage.deleted(r)) {
        gone.add(r.getString("id"));
      } else if (r.getString(parentValue) != null) {
        work.add(r.getString(parentValue).toLowerCase(java.util.Locale.ROOT));
      }
    }
    MappingDefinition head = ctx.mapping();
    Future<Void> deleted = gone.isEmpty() ? Future.succeededFuture()
        : ctx.couplings().byCrmIds(child.lines().name(), gone).compose(found -> {
          // The headers of the deleted lines, in one lookup for the page (not one per line).
          Set<ErpKey> parents = new LinkedHashSet<>();
          for (Coupled c : found.values()) {
            if (c.parentErpKey() != null) {
              parents.add(c.parentErpKey());
            }
          }
          return parents.isEmpty() ? Future.<Void>succeededFuture()
              : ctx.couplings().byErpKeys(head.name(), parents).map(heads -> {
                heads.values().forEach(h -> work.add(h.crmId()));
                return null;
              });
        });
    return deleted.compose(v -> {
      if (page.hasNext()) {
        return ctx.crm().next(page.nextLink()).compose(n -> linesPage(ctx, child, n, work, delta, parentValue));
      }
      delta[0] = page.deltaLink();
      return Future.succeededFuture();
    });
  }

  /**
   * The changed headers, page by page, in {@code modifiedon} then key order; each page is its own query after the
   * last row of the page before ({@link KeysetPaging}), not the first query's next link. So a header changed while
   * the headers are read (a person's edit, Tandem's own write-back of an earlier run) moves only itself, behind the
   * last row read, and comes once more at the end (it is written once: the work is a set); no other header moves
   * out of the pages read and is missed, and the watermark never passes a header not read.
   *
   * @param own the read's own filter (watermark and the mapping's CRM filter), or null
   * @param last the last header of the page before, or null for the first page
   */
  private Future<Void> headersChanged(TaskContext ctx, MappingDefinition head, KeysetPaging paging, String own,
      JsonObject last, Set<String> work, Map<String, JsonObject> rows, OffsetDateTime[] highest) {
    String filter = paging.filter(own, last);
    String query = head.crmEntitySet() + "?$orderby=" + encode(paging.orderBy())
        + (filter == null ? "" : "&$filter=" + encode(filter));
    return ctx.crm().page(query).compose(page -> {
      for (JsonObject r : page.rows()) {
        String id = r.getString(head.crmKey()).toLowerCase(java.util.Locale.ROOT);
        work.add(id);
        rows.put(id, r);
        String m = r.getString(head.crmModifiedOn());
        if (m != null) {
          OffsetDateTime t = OffsetDateTime.parse(m);
          highest[0] = highest[0] == null || t.isAfter(highest[0]) ? t : highest[0];
        }
      }
      return page.hasNext() && !page.rows().isEmpty() && !ctx.cancelled()
          ? headersChanged(ctx, head, paging, own, page.rows().get(page.rows().size() - 1), work, rows, highest)
          : Future.succeededFuture();
    });
  }

  /** Headers by id, within the mapping's CRM filter (one query); those gone or filtered out are missing. */
  private Future<Void> headers(TaskContext ctx, MappingDefinition head, List<String> ids,
      Map<String, JsonObject> into) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    String filter = "(" + String.join(" or ", ids.stream().map(id -> head.crmKey() + " eq " + id).toList()) + ")"
        + (head.crmFilter() == null ? "" : " and (" + head.crmFilter() + ")");
    List<JsonObject> found = new ArrayList<>();
    return ctx.crm().readAll(head.crmEntitySet() + "?$filter=" + encode(filter), found).map(v -> {
      found.forEach(r -> into.put(r.getString(head.crmKey()).toLowerCase(java.util.Locale.ROOT), r));
      return null;
    });
  }

  /**
   * The ERP key of a header not coupled yet.
   *
   * @param head the header's mapping
   * @param crmRow the CRM header
   * @param mapped its mapped values
   * @return the key
   * @throws TandemException DATA at TRANSFORM when a key field is not mapped
   */
  protected ErpKey headerKey(MappingDefinition head, JsonObject crmRow, Map<String, Object> mapped) {
    Map<String, Object> key = new LinkedHashMap<>();
    for (String f : head.erpKeyFields()) {
      Object v = mapped.get(f);
      if (v == null || "".equals(v)) {
        throw TandemException.data(Stage.TRANSFORM, head.crmEntitySet() + "(" + crmRow.getString(head.crmKey())
            + "): the ERP key field " + f + " of " + head.erpEntitySet() + " is not filled by the mapping");
      }
      key.put(f, v instanceof Number n ? (Object) n.longValue() : String.valueOf(v));
    }
    return ErpKey.of(key);
  }

  /**
   * The ERP key of a line not coupled yet: its header's key fields and its own, from the mapped values.
   *
   * @param child the lines
   * @param header the header's ERP key
   * @param crmRow the CRM line
   * @param mapped its mapped values
   * @return the key
   * @throws TandemException DATA at TRANSFORM when an own key field is not mapped
   */
  protected ErpKey lineKey(ChildMapping child, ErpKey header, JsonObject crmRow, Map<String, Object> mapped) {
    Map<String, Object> parent = child.parentValues(header);
    Map<String, Object> key = new LinkedHashMap<>();
    MappingDefinition lines = child.lines();
    for (String f : lines.erpKeyFields()) {
      Object v = parent.containsKey(f) ? parent.get(f) : mapped.get(f);
      if (v == null || "".equals(v)) {
        throw TandemException.data(Stage.TRANSFORM, lines.crmEntitySet() + "(" + crmRow.getString(lines.crmKey())
            + "): the ERP key field " + f + " of " + lines.erpEntitySet() + " is not filled by the mapping");
      }
      key.put(f, v instanceof Number n ? (Object) n.longValue() : String.valueOf(v));
    }
    return ErpKey.of(key);
  }

  /**
   * ERP lines that belong to a mapped line without a CRM row of their own, written in the header's change set with
   * it: BC's comment lines (Type ' ') that carry the rest of a description longer than the ERP's Description field,
   * attached to their line ("Attached to Line No."). The task creates those missing, updates those that differ and
   * deletes an attached line no longer wanted ({@link #attachedTo} tells which ERP lines are attached); a line
   * deleted in the change set takes its attached lines with it, as BC deletes them. None by default.
   *
   * @param child the lines
   * @param lineKey the mapped line's ERP key
   * @param crmLine the CRM line
   * @param mapped its mapped values
   * @return the attached lines' complete bodies, key fields included, in order
   */
  protected List<JsonObject> attachedLines(ChildMapping child, ErpKey lineKey, JsonObject crmLine,
      Map<String, Object> mapped) {
    return List.of();
  }

  /**
   * @param child the lines
   * @param erpLine an ERP line of the header that no CRM line is coupled to
   * @return the ERP key of the line it is attached to (written by {@link #attachedLines}), or null when the task
   *     does not own it (a line someone added in the ERP): such lines are left alone
   */
  protected ErpKey attachedTo(ChildMapping child, JsonObject erpLine) {
    return null;
  }

  /**
   * What one header of a page needs for its change set, or its outcome when it has none to send (it cannot be
   * mapped, it went from the CRM).
   */
  private static final class Prepared {
    JsonObject row;
    List<JsonObject> crmLines;
    FieldMapper.Mapped header;
    List<FieldMapper.Mapped> lines;
    ErpKey key;
    List<ErpKey> lineKeys;
    List<Coupled> linked;
    List<JsonObject> erpHeader;
    List<JsonObject> erpLines;
    Future<JobOutcome> outcome;
  }

  /**
   * Reads a page of headers with their lines on both sides: the CRM headers not read yet and every CRM line of the
   * page in one query each, header and line mapping for the page at once, the headers' couplings and their lines'
   * couplings in one lookup each, the ERP headers and their lines in one read each.
   */
  private Future<List<Prepared>> prepare(TaskContext ctx, MappingDefinition head, ChildMapping child,
      List<String> ids, Map<String, JsonObject> rows) {
    MappingDefinition lines = child.lines();
    Map<String, JsonObject> page = new HashMap<>();
    List<String> missing = new ArrayList<>();
    for (String id : ids) {
      if (rows.containsKey(id)) {
        page.put(id, rows.get(id));
      } else {
        missing.add(id);
      }
    }
    List<JsonObject> crmLines = new ArrayList<>();
    String parentValue = "_" + child.crmParentColumn() + "_value";
    return headers(ctx, head, missing, page).compose(v -> {
      List<String> present = ids.stream().filter(page::containsKey).toList();
      if (present.isEmpty()) {
        return Future.succeededFuture(List.<Prepared>of());
      }
      String filter = String.join(" or ", present.stream().map(id -> parentValue + " eq " + id).toList());
      return ctx.crm().readAll(lines.crmEntitySet() + "?$filter=" + encode(filter) + "&$orderby=" + lines.crmKey(),
          crmLines).compose(x -> {
            Map<String, List<JsonObject>> linesOf = new HashMap<>();
            crmLines.forEach(l -> linesOf.computeIfAbsent(String.valueOf(l.getString(parentValue))
                .toLowerCase(java.util.Locale.ROOT), p -> new ArrayList<>()).add(l));
            List<JsonObject> headerRows = present.stream().map(page::get).toList();
            List<JsonObject> allLines = new ArrayList<>();
            List<Prepared> out = new ArrayList<>();
            for (String id : present) {
              Prepared p = new Prepared();
              p.row = page.get(id);
              p.crmLines = linesOf.getOrDefault(id, List.of());
              allLines.addAll(p.crmLines);
              out.add(p);
            }
            return ctx.mapper(head).map(Direction.FROM_CRM, headerRows)
                .compose(mh -> ctx.mapper(lines).map(Direction.FROM_CRM, allLines).map(ml -> {
                  int at = 0;
                  for (int i = 0; i < out.size(); i++) {
                    Prepared p = out.get(i);
                    p.header = mh.get(i);
                    p.lines = ml.subList(at, at + p.crmLines.size());
                    at += p.crmLines.size();
                  }
                  return out;
                }))
                .compose(ps -> ctx.couplings().byCrmIds(head.name(), present))
                .compose(coupled -> keys(ctx, head, child, out, coupled))
                .map(done -> out);
          });
    });
  }

  /** The page's ERP keys (coupled, else from the mapped values), line couplings and current ERP rows. */
  private Future<Void> keys(TaskContext ctx, MappingDefinition head, ChildMapping child, List<Prepared> page,
      Map<String, Coupled> coupled) {
    MappingDefinition lines = child.lines();
    List<Prepared> writing = new ArrayList<>();
    for (Prepared p : page) {
      String crmId = p.row.getString(head.crmKey()).toLowerCase(java.util.Locale.ROOT);
      List<String> causes = new ArrayList<>();
      if (!p.header.ok()) {
        causes.add(p.header.error().getMessage());
      }
      for (FieldMapper.Mapped l : p.lines) {
        if (!l.ok()) {
          causes.add(l.error().getMessage());
        }
      }
      if (!causes.isEmpty()) {
        Stage stage = !p.header.ok() ? p.header.error().stage() : p.lines.stream().filter(l -> !l.ok()).findFirst()
            .get().error().stage();
        p.outcome = failed(ctx, null, crmId, stage, String.join("; ", causes));
        continue;
      }
      Coupled c = coupled.get(crmId);
      try {
        p.key = c != null ? c.erpKey() : headerKey(head, p.row, p.header.values());
      } catch (TandemException e) {
        p.outcome = failed(ctx, null, crmId, e.stage(), e.getMessage());
        continue;
      }
      writing.add(p);
    }
    if (writing.isEmpty()) {
      return Future.succeededFuture();
    }
    List<ErpKey> keys = writing.stream().map(p -> p.key).toList();
    Map<ErpKey, List<JsonObject>> erpHeaders = new HashMap<>();
    Map<ErpKey, List<JsonObject>> erpLines = new HashMap<>();
    List<String> headerFilters = ErpKey.filters(keys);
    List<String> linesFilters = ErpKey.filters(keys.stream().map(k -> ErpKey.of(child.parentValues(k))).toList());
    return ctx.couplings().children(lines.name(), keys).compose(linked -> {
      for (Prepared p : writing) {
        String crmId = p.row.getString(head.crmKey()).toLowerCase(java.util.Locale.ROOT);
        p.linked = linked.getOrDefault(p.key, List.of());
        Map<String, ErpKey> byCrm = new HashMap<>();
        p.linked.forEach(l -> byCrm.put(l.crmId(), l.erpKey()));
        p.lineKeys = new ArrayList<>();
        try {
          for (int i = 0; i < p.crmLines.size(); i++) {
            String lineId = p.crmLines.get(i).getString(lines.crmKey()).toLowerCase(java.util.Locale.ROOT);
            ErpKey k = byCrm.get(lineId);
            p.lineKeys.add(k != null ? k : lineKey(child, p.key, p.crmLines.get(i), p.lines.get(i).values()));
          }
        } catch (TandemException e) {
          p.outcome = failed(ctx, p.key, crmId, e.stage(), e.getMessage());
        }
      }
      List<JsonObject> h = new ArrayList<>();
      List<JsonObject> l = new ArrayList<>();
      return allErp(ctx.erp(), head.erpEntitySet(), headerFilters, h)
          .compose(v -> allErp(ctx.erp(), lines.erpEntitySet(), linesFilters, l))
          .map(v -> {
            h.forEach(r -> erpHeaders.computeIfAbsent(head.erpKeyOf(r), x -> new ArrayList<>()).add(r));
            l.forEach(r -> erpLines.computeIfAbsent(child.headerOf(lines.erpKeyOf(r)), x -> new ArrayList<>())
                .add(r));
            for (Prepared p : writing) {
              p.erpHeader = erpHeaders.getOrDefault(p.key, List.of());
              p.erpLines = erpLines.getOrDefault(p.key, List.of());
            }
            return null;
          });
    });
  }

  /** One header's change set: its writes, and what Tandem records once they went through. */
  private record Plan(MappingDefinition head, ChildMapping child, ErpKey key, String crmId, JsonObject row,
      List<JsonObject> crmLines, List<ErpKey> lineKeys, List<ErpWrite> writes, boolean created,
      List<ErpKey> removed) {}

  private Plan plan(TaskContext ctx, MappingDefinition head, ChildMapping child, ErpKey key, JsonObject row,
      List<JsonObject> crmLines, FieldMapper.Mapped h, List<FieldMapper.Mapped> ml, List<ErpKey> lineKeys,
      List<Coupled> linked, List<JsonObject> erpHeader, List<JsonObject> erpLines) {
    MappingDefinition lines = child.lines();
    String crmId = row.getString(head.crmKey()).toLowerCase(java.util.Locale.ROOT);
    Map<ErpKey, JsonObject> current = new HashMap<>();
    erpLines.forEach(r -> current.put(lines.erpKeyOf(r), r));
    List<ErpWrite> writes = new ArrayList<>();
    boolean created = erpHeader.isEmpty();
    if (created) {
      JsonObject body = new JsonObject(new LinkedHashMap<>(h.values()));
      key.values().forEach(body::put);
      writes.add(ErpWrite.create(head.erpEntitySet(), body));
    } else {
      Map<String, Object> changes = new LinkedHashMap<>(ctx.mapper(head).changes(Direction.FROM_CRM, h.values(),
          erpHeader.get(0)));
      key.fields().forEach(changes::remove);
      if (!changes.isEmpty()) {
        writes.add(ErpWrite.update(head.erpEntitySet(), key, erpHeader.get(0).getString("@odata.etag"),
            new JsonObject(changes)));
      }
    }
    Set<ErpKey> kept = new HashSet<>(lineKeys);
    for (int i = 0; i < crmLines.size(); i++) {
      ErpKey k = lineKeys.get(i);
      JsonObject cur = current.get(k);
      if (cur == null) {
        JsonObject body = new JsonObject(new LinkedHashMap<>(ml.get(i).values()));
        k.values().forEach(body::put);
        writes.add(ErpWrite.create(lines.erpEntitySet(), body));
      } else {
        Map<String, Object> changes = new LinkedHashMap<>(ctx.mapper(lines).changes(Direction.FROM_CRM,
            ml.get(i).values(), cur));
        k.fields().forEach(changes::remove);
        if (!changes.isEmpty()) {
          writes.add(ErpWrite.update(lines.erpEntitySet(), k, cur.getString("@odata.etag"),
              new JsonObject(changes)));
        }
      }
    }
    List<ErpKey> removed = new ArrayList<>();
    for (Coupled c : linked) {
      if (!kept.contains(c.erpKey())) {
        removed.add(c.erpKey());
        JsonObject cur = current.get(c.erpKey());
        if (cur != null) {
          writes.add(ErpWrite.delete(lines.erpEntitySet(), c.erpKey(), cur.getString("@odata.etag")));
        }
      }
    }
    Set<ErpKey> coupledKeys = new HashSet<>(kept);
    linked.forEach(c -> coupledKeys.add(c.erpKey()));
    writes.addAll(AttachedLines.writes(this, child, crmLines, ml, lineKeys, current, coupledKeys, removed));
    writes.forEach(w -> ctx.logger().log(System.Logger.Level.DEBUG, () -> head.name() + " " + key + ": " + w));
    return new Plan(head, child, key, crmId, row, crmLines, lineKeys, writes, created, removed);
  }

  /**
   * Headers' change sets packed into ONE transactional $batch, up to {@value #GROUP_OPS} operations (Business
   * Central online's limit per $batch): the ERP's request limit (6,000 per 5 minutes) then counts one request for
   * several orders instead of one each, and each request's own cost is paid once. A group is all or nothing, as each
   * header's change set is on its own; when the ERP refuses a write of the group (nothing of it stays), every header
   * is sent again alone, so the one refused gets its record error and the others go through.
   */
  private Future<JobOutcome> group(TaskContext ctx, List<Plan> plans) {
    if (plans.size() == 1) {
      return send(ctx, plans.get(0));
    }
    List<ErpWrite> all = new ArrayList<>();
    plans.forEach(p -> all.addAll(p.writes()));
    Future<Boolean> sent = ctx.erp().changeSet(all).map(outcomes -> {
      for (WriteOutcome o : outcomes) {
        if (!o.ok() && o.error().kind() == ErrorKind.RETRIABLE) {
          throw o.error();
        }
      }
      return outcomes.stream().allMatch(WriteOutcome::ok);
    }).recover(e -> e instanceof TandemException t && t.kind() != ErrorKind.RETRIABLE
        ? Future.succeededFuture(false) : Future.failedFuture(e));
    return sent.compose(ok -> {
      if (!ok) {
        return Future.join(plans.stream().map(p -> send(ctx, p)).toList()).map(cf -> sum(cf.list()));
      }
      return written(ctx, plans);
    });
  }

  private static JobOutcome sum(List<JobOutcome> outcomes) {
    JobOutcome s = JobOutcome.EMPTY;
    for (JobOutcome o : outcomes) {
      s = s.plus(o);
    }
    return s;
  }

  /** One header's change set alone; a write the ERP refuses is the header's record error. */
  private Future<JobOutcome> send(TaskContext ctx, Plan plan) {
    List<ErpWrite> writes = plan.writes();
    MappingDefinition head = plan.head();
    ErpKey key = plan.key();
    String crmId = plan.crmId();
    Future<Boolean> sent = writes.isEmpty() ? Future.succeededFuture(true)
        : ctx.erp().changeSet(writes).compose(outcomes -> {
          // The cause is the write the ERP refused; the others of a failed change set were undone (their
          // own status 2xx) or never ran (no status).
          int cause = -1;
          for (int i = 0; i < outcomes.size(); i++) {
            WriteOutcome o = outcomes.get(i);
            if (!o.ok() && (cause < 0 || outcomes.get(cause).status() / 100 == 2 || outcomes.get(cause)
                .status() == 0) && o.status() / 100 != 2 && o.status() != 0) {
              cause = i;
            } else if (!o.ok() && cause < 0) {
              cause = i;
            }
          }
          if (cause >= 0) {
            WriteOutcome o = outcomes.get(cause);
            if (o.error().kind() == ErrorKind.RETRIABLE) {
              return Future.failedFuture(o.error());
            }
            ErpWrite w = writes.get(cause);
            return failed(ctx, key, crmId, Stage.WRITE, head.name() + " " + key + ": the ERP refused "
                + w.method() + " " + w.service() + (w.key() == null ? "" : "(" + w.key().segment() + ")")
                + ", so nothing of the change set was written: " + o.error().getMessage()).map(x -> false);
          }
          return Future.succeededFuture(true);
        }, e -> e instanceof TandemException t && t.kind() == ErrorKind.DATA
            ? failed(ctx, key, crmId, Stage.WRITE, head.name() + " " + key + ": " + t.getMessage()).map(x -> false)
            : Future.failedFuture(e));
    return sent.compose(ok -> ok ? written(ctx, List.of(plan))
        : Future.succeededFuture(new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null)));
  }

  /**
   * The headers' change sets went through: their headers, then their lines coupled (one transaction each for all
   * of them), the lines no longer in the CRM uncoupled, their open errors resolved.
   */
  private Future<JobOutcome> written(TaskContext ctx, List<Plan> plans) {
    List<Coupled> heads = new ArrayList<>();
    List<Coupled> pairs = new ArrayList<>();
    JobOutcome out = JobOutcome.EMPTY;
    for (Plan p : plans) {
      MappingDefinition lines = p.child().lines();
      heads.add(new Coupled(p.head().name(), p.key(), p.crmId(), null, stamp(p.row(), p.head().crmModifiedOn()),
          null));
      for (int i = 0; i < p.crmLines().size(); i++) {
        pairs.add(new Coupled(lines.name(), p.lineKeys().get(i), p.crmLines().get(i).getString(lines.crmKey()),
            null, stamp(p.crmLines().get(i), lines.crmModifiedOn()), p.key()));
      }
      out = out.plus(p.writes().isEmpty() ? new JobOutcome(0, 0, 0, 1, 0, 0, 0, 0, null)
          : p.created() ? new JobOutcome(1, 0, 0, 0, 0, 0, 0, 0, null)
          : new JobOutcome(0, 1, 0, 0, 0, 0, 0, 0, null));
    }
    JobOutcome result = out;
    Future<Void> chain = ctx.couplings().couple(heads).compose(v -> ctx.couplings().couple(pairs));
    for (Plan p : plans) {
      if (!p.removed().isEmpty()) {
        chain = chain.compose(v -> ctx.couplings().uncouple(p.child().lines().name(), p.removed()).mapEmpty());
      }
    }
    return chain.compose(v -> Future.join(plans.stream().map(p -> ctx.errors().resolve(null, p.crmId()))
        .toList())).map(v -> result);
  }
  /** @return a query option's value percent-encoded (spaces as %20, as the Web API's examples write them) */
  private static String encode(String value) {
    return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static OffsetDateTime stamp(JsonObject row, String column) {
    String v = row.getString(column);
    return v == null ? null : OffsetDateTime.parse(v);
  }

  private static Future<JobOutcome> failed(TaskContext ctx, ErpKey key, String crmId, Stage stage, String message) {
    // One open error per record: the one before is resolved by this, its newer cause.
    return ctx.errors().resolve(null, crmId)
        .compose(v -> ctx.errors().report(List.of(new RecordError(Direction.FROM_CRM, key, crmId, ErrorKind.DATA,
            stage, message))))
        .map(v -> new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null));
  }

  private static Future<Void> allErp(ErpConnector erp, String service, String filter, List<JsonObject> into) {
    return erp.page(service, filter, null, null).compose(p -> moreErp(erp, p, into));
  }

  /** Every row of each filter's read, one read after another (one per group of {@link ErpKey#filters}). */
  private static Future<Void> allErp(ErpConnector erp, String service, List<String> filters, List<JsonObject> into) {
    Future<Void> chain = Future.succeededFuture();
    for (String f : filters) {
      chain = chain.compose(v -> allErp(erp, service, f, into));
    }
    return chain;
  }

  private static Future<Void> moreErp(ErpConnector erp, RecordPage p, List<JsonObject> into) {
    into.addAll(p.rows());
    return p.hasNext() ? erp.next(p.nextLink()).compose(n -> moreErp(erp, n, into)) : Future.succeededFuture();
  }
}
