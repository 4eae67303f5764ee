package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BusFailureTest {

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** What a request failed with, over the real event bus. */
  private static Throwable failureOf(String address, long timeoutMs) throws Exception {
    try {
      vertx.eventBus().request(address, new JsonObject(), new DeliveryOptions().setSendTimeout(timeoutMs))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("the request to " + address + " succeeded");
  }

  @Test
  void theCodesOnTheWireStayWhatOldPluginsAndTheAdminApiUse() {
    assertEquals(List.of(1, 2, 400, 404, 409, 500, 503),
        java.util.Arrays.stream(BusFailure.values()).map(BusFailure::code).toList());
    assertEquals(JobFailure.RETRIABLE, BusFailure.RETRIABLE.code());
    assertEquals(JobFailure.PERMANENT, BusFailure.PERMANENT.code());
    assertEquals(BusFailure.INTERNAL, BusFailure.ofCode(418));
  }

  @Test
  void aConsumersFailureIsReadBackAsItsCode() throws Exception {
    for (BusFailure f : BusFailure.values()) {
      String address = "test.bus-failure." + f;
      vertx.eventBus().consumer(address, msg -> f.fail(msg, "failed as " + f)).completion()
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      Throwable e = failureOf(address, 5_000);
      assertEquals(f, BusFailure.of(e));
      assertTrue(f.is(e));
      assertEquals("failed as " + f, e.getMessage());
      assertFalse(BusFailure.noConsumer(e));
    }
  }

  @Test
  void theEventBusOwnFailuresAreToldApart() throws Exception {
    Throwable none = failureOf("test.bus-failure.nobody", 5_000);
    assertTrue(BusFailure.noConsumer(none));
    assertEquals(BusFailure.INTERNAL, BusFailure.of(none));
    vertx.eventBus().consumer("test.bus-failure.silent", msg -> { }).completion()
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable late = failureOf("test.bus-failure.silent", 50);
    assertTrue(BusFailure.timedOut(late));
    assertFalse(BusFailure.INTERNAL.is(late));
  }

  @Test
  void aJobFailureTravelsWithItsKindStageAndRetryAfter() throws Exception {
    vertx.eventBus().consumer("test.bus-failure.job", msg -> JobFailure.fail(msg,
        TandemException.retriable(Stage.READ, "429 from the CRM", Duration.ofSeconds(7)))).completion()
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable e = failureOf("test.bus-failure.job", 5_000);
    assertTrue(BusFailure.RETRIABLE.is(e));
    TandemException back = JobFailure.decode(e);
    assertEquals(ErrorKind.RETRIABLE, back.kind());
    assertEquals(Stage.READ, back.stage());
    assertEquals("429 from the CRM", back.getMessage());
    assertEquals(Duration.ofSeconds(7), back.retryAfter());
  }
}
