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
 * Dataverse's service protection limits, per user over a sliding window: number of requests (6000 per 300 s,
 * {@code 0x80072322}), combined execution time (1,200,000 ms per 300 s, {@code 0x80072321}), and concurrent
 * requests (52, {@code 0x80072326}, enforced at once). Over a limit: 429 with Retry-After.
 */
final class ServiceProtection implements SimulatorServer.Gate {

  /** The limits; tests lower them. */
  record Limits(int requests, long executionMs, int concurrent, long windowMs) {
    static Limits dataverse() {
      return new Limits(6000, 1_200_000, 52, 300_000);
    }
  }

  private static final class UserState {
    final Deque<long[]> calls = new ArrayDeque<>(); // {startMillis, durationMillis}
    int inFlight;
    long executionInWindow;
  }

  private final Map<String, UserState> users = new ConcurrentHashMap<>();
  private final Map<SimRequest, Long> started = new ConcurrentHashMap<>();
  private final Function<SimRequest, String> userOf;
  private volatile Limits limits = Limits.dataverse();

  ServiceProtection(Function<SimRequest, String> userOf) {
    this.userOf = userOf;
  }

  void limits(Limits l) {
    limits = l;
  }

  Limits limits() {
    return limits;
  }

  void reset() {
    users.clear();
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
      while (!s.calls.isEmpty() && s.calls.peekFirst()[0] < now - l.windowMs()) {
        s.executionInWindow -= s.calls.pollFirst()[1];
      }
      if (s.inFlight >= l.concurrent()) {
        return DataverseSimulator.error(429, "0x80072326", "Number of concurrent requests exceeded the limit of "
            + l.concurrent() + ".").with("Retry-After", "1");
      }
      if (s.calls.size() >= l.requests()) {
        long retry = Math.max(1, (s.calls.peekFirst()[0] + l.windowMs() - now + 999) / 1000);
        return DataverseSimulator.error(429, "0x80072322", "Number of requests exceeded the limit of "
            + l.requests() + " over time window of " + l.windowMs() / 1000 + " seconds.")
            .with("Retry-After", String.valueOf(retry));
      }
      if (s.executionInWindow >= l.executionMs()) {
        long retry = Math.max(1, (s.calls.peekFirst()[0] + l.windowMs() - now + 999) / 1000);
        return DataverseSimulator.error(429, "0x80072321", "Combined execution time of incoming requests exceeded "
            + "limit of " + l.executionMs() + " milliseconds over time window of " + l.windowMs() / 1000
            + " seconds. Decrease number of concurrent requests or reduce the duration of requests and try again "
            + "later.").with("Retry-After", String.valueOf(retry));
      }
      s.inFlight++;
      s.calls.addLast(new long[] {now, 0});
    }
    started.put(r, now);
    return null;
  }

  @Override
  public void exit(SimRequest r) {
    Long t0 = started.remove(r);
    if (t0 == null) {
      return;
    }
    UserState s = users.get(userOf.apply(r));
    if (s == null) {
      return;
    }
    long took = System.currentTimeMillis() - t0;
    synchronized (s) {
      s.inFlight--;
      for (long[] c : s.calls) {
        if (c[0] == t0 && c[1] == 0) {
          c[1] = took;
          break;
        }
      }
      s.executionInWindow += took;
    }
  }
}
