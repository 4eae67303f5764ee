package dev.tandem.runtime.sync;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.JobLease;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgErrors;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgCouplingStore.Outcome;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import dev.tandem.runtime.store.RecordFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a run in either direction does, page by page: failed records first (read again by key, without moving
 * the watermark), then the rows changed since the watermark; per page the couplings and the lookups' couplings
 * in one query each, unchanged and skipped records set aside, the rest mapped, the counterparts read in bulk,
 * written by the direction's own {@link #write}, and couplings, errors and the watermark committed in one
 * transaction. Each record is handled once per run.
 */
abstract class SyncRun {

  private static final System.Logger LOG = System.getLogger(SyncRun.class.getName());

  /** Rows per bulk read of counterparts by key. */
  static final int READ_CHUNK = 50;
  private static final int RETRY_PAGE = 200;

  protected final Pool pool;
  protected final PgCouplingStore couplings;
  protected final PgWatermarkStore watermarks;
  protected final ODataErpClient erp;
  protected final DataverseClient crm;
  protected final MappingDefinition def;
  protected final RecordMapper mapper;
  protected final long jobId;
  protected final int skipAfter;
  protected final MappingSettings.ConflictPolicy policy;
  private final Direction flow;
  private boolean onlyCoupled;
  private boolean force;
  private final Set<String> handled = new HashSet<>();
  private boolean keyOrdered;
  private JobOutcome counts = JobOutcome.EMPTY;
  private final ReferenceGuard guard;
  private java.time.Duration overlap = MappingSettings.DEFAULT_OVERLAP;
  private JobLease lease = JobLease.NONE;

  SyncRun(SyncIo io, RecordMapper mapper, long jobId, int skipAfter, MappingSettings.ConflictPolicy policy,
      Direction flow) {
    this.pool = io.pool();
    this.couplings = io.couplings();
    this.watermarks = io.watermarks();
    this.erp = io.erp();
    this.crm = io.crm();
    this.def = io.def();
    this.mapper = mapper;
    this.jobId = jobId;
    this.skipAfter = skipAfter;
    this.policy = policy;
    this.flow = flow;
    this.guard = new ReferenceGuard(pool, couplings, def, mapper, flow);
  }

  /**
   * @return the run's uncoupled references in one line, naming the records referred to and the mapping to
   *     couple first (the dependency guard's summary), or null when every reference resolved
   */
  public final String missingReferences() {
    return guard.message();
  }

  /**
   * @param value when true, uncoupled records are skipped instead of created on the other side
   * @return this
   */
  final SyncRun onlyCoupled(boolean value) {
    this.onlyCoupled = value;
    return this;
  }

  /**
   * A run that reads each source row once, in key order (full synchronization ERP to CRM), need not remember
   * which records it handled: memory stays flat however many rows it reads.
   *
   * @return this
   */
  final SyncRun keyOrdered() {
    this.keyOrdered = true;
    return this;
  }

  /**
   * @param value how far before the watermark incremental reads start (late commits, endpoint clock skew)
   * @return this
   */
  final SyncRun overlap(java.time.Duration value) {
    this.overlap = value;
    return this;
  }

  /**
   * @param watermark the side's watermark, or null
   * @return where an incremental read starts: the watermark less the overlap, or null to read everything
   */
  final OffsetDateTime readFrom(OffsetDateTime watermark) {
    return watermark == null ? null : watermark.minus(overlap);
  }

  /**
   * @param start the side's watermark, floor and own-writes stamp
   * @return where an incremental read starts: the watermark less the overlap, but not before the floor a full
   *     synchronization left (it read every row stamped before it), or null to read everything
   */
  final OffsetDateTime readFrom(PgWatermarkStore.ReadStart start) {
    OffsetDateTime from = readFrom(start.modifiedOn());
    return from == null || start.floor() == null || !start.floor().isAfter(from) ? from : start.floor();
  }

  /**
   * @param lease the job's lease: checked before every page is written, verified inside every page commit
   * @return this
   */
  final SyncRun fenced(JobLease lease) {
    this.lease = lease;
    return this;
  }

  /** @return the source side's key of a row */
  abstract String sourceKey(JsonObject row);

  /** @return the source side's modified-on of a row */
  abstract OffsetDateTime sourceModified(JsonObject row);

  /** @return the source side's modified-on as last synchronized */
  abstract OffsetDateTime syncedSourceModified(Coupling c);

  /** @return the coupling's last result in this direction */
  abstract String lastResult(Coupling c);

