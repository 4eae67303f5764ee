package dev.tandem.runtime.ledger;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.JobLease;
import dev.tandem.runtime.store.JobLeases;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgLedgerStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a ledger job ({@link LedgerJobDefinition}, the Item Availability job): consumes its jobs on
 * {@link Addresses#ledger(String)}. A run first gives newly coupled records their figure, then reads the ledger
 * entries after the stored entry number up to the newest, in entry-number ranges side by side; per range it reads
 * the FlowField of the ERP records concerned, writes their coupled CRM records in CRM {@code $batch}es, and only
 * then, in range order, stores the range's last entry number (fenced by the job's lease). A crash or a lost
 * answer in between re-sends the range on the next attempt, which is harmless because the figures are absolute; no
 * entry is skipped. Memory is {@link #PARALLEL} ranges.
 *
 * <p>On its first run the job starts at the ledger's newest entry and gives every coupled record its figure: the
 * history before that is already in the figures.
 */
public final class LedgerJobVerticle extends VerticleBase {

  private static final System.Logger LOG = System.getLogger(LedgerJobVerticle.class.getName());
  /** The stamp a feed's rows are read by. */
  static final String MODIFIED = "SystemModifiedAt";

  private final LedgerJobDefinition job;
  private final MappingDefinition mapping;
  private final Pool pool;
  private final Connections connections;
  private final EndpointMetrics endpointMetrics;
  private final LedgerMetrics metrics;
  private final JobLeases leases;
  private final PgLedgerStore store;
  private final PgCouplingStore couplings;
  private ODataErpClient erp;
  private DataverseClient crm;
  private int pageSize;

  /**
   * @param job the ledger job
   * @param mapping its mapping (ERP service and key, CRM entity set)
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param endpointMetrics endpoint metrics
   * @param metrics ledger job metrics
   * @param leases the node's job leases (every commit is fenced by its job's lease)
   */
  public LedgerJobVerticle(LedgerJobDefinition job, MappingDefinition mapping, Pool pool, Connections connections,
      EndpointMetrics endpointMetrics, LedgerMetrics metrics, JobLeases leases) {
    this.job = job;
    this.mapping = mapping;
    this.pool = pool;
    this.connections = connections;
    this.endpointMetrics = endpointMetrics;
    this.metrics = metrics;
    this.leases = leases;
    this.store = new PgLedgerStore(pool);
    this.couplings = new PgCouplingStore(pool);
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), endpointMetrics);
    crm = new DataverseClient(vertx, connections.crm(), endpointMetrics);
    // One page of entries names at most one CRM write per entry: the page fits one CRM batch, and one ERP page.
    pageSize = Math.max(1, Math.min(connections.crm().batchSize(), connections.erp().pageSize()));
    return vertx.eventBus().<JsonObject>consumer(Addresses.ledger(job.name()), msg -> {
      JobRequest req = JobRequest.fromJson(msg.body());
      long t0 = System.nanoTime();
      Run run = new Run(leases.of(req.jobId()));
      long throttledBefore = erp.throttledCount() + crm.throttledCount();
      run.execute().onComplete(ar -> metrics.duration(job.name(), java.time.Duration.ofNanos(System.nanoTime() - t0)))
          .onSuccess(o -> msg.reply(o.withThrottled(erp.throttledCount() + crm.throttledCount() - throttledBefore)
              .toJson()))
          .onFailure(e -> JobFailure.fail(msg, e));
    }).completion();
  }

  @Override
  public Future<?> stop() {
    if (erp != null) {
      erp.close();
    }
    if (crm != null) {
      crm.close();
    }
    return Future.succeededFuture();
  }

  /** Pages pushed at once by one run: enough for a backlog to use the CRM's concurrency; memory is that many pages. */
  static final int PARALLEL = 16;

  /**
   * CRM updates per {@code $batch}. Dataverse runs a batch's operations one after another (25 ms each on the
   * realistic profile): a page of 1000 as one batch takes 25 s however many of the user's 52 concurrent requests
   * are free, so 10,000 changed items took 10 such batches of 25 s. In batches of 100 the same page is 10 requests
   * side by side and a backlog fills the concurrency; 100 updates are 2.5 s of execution, far inside the client's
   * timeout, and a backlog of 100,000 entries is 1,000 requests, far below the 6,000 per 5 minutes.
   */
  static final int CRM_BATCH = 100;
  /** CRM updates per {@code $batch} at least when the backlog is small: a few requests rather than one per record. */
  static final int MIN_CRM_BATCH = 10;

  /**
   * A page of work: the ERP keys to push, where the next page starts, whether the page was full (more may follow),
   * and how many ledger entries it covered.
   */
  private record Chunk<K>(List<String> keys, K last, boolean full, int entries) {}

  /** One run's counts and place. */
  private final class Run {
    private final JobLease lease;
    private long updated;
    private long notCoupled;
    private long failed;
    private long entries;
    private long newlyCoupled;
    private long from = -1;
    private long to = -1;
    private long feedRows;
    private boolean refreshed;
    private String firstError;

    Run(JobLease lease) {
      this.lease = lease;
    }

    Future<JobOutcome> execute() {
      Future<Void> started = store.position(job.name())
          .compose(p -> p != null ? Future.succeededFuture() : begin());
      for (LedgerJobDefinition.Feed f : job.feeds()) {
        started = started.compose(v -> store.feedPosition(job.name(), f.service()))
            .compose(p -> p != null ? Future.<Void>succeededFuture() : beginFeed(f));
      }
      Future<Void> run = started
          .compose(v -> job.refreshEvery() == null ? Future.succeededFuture(false)
              : store.refreshIfDue(job.name(), mapping.name(), job.refreshEvery()))
          .compose(refresh -> {
            refreshed = refresh;
            return pendingCouplings();
          })
          .compose(v -> store.position(job.name()))
          .compose(this::entriesAfter);
      for (LedgerJobDefinition.Feed f : job.feeds()) {
        run = run.compose(v -> store.feedPosition(job.name(), f.service())).compose(p -> feedAfter(f, p));
      }
      return run.map(v -> new JobOutcome(0, updated, 0, 0, notCoupled, failed, 0, 0, message()));
    }

    /** A feed followed for the first time: start at its newest row; every coupling gets its figures once. */
    private Future<Void> beginFeed(LedgerJobDefinition.Feed f) {
      return erp.readTop(f.service(), null, List.of(MODIFIED), MODIFIED + " desc", 1).compose(page -> {
        Instant newest = page.rows().isEmpty() ? Instant.EPOCH : Instant.parse(page.rows().get(0).getString(MODIFIED));
        return store.startFeed(job.name(), f.service(), mapping.name(), newest);
      });
    }

    /**
     * The feed's rows modified after {@code after}, page by page, as the ledger's entries are read. A full page ends
     * its position just before its last stamp, so rows sharing that stamp beyond the page are read with the next
     * one (a row read twice is harmless: the figures are absolute); only a page whose rows all share one stamp
     * moves past it.
     */
    private Future<Void> feedAfter(LedgerJobDefinition.Feed f, Instant after) {
      return pipeline(last -> erp.readTop(f.service(), ODataErpClient.modifiedSince(MODIFIED, last),
          List.of(MODIFIED, f.owner()), MODIFIED, pageSize).compose(page -> {
            if (page.rows().isEmpty()) {
              return Future.succeededFuture((Chunk<Instant>) null);
            }
            Set<String> owners = new LinkedHashSet<>();
            List<Instant> stamps = new ArrayList<>(page.rows().size());
            for (JsonObject row : page.rows()) {
              stamps.add(Instant.parse(row.getString(MODIFIED)));
            }
            Instant newest = stamps.stream().max(Instant::compareTo).orElse(last);
            // Every stamp is after `last` (the filter), so stepping back to the one below the newest still moves on.
            Instant belowNewest = stamps.stream().filter(t -> t.isBefore(newest)).max(Instant::compareTo).orElse(null);
            for (JsonObject row : page.rows()) {
              Object owner = row.getValue(f.owner());
              if (owner != null && !String.valueOf(owner).isEmpty()) {
                owners.add(String.valueOf(owner));
              }
            }
            boolean full = page.rows().size() >= pageSize;
            Instant position = full && belowNewest != null ? belowNewest : newest;
            return Future.succeededFuture(new Chunk<>(new ArrayList<>(owners), position, full, page.rows().size()));
          }), after,
          c -> {
            feedRows += c.entries();
            return Future.succeededFuture();
          },
          c -> pool.withTransaction(tx -> lease.verify(tx).compose(x -> store.advanceFeed(tx, job.name(), f.service(),
              c.last()))));
    }

    /** The first run: start after the newest entry and note every coupling as still to get its figure. */
    private Future<Void> begin() {
      return erp.readTop(job.ledger(), null, List.of(job.entryNo()), job.entryNo() + " desc", 1).compose(page -> {
        long newest = page.rows().isEmpty() ? 0 : page.rows().get(0).getLong(job.entryNo());
        return store.start(job.name(), mapping.name(), newest).onSuccess(started -> {
          if (started) {
            LOG.log(System.Logger.Level.INFO, job.name() + " follows " + job.ledger() + " after entry " + newest
                + "; every record coupled in " + mapping.name() + " gets its " + job.erpField() + " once");
          }
        }).mapEmpty();
      });
    }

    /** Records newly coupled: pushed page by page (keyset on the ERP key), each page's notes deleted once done. */
    private Future<Void> pendingCouplings() {
      return pipeline(key -> store.pending(job.name(), key, pageSize).map(keys -> keys.isEmpty() ? null
          : new Chunk<>(keys, keys.get(keys.size() - 1), keys.size() == pageSize, 0)), "",
          c -> {
            newlyCoupled += c.keys().size();
            return Future.succeededFuture();
          },
          c -> pool.withTransaction(tx -> lease.verify(tx).compose(x -> store.pushed(tx, job.name(), c.keys()))));
    }

    /**
     * The entries after {@code after}, up to the newest one when the run starts (one request for it): the entry
     * numbers between are cut into ranges that are read side by side ({@code Entry_No gt a and Entry_No le b}, at
     * most b − a rows since entry numbers are unique integers), each range's FlowFields read and its CRM batches
     * sent as soon as it arrives, and the ranges committed in order. Entries posted during the run are the next
     * run's (the watcher wakes it: the ledger then has entries after the stored position).
     *
     * <p>The CRM batch size follows the backlog: its n entries (at most n records) go as
     * {@code ceil(n / (concurrency · CRM_BATCH))} rounds of the CRM's concurrent requests, each batch
     * {@code ceil(n / (concurrency · rounds))} updates (10 at least, {@link #CRM_BATCH} at most), and a range is a
     * whole number of batches: 10,000 entries on 52 requests are 104 batches of 97, two rounds of 2.4 s on the
     * realistic CRM (batches of 100: two rounds of 2.5 s; one round of 193 is the envelope's 4.8 s, but a batch
     * that long is the tail the run waits for after the ERP's last read).
     */
    private Future<Void> entriesAfter(long after) {
      return erp.readTop(job.ledger(), job.entryNo() + " gt " + after, List.of(job.entryNo()), job.entryNo() + " desc",
          1).compose(top -> {
            if (top.rows().isEmpty()) {
              return Future.succeededFuture();
            }
            long newest = top.rows().get(0).getLong(job.entryNo());
            int batch = crmBatch(newest - after);
            int width = batch * Math.max(1, pageSize / batch);
            io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
            nextRange(after, newest, width, batch, Future.succeededFuture(), new java.util.ArrayDeque<>(), done);
            return done.future();
          });
    }

    /** Updates per CRM batch for a backlog of {@code entries} ledger entries (see {@link #entriesAfter}). */
    private int crmBatch(long entries) {
      int lanes = Math.max(1, crm.budget().concurrencyCap());
      long rounds = Math.max(1, (long) Math.ceil(entries / ((double) lanes * CRM_BATCH)));
      long b = (long) Math.ceil(entries / ((double) lanes * rounds));
      return (int) Math.max(Math.min(MIN_CRM_BATCH, CRM_BATCH), Math.min(CRM_BATCH, b));
    }

    /** Starts ranges from {@code from} up to {@code newest}, at most {@link #PARALLEL} not yet committed. */
    private void nextRange(long from, long newest, int width, int batch, Future<Void> lastCommit,
        java.util.Deque<Future<Void>> inFlight, io.vertx.core.Promise<Void> done) {
      while (!inFlight.isEmpty() && inFlight.peek().isComplete()) {
        if (inFlight.poll().failed()) {
          lastCommit.onComplete(done);
          return;
        }
      }
      if (from >= newest) {
        lastCommit.onComplete(done);
        return;
      }
      if (inFlight.size() >= PARALLEL) {
        inFlight.peek().onComplete(ar -> nextRange(from, newest, width, batch, lastCommit, inFlight, done));
        return;
      }
      long to = Math.min(newest, from + width);
      Future<Void> pushed = readRange(from, to, new ArrayList<>()).compose(rows -> {
        Set<String> owners = new LinkedHashSet<>();
        for (JsonObject e : rows) {
          Object owner = e.getValue(job.owner());
          if (owner != null && !String.valueOf(owner).isEmpty()) {
            owners.add(String.valueOf(owner));
          }
        }
        entries += rows.size();
        metrics.entries(job.name(), rows.size());
        if (!rows.isEmpty()) {
          this.from = this.from < 0 ? from + 1 : Math.min(this.from, from + 1);
          this.to = Math.max(this.to, rows.get(rows.size() - 1).getLong(job.entryNo()));
        }
        return push(new ArrayList<>(owners), batch);
      });
      Future<Void> committed = lastCommit.compose(v -> pushed)
          .compose(v -> pool.withTransaction(tx -> lease.verify(tx).compose(x -> store.advance(tx, job.name(), to))));
      inFlight.add(committed);
      nextRange(to, newest, width, batch, committed, inFlight, done);
    }

    /** The entries of (from, to], in entry order; a server page smaller than the range is continued. */
    private Future<List<JsonObject>> readRange(long from, long to, List<JsonObject> acc) {
      return erp.readTop(job.ledger(), job.entryNo() + " gt " + from + " and " + job.entryNo() + " le " + to,
          List.of(job.entryNo(), job.owner()), job.entryNo(), (int) (to - from)).compose(page -> {
            long prev = from;
            for (JsonObject e : page.rows()) {
              long no = e.getLong(job.entryNo());
              if (no <= prev || no > to) {
                return Future.failedFuture(TandemException.permanent(Stage.READ, "ERP " + job.ledger()
                    + " answered entry " + no + " after entry " + prev + " for entries " + (from + 1) + ".." + to
                    + ": the ledger must come in ascending " + job.entryNo() + " order, one row per entry number"));
              }
              prev = no;
              acc.add(e);
            }
            return page.nextLink() != null && !page.rows().isEmpty() && prev < to ? readRange(prev, to, acc)
                : Future.succeededFuture(acc);
          });
    }

    /**
     * Reads pages one after another and pushes up to {@link #PARALLEL} of them at once (so a backlog keeps the
     * CRM's concurrency busy instead of one batch at a time), committing each page only after its own push and
     * every earlier page's commit: the stored position never passes a page whose writes did not land.
     */
    private <K> Future<Void> pipeline(java.util.function.Function<K, Future<Chunk<K>>> read, K start,
        java.util.function.Function<Chunk<K>, Future<Void>> seen,
        java.util.function.Function<Chunk<K>, Future<Void>> commit) {
      io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
      next(read, start, seen, commit, Future.succeededFuture(), new java.util.ArrayDeque<>(), done);
      return done.future();
    }

    private <K> void next(java.util.function.Function<K, Future<Chunk<K>>> read, K after,
        java.util.function.Function<Chunk<K>, Future<Void>> seen,
        java.util.function.Function<Chunk<K>, Future<Void>> commit, Future<Void> lastCommit,
        java.util.Deque<Future<Void>> inFlight, io.vertx.core.Promise<Void> done) {
      while (!inFlight.isEmpty() && inFlight.peek().isComplete()) {
        if (inFlight.poll().failed()) {
          lastCommit.onComplete(done);
          return;
        }
      }
      if (inFlight.size() >= PARALLEL) {
        inFlight.peek().onComplete(ar -> next(read, after, seen, commit, lastCommit, inFlight, done));
        return;
      }
      read.apply(after).onFailure(e -> lastCommit.onComplete(ar -> done.fail(e))).onSuccess(c -> {
        if (c == null) {
          lastCommit.onComplete(done);
          return;
        }
        Future<Void> pushed = seen.apply(c).compose(v -> push(c.keys(), CRM_BATCH));
        Future<Void> committed = lastCommit.compose(v -> pushed).compose(v -> commit.apply(c));
        inFlight.add(committed);
        if (!c.full()) {
          committed.onComplete(done);
        } else {
          next(read, c.last(), seen, commit, committed, inFlight, done);
        }
      });
    }

    /**
     * Reads the records' FlowFields (as few reads by key as the ERP allows: {@link ODataErpClient#anyOfFilters})
     * and writes them to their coupled CRM records in batches of {@code batch} updates.
     */
    private Future<Void> push(List<String> keys, int batch) {
      if (keys.isEmpty()) {
        return Future.succeededFuture();
      }
      Map<String, JsonObject> figures = new HashMap<>();
      Map<String, String> fields = job.fields();
      List<String> select = new ArrayList<>();
      select.add(mapping.erpKey());
      select.addAll(fields.keySet());
      List<Future<?>> reads = new ArrayList<>();
      for (String filter : erp.anyOfFilters(mapping.erpKey(), keys)) {
        reads.add(erp.read(mapping.erpEntitySet(), filter, select, null)
            .onSuccess(p -> p.rows().forEach(r -> {
              JsonObject body = new JsonObject();
              fields.forEach((erpField, crmField) -> body.put(crmField, r.getValue(erpField)));
              figures.put(String.valueOf(r.getValue(mapping.erpKey())), body);
            })));
      }
      return Future.all(reads)
          .compose(v -> couplings.bySourceIds(pool, mapping.name(), Direction.TO_CRM, keys))
          .compose(coupled -> {
            List<BatchOperation> ops = new ArrayList<>();
            List<String> written = new ArrayList<>();
            long skipped = 0;
            for (String key : keys) {
              Coupling c = coupled.get(key);
              if (c == null || !c.coupled() || !figures.containsKey(key)) {
                // Not coupled (not synchronized, filtered out such as a blocked item), or gone from the ERP.
                skipped++;
                continue;
              }
              ops.add(new BatchOperation("PATCH", mapping.crmEntitySet() + "(" + ODataLiterals.guid(c.crmId()) + ")",
                  Map.of("If-Match", "*"), figures.get(key)));
              written.add(key);
            }
            notCoupled += skipped;
            metrics.records(job.name(), "not_coupled", skipped);
            if (ops.isEmpty()) {
              return Future.succeededFuture();
            }
            return crm.batch(ops, batch).compose(results -> {
              long ok = 0;
              long bad = 0;
              for (WriteResult r : results) {
                if (r.ok()) {
                  ok++;
                } else if (r.error() != null && r.error().kind() == dev.tandem.api.ErrorKind.RETRIABLE) {
                  // Throttled or failed on the server: the whole page goes again, nothing is stored as done.
                  return Future.failedFuture(r.error());
                } else {
                  bad++;
                  if (firstError == null) {
                    firstError = mapping.erpEntitySet() + " " + written.get(r.index()) + ": "
                        + (r.error() == null ? "status " + r.status() : r.error().getMessage());
                  }
                }
              }
              updated += ok;
              failed += bad;
              metrics.records(job.name(), "updated", ok);
              metrics.records(job.name(), "failed", bad);
              return Future.succeededFuture();
            });
          });
    }

    private String message() {
      StringBuilder sb = new StringBuilder(job.name()).append(": ");
      sb.append(entries == 0 ? "no new " + job.ledger() : entries + " " + job.ledger() + " (" + from + ".." + to + ")");
      for (LedgerJobDefinition.Feed f : job.feeds()) {
        sb.append(", ").append(feedRows == 0 ? "no changed " + f.service() : feedRows + " changed " + f.service());
      }
      if (refreshed) {
        sb.append(", a refresh of every coupled record");
      }
      if (newlyCoupled > 0) {
        sb.append(", ").append(newlyCoupled).append(refreshed ? " refreshed or newly coupled" : " newly coupled");
      }
      sb.append("; ").append(updated).append(' ').append(mapping.crmEntitySet()).append(' ')
          .append(String.join(", ", job.fields().values()))
          .append(" updated, ").append(notCoupled).append(" not coupled in ").append(mapping.name()).append(", ")
          .append(failed).append(" failed");
      if (firstError != null) {
        sb.append(" (first: ").append(firstError).append(')');
      }
      return sb.toString();
    }
  }
}
