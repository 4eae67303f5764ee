package dev.tandem.runtime.jobs;

import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgScheduleStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;

/** A bare node for queue tests: its own Vert.x, pool and dispatcher, against a real PostgreSQL schema. */
final class QueueNode implements AutoCloseable {

  final Vertx vertx = Vertx.vertx();
  final Pool pool;
  final PgJobQueue queue;
  final PgScheduleStore schedules;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final JobMetrics metrics = new JobMetrics(registry);

  QueueNode(DatabaseSettings db) {
    pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(db.connectOptions()).using(vertx)
        .build();
    queue = new PgJobQueue(pool);
    schedules = new PgScheduleStore(pool);
  }

  QueueNode consume(String address, Handler<Message<JsonObject>> handler) throws Exception {
    vertx.eventBus().consumer(address, handler).completion().toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    return this;
  }

  QueueNode dispatch(String nodeId, JobSettings settings) throws Exception {
    return dispatch(new DispatcherVerticle(queue, settings, nodeId, m -> "no installed plugin provides mapping " + m,
        metrics));
  }

  QueueNode dispatch(DispatcherVerticle dispatcher) throws Exception {
    vertx.deployVerticle(dispatcher).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return this;
  }

  <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
