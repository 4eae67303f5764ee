package dev.tandem.runtime.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdaptiveLimiterTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private <T> T onContext(java.util.concurrent.Callable<T> body) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    vertx.runOnContext(v -> {
      try {
        f.complete(body.call());
      } catch (Exception e) {
        f.completeExceptionally(e);
      }
    });
    return f.get(10, TimeUnit.SECONDS);
  }

  @Test
  void neverMoreInFlightThanTheLimitAndGrowsToTheCeilingOnly() throws Exception {
    AdaptiveLimiter limiter = onContext(() -> new AdaptiveLimiter(vertx, 2, 4, 3));
    List<Promise<Void>> held = new ArrayList<>();
    int[] peak = {0};
    onContext(() -> {
      for (int i = 0; i < 10; i++) {
        limiter.run(() -> {
          Promise<Void> p = Promise.promise();
          held.add(p);
          peak[0] = Math.max(peak[0], limiter.inFlight());
          return p.future();
        });
      }
      return null;
    });
    assertEquals(2, onContext(() -> held.size()));
    for (int round = 0; round < 20; round++) {
      onContext(() -> {
        for (Promise<Void> p : List.copyOf(held)) {
          if (!p.future().isComplete()) {
            limiter.succeeded();
            p.complete();
          }
        }
        return null;
      });
    }
    assertEquals(10, onContext(() -> held.size()));
    assertTrue(peak[0] <= 4, "peak " + peak[0]);
    for (int i = 0; i < 30; i++) {
      onContext(() -> {
        limiter.succeeded();
        return null;
      });
    }
    assertEquals(4, onContext(limiter::limit), "capped at the ceiling");
  }

  @Test
  void throttlingHalvesTheLimitAndHoldsNewRequestsForTheRetryAfter() throws Exception {
    AdaptiveLimiter limiter = onContext(() -> new AdaptiveLimiter(vertx, 8, 52, 10));
    onContext(() -> {
      limiter.throttled(400);
      return null;
    });
    assertEquals(4, onContext(limiter::limit));
    long t0 = System.nanoTime();
    CompletableFuture<Long> started = new CompletableFuture<>();
    vertx.runOnContext(v -> limiter.run(() -> {
      started.complete(System.nanoTime());
      return Future.succeededFuture();
    }));
    long waitedMs = (started.get(5, TimeUnit.SECONDS) - t0) / 1_000_000;
    assertTrue(waitedMs >= 380, "waited " + waitedMs + " ms");
    onContext(() -> {
      limiter.throttled(0);
      limiter.throttled(0);
      limiter.throttled(0);
      limiter.throttled(0);
      return null;
    });
    assertEquals(1, onContext(limiter::limit), "never below one");
  }
}
