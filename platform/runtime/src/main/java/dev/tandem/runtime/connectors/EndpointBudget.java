package dev.tandem.runtime.connectors;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * A node's request budget for one endpoint and one user (e.g. a Dataverse application user), shared by every
 * verticle and job on the node: get it with {@link #of}. It keeps the endpoint's service-protection limits
 * together instead of one limiter per client:
 *
 * <ul>
 *   <li>concurrency: at most {@link Limits#concurrency()} in flight (lowered by {@link #share(int)} when several
 *       nodes use the same user), adapted AIMD-style — halved on throttling, grown by one after a run of
 *       successes;
 *   <li>requests per sliding window, and combined execution time per sliding window: the budget mirrors the
 *       endpoint's accounting (each request's duration, charged when it ends) and starts a request only while the
 *       window, plus what is in flight (estimated from recent durations), stays under the limit — so a bulk run
 *       goes at the rate the limits allow instead of running into 429s;
 *   <li>the endpoint's own figures: remaining-budget headers ({@link Limits#remainingRequestsHeader()},
 *       {@link Limits#remainingTimeHeader()}) lower the local view when someone else (another node, another
 *       program) spends the same user's budget;
 *   <li>Retry-After: a throttled answer pauses every new request of the node for that user for the whole wait;
 *   <li>the endpoint's recommended parallelism ({@link Limits#parallelismHintHeader()}, Dataverse's
 *       {@code x-ms-dop-hint}): the nodes together run at most that many, and until the first throttling the
 *       concurrency starts there instead of climbing to it.
 * </ul>
 *
 * <p>Thread-safe; waiting requests resume on their own Vert.x context.
 */
public final class EndpointBudget implements RequestGate, Shareable {

  /** Share of each limit the budget plans to use, leaving room for what it cannot see yet. */
  static final double HEADROOM = 0.97;
  /**
   * Share of the execution budget a bulk request (a batch of several operations) leaves to single requests: reads
   * and single writes always find room in the window, so a bulk load does not hold them back for a whole window —
   * a full synchronization's last job (which reads every CRM id once) starts right after the last batch instead of
   * waiting for the batches' charges to leave the window, and so do an incremental run or a "synchronize now"
   * during a bulk load.
   */
  static final double BULK_RESERVE = 0.03;
  /**
   * With {@link Limits#admitsUnderBudget()}: the share of the quickest duration lately of its kind after which a
   * request in flight is taken to have possibly ended at the endpoint. The endpoint charges it before this node has
   * its answer (network, reading the answer on a busy node); a request admitted in that gap would meet a window
   * this node does not know of yet. A quarter of margin for requests quicker than the quickest so far.
   */
  static final double MAY_HAVE_ENDED = 0.75;
  /**
   * With {@link Limits#admitsUnderBudget()}: while a request of a kind whose cost is not known yet is in flight (none
   * of its kind has ended), new requests start only while the window is under this share of the budget — the room
   * the unknown charge may take when it ends.
   */
  static final double UNKNOWN_ROOM = 0.5;
  private static final int SUCCESSES_PER_STEP = 20;
  private static final long RECENT_MS = 600_000;

