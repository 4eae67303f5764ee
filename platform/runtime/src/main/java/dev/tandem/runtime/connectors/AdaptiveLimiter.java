package dev.tandem.runtime.connectors;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Limits requests in flight to an endpoint and adapts the limit to what the endpoint tolerates: additive
 * increase after a run of successes, halving on throttling (AIMD), never above a hard ceiling (52 for Dataverse,
 * its per-user concurrency limit). A throttled response also pauses the start of every new request until its
 * Retry-After has passed: clients must not keep sending while throttled.
 *
 * <p>Not thread-safe: use it from one Vert.x context.
 */
public final class AdaptiveLimiter implements RequestGate {

  private final Vertx vertx;
  private final int ceiling;
  private final int successesPerStep;
  private int limit;
  private int inFlight;
  private int successes;
  private long pausedUntilNanos;
  private boolean resumeScheduled;
  private final Deque<Promise<Void>> waiting = new ArrayDeque<>();

  /**
   * @param vertx for the resume timer
   * @param initial limit to start with
   * @param ceiling the hard maximum
   * @param successesPerStep successes needed before the limit grows by one
   */
  public AdaptiveLimiter(Vertx vertx, int initial, int ceiling, int successesPerStep) {
    if (initial < 1 || ceiling < initial) {
      throw new IllegalArgumentException("need 1 <= initial (" + initial + ") <= ceiling (" + ceiling + ")");
    }
    this.vertx = vertx;
    this.limit = initial;
    this.ceiling = ceiling;
    this.successesPerStep = successesPerStep;
  }

  /**
   * Runs {@code call} when a slot is free and the endpoint is not paused. The call's outcome does not adjust the
   * limit by itself: report it with {@link #succeeded()} or {@link #throttled(long)}.
   *
   * @param call the request
   * @param <T> result type
   * @return the call's result
   */
  @Override
  public <T> Future<T> run(Supplier<Future<T>> call) {
    return acquire().compose(v -> {
      Future<T> f;
      try {
        f = call.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      return f.andThen(ar -> release());
    });
  }

  private Future<Void> acquire() {
    if (canStart()) {
      inFlight++;
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    waiting.add(p);
    scheduleResume();
    return p.future();
  }

  private boolean canStart() {
    return inFlight < limit && System.nanoTime() >= pausedUntilNanos && waiting.isEmpty();
  }

  private void release() {
    inFlight--;
    drain();
  }

  private void drain() {
    while (!waiting.isEmpty() && inFlight < limit && System.nanoTime() >= pausedUntilNanos) {
      inFlight++;
      waiting.poll().complete();
    }
    if (!waiting.isEmpty()) {
      scheduleResume();
    }
  }

  private void scheduleResume() {
    long waitNanos = pausedUntilNanos - System.nanoTime();
    if (resumeScheduled || waitNanos <= 0) {
      return;
    }
    resumeScheduled = true;
    vertx.setTimer(Math.max(1, waitNanos / 1_000_000 + 1), id -> {
      resumeScheduled = false;
      drain();
    });
  }

  /** Records a success; after enough of them the limit grows by one, up to the ceiling. */
  @Override
  public void succeeded() {
    if (++successes >= successesPerStep) {
      successes = 0;
      if (limit < ceiling) {
        limit++;
        drain();
      }
    }
  }

  /**
   * Records throttling: halves the limit and pauses new requests for the whole retry-after.
   *
   * @param retryAfterMs how long the endpoint asked us to wait
   */
  @Override
  public void throttled(long retryAfterMs) {
    limit = Math.max(1, limit / 2);
    successes = 0;
    pausedUntilNanos = Math.max(pausedUntilNanos, System.nanoTime() + retryAfterMs * 1_000_000L);
  }

  /** @return the current limit */
  public int limit() {
    return limit;
  }

  /** @return requests in flight now */
  public int inFlight() {
    return inFlight;
  }

  /** @return true while new requests are held back by a retry-after */
  public boolean paused() {
    return System.nanoTime() < pausedUntilNanos;
  }
}
