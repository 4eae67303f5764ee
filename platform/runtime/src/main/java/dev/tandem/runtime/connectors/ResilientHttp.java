package dev.tandem.runtime.connectors;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The transport both connectors share: every request goes through a circuit breaker, a {@link RequestGate}
 * and a retry loop. 429 answers pause all new requests for the full Retry-After (2^n s when absent) and halve the
 * concurrency; 5xx answers and I/O failures are retried with jittered exponential backoff; when retries run out
 * the request fails as retriable. A request that is not idempotent (a create: POST, or a {@code $batch} with
 * creates) is repeated only when it cannot have reached the server (429, a refused connection, 401 renewal): after
 * an I/O error or a 5xx it may have taken effect, so it fails at once and the engine finds out by a reconciling
 * read instead of creating the record twice. After five such failures in a row the breaker opens for 30 s and requests fail
 * fast, so a job pauses (the queue retries it) instead of failing record after record against a dead endpoint.
 *
 * <p>Not thread-safe: use it from one Vert.x context.
 */
public final class ResilientHttp {

  private static final int BREAKER_THRESHOLD = 5;
  private static final long BREAKER_OPEN_MS = 30_000;

  private final Vertx vertx;
  private final String endpoint;
  private final RequestGate limiter;
  private final int maxRetries;
  private final EndpointMetrics metrics;
  private int consecutiveFailures;
  private long openUntilNanos;

  /**
   * @param vertx Vert.x, for timers
   * @param endpoint "ERP" or "CRM", in messages and metrics
   * @param limiter the endpoint's limiter or budget
   * @param maxRetries retries per request
   * @param metrics request counters
   */
  public ResilientHttp(Vertx vertx, String endpoint, RequestGate limiter, int maxRetries, EndpointMetrics metrics) {
    this.vertx = vertx;
    this.endpoint = endpoint;
    this.limiter = limiter;
    this.maxRetries = maxRetries;
    this.metrics = metrics;
  }

  /**
   * Sends a request. Answers with any status below 500 other than 429 and 408 (retried like a 5xx); the caller
   * decides what a 4xx means.
   *
   * @param stage stage for failures
   * @param prepare builds the request; its argument is true when the previous attempt got 401 and credentials
   *     should be renewed (return a failed future to give up); called once per attempt
   * @param body the body, or null
   * @return the response
   */
  public Future<HttpResponse<Buffer>> send(Stage stage, Function<Boolean, Future<HttpRequest<Buffer>>> prepare,
      Buffer body) {
    return send(stage, prepare, body, true);
  }

  /**
   * Sends a request that may not be idempotent.
   *
   * @param stage stage for failures
   * @param prepare builds the request (see {@link #send(Stage, Function, Buffer)})
   * @param body the body, or null
   * @param idempotent false for a request that must not be repeated once it may have reached the server
   * @return the response
   */
  public Future<HttpResponse<Buffer>> send(Stage stage, Function<Boolean, Future<HttpRequest<Buffer>>> prepare,
      Buffer body, boolean idempotent) {
    return send(stage, prepare, body, idempotent, false);
  }

  /**
   * Sends a request; with {@code returnTimeouts}, a 408 or 504 answer comes back to the caller instead of being
   * repeated or failed (Business Central's advice for a request that timed out is to split it, not to repeat it),
   * and the client's own timeout fails at once with a {@link TimedOutException} instead of being retried.
   *
   * @param stage stage for failures
   * @param prepare builds the request (see {@link #send(Stage, Function, Buffer)})
   * @param body the body, or null
   * @param idempotent false for a request that must not be repeated once it may have reached the server
   * @param returnTimeouts whether 408 and 504 answers are the caller's to handle
   * @return the response
   */
  public Future<HttpResponse<Buffer>> send(Stage stage, Function<Boolean, Future<HttpRequest<Buffer>>> prepare,
      Buffer body, boolean idempotent, boolean returnTimeouts) {
    return send(stage, prepare, body, idempotent, returnTimeouts, REQUEST, 1);
  }

  /** The kind of cost unit of a plain request (see {@link RequestGate#run(String, double, Supplier)}). */
  public static final String REQUEST = "request";

  /**
   * Like {@link #send(Stage, Function, Buffer, boolean, boolean)}, saying what the request is likely to cost (see
   * {@link RequestGate#run(String, double, Supplier)}).
   *
   * @param stage stage for failures
   * @param prepare builds the request (see {@link #send(Stage, Function, Buffer)})
   * @param body the body, or null
   * @param idempotent false for a request that must not be repeated once it may have reached the server
   * @param returnTimeouts whether 408 and 504 answers are the caller's to handle
   * @param kind what a unit of its cost is, e.g. "operations" for a batch
   * @param units how many
   * @return the response
   */
  public Future<HttpResponse<Buffer>> send(Stage stage, Function<Boolean, Future<HttpRequest<Buffer>>> prepare,
      Buffer body, boolean idempotent, boolean returnTimeouts, String kind, double units) {
    long now = System.nanoTime();
    if (now < openUntilNanos) {
      long waitMs = (openUntilNanos - now) / 1_000_000;
      return Future.failedFuture(TandemException.retriable(stage, endpoint + " is unavailable after "
          + BREAKER_THRESHOLD + " failed requests in a row: circuit open for another " + waitMs + " ms",
          Duration.ofMillis(waitMs)));
    }
    return attempt(stage, prepare, body, 0, false, idempotent, returnTimeouts, kind, units).andThen(ar -> {
      if (ar.failed() && ar.cause() instanceof TandemException te && te.kind() == ErrorKind.RETRIABLE) {
        if (++consecutiveFailures >= BREAKER_THRESHOLD) {
          openUntilNanos = System.nanoTime() + BREAKER_OPEN_MS * 1_000_000L;
          consecutiveFailures = 0;
        }
      } else if (ar.succeeded()) {
        consecutiveFailures = 0;
      }
    });
  }

