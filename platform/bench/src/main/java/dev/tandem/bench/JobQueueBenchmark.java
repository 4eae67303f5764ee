package dev.tandem.bench;

import dev.tandem.api.Addresses;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.jobs.DispatcherVerticle;
import dev.tandem.runtime.jobs.JobMetrics;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.SchemaMigrator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Job queue throughput: enqueue, claim, run an empty job and complete it, with N dispatchers (each its own
 * Vert.x instance and pool, as separate nodes would have) against a real PostgreSQL, in a throwaway schema.
 */
@Command(name = "job-queue-benchmark", mixinStandardHelpOptions = true,
    description = "Measures end-to-end job queue throughput with competing dispatchers.")
public final class JobQueueBenchmark implements Callable<Integer> {

  /** Mappings the benchmark's jobs are spread over (the queue runs one job per mapping at a time). */
  static final int MAPPINGS = 256;

  @Option(names = "--db", description = "PostgreSQL URL (default: ${DEFAULT-VALUE})",
      defaultValue = "${env:TANDEM_DB_URL:-postgresql://postgres@127.0.0.1:5432/test}")
  String url;

  @Option(names = "--jobs", defaultValue = "20000", description = "jobs to run (default: ${DEFAULT-VALUE})")
  int jobs;

  @Option(names = "--dispatchers", defaultValue = "2", description = "competing dispatchers (default: ${DEFAULT-VALUE})")
  int dispatchers;

  @Option(names = "--concurrency", defaultValue = "128", description = "jobs in flight per dispatcher")
  int concurrency;

  @Option(names = "--batch", defaultValue = "128", description = "jobs claimed per query")
  int batch;

  @Option(names = "--pool", defaultValue = "4", description = "PostgreSQL connections per dispatcher")
  int poolSize;

  @Option(names = "--enqueue-batch", defaultValue = "1000", description = "jobs per enqueue statement")
  int enqueueBatch;

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new JobQueueBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    DatabaseSettings db = DatabaseSettings.parse(url, schema, poolSize, "--db");
    new SchemaMigrator(db).migrate();
    List<Vertx> nodes = new ArrayList<>();
    AtomicLong ran = new AtomicLong();
    try {
      Vertx producerVertx = Vertx.vertx();
      nodes.add(producerVertx);
      PgJobQueue producer = new PgJobQueue(pool(producerVertx, db));

      // Dispatchers idle until the clock starts: the first enqueue wakes them by polling.
      JobSettings settings = new JobSettings(concurrency, batch, 20, 30_000, 60_000, 3, 1_000, 10_000, 0);
      for (int i = 0; i < dispatchers; i++) {
        Vertx v = Vertx.vertx();
        nodes.add(v);
        // At most one job runs per mapping at a time: the load is spread over many mappings.
        for (int k = 0; k < MAPPINGS; k++) {
          v.eventBus().<io.vertx.core.json.JsonObject>consumer(Addresses.sync("BENCH-" + k), m -> {
            ran.incrementAndGet();
            m.reply(JobOutcome.EMPTY.toJson());
          });
        }
        PgJobQueue q = new PgJobQueue(pool(v, db));
        get(v.deployVerticle(new DispatcherVerticle(q, settings, "bench-node-" + i, m -> "none",
            new JobMetrics(new SimpleMeterRegistry()))));
      }

      long t0 = System.nanoTime();
      List<NewJob> chunk = new ArrayList<>(enqueueBatch);
      for (int i = 0; i < enqueueBatch; i++) {
        chunk.add(NewJob.of(JobKind.SYNC, "BENCH-" + (i % MAPPINGS)));
      }
      int enqueued = 0;
      while (enqueued < jobs) {
        int n = Math.min(enqueueBatch, jobs - enqueued);
        get(producer.enqueueAll(n == enqueueBatch ? chunk : chunk.subList(0, n), 3));
        enqueued += n;
      }
      long tEnqueued = System.nanoTime();
      long succeeded = 0;
      while (succeeded < jobs) {
        Thread.sleep(20);
        succeeded = count(db, "SELECT count(*) FROM job WHERE status = 'succeeded'");
        if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) {
          throw new IllegalStateException("not done after 10 minutes: " + succeeded + " of " + jobs);
        }
      }
      long t1 = System.nanoTime();
      long runs = ran.get();
      long failed = count(db, "SELECT count(*) FROM job WHERE status <> 'succeeded'");
      double secs = (t1 - t0) / 1e9;
      System.out.printf(Locale.ROOT, "jobs=%d dispatchers=%d concurrency=%d batch=%d pool=%d%n",
          jobs, dispatchers, concurrency, batch, poolSize);
      System.out.printf(Locale.ROOT, "enqueue only      : %.0f jobs/s (%.2f s)%n",
          jobs / ((tEnqueued - t0) / 1e9), (tEnqueued - t0) / 1e9);
      System.out.printf(Locale.ROOT, "end to end        : %.0f jobs/s (%d jobs in %.2f s: enqueue, claim, run, complete)%n",
          jobs / secs, jobs, secs);
      System.out.printf(Locale.ROOT, "handler runs      : %d (exactly once: %s), not succeeded: %d%n",
          runs, runs == jobs, failed);
      return runs == jobs && failed == 0 ? 0 : 1;
    } finally {
      for (Vertx v : nodes) {
        get(v.close());
      }
      try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private Pool pool(Vertx v, DatabaseSettings db) {
    return PgBuilder.pool().with(new PoolOptions().setMaxSize(db.poolSize())).connectingTo(db.connectOptions())
        .using(v).build();
  }

  private static long count(DatabaseSettings db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + db.schema());
      try (ResultSet rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static <T> T get(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
  }
}
