package dev.tandem.sim.crm;

import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Dataverse's service protection limits, per user (application user, i.e. per client id) over a sliding window:
 * number of requests (6000 per 300 s, {@code 0x80072322}), combined execution time (1,200,000 ms per 300 s,
 * {@code 0x80072321}), and concurrent requests (52, {@code 0x80072326}, enforced at once). Over a limit: 429 with
 * Retry-After. A client that keeps sending while it was told to wait is refused until the wait is over, and every
 * such request extends the wait (doubling it, up to twice the window), as Dataverse "extends" Retry-After. Every
 * answer carries {@code x-ms-ratelimit-burst-remaining-xrm-requests} (requests left in the window) and
 * {@code x-ms-ratelimit-time-remaining-xrm-requests} (execution ms left).
 *
 * <p>Windows and execution budgets are given in Dataverse's time and shrunk by the cost model's time scale; every
 * figure the simulator sends (Retry-After, remaining time) is in wall-clock time.
 */
final class ServiceProtection implements SimulatorServer.Gate {

  /**
   * The limits, in Dataverse's (unscaled) time; tests lower them. {@code dopHint} is what every answer sends as
   * {@code x-ms-dop-hint}, the environment's recommended degree of parallelism ("Send parallel requests": use it
   * instead of a fixed number); Microsoft publishes no typical value, so it defaults to the concurrency limit and
   * tests set it lower.
   */
  record Limits(int requests, long executionMs, int concurrent, long windowMs, int dopHint) {
    static Limits dataverse() {
      return new Limits(6000, 1_200_000, 52, 300_000, 52);
    }
  }

  private static final class UserState {
    final Deque<Long> requests = new ArrayDeque<>(); // start times
    final Deque<double[]> executions = new ArrayDeque<>(); // {endMillis, wallMs}
    int inFlight;
    double executionInWindow;
    long penaltyUntil;
    String penaltyCode;
    String penaltyMessage;
    String refusedCode; // of the latest refusal
    String refusedWhy; // sent during a penalty, or the limit it ran into
    long admittedTotal; // since the reset: what a benchmark needs to say where a run's time went
    long refusedTotal;
    double executionTotal;
  }

  private record Started(String user, long at, boolean[] charged) {}

  private final Map<String, UserState> users = new ConcurrentHashMap<>();
  /** The latest refusals, newest last, for {@code GET /__admin/sim/throttling}: what a client ran into and when. */
  private final Deque<Map<String, Object>> refusals = new ArrayDeque<>();
  private static final int REFUSALS_KEPT = 200;
  private final Map<SimRequest, Started> started = new ConcurrentHashMap<>();
  private final Function<SimRequest, String> userOf;
  private volatile Limits limits = Limits.dataverse();
  private volatile double scale = 1;

  ServiceProtection(Function<SimRequest, String> userOf) {
    this.userOf = userOf;
  }

  void limits(Limits l) {
    limits = l;
  }

  Limits limits() {
    return limits;
  }

  /** @param timeScale the factor on every window and execution budget */
  void scale(double timeScale) {
    scale = timeScale;
  }

  void reset() {
    users.clear();
    synchronized (refusals) {
      refusals.clear();
    }
  }

  private long window() {
    return Math.max(1, Math.round(limits.windowMs() * scale));
  }

  private double budget() {
    return limits.executionMs() * scale;
  }

  private void slide(UserState s, long now) {
    long from = now - window();
    while (!s.requests.isEmpty() && s.requests.peekFirst() <= from) {
      s.requests.pollFirst();
    }
    while (!s.executions.isEmpty() && s.executions.peekFirst()[0] <= from) {
      s.executionInWindow -= s.executions.pollFirst()[1];
    }
    if (s.executions.isEmpty()) {
      s.executionInWindow = 0;
    }
  }

  @Override
  public SimResponse enter(SimRequest r) {
    String user = userOf.apply(r);
    if (user == null) {
      return null; // unauthenticated requests are refused by the API itself
    }
    Limits l = limits;
    UserState s = users.computeIfAbsent(user, u -> new UserState());
    long now = System.currentTimeMillis();
    synchronized (s) {
      slide(s, now);
      SimResponse refused = admit(s, l, now);
      if (refused != null) {
        s.refusedTotal++;
        refused(r, user, s, now, refused);
        return refused;
      }
      s.inFlight++;
      s.admittedTotal++;
      s.requests.addLast(now);
    }
    started.put(r, new Started(user, now, new boolean[1]));
    return null;
  }