  /** @return true while the breaker fails requests fast */
  public boolean open() {
    return System.nanoTime() < openUntilNanos;
  }

  private Future<HttpResponse<Buffer>> attempt(Stage stage, Function<Boolean, Future<HttpRequest<Buffer>>> prepare,
      Buffer body, int retry, boolean renew, boolean idempotent, boolean returnTimeouts, String kind, double units) {
    return limiter.run(kind, units, () -> prepare.apply(renew).compose(req -> body == null ? req.send() : req.sendBuffer(body)))
        .transform(ar -> {
          if (ar.failed()) {
            if (ar.cause() instanceof TandemException te) {
              return Future.failedFuture(te);
            }
            metrics.request(endpoint, "io_error");
            if (returnTimeouts && ar.cause() instanceof java.util.concurrent.TimeoutException) {
              // The client's timeout ran out: the caller splits the request instead of sending it whole again.
              return Future.failedFuture(new TimedOutException(endpoint, stage, ar.cause()));
            }
            if (!idempotent && !neverSent(ar.cause())) {
              return Future.failedFuture(TandemException.retriable(stage, endpoint + " gave no answer to a request "
                  + "that may have taken effect; it is not repeated (the next attempt reconciles): "
                  + HttpFailures.io(endpoint, stage, ar.cause()).getMessage(), null));
            }
            return retry < maxRetries ? later(backoff(retry), () -> attempt(stage, prepare, body, retry + 1, false,
                idempotent, returnTimeouts, kind, units))
                : Future.failedFuture(HttpFailures.io(endpoint, stage, ar.cause()));
          }
          HttpResponse<Buffer> r = ar.result();
          int status = r.statusCode();
          metrics.request(endpoint, String.valueOf(status));
          limiter.observe(r.headers());
          if (status == 429) {
            Duration ra = HttpFailures.retryAfter(r.headers());
            long waitMs = ra != null ? ra.toMillis() : 1000L << Math.min(retry, 6);
            limiter.throttled(waitMs);
            metrics.throttled(endpoint);
            // The limiter holds every new request until the Retry-After has passed; this one waits too.
            return retry < maxRetries ? later(waitMs, () -> attempt(stage, prepare, body, retry + 1, false,
                idempotent, returnTimeouts, kind, units))
                : Future.failedFuture(HttpFailures.classify(endpoint, stage, status, r.headers(), r.bodyAsString(),
                    false));
          }
          if (returnTimeouts && (status == 504 || status == 408)) {
            return Future.succeededFuture(r);
          }
          // 408: BC cancelled an operation that ran over 8 minutes; like a 5xx, another attempt may pass.
          if (status >= 500 || status == 408) {
            Duration ra = HttpFailures.retryAfter(r.headers());
            // A 5xx to a create may come after the server did the work: only idempotent requests are repeated.
            return retry < maxRetries && idempotent
                ? later(ra != null ? ra.toMillis() : backoff(retry), () -> attempt(stage, prepare, body, retry + 1,
                    false, true, returnTimeouts, kind, units))
                : Future.failedFuture(HttpFailures.classify(endpoint, stage, status, r.headers(), r.bodyAsString(),
                    false));
          }
          if (status == 401 && !renew) {
            // Credentials may have expired early: the caller gets one chance to renew them.
            return attempt(stage, prepare, body, retry, true, idempotent, returnTimeouts, kind, units)
                .recover(e -> Future.succeededFuture(r));
          }
          limiter.succeeded();
          return Future.succeededFuture(r);
        });
  }

  /**
   * A request the client stopped waiting for after its timeout (only with {@code returnTimeouts}): the endpoint
   * may still be running it or have run it, so it is not sent again as it was; a batch is split instead.
   */
  public static final class TimedOutException extends TandemException {
    private static final long serialVersionUID = 1L;

    TimedOutException(String endpoint, Stage stage, Throwable cause) {
      super(ErrorKind.RETRIABLE, stage, endpoint + " did not answer within the client's timeout: "
          + cause.getMessage(), null, cause);
    }
  }

  /** @return true when the failure came before the request could reach the server (no connection) */
  private static boolean neverSent(Throwable cause) {
    return cause instanceof java.net.ConnectException || cause instanceof java.net.UnknownHostException;
  }

  private static long backoff(int retry) {
    long base = 200L << Math.min(retry, 8);
    return base + ThreadLocalRandom.current().nextLong(base / 2 + 1);
  }

  private <T> Future<T> later(long ms, Supplier<Future<T>> next) {
    Promise<T> p = Promise.promise();
    vertx.setTimer(Math.max(1, ms), id -> next.get().onComplete(p));
    return p.future();
  }
}
