package dev.tandem.bench;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Match-based coupling at scale: N ERP customers against N CRM accounts, seeded into both simulators over their
 * admin APIs; a real node (the customers plugin jar, a throwaway PostgreSQL schema, both endpoints over HTTP) runs
 * one MATCH job of CUSTOMER through its job queue. 95% of the customers match one account on name and city, 2.5%
 * match two accounts each, 2.5% match none. Prints the job's time, records per second, and the heap: the JVM's
 * peak during the job (sampled every 5 ms, simulators' stores included) and its rise over the heap before the job.
 */
@Command(name = "coupling-benchmark", mixinStandardHelpOptions = true,
    description = "Measures match-based coupling of N ERP customers against N CRM accounts.")
public final class CouplingBenchmark implements Callable<Integer> {

  @Option(names = "--db", description = "PostgreSQL URL (default: ${DEFAULT-VALUE})",
      defaultValue = "${env:TANDEM_DB_URL:-postgresql://postgres@127.0.0.1:5432/test}")
  String url;

  @Option(names = "--records", defaultValue = "50000", description = "records per side (default: ${DEFAULT-VALUE})")
  int records;

  @Option(names = "--plugin", defaultValue = "plugins/customers/target/tandem-plugin-customers-0.1.0-SNAPSHOT.jar",
      description = "the customers plugin jar (default: ${DEFAULT-VALUE})")
  Path plugin;

  private final HttpClient http = HttpClient.newHttpClient();

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new CouplingBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(plugin)) {
      throw new IllegalArgumentException("plugin jar " + plugin.toAbsolutePath() + " not found: build plugins/customers");
    }
    String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    DatabaseSettings db = DatabaseSettings.parse(url, schema, 8, "--db");
    Path plugins = Files.createTempDirectory("tandem-bench-plugins-");
    Files.copy(plugin, plugins.resolve(plugin.getFileName()));
    ErpSimulator erp = new ErpSimulator(ErpSimulator.Options.defaults());
    DataverseSimulator crm = new DataverseSimulator();
    erp.start();
    crm.start();
    TandemRuntime rt = null;
    try {
      long s0 = System.nanoTime();
      int matching = records * 95 / 100;
      int twins = (records - matching) / 2;
      seed(erp.baseUrl(), crm.baseUrl(), matching, twins);
      System.out.printf(Locale.ROOT, "seeded %d ERP customers and %d CRM accounts in %.1f s%n", records,
          matching + 2 * twins, (System.nanoTime() - s0) / 1e9);

      Map<String, String> env = new HashMap<>();
      env.put(TandemConfig.ENV_DB_URL, url);
      env.put(TandemConfig.ENV_DB_SCHEMA, schema);
      env.put(TandemConfig.ENV_HTTP_PORT, "0");
      env.put(TandemConfig.ENV_ADMIN_TOKEN, "bench-" + UUID.randomUUID());
      env.put(TandemConfig.ENV_PLUGINS_DIR, plugins.toString());
      ErpSimulator.Options o = erp.options();
      TandemConfig config = TandemConfig.load(null, env).withDatabase(db)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withConnections(new Connections(ODataErpSettings.of(erp.serviceRoot(), o.company(), o.user(), o.accessKey()),
              DataverseSettings.of(crm.apiUrl(), crm.tokenUrl(), "tandem-sync", "tandem-secret", null)));
      rt = get(TandemRuntime.start(config));

      System.gc();
      long before = heapUsed();
      ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
      AtomicLong peak = new AtomicLong(before);
      Thread sampler = new Thread(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          peak.accumulateAndGet(heapUsed(), Math::max);
          try {
            Thread.sleep(5);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      sampler.setDaemon(true);
      sampler.start();
      long t0 = System.nanoTime();
      // The guard would refuse: customers carry no salesperson here, so the benchmark measures matching alone.
      long id = get(rt.enqueue(new NewJob(JobKind.MATCH, "CUSTOMER", null, new JsonObject(), 50, 1, null)));
      Job job;
      while (true) {
        job = get(rt.queue().get(id)).orElseThrow();
        if (job.status() != JobStatus.QUEUED && job.status() != JobStatus.RUNNING) {
          break;
        }
        Thread.sleep(20);
        if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) {
          throw new IllegalStateException("not done after 10 minutes");
        }
      }
      long t1 = System.nanoTime();
      sampler.interrupt();
      long poolPeak = ManagementFactory.getMemoryPoolMXBeans().stream()
          .filter(p -> p.getType() == MemoryType.HEAP).mapToLong(p -> p.getPeakUsage().getUsed()).sum();
      double secs = (t1 - t0) / 1e9;
      System.out.printf(Locale.ROOT, "job %d %s: %s%n", id, job.status(), job.counts().message());
      System.out.printf(Locale.ROOT, "match-based coupling: %d vs %d records in %.2f s (%.0f ERP records/s)%n",
          records, matching + 2 * twins, secs, records / secs);
      System.out.printf(Locale.ROOT, "heap: before %d MiB, peak %d MiB (sampled; GC pools' peak sum %d MiB), "
          + "rise %d MiB; max %d MiB%n", before >> 20, peak.get() >> 20, poolPeak >> 20, (peak.get() - before) >> 20,
          Runtime.getRuntime().maxMemory() >> 20);
      boolean ok = job.status() == JobStatus.SUCCEEDED && job.counts().coupled() == matching
          && job.counts().skipped() == records - matching;
      System.out.println(ok ? "counts as expected: " + matching + " coupled, " + (records - matching) + " not"
          : "UNEXPECTED counts: " + job.counts());
      return ok ? 0 : 1;
    } finally {
      if (rt != null) {
        get(rt.stop());
      }
      erp.stop();
      crm.stop();
      try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
          Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  private static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Customers 0..matching-1 match one account, the next {@code twins} match two each, the rest none. */
  private void seed(String erpBase, String crmBase, int matching, int twins) throws Exception {
    List<JsonObject> customers = new ArrayList<>();
    List<JsonObject> accounts = new ArrayList<>();
    for (int i = 0; i < records; i++) {
      String name = i < matching ? "Company " + i : i < matching + twins ? "Twin " + i : "Lonely " + i;
      String city = "City " + (i % 997);
      customers.add(new JsonObject().put("No", "B" + (100000 + i)).put("Name", name).put("City", city)
          .put("E_Mail", "c" + i + "@erp.example").put("Blocked", " "));
      int copies = i < matching ? 1 : i < matching + twins ? 2 : 0;
      for (int k = 0; k < copies; k++) {
        accounts.add(new JsonObject().put("name", i % 2 == 0 ? name.toUpperCase(Locale.ROOT) : name)
            .put("address1_city", city).put("emailaddress1", "a" + k + "-" + i + "@crm.example"));
      }
      if (customers.size() == 5000) {
        post(erpBase + "/__admin/sim/rows/Customer", customers);
        customers.clear();
      }
      if (accounts.size() >= 5000) {
        post(crmBase + "/__admin/sim/rows/accounts", accounts);
        accounts.clear();
      }
    }
    post(erpBase + "/__admin/sim/rows/Customer", customers);
    post(crmBase + "/__admin/sim/rows/accounts", accounts);
  }

  private void post(String url, List<JsonObject> rows) throws Exception {
    if (rows.isEmpty()) {
      return;
    }
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers
        .ofString(new JsonObject().put("rows", new JsonArray(new ArrayList<>(rows))).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + ": " + r.statusCode() + " " + r.body());
    }
  }

  private static <T> T get(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }
}
