package dev.tandem.sim.erp;

import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Business Central online's request limits per user or service principal: 6,000 requests in a sliding 5-minute
 * window; 5 requests processed at once, further ones queued until 100 connections are open, then 429. Every
 * limit applies per caller (the Basic user or the token's client), and the window is multiplied by the cost
 * model's time scale. BC documents no Retry-After for these 429s; none is sent.
 */
final class ErpServiceProtection implements SimulatorServer.Gate {

  static final int REQUESTS_PER_WINDOW = 6_000;
  static final double WINDOW_MS = 300_000;
  static final int PROCESSING = 5;
  static final int CONNECTIONS = 100;

  private static final class Caller {
    final Semaphore slots = new Semaphore(PROCESSING, true);
    final AtomicInteger open = new AtomicInteger();
    final ArrayDeque<Long> stamps = new ArrayDeque<>();
  }

  private final Map<String, Caller> callers = new ConcurrentHashMap<>();
  private final Function<SimRequest, String> identity;
  private final ThreadLocal<Caller> current = new ThreadLocal<>();
  private final LongAdder throttled = new LongAdder();
  private volatile ErpCosts costs = ErpCosts.fast();

  /** @param identity the caller a request counts for, or null when it carries no credentials BC accepts */
  ErpServiceProtection(Function<SimRequest, String> identity) {
    this.identity = identity;
  }

  void costs(ErpCosts value) {
    this.costs = value;
  }

  ErpCosts costs() {
    return costs;
  }

  long throttled() {
    return throttled.sum();
  }

  void reset() {
    callers.clear();
    throttled.reset();
  }

  @Override
  public SimResponse enter(SimRequest request) {
    String who = request.path().endsWith("/oauth2/v2.0/token") ? null : identity.apply(request);
    if (who == null) {
      return null;
    }
    Caller c = callers.computeIfAbsent(who, k -> new Caller());
    long now = System.nanoTime();
    long window = (long) (WINDOW_MS * costs.timeScale() * 1_000_000);
    synchronized (c.stamps) {
      while (!c.stamps.isEmpty() && now - c.stamps.peekFirst() >= window) {
        c.stamps.pollFirst();
      }
      if (c.stamps.size() >= REQUESTS_PER_WINDOW) {
        throttled.increment();
        return ErpSimulator.error(429, "Application_TooManyRequests", "Too many requests: the limit of "
            + REQUESTS_PER_WINDOW + " requests in 5 minutes has been reached for this user.");
      }
      c.stamps.addLast(now);
    }
    if (c.open.incrementAndGet() > CONNECTIONS) {
      c.open.decrementAndGet();
      throttled.increment();
      return ErpSimulator.error(429, "Application_TooManyRequests", "Too many requests: " + PROCESSING
          + " requests are being processed and " + (CONNECTIONS - PROCESSING) + " are queued for this user.");
    }
    sleep(costs.latencyMs() * costs.timeScale());
    c.slots.acquireUninterruptibly();
    current.set(c);
    ErpCosts.Meter.start();
    return null;
  }

  @Override
  public void exit(SimRequest request) {
    Caller c = current.get();
    if (c == null) {
      return;
    }
    current.remove();
    ErpCosts.Meter.stop();
    c.slots.release();
    c.open.decrementAndGet();
  }

  /** Sleeps model milliseconds already scaled. */
  static void sleep(double ms) {
    if (ms < 0.05) {
      return;
    }
    try {
      long whole = (long) ms;
      Thread.sleep(whole, (int) ((ms - whole) * 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