  /**
   * An endpoint's limits per user. Zero turns a limit off.
   *
   * @param concurrency requests in flight at most
   * @param requests requests per window
   * @param executionMs combined execution time per window
   * @param windowMs the sliding window
   * @param remainingRequestsHeader the answer header with the requests left in the window, or null
   * @param remainingTimeHeader the answer header with the execution ms left in the window, or null
   * @param parallelismHintHeader the answer header with the endpoint's recommended degree of parallelism for the
   *     user (Dataverse's {@code x-ms-dop-hint}), or null: the nodes together stay at or below it
   * @param admitsUnderBudget the endpoint admits a request while the execution charged in its window is under the
   *     budget and charges the request when it ends (Dataverse): the budget then starts requests on the same rule —
   *     counting, of what is in flight, only what may already have ended at the endpoint — so the requests in flight
   *     when the budget runs out may together take the window past it, as the endpoint allows; false: the window
   *     plus everything in flight stays under the budget
   */
  public record Limits(int concurrency, int requests, long executionMs, long windowMs, String remainingRequestsHeader,
      String remainingTimeHeader, String parallelismHintHeader, boolean admitsUnderBudget) {

    /** Limits that keep the window plus everything in flight under the budget. */
    public Limits(int concurrency, int requests, long executionMs, long windowMs, String remainingRequestsHeader,
        String remainingTimeHeader, String parallelismHintHeader) {
      this(concurrency, requests, executionMs, windowMs, remainingRequestsHeader, remainingTimeHeader,
          parallelismHintHeader, false);
    }

    /** Limits without a parallelism hint. */
    public Limits(int concurrency, int requests, long executionMs, long windowMs, String remainingRequestsHeader,
        String remainingTimeHeader) {
      this(concurrency, requests, executionMs, windowMs, remainingRequestsHeader, remainingTimeHeader, null);
    }

    /** Validates. */
    public Limits {
      if (concurrency < 1 || requests < 0 || executionMs < 0 || windowMs < 0) {
        throw new IllegalArgumentException("budget limits must be positive: concurrency " + concurrency
            + ", requests " + requests + ", executionMs " + executionMs + ", windowMs " + windowMs);
      }
      if ((requests > 0 || executionMs > 0) && windowMs == 0) {
        throw new IllegalArgumentException("request and execution-time limits need a window");
      }
    }

    /**
     * @return Dataverse's service protection per user and web server: 52 concurrent, 6000 requests and
     *     1,200,000 ms of execution per 300 s (learn.microsoft.com "Service protection API limits"), a request
     *     admitted while the window is under the budget and charged when it ends (as the CRM simulator models it)
     */
    public static Limits dataverse() {
      return new Limits(52, 6000, 1_200_000, 300_000, "x-ms-ratelimit-burst-remaining-xrm-requests",
          "x-ms-ratelimit-time-remaining-xrm-requests", "x-ms-dop-hint", true);
    }

    /**
     * @return Business Central online's limits per user or service principal: 5 requests processed at once and
     *     6,000 per 5-minute sliding window (learn.microsoft.com "Current API limits"); BC sends no
     *     remaining-budget headers
     */
    public static Limits businessCentral() {
      return new Limits(5, 6000, 0, 300_000, null, null, null);
    }

    /**
     * @param concurrency requests in flight at most
     * @return only a concurrency limit
     */
    public static Limits concurrency(int concurrency) {
      return new Limits(concurrency, 0, 0, 0, null, null);
    }

    /**
     * @param timeScale factor on the window and the execution budget (an endpoint simulated faster than real time)
     * @return the limits on that scale
     */
    public Limits scaled(double timeScale) {
      return new Limits(concurrency, requests, Math.round(executionMs * timeScale), Math.round(windowMs * timeScale),
          remainingRequestsHeader, remainingTimeHeader, parallelismHintHeader, admitsUnderBudget);
    }

    /** @return a copy with another concurrency */
    public Limits withConcurrency(int c) {
      return new Limits(c, requests, executionMs, windowMs, remainingRequestsHeader, remainingTimeHeader,
          parallelismHintHeader, admitsUnderBudget);
    }
  }

  private record Waiter(Context context, Promise<Running> promise, String kind, double units) {}

  /** A waiter let go, with what it started as. */
  private record Go(Waiter waiter, Running running) {}

  /** A request in flight: when it started, its kind and size, and what it was taken to cost when it started. */
  private record Running(long startedAt, String kind, double units, double estimateMs) {}