  /** @return the counterpart's key of a coupling */
  abstract String counterpart(Coupling c);

  /** An outcome, given the source and counterpart keys and the source's modified-on. */
  abstract Outcome outcome(String sourceKey, String counterpartKey, OffsetDateTime sourceModified, String result,
      String error);

  /** @return the source rows with these keys (missing ones are left out) */
  abstract Future<List<JsonObject>> readSourceRows(List<String> keys);

  /** @return the source side's key of a coupling */
  abstract String sourceKeyOf(Coupling c);

  /** @return the next page of the changed rows */
  abstract Future<Page> next(String link);

  /**
   * @param page a page read
   * @return the page after it, or null after the last (by default the endpoint's next link)
   */
  Future<Page> after(Page page) {
    return page.hasNext() ? next(page.nextLink()) : Future.succeededFuture();
  }

  /** @return the coupled counterparts of the given source keys, by counterpart key */
  abstract Future<Map<String, JsonObject>> counterparts(Set<String> sourceKeys, Map<String, Coupling> coupled);

  /** Writes the desired values, adding one outcome per record and counting what it did. */
  abstract Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes);

  /** @return the side whose watermark this run moves */
  abstract Side side();

  /** @return the ERP rows with these keys, read in chunks ({@code key eq 'a' or key eq 'b'}, one field) */
  final Future<List<JsonObject>> erpRowsByKeys(List<String> keys) {
    List<JsonObject> rows = new ArrayList<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += READ_CHUNK) {
      reads.add(erp.read(def.erpEntitySet(), ODataErpClient.anyOf(def.erpKey(),
          keys.subList(from, Math.min(keys.size(), from + READ_CHUNK))), null, null)
          .onSuccess(p -> rows.addAll(p.rows())));
    }
    return Future.all(reads).map(v -> rows);
  }

  /** @return the CRM rows with these ids, read in chunks ({@code id eq a or id eq b}) */
  final Future<List<JsonObject>> crmRowsByIds(List<String> ids) {
    List<JsonObject> rows = new ArrayList<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += READ_CHUNK) {
      String filter;
      try {
        filter = ODataLiterals.anyOf(def.crmKey(), ids.subList(from, Math.min(ids.size(), from + READ_CHUNK)), true);
      } catch (IllegalArgumentException notAGuid) {
        // Ids are checked where they enter (admin API); one that is not a GUID never reaches a filter.
        return Future.failedFuture(TandemException.permanent(Stage.READ, "mapping " + def.name() + ": CRM id "
            + notAGuid.getMessage()));
      }
      reads.add(crm.query(CrmQuery.of(def.crmEntitySet()).filter(filter).toString())
          .onSuccess(p -> rows.addAll(p.rows())));
    }
    return Future.all(reads).map(v -> rows);
  }

  /** @return the counterpart keys of the coupled ones among these source keys */
  final List<String> coupledCounterparts(Set<String> sourceKeys, Map<String, Coupling> coupled) {
    List<String> ids = new ArrayList<>();
    for (String k : sourceKeys) {
      Coupling c = coupled.get(k);
      if (c != null && c.coupled()) {
        ids.add(counterpart(c));
      }
    }
    return ids;
  }

  /**
   * Whether a coupled source row is as it was last synchronized. By version (the row's ETag) when the coupling has
   * one: a change in the same second as Tandem's own write, or by the integration user's account, has another
   * version. Without a recorded version only a row modified strictly before the synchronized stamp is unchanged:
   * an equal (whole-second) stamp may hide a later edit, so such a row is compared by value.
   */
  final boolean unchangedSinceSync(JsonObject row, OffsetDateTime modified, Coupling c) {
    String version = row.getString("@odata.etag");
    String synced = syncedSourceVersion(c);
    if (version != null && synced != null) {
      return version.equals(synced);
    }
    return syncedSourceModified(c) != null && modified.isBefore(syncedSourceModified(c));
  }

  /**
   * @return true for a source row without a coupling that Tandem itself wrote last (its coupling was removed): not
   *     a new record for the other side. Coupled rows are decided by version ({@link #unchangedSinceSync}).
   */
  boolean ownUncoupled(JsonObject row, Coupling c) {
    return false;
  }

  /** @return the source side's version as last synchronized */
  abstract String syncedSourceVersion(Coupling c);

  /**
   * Outcomes that record the source's modified-on (the source is synchronized as of that state) record its version
   * too, the one read in this run.
   */
  private void withSourceVersions(List<Outcome> outcomes, Map<String, JsonObject> sources) {
    boolean toCrm = flow == Direction.TO_CRM;
    for (int i = 0; i < outcomes.size(); i++) {
      Outcome o = outcomes.get(i);
      String key = toCrm ? o.erpId() : o.crmId();
      OffsetDateTime modified = toCrm ? o.erpModifiedOn() : o.crmModifiedOn();
      JsonObject row = key == null || modified == null ? null : sources.get(key);
      String version = row == null ? null : row.getString("@odata.etag");
      if (version != null && (toCrm ? o.erpVersion() : o.crmVersion()) == null) {
        outcomes.set(i, toCrm ? o.withVersions(version, o.crmVersion()) : o.withVersions(o.erpVersion(), version));
      }
    }
  }

  /** Adds to the run's counts. */
  final void count(JobOutcome more) {
    counts = counts.plus(more);
  }

  /**
   * A page's outcomes and what the page counted so far. Pages overlap ({@link #PAGES_AT_ONCE}), so a page's counts
   * join the run's only when the page commits: a checkpoint then stores exactly the committed pages' counts, and a
   * write attempt that is given up (split after a data error) drops only its own counts.
   */
  static final class PageOutcomes extends ArrayList<Outcome> {
    private JobOutcome counted = JobOutcome.EMPTY;
  }

  /**
   * Adds to the counts of the page these outcomes belong to (they join the run's when it commits), or to the
   * run's counts at once for a plain list.
   */
  final void count(List<Outcome> page, JobOutcome more) {
    if (page instanceof PageOutcomes p) {
      p.counted = p.counted.plus(more);
    } else {
      count(more);
    }
  }

  /** @return the counts so far */
  final JobOutcome counts() {
    return counts;
  }

  /** Failed, not skipped records go first, a page of couplings at a time. */
  final Future<Void> retryFailed(long afterId, OffsetDateTime jobStart) {
    return couplings.retryable(def.name(), flow, afterId, RETRY_PAGE).compose(failed -> {
      if (failed.isEmpty()) {
        return Future.succeededFuture();
      }
      long last = failed.get(failed.size() - 1).id();
      List<String> keys = new ArrayList<>(failed.size());
      failed.forEach(c -> keys.add(sourceKeyOf(c)));
      return readSourceRows(keys).compose(rows -> process(rows, jobStart, null, Future.succeededFuture()))
          .compose(v -> failed.size() < RETRY_PAGE ? Future.succeededFuture() : retryFailed(last, jobStart));
    });
  }

  /**
   * Synchronizes the given records now, whether or not they changed since the last run ("synchronize now" on
   * selected records); values that already agree are still not written. The watermark does not move.
   */
  final Future<Void> selected(List<String> keys, OffsetDateTime jobStart) {
    force = true;
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < keys.size(); from += RETRY_PAGE) {
      List<String> chunk = keys.subList(from, Math.min(keys.size(), from + RETRY_PAGE));
      chain = chain.compose(v -> readSourceRows(chunk))
          .compose(rows -> process(rows, jobStart, null, Future.succeededFuture()));
    }
    return chain;
  }

  /**
   * What a page's transaction stores besides the couplings and the error log: the watermark for an incremental
   * run, the job's checkpoint for a full synchronization.
   */
  interface PageCommit {
    /**
     * @param tx the page's transaction
     * @param rows the page's source rows, in read order
     * @param highest the highest source modified-on of the page: the endpoint's own clock, never Tandem's
     * @param counts the run's counts with this page's (every earlier page is committed; later ones are not counted)
     * @return done
     */
    Future<Void> commit(SqlConnection tx, List<JsonObject> rows, OffsetDateTime highest, JobOutcome counts);
  }

  /** The changed rows, page after page, moving the watermark with each. */
  final Future<Void> pages(Page page, OffsetDateTime jobStart) {
    return pages(page, jobStart, (tx, rows, highest, n) -> watermarks.advance(tx, def.name(), side(), highest));
  }

  /**
   * Pages of one run in work at once: while a page waits for its writes, the next ones are read, decided and sent,
   * so the endpoint written to has work queued instead of idling through every page's lookups, write-back and
   * commit. Pages still commit in read order, each only after the one before it.
   */
  static final int PAGES_AT_ONCE = 4;

  /** Rows page after page; each page's transaction also runs {@code commit}. */
  final Future<Void> pages(Page page, OffsetDateTime jobStart, PageCommit commit) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    step(page, jobStart, commit, Future.succeededFuture(), new java.util.ArrayDeque<>(), done);
    return done.future();
  }

  /**
   * One page, then the next from a fresh callback: a chain of composed futures, one per page, would keep every
   * page's rows reachable until the run ends. The next page is read while this one is mapped, written and
   * committed, and up to {@link #PAGES_AT_ONCE} pages are in work (at most that many and one more in memory);
   * pages are committed in order, so a checkpoint never passes an uncommitted page, and the run ends only when
   * every page it started has ended.
   *
   * @param lastCommit the commit of the page read before this one
   * @param inFlight the commits of the pages in work, oldest first
   */
  private void step(Page page, OffsetDateTime jobStart, PageCommit commit, Future<Void> lastCommit,
      java.util.Deque<Future<Void>> inFlight, io.vertx.core.Promise<Void> done) {
    while (!inFlight.isEmpty() && inFlight.peek().isComplete()) {
      inFlight.poll();
    }
    if (lastCommit.failed()) {
      // Every page before it has ended (a commit waits for the previous one): stop reading.
      done.fail(lastCommit.cause());
      return;
    }
    if (inFlight.size() >= PAGES_AT_ONCE) {
      inFlight.peek().onComplete(ar -> step(page, jobStart, commit, lastCommit, inFlight, done));
      return;
    }
    Future<Page> ahead = after(page);
    Future<Void> committed = process(page.rows(), jobStart, commit, lastCommit);
    inFlight.add(committed);
    ahead.onComplete(ar -> {
      if (ar.failed()) {
        committed.onComplete(x -> done.fail(ar.cause()));
      } else if (ar.result() == null) {
        committed.onComplete(done);
      } else {
        step(ar.result(), jobStart, commit, committed, inFlight, done);
      }
    });
  }

  /**
   * @param previous the commit of the page before (succeeded for a page on its own): this page commits only after
   *     it, and not at all when it failed
   */
  private Future<Void> process(List<JsonObject> rows, OffsetDateTime jobStart, PageCommit commit,
      Future<Void> previous) {
    if (rows.isEmpty()) {
      return previous;
    }
    List<String> keys = new ArrayList<>(rows.size());
    rows.forEach(r -> keys.add(sourceKey(r)));
    Map<String, Set<String>> references = mapper.references(flow, rows);
    // A page that refers to records of its own mapping (a customer's parent customer) may need what the page
    // before creates: its lookups wait for that page's commit.
    Future<Void> gate = references.containsKey(def.name()) ? previous : Future.succeededFuture();
    return gate.compose(g -> {
      Map<String, Map<String, Coupling>> lookups = new HashMap<>();
      List<Future<?>> loads = new ArrayList<>();
      references.forEach((mapping, ids) -> loads.add(couplings.bySourceIds(pool, mapping, flow, ids)
          .onSuccess(found -> lookups.put(mapping, found))));
      Future<Map<String, Coupling>> own = couplings.bySourceIds(pool, def.name(), flow, keys);
      loads.add(own);
      return Future.all(loads).compose(v -> decide(rows, own.result(), lookups, jobStart, commit, previous));
    }).transform(ar -> ar.succeeded() ? Future.<Void>succeededFuture()
        : previous.transform(p -> Future.<Void>failedFuture(ar.cause())));
  }

  private Future<Void> decide(List<JsonObject> rows, Map<String, Coupling> coupled,
      Map<String, Map<String, Coupling>> lookups, OffsetDateTime jobStart, PageCommit commit, Future<Void> previous) {
    RecordMapper.Lookups resolve = (mapping, f, key) -> {
      Coupling c = lookups.getOrDefault(mapping, Map.of()).get(key);
      return c == null ? null : counterpart(c);
    };
    PageOutcomes outcomes = new PageOutcomes();
    Map<String, JsonObject> sources = new LinkedHashMap<>();
    Map<String, Map<String, Object>> desired = new LinkedHashMap<>();
    List<JsonObject> mapped = new ArrayList<>();
    long unchanged = 0;
    long skipped = 0;
    long failed = 0;
    OffsetDateTime highest = null;
    for (JsonObject row : rows) {
      String key = sourceKey(row);
      OffsetDateTime modified = sourceModified(row);
      highest = highest == null || modified.isAfter(highest) ? modified : highest;
      if (!keyOrdered && !handled.add(key)) {
        continue;
      }
      Coupling c = coupled.get(key);
      if (!force && ownUncoupled(row, c)) {
        continue;
      }
      if (c != null && c.skipped() || onlyCoupled && (c == null || !c.coupled())) {
        skipped++;
        continue;
      }
      if (!force && c != null && c.coupled() && unchangedSinceSync(row, modified, c) && !"failed".equals(lastResult(c))) {
        unchanged++;
        continue;
      }
      mapped.add(row);
      RecordMapper.Mapped m = mapper.map(flow, row, resolve);
      if (m.error() != null) {
        failed++;
        outcomes.add(outcome(key, c == null ? null : counterpart(c), modified, "failed", RecordFailure.text(m.error().stage(),
            m.error().getMessage())));
        continue;
      }
      sources.put(key, row);
      desired.put(key, m.values());
    }
    count(outcomes, new JobOutcome(0, 0, 0, unchanged, skipped, failed, 0, 0, null));
    guard.observe(mapped, lookups);
    // The endpoint's own stamp, not capped at the job's start by this node's clock: a clock skew between the
    // endpoint and Tandem then costs nothing; rows committed late behind it are read again within the overlap.
    OffsetDateTime checkpoint = highest;
    return counterparts(desired.keySet(), coupled)
        .compose(current -> isolatingWrite(desired, sources, coupled, current, outcomes))
        .map(v -> {
          withSourceVersions(outcomes, sources);
          return v;
        })
        // The page's writes are done (or failed): it commits once the page before it has, and not after a failure.
        .transform(w -> previous.transform(p -> p.failed() ? Future.<Void>failedFuture(p.cause())
            : w.failed() ? Future.<Void>failedFuture(w.cause()) : commitPage(outcomes, rows, checkpoint, commit)));
  }

  /**
   * Writes a page; when the endpoint refuses the write as a whole because of its data (a per-record data error
   * for the whole request), the page is written in halves until the records that cause it are found, and each of
   * those fails alone in the error log while the others are written. Nothing is written once the job's lease is
   * lost.
   */
  private Future<Void> isolatingWrite(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, PageOutcomes outcomes) {
    PageOutcomes written = new PageOutcomes();
    return lease.check().compose(v -> write(desired, sources, coupled, current, written))
        .onSuccess(v -> {
          outcomes.addAll(written);
          count(outcomes, written.counted);
        })
        .recover(e -> {
          if (!(e instanceof TandemException t) || t.kind() != ErrorKind.DATA || desired.isEmpty()) {
            return Future.failedFuture(e);
          }
          // The failed attempt wrote nothing: its counts (kept apart in written) go.
          if (desired.size() == 1) {
            String key = desired.keySet().iterator().next();
            Coupling c = coupled.get(key);
            outcomes.add(outcome(key, c == null || !c.coupled() ? null : counterpart(c), sourceModified(sources.get(key)),
                "failed", RecordFailure.text(t.stage(), t.getMessage())));
            count(outcomes, new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null));
            return Future.succeededFuture();
          }
          Map<String, Map<String, Object>> first = new LinkedHashMap<>();
          Map<String, Map<String, Object>> second = new LinkedHashMap<>();
          int half = desired.size() / 2;
          desired.forEach((k, d) -> (first.size() < half ? first : second).put(k, d));
          return isolatingWrite(first, sources, coupled, current, outcomes)
              .compose(v -> isolatingWrite(second, sources, coupled, current, outcomes));
        });
  }

  /**
   * Commits a page: couplings, error log and watermark (or checkpoint) in one transaction, fenced by the job's
   * lease. When PostgreSQL rejects a value of the page (SQLSTATE class 22, 23 or 54), the outcomes are committed
   * in halves until the records it rejects are found; each is stored as failed in stage COMMIT with
   * PostgreSQL's reason, the others are committed, and then the watermark moves: one bad record no longer stops
   * every later run at the same page.
   */
  private Future<Void> commitPage(PageOutcomes outcomes, List<JsonObject> rows, OffsetDateTime checkpoint,
      PageCommit commit) {
    return pool.withTransaction(tx -> lease.verify(tx)
            .compose(v -> couplings.record(tx, def.name(), flow, jobId, skipAfter, outcomes))
            .compose(n -> commit == null ? Future.<Void>succeededFuture()
                : commit.commit(tx, rows, checkpoint, counts.plus(outcomes.counted))))
        .recover(e -> !PgErrors.rejectedData(e) || outcomes.isEmpty() ? Future.failedFuture(e)
            : isolate(outcomes, outcomes).compose(v -> pool.withTransaction(tx -> lease.verify(tx)
                .compose(x -> commit == null ? Future.<Void>succeededFuture()
                    : commit.commit(tx, rows, checkpoint, counts.plus(outcomes.counted))))))
        .onSuccess(v -> count(outcomes.counted));
  }

  /**
   * Commits outcomes, splitting them on a rejected value down to the single records PostgreSQL rejects.
   *
   * @param page the page they belong to (its counts change for a record that cannot be stored)
   */
  private Future<Void> isolate(PageOutcomes page, List<Outcome> part) {
    return pool.withTransaction(tx -> lease.verify(tx)
            .compose(v -> couplings.record(tx, def.name(), flow, jobId, skipAfter, part))).<Void>mapEmpty()
        .recover(e -> {
          if (!PgErrors.rejectedData(e)) {
            return Future.failedFuture(e);
          }
          if (part.size() > 1) {
            int half = part.size() / 2;
            return isolate(page, part.subList(0, half)).compose(v -> isolate(page, part.subList(half, part.size())));
          }
          Outcome o = part.get(0);
          String key = flow == Direction.TO_CRM ? o.erpId() : o.crmId();
          count(page, undo(o.result()));
          Outcome bad = new Outcome(o.erpId(), o.crmId(), o.erpModifiedOn(), o.crmModifiedOn(), "failed",
              RecordFailure.text(dev.tandem.api.Stage.COMMIT, def.name() + " " + key + " could not be stored: "
                  + PgErrors.describe(e)));
          return pool.withTransaction(tx -> lease.verify(tx)
                  .compose(v -> couplings.record(tx, def.name(), flow, jobId, skipAfter, List.of(bad)))).<Void>mapEmpty()
              .recover(again -> {
                if (!PgErrors.rejectedData(again)) {
                  return Future.failedFuture(again);
                }
                // Even its key is refused: it cannot be logged against itself; the node log names it.
                LOG.log(System.Logger.Level.WARNING, "mapping " + def.name() + ": record " + key
                    + " could not be stored, not even as an error: " + PgErrors.describe(again));
                return Future.succeededFuture();
              });
        });
  }

  /** The counts of a record whose outcome could not be stored: it failed instead. */
  private static JobOutcome undo(String result) {
    return new JobOutcome("inserted".equals(result) ? -1 : 0, "modified".equals(result) ? -1 : 0, 0,
        "unchanged".equals(result) ? -1 : 0, 0, "failed".equals(result) ? 0 : 1, 0, 0, null);
  }

  /**
   * Checks the mapping's CRM columns against the CRM's table definitions (read once per client): a column the table
   * does not have fails the job permanently, naming the mapping and every unknown field, instead of the CRM refusing
   * each request (or, for a filter, the mapping syncing nothing). A typed polymorphic bind such as
   * {@code parentcustomerid_account} is checked by its lookup's name. A column the CRM computes itself (valid
   * neither for create nor for update: a money column's {@code _base}, the row's {@code exchangerate}) that the
   * mapping writes to the CRM fails the job the same way: the CRM would refuse every record's write.
   *
   * @return succeeded when every column exists and none the mapping writes is computed
   */
  Future<Void> checkCrmColumns() {
    return crm.metadata().columns(def.crmEntitySet()).compose(columns -> {
      List<String> unknown = dev.tandem.runtime.connectors.crm.DataverseColumns.unknown(def, columns);
      return unknown.isEmpty() ? Future.<Void>succeededFuture()
          : Future.failedFuture(dev.tandem.api.TandemException.permanent(dev.tandem.api.Stage.TRANSFORM,
              dev.tandem.runtime.connectors.crm.DataverseColumns.message(def, unknown)));
    }).compose(v -> crm.metadata().readOnlyColumns(def.crmEntitySet())).compose(readOnly -> {
      // A computed column (x_base, exchangerate) would have every write of the record refused.
      List<String> computed = dev.tandem.runtime.connectors.crm.DataverseColumns.readOnly(def, readOnly);
      return computed.isEmpty() ? Future.<Void>succeededFuture()
          : Future.failedFuture(dev.tandem.api.TandemException.permanent(dev.tandem.api.Stage.TRANSFORM,
              dev.tandem.runtime.connectors.crm.DataverseColumns.readOnlyMessage(def, computed)));
    });
  }

}
