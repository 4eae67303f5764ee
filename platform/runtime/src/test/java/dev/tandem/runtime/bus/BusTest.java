package dev.tandem.runtime.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.JobKind;
import dev.tandem.api.Direction;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The runtime's event-bus protocol over a real (in-memory) event bus: typed requests and one reading of failures. */
class BusTest {

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static BusError failureOf(BusRequest<?> request, long timeoutMs) throws Exception {
    try {
      await(Bus.request(vertx, request, timeoutMs));
    } catch (ExecutionException e) {
      return (BusError) e.getCause();
    }
    throw new AssertionError("the request to " + request.address() + " succeeded");
  }

  @Test
  void aTypedRequestTravelsAsItsJsonAndItsReplyReadsBackTyped() throws Exception {
    JsonObject[] seen = new JsonObject[1];
    await(vertx.eventBus().<JsonObject>consumer(Addresses.ERP_NOTIFICATIONS, msg -> {
      seen[0] = msg.body();
      msg.reply(new BusMessages.ErpNotificationsTaken(2, 1).toJson());
    }).completion());
    JsonObject body = new JsonObject().put("value", new io.vertx.core.json.JsonArray().add(new JsonObject()));
    BusMessages.ErpNotificationsTaken taken = await(Bus.request(vertx, new BusMessages.ErpNotification(body), 5_000));
    assertEquals(new BusMessages.ErpNotificationsTaken(2, 1), taken);
    assertEquals(body, seen[0]);
    assertFalse(BusMessages.FullSyncReview.from(new JsonObject().put("counts", false)).counts());
    assertTrue(BusMessages.FullSyncReview.from(null).counts(), "counts unless asked not to");
    assertEquals(new JsonObject(), BusMessages.FullSyncStart.from(null).options());
    assertEquals(Addresses.optionSet("PAYMENT-TERMS"), new BusMessages.OptionListing("PAYMENT-TERMS").address());
  }

  @Test
  void aJobIsSentAsItsRequestAndRepliedWithItsOutcome() throws Exception {
    JobRequest job = new JobRequest(7, JobKind.SYNC, "BUS-TEST", Direction.TO_CRM, 1, new JsonObject(), null);
    await(vertx.eventBus().<JsonObject>consumer(Addresses.sync("BUS-TEST"), msg -> {
      JobRequest got = JobRequest.fromJson(msg.body());
      msg.reply(new JobOutcome(got.jobId(), 0, 0, 0, 0, 0, 0, 0, null).toJson());
    }).completion());
    JobOutcome outcome = await(Bus.request(vertx, new BusMessages.Job(Addresses.sync("BUS-TEST"), job), 5_000));
    assertEquals(7, outcome.inserted());
  }

  @Test
  void theRuntimesFailuresAndAPluginsPlainTextReadTheSameWay() throws Exception {
    await(vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_START, msg -> Bus.reply(msg,
        Future.<JsonObject>failedFuture(new IllegalStateException("a full synchronization is running already")),
        e -> BusFailure.CONFLICT)).completion());
    BusError conflict = failureOf(BusMessages.FullSyncStart.from(null), 5_000);
    assertTrue(conflict.is(BusFailure.CONFLICT));
    assertEquals("a full synchronization is running already", conflict.getMessage());
    assertEquals(409, conflict.httpStatus());
    assertEquals("conflict", conflict.apiCode());

    // a plugin (the items plugin's AvailabilityVerticle) fails with the api's BusFailure and plain text
    await(vertx.eventBus().<JsonObject>consumer(Addresses.AVAILABILITY, msg -> BusFailure.NOT_FOUND.fail(msg,
        "CRM product " + msg.body().getString("crmProductId") + " is not coupled")).completion());
    BusError notFound = failureOf(new BusMessages.Availability("p-1"), 5_000);
    assertTrue(notFound.is(BusFailure.NOT_FOUND));
    assertEquals("CRM product p-1 is not coupled", notFound.getMessage());
    assertEquals(404, notFound.httpStatus());
    assertNull(notFound.stage());

    await(vertx.eventBus().<JsonObject>consumer(Addresses.optionSet("BUS-JOBFAIL"), msg -> JobFailure.fail(msg,
        TandemException.retriable(Stage.READ, "429 from the CRM", Duration.ofSeconds(3)))).completion());
    BusError job = failureOf(new BusMessages.OptionListing("BUS-JOBFAIL"), 5_000);
    assertTrue(job.is(BusFailure.RETRIABLE));
    assertEquals("429 from the CRM", job.getMessage(), "the text, not the JSON it travels in");
    assertEquals(Stage.READ, job.stage());
    assertEquals(Duration.ofSeconds(3), job.retryAfter());
    assertEquals(503, job.httpStatus());
  }

  @Test
  void theEventBusOwnFailuresAreToldApart() throws Exception {
    BusError none = failureOf(new BusMessages.OptionListing("NOBODY-SERVES-THIS"), 5_000);
    assertTrue(none.noConsumer());
    assertFalse(none.is(BusFailure.INTERNAL));
    assertEquals(Addresses.optionSet("NOBODY-SERVES-THIS"), none.address());
    await(vertx.eventBus().<JsonObject>consumer(Addresses.optionSet("SILENT"), msg -> { }).completion());
    BusError late = failureOf(new BusMessages.OptionListing("SILENT"), 50);
    assertTrue(late.timedOut());
    assertFalse(late.noConsumer());
  }
}