  private final Vertx vertx;
  private final String endpoint;
  private final String user;
  private final Limits limits;
  private final Deque<Long> starts = new ArrayDeque<>();
  private final Deque<double[]> executions = new ArrayDeque<>(); // {endMillis, ms}
  private final Deque<Waiter> waiting = new ArrayDeque<>();
  private final Deque<double[]> recent = new ArrayDeque<>(); // {endMillis, ms} of this node's requests
  private final java.util.Map<Long, Integer> running = new java.util.TreeMap<>(); // start → requests
  /** The requests in flight (for {@link Limits#admitsUnderBudget()}: which of them may have ended). */
  private final List<Running> active = new java.util.ArrayList<>();
  /**
   * Per kind, the quickest per unit lately (a decaying minimum): a request in flight may have ended at the endpoint
   * (and been charged there) once it has run {@link #MAY_HAVE_ENDED} of that (see {@link #mayHaveEndedMs}).
   */
  private final java.util.Map<String, Double> quickestPerUnitMs = new java.util.HashMap<>();
  private double executionInWindow;
  private double typicalMs;
  /**
   * Per kind of request (see {@link RequestGate#run(String, double, Supplier)}), what a unit is taken to cost
   * against the execution budget while in flight: the costliest per unit lately (see {@link #canStart}).
   */
  private final java.util.Map<String, Double> costPerUnitMs = new java.util.HashMap<>();
  /** Requests in flight whose kind has no cost yet (none of it has ended), per kind. */
  private final java.util.Map<String, Integer> unknownInFlight = new java.util.HashMap<>();
  /** The sum of the estimates of the requests in flight. */
  private double inFlightEstimateMs;
  private int limit;
  private int share;
  private int hint; // the endpoint's recommended parallelism for the user, 0 = none seen
  private int inFlight;
  private int successes;
  private long pausedUntilMillis;
  private long throttledCount;
  private boolean timerScheduled;

  /**
   * A budget of its own (tests; production code uses {@link #of}).
   *
   * @param vertx for timers
   * @param endpoint the endpoint
   * @param user the user
   * @param limits the limits
   * @param initialConcurrency concurrency to start with; grows while nothing is throttled
   */
  public EndpointBudget(Vertx vertx, String endpoint, String user, Limits limits, int initialConcurrency) {
    this.vertx = vertx;
    this.endpoint = endpoint;
    this.user = user;
    this.limits = limits;
    this.limit = Math.max(1, Math.min(initialConcurrency, limits.concurrency()));
    this.share = limits.concurrency();
  }

  /**
   * The node's budget for an endpoint and user: the same object for every caller on this Vert.x instance.
   *
   * @param vertx the node's Vert.x
   * @param endpoint e.g. the CRM's Web API root
   * @param user e.g. the OAuth client id of the application user
   * @param limits the limits (the first caller's are kept)
   * @param initialConcurrency concurrency to start with
   * @return the shared budget
   */
  public static EndpointBudget of(Vertx vertx, String endpoint, String user, Limits limits, int initialConcurrency) {
    LocalMap<String, EndpointBudget> map = vertx.sharedData().getLocalMap("tandem.endpoint-budgets");
    String key = endpoint + " as " + user;
    EndpointBudget b = map.get(key);
    if (b != null) {
      return b;
    }
    EndpointBudget created = new EndpointBudget(vertx, endpoint, user, limits, initialConcurrency);
    EndpointBudget raced = map.putIfAbsent(key, created);
    return raced != null ? raced : created;
  }

  @Override
  public <T> Future<T> run(Supplier<Future<T>> call) {
    return run(REQUEST, 1, call);
  }

  private static final String REQUEST = "request";