  /** @return the 429 for a request entering now, or null when it is admitted (the caller holds the user's lock) */
  private SimResponse admit(UserState s, Limits l, long now) {
    {
      s.refusedCode = s.penaltyCode;
      s.refusedWhy = "sent during the penalty";
      if (now < s.penaltyUntil) {
        // Sent while told to wait: refused, and the wait grows.
        long left = s.penaltyUntil - now;
        s.penaltyUntil = now + Math.min(2 * window(), 2 * left);
        return throttle(s.penaltyCode, s.penaltyMessage, s.penaltyUntil - now);
      }
      if (s.inFlight >= l.concurrent()) {
        s.refusedCode = "0x80072326";
        s.refusedWhy = "concurrency";
        return throttle("0x80072326", "Number of concurrent requests exceeded the limit of " + l.concurrent() + ".",
            1000);
      }
      if (s.requests.size() >= l.requests()) {
        long wait = s.requests.peekFirst() + window() - now;
        s.refusedWhy = "requests";
        return penalize(s, now, wait, "0x80072322", "Number of requests exceeded the limit of " + l.requests()
            + " over time window of " + l.windowMs() / 1000 + " seconds.");
      }
      if (s.executionInWindow >= budget()) {
        // Until enough execution has left the window to be under the budget again.
        double over = s.executionInWindow - budget();
        long wait = window();
        for (double[] e : s.executions) {
          over -= e[1];
          if (over < 0) {
            wait = (long) e[0] + window() - now;
            break;
          }
        }
        s.refusedWhy = "execution time";
        return penalize(s, now, wait, "0x80072321", "Combined execution time of incoming requests exceeded limit of "
            + l.executionMs() + " milliseconds over time window of " + l.windowMs() / 1000 + " seconds. Decrease "
            + "number of concurrent requests or reduce the duration of requests and try again later.");
      }
      return null;
    }
  }

  private void refused(SimRequest r, String user, UserState s, long now, SimResponse answer) {
    Map<String, Object> e = new java.util.LinkedHashMap<>();
    e.put("at", java.time.Instant.ofEpochMilli(now).toString());
    e.put("user", user);
    e.put("request", r.method() + " " + r.path());
    e.put("code", s.refusedCode);
    e.put("why", s.refusedWhy);
    e.put("retryAfterMs", Math.max(0, s.penaltyUntil - now));
    e.put("executionInWindowMs", Math.round(s.executionInWindow));
    e.put("executionBudgetMs", Math.round(budget()));
    e.put("requestsInWindow", s.requests.size());
    e.put("inFlight", s.inFlight);
    synchronized (refusals) {
      refusals.addLast(e);
      while (refusals.size() > REFUSALS_KEPT) {
        refusals.pollFirst();
      }
    }
  }

  /**
   * @return per user since the reset: requests admitted, requests refused (429) and the execution ms charged (wall
   *     ms, so scaled by the time scale), and the execution in the current window
   */
  Map<String, Map<String, Object>> usage() {
    Map<String, Map<String, Object>> out = new java.util.TreeMap<>();
    long now = System.currentTimeMillis();
    users.forEach((user, s) -> {
      synchronized (s) {
        slide(s, now);
        Map<String, Object> u = new java.util.LinkedHashMap<>();
        u.put("requests", s.admittedTotal);
        u.put("throttled", s.refusedTotal);
        u.put("executionMs", Math.round(s.executionTotal * 100) / 100.0);
        u.put("executionInWindowMs", Math.round(s.executionInWindow * 100) / 100.0);
        out.put(user, u);
      }
    });
    return out;
  }

  /** @return the latest refusals (429s), oldest first: time, user, request, code, the window's state then */
  java.util.List<Map<String, Object>> refusals() {
    synchronized (refusals) {
      return new java.util.ArrayList<>(refusals);
    }
  }

  private static SimResponse penalize(UserState s, long now, long waitMs, String code, String message) {
    long wait = Math.max(1, waitMs);
    s.penaltyUntil = now + wait;
    s.penaltyCode = code;
    s.refusedCode = code;
    s.penaltyMessage = message;
    return throttle(code, message, wait);
  }

  private static SimResponse throttle(String code, String message, long waitMs) {
    // Retry-After is whole seconds (RFC 9110), rounded up.
    return DataverseSimulator.error(429, code, message).with("Retry-After", String.valueOf(Math.max(1,
        (waitMs + 999) / 1000)));
  }

  /**
   * Charges a request's execution time now (the cost model's, in wall ms) and answers the remaining budgets.
   *
   * @param r the request being handled
   * @param wallMs its execution in wall-clock ms
   * @param response the answer
   * @return the answer with the remaining-budget headers
   */
  SimResponse charge(SimRequest r, double wallMs, SimResponse response) {
    Started st = started.get(r);
    if (st == null) {
      return response;
    }
    st.charged()[0] = true;
    UserState s = users.get(st.user());
    return record(s, wallMs, response);
  }

  private SimResponse record(UserState s, double wallMs, SimResponse response) {
    if (s == null) {
      return response;
    }
    long now = System.currentTimeMillis();
    long burst;
    double time;
    synchronized (s) {
      slide(s, now);
      s.executions.addLast(new double[] {now, wallMs});
      s.executionInWindow += wallMs;
      s.executionTotal += wallMs;
      burst = Math.max(0, limits.requests() - s.requests.size());
      time = Math.max(0, budget() - s.executionInWindow);
    }
    return response == null ? null : response
        .with("x-ms-ratelimit-burst-remaining-xrm-requests", String.valueOf(burst))
        .with("x-ms-ratelimit-time-remaining-xrm-requests", String.format(java.util.Locale.ROOT, "%.2f", time))
        .with("x-ms-dop-hint", String.valueOf(limits.dopHint()));
  }

  @Override
  public void exit(SimRequest r) {
    Started st = started.remove(r);
    if (st == null) {
      return;
    }
    UserState s = users.get(st.user());
    if (s == null) {
      return;
    }
    synchronized (s) {
      s.inFlight--;
    }
    if (!st.charged()[0]) {
      // Not modelled (fast profile, or answered by an injected fault): the handling time itself.
      record(s, System.currentTimeMillis() - st.at(), null);
    }
  }
}
