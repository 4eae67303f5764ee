package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SyncTaskTest {

  private final List<String> calls = new ArrayList<>();

  /** A context whose engine notes what it was asked to run; everything else is unused by SyncTask's defaults. */
  private TaskContext context(JobKind kind, Direction direction, JsonObject parameters, Direction mapping) {
    SyncEngine engine = new SyncEngine() {
      @Override
      public Future<JobOutcome> run() {
        calls.add("engine");
        return Future.succeededFuture(new JobOutcome(1, 0, 0, 0, 0, 0, 0, 0, null));
      }

      @Override
      public Future<JobOutcome> run(Direction flow) {
        calls.add("engine " + flow);
        return Future.succeededFuture(new JobOutcome(0, 1, 0, 0, 0, 0, 0, 0, null));
      }
    };
    JobRequest job = new JobRequest(7, kind, "M", direction, 1, parameters, null);
    return (TaskContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {TaskContext.class},
        (p, m, a) -> switch (m.getName()) {
          case "job" -> job;
          case "engine" -> engine;
          case "direction" -> direction != null ? direction : mapping;
          case "cancelled" -> false;
          default -> throw new UnsupportedOperationException(m.getName());
        });
  }

  private static JobOutcome await(Future<JobOutcome> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void withNothingOverriddenABidirectionalJobRunsBothWaysThroughTheEngine() throws Exception {
    JobOutcome o = await(new SyncTask() {}.run(context(JobKind.SYNC, null, null, Direction.BIDIRECTIONAL)));
    assertEquals(List.of("engine TO_CRM", "engine FROM_CRM"), calls);
    assertEquals(2, o.modified());
  }

  @Test
  void aTaskOverridesOnlyWhatDiffers() throws Exception {
    SyncTask task = new SyncTask() {
      @Override
      public Future<JobOutcome> fromCrm(TaskContext context) {
        calls.add("own FROM_CRM");
        return Future.succeededFuture(new JobOutcome(0, 0, 0, 0, 0, 1, 0, 0, null));
      }
    };
    JobOutcome o = await(task.run(context(JobKind.SYNC, null, null, Direction.BIDIRECTIONAL)));
    assertEquals(List.of("engine TO_CRM", "own FROM_CRM"), calls);
    assertEquals(1, o.modified());
    assertEquals(1, o.failed());
  }

  @Test
  void oneWayJobsRunOneWay() throws Exception {
    await(new SyncTask() {}.run(context(JobKind.SYNC, Direction.FROM_CRM, null, Direction.BIDIRECTIONAL)));
    assertEquals(List.of("engine FROM_CRM"), calls);
  }

  @Test
  void fullSynchronizationsAndSelectedRecordsGoToTheEngineWhole() throws Exception {
    await(new SyncTask() {}.run(context(JobKind.FULL_SYNC, Direction.TO_CRM, null, Direction.TO_CRM)));
    await(new SyncTask() {}.run(context(JobKind.SYNC, Direction.TO_CRM,
        new JsonObject().put("records", new io.vertx.core.json.JsonArray().add("1")), Direction.TO_CRM)));
    assertEquals(List.of("engine", "engine"), calls);
  }

  @Test
  void theHeaderLinesTaskRefusesERPToCRM() {
    Future<JobOutcome> f = new HeaderLinesTask().toCrm((TaskContext) Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {TaskContext.class}, (p, m, a) -> m.getName().equals("mapping")
            ? MappingDefinition.builder("ORDERS").erpKey("SalesOrder", "Document_Type", "No")
                .crm("salesorders", "salesorderid").direction(Direction.FROM_CRM).build() : null));
    assertEquals(ErrorKind.PERMANENT, ((TandemException) f.cause()).kind());
  }
}