  @Override
  public <T> Future<T> run(String kind, double units, Supplier<Future<T>> call) {
    return acquire(kind, units).compose(started -> {
      synchronized (this) {
        running.merge(started.startedAt(), 1, Integer::sum);
      }
      Future<T> f;
      try {
        f = call.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      return f.andThen(ar -> release(started));
    });
  }

  private Future<Running> acquire(String kind, double units) {
    Context ctx = vertx.getOrCreateContext();
    synchronized (this) {
      long now = System.currentTimeMillis();
      if (!waitingAhead(units) && canStart(now, kind, units)) {
        return Future.succeededFuture(start(now, kind, units));
      }
      Promise<Running> p = Promise.promise();
      waiting.add(new Waiter(ctx, p, kind, units));
      scheduleLocked(now);
      return p.future();
    }
  }

  private Running start(long now, String kind, double units) {
    inFlight++;
    if (limits.requests() > 0) {
      starts.addLast(now);
    }
    Double perUnit = costPerUnitMs.get(kind);
    double estimate = perUnit == null ? 0 : perUnit * units;
    if (perUnit == null) {
      unknownInFlight.merge(kind, 1, Integer::sum);
    }
    inFlightEstimateMs += estimate;
    Running r = new Running(now, kind, units, estimate);
    active.add(r);
    return r;
  }

  /**
   * With {@link Limits#admitsUnderBudget()}: of the requests in flight, what those that may already have ended at
   * the endpoint (run at least {@link #MAY_HAVE_ENDED} of their kind's quickest lately) are taken to cost, at the
   * costliest per unit of their kind lately — what the endpoint's window may hold that this node has not seen yet.
   *
   * @return that, in ms, or NaN when a request of a kind with no known cost is in flight
   */
  private double mayHaveEndedMs(long now) {
    double ms = 0;
    boolean unknown = false;
    for (Running r : active) {
      Double perUnit = costPerUnitMs.get(r.kind());
      Double quickest = quickestPerUnitMs.get(r.kind());
      if (perUnit == null || quickest == null) {
        unknown = true;
      } else if (now - r.startedAt() >= MAY_HAVE_ENDED * quickest * r.units()) {
        ms += perUnit * r.units();
      }
    }
    return unknown ? Double.NaN : ms;
  }

  private boolean canStart(long now, String kind, double units) {
    slide(now);
    if (inFlight >= cap() || now < pausedUntilMillis) {
      return false;
    }
    if (limits.requests() > 0 && starts.size() >= limits.requests() * HEADROOM) {
      return false;
    }
    if (limits.executionMs() <= 0) {
      return true;
    }
    double budget = limits.executionMs() * (units > 1 ? HEADROOM - BULK_RESERVE : HEADROOM);
    if (limits.admitsUnderBudget()) {
      // The endpoint's rule (see Limits#admitsUnderBudget): it admits while its window is under the budget, so what
      // is in flight counts only once it may have ended there. The requests in flight when the budget runs out
      // take the window past it, as they do at the endpoint; what comes next waits until it is under again. This
      // is what lets a bulk load put as many batches into a window as the endpoint admits (Dataverse: 52 batches of
      // 1000 upserts at once, 2,080 s charged in a window of 1,200 s, without a 429) instead of about 28.
      double pending = mayHaveEndedMs(now);
      if (Double.isNaN(pending)) {
        // A request whose cost nobody knows yet is in flight: keep room for its charge.
        double known = 0;
        for (Running r : active) {
          Double perUnit = costPerUnitMs.get(r.kind());
          Double quickest = quickestPerUnitMs.get(r.kind());
          if (perUnit != null && quickest != null && now - r.startedAt() >= MAY_HAVE_ENDED * quickest * r.units()) {
            known += perUnit * r.units();
          }
        }
        return executionInWindow + known < limits.executionMs() * UNKNOWN_ROOM;
      }
      return executionInWindow + pending < budget;
    }
    Double known = costPerUnitMs.get(kind);
    if (inFlight == 0) {
      // Alone, a request starts while the window is under the budget; a bulk one of known cost must also leave the
      // reserve (unless the window is empty: a batch larger than the reserve's edge must still be able to run).
      return units > 1 && known != null && executionInWindow > 0
          ? executionInWindow + units * known < budget : executionInWindow < budget;
    }
    // The endpoint admits a request while its window is under the budget and charges it when it ends, so what is in
    // flight must be counted before it ends: each request at the costliest per unit of its kind lately (a batch of
    // 100 operations at 100 times an operation's cost, a read at a read's), so neither a batch of 1000 makes every
    // small request look costly nor the small reads make a batch look cheap. Until one of a kind has ended its cost
    // is unknown: one at a time of that kind (slow start).
    Double perUnit = costPerUnitMs.get(kind);
    if (perUnit == null) {
      return unknownInFlight.getOrDefault(kind, 0) == 0 && executionInWindow + inFlightEstimateMs < budget;
    }
    return executionInWindow + inFlightEstimateMs + units * perUnit < budget;
  }

  /** @return requests this node may have in flight: AIMD limit, node share, and its part of the endpoint's hint */
  private int cap() {
    int c = Math.min(limit, share);
    if (hint > 0 && share > 0) {
      // The hint is for the user as a whole: this node takes the part of it its share is of the concurrency.
      c = Math.min(c, Math.max(1, (int) Math.round(hint * (double) share / limits.concurrency())));
    }
    return c;
  }

  private void slide(long now) {
    long from = now - limits.windowMs();
    while (!starts.isEmpty() && starts.peekFirst() <= from) {
      starts.pollFirst();
    }
    while (!executions.isEmpty() && executions.peekFirst()[0] <= from) {
      executionInWindow -= executions.pollFirst()[1];
    }
    if (executions.isEmpty()) {
      executionInWindow = 0;
    }
  }

  private void release(Running r) {
    List<Go> go;
    synchronized (this) {
      long now = System.currentTimeMillis();
      long startedAt = r.startedAt();
      inFlight--;
      running.computeIfPresent(startedAt, (k, n) -> n <= 1 ? null : n - 1);
      for (int i = 0; i < active.size(); i++) {
        if (active.get(i) == r) {
          active.remove(i);
          break;
        }
      }
      inFlightEstimateMs = inFlight == 0 ? 0 : Math.max(0, inFlightEstimateMs - r.estimateMs());
      if (r.estimateMs() == 0) {
        unknownInFlight.computeIfPresent(r.kind(), (k, n) -> n <= 1 ? null : n - 1);
      }
      double ms = now - startedAt;
      if (limits.executionMs() > 0) {
        executions.addLast(new double[] {now, ms});
        executionInWindow += ms;
      }
      recent.addLast(new double[] {now, ms});
      while (recent.size() > 1 && recent.peekFirst()[0] < now - RECENT_MS) {
        recent.pollFirst();
      }
      typicalMs = typicalMs == 0 ? ms : typicalMs * 0.8 + ms * 0.2;
      // A decaying maximum per unit of the kind: a costly request sets it, cheaper ones after it lower it by 2 % each.
      double perUnit = ms / Math.max(1e-9, r.units());
      costPerUnitMs.merge(r.kind(), perUnit, (old, now2) -> Math.max(now2, old * 0.98));
      // And a decaying minimum: a quick request sets it, slower ones after it raise it by 2 % each.
      quickestPerUnitMs.merge(r.kind(), perUnit, (old, now2) -> Math.min(now2, old * 1.02));
      go = drainLocked(now);
    }
    resume(go);
  }

  /**
   * Whether a request of this size must queue behind one already waiting: a bulk request behind anything, a single
   * one only behind another single one — a batch waiting for the window does not hold back what the reserve is for.
   */
  private boolean waitingAhead(double units) {
    if (units > 1) {
      return !waiting.isEmpty();
    }
    for (Waiter w : waiting) {
      if (w.units() <= 1) {
        return true;
      }
    }
    return false;
  }

  private List<Go> drainLocked(long now) {
    List<Go> go = new java.util.ArrayList<>();
    // First come first served, except that single requests pass bulk ones that must wait (BULK_RESERVE); bulk ones
    // keep their order among themselves.
    boolean bulkBlocked = false;
    for (java.util.Iterator<Waiter> it = waiting.iterator(); it.hasNext();) {
      Waiter w = it.next();
      boolean bulk = w.units() > 1;
      if (bulk && bulkBlocked) {
        continue;
      }
      if (canStart(now, w.kind(), w.units())) {
        it.remove();
        go.add(new Go(w, start(now, w.kind(), w.units())));
      } else if (bulk) {
        bulkBlocked = true;
      } else {
        break;
      }
    }
    if (!waiting.isEmpty()) {
      scheduleLocked(now);
    }
    return go;
  }

  private static void resume(List<Go> go) {
    for (Go g : go) {
      g.waiter().context().runOnContext(v -> g.waiter().promise().complete(g.running()));
    }
  }

  /** Wakes up when the pause ends or the oldest charge leaves the window; releases wake up waiters too. */
  private void scheduleLocked(long now) {
    if (timerScheduled) {
      return;
    }
    long at = Long.MAX_VALUE;
    if (now < pausedUntilMillis) {
      at = pausedUntilMillis;
    } else {
      if (!executions.isEmpty()) {
        at = Math.min(at, (long) executions.peekFirst()[0] + limits.windowMs() + 1);
      }
      if (!starts.isEmpty()) {
        at = Math.min(at, starts.peekFirst() + limits.windowMs() + 1);
      }
      if (inFlight > 0 && at == Long.MAX_VALUE) {
        return; // a release will drain
      }
      if (at == Long.MAX_VALUE) {
        at = now + 10;
      }
    }
    timerScheduled = true;
    vertx.setTimer(Math.max(1, at - now), id -> {
      List<Go> go;
      synchronized (this) {
        timerScheduled = false;
        go = drainLocked(System.currentTimeMillis());
      }
      resume(go);
    });
  }

  @Override
  public void succeeded() {
    List<Go> go = List.of();
    synchronized (this) {
      if (++successes >= SUCCESSES_PER_STEP) {
        successes = 0;
        if (limit < limits.concurrency()) {
          limit++;
          go = drainLocked(System.currentTimeMillis());
        }
      }
    }
    resume(go);
  }

  @Override
  public synchronized void throttled(long retryAfterMs) {
    throttledCount++;
    limit = Math.max(1, limit / 2);
    successes = 0;
    pausedUntilMillis = Math.max(pausedUntilMillis, System.currentTimeMillis() + retryAfterMs);
  }

  /**
   * The endpoint's own count of what is left lowers the local view when others spend the same budget.
   *
   * @param headers an answer's headers
   */
  @Override
  public void observe(MultiMap headers) {
    Double dop = number(headers, limits.parallelismHintHeader());
    if (dop != null && dop >= 1) {
      List<Go> go;
      synchronized (this) {
        int before = hint;
        int beforeLimit = limit;
        hint = (int) Math.min(limits.concurrency(), Math.floor(dop));
        if (throttledCount == 0) {
          // Until the endpoint throttles, its recommendation is the starting point, not a slow climb to it.
          limit = Math.max(limit, hint);
        }
        go = hint > before || limit > beforeLimit ? drainLocked(System.currentTimeMillis()) : List.of();
      }
      resume(go);
    }
    Double time = number(headers, limits.remainingTimeHeader());
    Double burst = number(headers, limits.remainingRequestsHeader());
    if (time == null && burst == null) {
      return;
    }
    synchronized (this) {
      long now = System.currentTimeMillis();
      slide(now);
      if (time != null && limits.executionMs() > 0) {
        double unseen = (limits.executionMs() - time) - executionInWindow;
        if (unseen > 1) {
          // More spent than this node knows of: someone else (another node, another program) uses the user.
          executions.addLast(new double[] {now, unseen});
          executionInWindow += unseen;
        } else if (unseen < -1 && time > 0) {
          // (A remaining time of 0 says only that the window is at the budget or past it — the endpoint does not send
          // how far past, and past it is where a burst of requests admitted under it leaves the window — so it
          // corrects nothing.)
          // Less charged than this node counts: the endpoint's count wins. The difference is either durations
          // measured here with the network in them, or charges the endpoint has already let out of its window that
          // this node, which stamped them a little later, still holds — so it comes off the oldest entries: taken
          // off the newest, the oldest would leave the window a second time soon after and the node would count
          // less than the endpoint does (and overshoot: the two 429s of the pacing test under load).
          // The figure is the endpoint's when it charged this answer's request, which may be long before this node
          // reads it (a busy node reads dozens of answers late, out of order): charges this node stamped since then
          // are not in it. Only those stamped before the request can have started (now minus the longest request
          // lately) are surely in it, so only they are compared and cut — else a burst of answers read late cuts
          // the node's count far below the endpoint's (the 1-user benchmark: 2,200 s charged, the node believed
          // less than 1,128 s and sent 38 batches into 429s).
          double older = 0;
          long sure = now - longestLocked(now);
          for (double[] e : executions) {
            if (e[0] < sure) {
              older += e[1];
            }
          }
          double extra = Math.min(-unseen, older - (limits.executionMs() - time));
          for (var it = executions.iterator(); it.hasNext() && extra > 0; ) {
            double[] e = it.next();
            double cut = Math.min(e[1], extra);
            e[1] -= cut;
            extra -= cut;
            executionInWindow -= cut;
          }
        }
      }
      if (burst != null && limits.requests() > 0) {
        long unseen = Math.round(limits.requests() - burst) - starts.size();
        for (long i = 0; i < Math.min(unseen, limits.requests()); i++) {
          starts.addLast(now);
        }
      }
    }
  }

  private static Double number(MultiMap headers, String name) {
    String v = name == null ? null : headers.get(name);
    if (v == null) {
      return null;
    }
    try {
      return Double.parseDouble(v.replace(",", "").trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * This node's part of the concurrency when several nodes use the same user (the rest is theirs).
   *
   * @param concurrency requests in flight this node may run (0 holds every new request back)
   */
  public void share(int concurrency) {
    List<Go> go;
    synchronized (this) {
      share = Math.max(0, Math.min(limits.concurrency(), concurrency));
      go = drainLocked(System.currentTimeMillis());
    }
    resume(go);
  }

  /**
   * @return the longest this node's requests to the endpoint have taken lately, or are taking now (the oldest in
   *     flight), in ms
   */
  public synchronized long longestRecentMs() {
    return longestLocked(System.currentTimeMillis());
  }

  private long longestLocked(long now) {
    double longest = 0;
    for (double[] r : recent) {
      longest = Math.max(longest, r[1]);
    }
    if (!running.isEmpty()) {
      longest = Math.max(longest, now - ((java.util.TreeMap<Long, Integer>) running).firstKey());
    }
    return (long) Math.ceil(longest);
  }

  /** @return the limits */
  public Limits limits() {
    return limits;
  }

  /** @return the endpoint */
  public String endpoint() {
    return endpoint;
  }

  /** @return the user */
  public String user() {
    return user;
  }

  /** @return the current concurrency limit (AIMD), before the node's share */
  public synchronized int limit() {
    return limit;
  }

  /** @return the endpoint's recommended parallelism for the user as last seen, 0 when it sent none */
  public synchronized int parallelismHint() {
    return hint;
  }

  /** @return requests this node may have in flight now (AIMD limit, share and hint together) */
  public synchronized int concurrencyCap() {
    return cap();
  }

  /** @return this node's share of the concurrency */
  public synchronized int share() {
    return share;
  }

  /** @return requests in flight now */
  public synchronized int inFlight() {
    return inFlight;
  }

  /** @return requests waiting to start */
  public synchronized int waiting() {
    return waiting.size();
  }

  /** @return execution ms charged in the current window, as far as this node knows */
  public synchronized double executionInWindow() {
    slide(System.currentTimeMillis());
    return executionInWindow;
  }

  /** @return how often the endpoint throttled this budget */
  public synchronized long throttledCount() {
    return throttledCount;
  }

  /**
   * @return how loaded the budget is, 0 (idle) to 1 and above (full): the highest of concurrency, request and
   *     execution use; for spreading work over several users
   */
  public synchronized double load() {
    long now = System.currentTimeMillis();
    slide(now);
    if (share == 0) {
      return 2;
    }
    double l = (double) (inFlight + waiting.size()) / cap();
    if (limits.requests() > 0) {
      l = Math.max(l, starts.size() / (double) limits.requests());
    }
    if (limits.executionMs() > 0) {
      l = Math.max(l, (executionInWindow + inFlight * typicalMs) / limits.executionMs());
    }
    return l + (now < pausedUntilMillis ? 1 : 0);
  }
}
