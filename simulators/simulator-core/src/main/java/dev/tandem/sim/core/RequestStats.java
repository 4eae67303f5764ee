package dev.tandem.sim.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Request counts by method and path template, and current and peak concurrency. Cheap: no request journal. */
public final class RequestStats {

  private final Map<String, LongAdder> byRoute = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();

  /**
   * Counts a request that starts now; call {@link #finished()} when it ends.
   *
   * @param method method
   * @param template path template, e.g. {@code GET accounts} (no ids)
   * @return the number in flight including this one
   */
  public int started(String method, String template) {
    total.increment();
    byRoute.computeIfAbsent(method + " " + template, k -> new LongAdder()).increment();
    int now = inFlight.incrementAndGet();
    peak.accumulateAndGet(now, Math::max);
    return now;
  }

  /** Marks a request finished. */
  public void finished() {
    inFlight.decrementAndGet();
  }

  /** Clears the counts and the peak. */
  public void reset() {
    byRoute.clear();
    total.reset();
    peak.set(inFlight.get());
  }

  /** @return the admin API's view */
  public Map<String, Object> snapshot() {
    Map<String, Object> routes = new TreeMap<>();
    byRoute.forEach((k, v) -> routes.put(k, v.sum()));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", total.sum());
    out.put("inFlight", inFlight.get());
    out.put("peakConcurrency", peak.get());
    out.put("byRoute", routes);
    return out;
  }
}
