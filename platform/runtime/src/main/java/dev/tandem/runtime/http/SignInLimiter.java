package dev.tandem.runtime.http;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Limits wrong admin tokens at the console's sign-in ({@code POST /console/session}) per client address: after
 * {@link #MAX_FAILURES} wrong tokens within {@link #WINDOW_MS}, the address is refused until the oldest of them has
 * left the window, without the token being compared at all (so guessing learns nothing meanwhile). A right token
 * before that clears the address's failures. Each address counts alone, so one address guessing does not lock out
 * the others. The state is per node and in memory: bounded to {@link #MAX_ADDRESSES} addresses, the ones idle the
 * longest forgotten first.
 */
final class SignInLimiter {

  /** Wrong tokens an address may send within the window. */
  static final int MAX_FAILURES = 5;
  /** The sliding window. */
  static final long WINDOW_MS = 60_000;
  /** Addresses remembered at most. */
  static final int MAX_ADDRESSES = 10_000;

  private final LongSupplier clock;
  // Access order: the address used longest ago comes first and is forgotten first when the map is full.
  private final LinkedHashMap<String, ArrayDeque<Long>> failures = new LinkedHashMap<>(64, 0.75f, true);

  /** @param clock the time in ms */
  SignInLimiter(LongSupplier clock) {
    this.clock = clock;
  }

  /**
   * @param address the client's address
   * @return 0 when the address may try a token now, else the seconds until it may
   */
  synchronized long retryAfterSeconds(String address) {
    ArrayDeque<Long> times = failures.get(address);
    if (times == null) {
      return 0;
    }
    long now = clock.getAsLong();
    expire(times, now);
    if (times.isEmpty()) {
      failures.remove(address);
      return 0;
    }
    if (times.size() < MAX_FAILURES) {
      return 0;
    }
    return Math.max(1, (times.peekFirst() + WINDOW_MS - now + 999) / 1000);
  }

  /** @param address the client's address, which sent a wrong token */
  synchronized void failed(String address) {
    long now = clock.getAsLong();
    ArrayDeque<Long> times = failures.get(address);
    if (times == null) {
      if (failures.size() >= MAX_ADDRESSES) {
        evict(now);
      }
      times = new ArrayDeque<>(MAX_FAILURES);
      failures.put(address, times);
    }
    expire(times, now);
    times.addLast(now);
    while (times.size() > MAX_FAILURES) {
      times.removeFirst();
    }
  }

  /** @param address the client's address, which signed in: its failures are forgotten */
  synchronized void succeeded(String address) {
    failures.remove(address);
  }

  /** @return how many addresses are remembered (tests) */
  synchronized int size() {
    return failures.size();
  }

  private static void expire(ArrayDeque<Long> times, long now) {
    while (!times.isEmpty() && times.peekFirst() <= now - WINDOW_MS) {
      times.removeFirst();
    }
  }

  /** Forgets the addresses whose failures have all left the window; if none has, the one idle the longest. */
  private void evict(long now) {
    for (Iterator<Map.Entry<String, ArrayDeque<Long>>> it = failures.entrySet().iterator(); it.hasNext(); ) {
      ArrayDeque<Long> times = it.next().getValue();
      expire(times, now);
      if (times.isEmpty()) {
        it.remove();
      }
    }
    if (failures.size() >= MAX_ADDRESSES) {
      Iterator<String> oldest = failures.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }
}
