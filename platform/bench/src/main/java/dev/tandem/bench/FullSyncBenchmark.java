package dev.tandem.bench;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.config.TandemConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Full synchronization ERP to CRM, end to end: the two simulators run as child JVMs (so this JVM's heap cap is
 * Tandem's), seeded with N customers; a real Tandem node (this JVM, customers and items plugin jars, a fresh
 * PostgreSQL schema, schedules off) synchronizes CUSTOMER through the admin API, timed from enqueue to SUCCEEDED.
 * Two baselines on the same data: the copy floor (a bare client paging the ERP and writing the same $batch
 * upserts, no state) and the per-record mode (the same node with ERP pages of 1 and CRM batches of 1, as the
 * reference system works). Then an incremental run over N coupled customers of which a few changed, and
 * optionally ITEM-PRODUCT. Heap used after each GC is sampled throughout.
 */
@Command(name = "full-sync-benchmark", mixinStandardHelpOptions = true,
    description = "Measures Tandem's full synchronization ERP to CRM against a copy floor and per-record mode.")
public final class FullSyncBenchmark implements Callable<Integer> {

  @Option(names = "--db", description = "PostgreSQL URL (default: ${DEFAULT-VALUE})",
      defaultValue = "${env:TANDEM_DB_URL:-postgresql://postgres@127.0.0.1:5432/test}")
  String dbUrl;

  @Option(names = "--customers", defaultValue = "100000", description = "ERP customers (default: ${DEFAULT-VALUE})")
  int customers;

  @Option(names = "--items", defaultValue = "0", description = "ERP items for an ITEM-PRODUCT run; 0 skips it")
  int items;

  @Option(names = "--per-record", defaultValue = "2000",
      description = "customers for the per-record baseline; its rate is extrapolated; 0 skips it")
  int perRecord;

  @Option(names = "--changed", defaultValue = "100", description = "customers changed for the incremental run; 0 skips")
  int changed;

  @Option(names = "--later-runs", defaultValue = "0",
      description = "incremental runs after the steady state, each with --changed changes and every other one with "
          + "--deleted deletions in the ERP; 0 skips them")
  int laterRuns;

  @Option(names = "--deleted", defaultValue = "3", description = "ERP customers deleted in every other later run")
  int deleted;

  @Option(names = "--deletion-check-ms", defaultValue = "600000",
      description = "schedules.erpDeletionScanMs of the node: how often runs check the ERP for deletions; 0 checks "
          + "in every run (default: ${DEFAULT-VALUE})")
  long deletionCheckMs;

  @Option(names = "--parts", defaultValue = "0",
      description = "run Tandem's CUSTOMER as a full synchronization (POST /api/v1/full-sync/start) cut into this "
          + "many key ranges; 0 (default) runs it as an incremental sync from an empty watermark")
  int parts;

  @Option(names = "--no-copy-floor", description = "skip the copy floor baseline")
  boolean noCopyFloor;

  @Option(names = "--crm-profile", defaultValue = "fast",
      description = "the CRM simulator's cost model: fast (copy-floor runs) or realistic (Dataverse's costs and "
          + "service protection; prints the envelope) (default: ${DEFAULT-VALUE})")
  String crmProfile;

  @Option(names = "--time-scale", defaultValue = "1",
      description = "the CRM simulator's time scale: every cost and window times this (default: ${DEFAULT-VALUE})")
  double timeScale;

  @Option(names = "--crm-users", defaultValue = "1",
      description = "CRM application users Tandem spreads its work over (default: ${DEFAULT-VALUE})")
  int crmUsers;

  @Option(names = "--to-erp", description = "CRM to ERP instead: --customers CRM accounts to ERP customers through "
      + "the full synchronization, the ERP on the bc-online profile with the realistic cost model on --time-scale "
      + "(the CRM on --crm-profile); prints the ERP's envelope and the ERP requests throttled")
  boolean toErp;

  @Option(names = "--erp-profile", defaultValue = "nav",
      description = "the ERP simulator's profile for ERP to CRM: nav (Basic, no cost model) or bc-online (OAuth, BC's "
          + "request limits and the realistic cost model on --time-scale); --to-erp always uses bc-online "
          + "(default: ${DEFAULT-VALUE})")
  String erpProfile;

  @Option(names = "--sim-heap", description = "-Xmx of each simulator JVM (default: by the row count)")
  String simHeap;

  @Option(names = "--plugins", split = ",", description = "plugin jars (default: plugins/customers and plugins/items)")
  List<Path> pluginJars;

  private boolean bcOnline;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<Process> children = new ArrayList<>();
  private final HeapSampler heap = new HeapSampler();
  private String erpRoot;
  private String erpCompanyUrl;
  private String erpAuth;
  private String crmApi;
  private String crmToken;
  private String erpAdmin;
  private String crmAdmin;
  private String crmTokenUrl;
  private String erpTokenUrl;

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new FullSyncBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(this::killChildren));
    try {
      return run();
    } finally {
      killChildren();
    }
  }

  private void killChildren() {
    for (Process p : children) {
      p.destroyForcibly();
    }
  }

  private int run() throws Exception {
    System.out.printf(Locale.ROOT, "JVM max heap %d MB, %d cores, load %s%n", Runtime.getRuntime().maxMemory() >> 20,
        Runtime.getRuntime().availableProcessors(), Files.readString(Path.of("/proc/loadavg")).trim());
    int rows = Math.max(customers, items);
    String xmx = simHeap != null ? simHeap : Math.max(1024, rows / 1000 * 5) + "m";
    int erpPort = freePort();
    int crmPort = freePort();
    List<String> erpArgs = new ArrayList<>(List.of("--port", "" + erpPort, "--seed", "42", "--salespeople", "0",
        "--max-page-size", "5000"));
    boolean bcOnline = toErp || "bc-online".equals(erpProfile);
    this.bcOnline = bcOnline;
    if (bcOnline) {
      // Business Central online: OAuth, its request limits and the realistic cost model on the time scale.
      erpArgs.addAll(List.of("--profile", "bc-online", "--cost-profile", "realistic", "--time-scale", "" + timeScale));
    }
    startChild("ERP", xmx, jar("simulators/erp-odata/target", "tandem-sim-erp-odata-", "-standalone.jar"),
        erpArgs.toArray(new String[0]));
    startChild("CRM", xmx, jar("simulators/crm-dataverse/target", "tandem-sim-crm-dataverse-", "-standalone.jar"), "--port",
        "" + crmPort, "--seed", "42", "--systemusers", "5", "--profile", crmProfile, "--time-scale", "" + timeScale);
    erpRoot = bcOnline ? "http://localhost:" + erpPort + "/v2.0/tandem-tenant/Production/ODataV4"
        : "http://localhost:" + erpPort + "/BC/ODataV4";
    erpCompanyUrl = erpRoot + "/Company('" + URLEncoder.encode("CRONUS International Ltd.", StandardCharsets.UTF_8)
        .replace("+", "%20") + "')";
    erpAuth = "Basic " + Base64.getEncoder().encodeToString(
        "TANDEM:Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Cg==".getBytes(StandardCharsets.UTF_8));
    erpAdmin = "http://localhost:" + erpPort + "/__admin/sim";
    erpTokenUrl = "http://localhost:" + erpPort + "/tandem-tenant/oauth2/v2.0/token";
    if (bcOnline) {
      erpAuth = "Bearer " + new JsonObject(send("POST", erpTokenUrl, "grant_type=client_credentials&client_id="
          + "tandem-bc-sync&client_secret=tandem-bc-secret&scope=" + enc("https://api.businesscentral.dynamics.com/"
          + ".default"), "Content-Type", "application/x-www-form-urlencoded")).getString("access_token");
    }
    crmAdmin = "http://localhost:" + crmPort + "/__admin/sim";
    crmApi = "http://localhost:" + crmPort + "/api/data/v9.2";
    crmTokenUrl = "http://localhost:" + crmPort + "/tandem-tenant/oauth2/v2.0/token";
    crmToken = new JsonObject(send("POST", crmTokenUrl, "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + java.net.URLEncoder.encode("http://localhost:" + crmPort + "/.default", java.nio.charset.StandardCharsets.UTF_8),
        "Content-Type", "application/x-www-form-urlencoded"))
        .getString("access_token");

    for (int u = 2; u <= crmUsers; u++) {
      send("POST", crmAdmin + "/clients", new JsonObject().put("clientId", "tandem-sync-" + u)
          .put("clientSecret", "tandem-secret-" + u).put("applicationUser", true).encode(),
          "Content-Type", "application/json");
    }

    if (toErp) {
      return runToErp();
    }
    List<String> results = new ArrayList<>();
    double perRecordRate = 0;
    if (perRecord > 0) {
      seed(perRecord, 0);
      try (Node node = new Node(true)) {
        Run r = node.sync("CUSTOMER");
        perRecordRate = r.rate();
        results.add(String.format(Locale.ROOT, "per-record  CUSTOMER %,9d in %7.2f s = %,9.0f /s (ERP pages of 1, "
            + "CRM batches of 1; %,d customers would take %,.0f s)", r.written, r.seconds, r.rate(), customers,
            customers / r.rate()));
        System.out.println(results.get(results.size() - 1));
      }
    }
    seed(customers, items);
    long expected = erpCount("Customer", "Blocked eq ' '");
    double copyRate = 0;
    if (!noCopyFloor) {
      long t0 = System.nanoTime();
      long copied = copyFloor(expected);
      double s = (System.nanoTime() - t0) / 1e9;
      copyRate = copied / s;
      results.add(String.format(Locale.ROOT, "copy floor  CUSTOMER %,9d in %7.2f s = %,9.0f /s", copied, s, copyRate));
      System.out.println(results.get(results.size() - 1));
      resetCrm();
    }
    try (Node node = new Node(false)) {
      heap.start();
      Throttling throttling = new Throttling(node.metricsUrl());
      Run r = parts > 0 ? node.fullSync("CUSTOMER", parts) : node.sync("CUSTOMER");
      throttling.stop();
      long inCrm = crmCount("accounts");
      if ("realistic".equals(crmProfile)) {
        results.add(envelope(r, expected));
        System.out.println(results.get(results.size() - 1));
        double crmSeconds = throttling.writingSeconds();
        results.add(String.format(Locale.ROOT, "  of which CRM writing (first to last CRM request after the start): "
            + "%.1f s = %,.0f /s", crmSeconds, r.written / crmSeconds));
        System.out.println(results.get(results.size() - 1));
        results.add(throttling.summary(60_000 * timeScale));
        System.out.println(results.get(results.size() - 1));
        results.add(timeline(node, r));
        System.out.println(results.get(results.size() - 1));
      }
      if (r.inserted != expected || inCrm != expected) {
        throw new IllegalStateException("CUSTOMER inserted " + r.inserted + ", CRM holds " + inCrm + " accounts, "
            + "expected " + expected + ": " + r.job.encode());
      }
      results.add(String.format(Locale.ROOT, "Tandem      CUSTOMER %,9d in %7.2f s = %,9.0f /s%s%s", r.written,
          r.seconds, r.rate(), copyRate > 0 ? String.format(Locale.ROOT, "; %.2f of the copy floor", r.rate() / copyRate)
              : "", perRecordRate > 0 ? String.format(Locale.ROOT, "; %.0f x per-record", r.rate() / perRecordRate) : ""));
      System.out.println(results.get(results.size() - 1));
      // Two incremental runs: the first after the initial load also starts CRM change tracking and the periodic
      // ERP key scan (deletion detection); the second is the steady state a schedule sees.
      for (int round = 1; round <= 2 && changed > 0; round++) {
        changeCustomers(changed, round);
        Throttling incThrottling = new Throttling(node.metricsUrl());
        Run inc = node.sync("CUSTOMER");
        incThrottling.stop();
        if ("realistic".equals(crmProfile)) {
          results.add("  " + incThrottling.summary(0));
        }
        JsonObject c = inc.job.getJsonObject("counts");
        results.add(String.format(Locale.ROOT, "incremental CUSTOMER %,d changed of %,d coupled in %.2f s (%s): "
            + "inserted %d, modified %d, unchanged %d, failed %d (%s)", changed, expected, inc.seconds,
            round == 1 ? "first after the load" : "steady state", c.getLong("inserted"), c.getLong("modified"),
            c.getLong("unchanged"), c.getLong("failed"), check(inc.job)));
        System.out.println(results.get(results.size() - 1));
        if (c.getLong("modified") != changed || c.getLong("inserted") != 0) {
          throw new IllegalStateException("the incremental run should modify exactly " + changed + ": " + c.encode());
        }
      }
      for (int round = 3; round <= laterRuns + 2 && changed > 0; round++) {
        changeCustomers(changed, round);
        int gone = round % 2 == 0 ? deleteCustomers(deleted) : 0;
        Run inc = node.sync("CUSTOMER");
        JsonObject c = inc.job.getJsonObject("counts");
        results.add(String.format(Locale.ROOT, "later run %d: %,d changed, %d deleted in the ERP, in %.2f s: modified "
            + "%d, deleted %d, failed %d (%s)", round - 2, changed, gone, inc.seconds, c.getLong("modified"),
            c.getLong("deleted"), c.getLong("failed"), check(inc.job)));
        System.out.println(results.get(results.size() - 1));
      }
      if (laterRuns > 0) {
        results.add(keyScanBaseline());
        System.out.println(results.get(results.size() - 1));
      }
      if (items > 0) {
        node.sync("UNIT-OF-MEASURE");
        node.sync("UNIT-OF-MEASURE-BASE");
        Run ir = node.sync("ITEM-PRODUCT");
        results.add(String.format(Locale.ROOT, "Tandem      ITEM-PRODUCT %,5d in %7.2f s = %,9.0f /s", ir.written,
            ir.seconds, ir.rate()));
        System.out.println(results.get(results.size() - 1));
      }
      heap.stop();
    }
    System.out.println();
    results.forEach(System.out::println);
    System.out.println(heap.summary());
    return 0;
  }

  // ---- the Tandem node --------------------------------------------------------------------------------------

  private record Run(JsonObject job, long written, long inserted, double seconds) {
    double rate() {
      return written / seconds;
    }
  }

  private final class Node implements AutoCloseable {
    private final TandemRuntime rt;
    private final String api;
    private final Path dir;

    Node(boolean perRecordMode) throws Exception {
      dir = Files.createTempDirectory("tandem-bench");
      Path plugins = Files.createDirectories(dir.resolve("plugins"));
      for (Path j : pluginJars != null ? pluginJars : List.of(jar("plugins/customers/target", "tandem-plugin-customers-"),
          jar("plugins/items/target", "tandem-plugin-items-"))) {
        Files.copy(j, plugins.resolve(j.getFileName()));
      }
      String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
      JsonObject erp = bcOnline
          ? new JsonObject().put("profile", "bc-online").put("url", erpRoot).put("company", "CRONUS International Ltd.")
              .put("clientId", "tandem-bc-sync").put("clientSecret", "tandem-bc-secret").put("tokenUrl", erpTokenUrl)
              // BC's request limits on the simulator's time scale (the window shrinks with it).
              .put("requestLimits", new JsonObject().put("windowMs", Math.round(300_000 * timeScale)))
          : new JsonObject().put("url", erpRoot).put("company", "CRONUS International Ltd.")
              .put("user", "TANDEM").put("accessKey", "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Cg==");
      JsonObject crm = new JsonObject().put("url", crmApi).put("tokenUrl", crmTokenUrl).put("clientId", "tandem-sync")
          .put("clientSecret", "tandem-secret");
      if (perRecordMode) {
        erp.put("pageSize", 1);
        crm.put("batchSize", 1);
      }
      if ("realistic".equals(crmProfile)) {
        // Dataverse's limits on the simulator's time scale, so Tandem paces itself inside them.
        crm.put("serviceProtection", new JsonObject().put("executionMs", Math.round(1_200_000 * timeScale))
            .put("windowMs", Math.round(300_000 * timeScale)));
      }
      JsonArray more = new JsonArray();
      for (int u = 2; u <= crmUsers; u++) {
        more.add(new JsonObject().put("clientId", "tandem-sync-" + u).put("clientSecret", "tandem-secret-" + u));
      }
      crm.put("moreClients", more);
      JsonObject config = new JsonObject()
          .put("database", new JsonObject().put("url", dbUrl).put("schema", schema)
              .put("poolSize", Math.max(8, parts + 8)))
          .put("http", new JsonObject().put("host", "127.0.0.1").put("port", freePort()))
          .put("adminToken", "tandem-bench-admin-token")
          .put("pluginsDir", plugins.toString())
          .put("schedules", new JsonObject().put("enabled", false).put("erpDeletionScanMs", deletionCheckMs))
          .put("jobs", new JsonObject().put("maxConcurrent", Math.max(16, parts)))
          .put("connections", new JsonObject().put("erp", erp).put("crm", crm));
      Path file = dir.resolve("tandem.json");
      Files.writeString(file, config.encodePrettily());
      rt = TandemRuntime.start(TandemConfig.load(file, Map.of())).toCompletionStage().toCompletableFuture()
          .get(120, TimeUnit.SECONDS);
      api = "http://127.0.0.1:" + rt.httpPort() + "/api/v1";
      if (pluginJars == null || pluginJars.stream().anyMatch(j -> j.getFileName().toString().contains("customers"))) {
        // CUSTOMER's option columns resolve through the option-set mappings: their few codes go first.
        for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT")) {
          sync(m);
        }
      }
    }

    String metricsUrl() {
      return "http://127.0.0.1:" + rt.httpPort() + "/metrics";
    }

    Run sync(String mapping) throws Exception {
      long t0 = System.nanoTime();
      long lastProgress = t0;
      JsonObject reply = new JsonObject(send("POST", api + "/mappings/" + mapping + "/sync", "{\"direction\":\"TO_CRM\"}",
          "Authorization", "Bearer tandem-bench-admin-token", "Content-Type", "application/json"));
      long id = reply.getLong("jobId");
      while (true) {
        JsonObject job = new JsonObject(send("GET", api + "/jobs/" + id, null, "Authorization", "Bearer tandem-bench-admin-token"));
        String status = job.getString("status");
        if ("SUCCEEDED".equals(status)) {
          double s = (System.nanoTime() - t0) / 1e9;
          JsonObject c = job.getJsonObject("counts");
          return new Run(job, c.getLong("inserted") + c.getLong("modified"), c.getLong("inserted"), s);
        }
        if ("FAILED".equals(status) || "CANCELLED".equals(status) || "DEAD".equals(status)) {
          throw new IllegalStateException(mapping + " sync ended " + status + ": " + job.encode());
        }
        if (System.nanoTime() - lastProgress > 10_000_000_000L) {
          lastProgress = System.nanoTime();
          System.out.printf(Locale.ROOT, "  %s %.0f s: CRM holds %,d accounts; %s%n", mapping, (lastProgress - t0) / 1e9,
              crmCount("accounts"), heap.now());
        }
        Thread.sleep(50);
      }
    }

    /** A full synchronization of one mapping through the review's start, its line cut into key ranges. */
    Run fullSync(String mapping, int ranges) throws Exception {
      return fullSync(mapping, ranges, "toCrm");
    }

    /** @param side {@code toCrm} or {@code fromCrm}: the line's direction whose counts are the result */
    Run fullSync(String mapping, int ranges, String side) throws Exception {
      String auth = "Bearer tandem-bench-admin-token";
      long t0 = System.nanoTime();
      long lastProgress = t0;
      String started = send("POST", api + "/full-sync/start", new JsonObject().put("mappings",
          new io.vertx.core.json.JsonArray().add(mapping)).put("parts", ranges).put("splitAtRows", 1).encode(),
          "Authorization", auth, "Content-Type", "application/json");
      if (!started.contains("runId")) {
        throw new IllegalStateException("full synchronization refused: " + started);
      }
      int pollFailures = 0;
      while (true) {
        JsonObject review;
        try {
          review = new JsonObject(send("GET", api + "/full-sync?counts=false", null, "Authorization", auth));
          pollFailures = 0;
        } catch (BenchSupport.Unavailable e) {
          // A loaded node may find no free PostgreSQL connection for the status read (503 with Retry-After); the
          // line itself retries its pages. Any other failure, or a 503 that persists, ends the run.
          if (++pollFailures > 60) {
            throw e;
          }
          System.out.println("  status read unavailable, retrying in " + e.retryAfterSeconds + " s: "
              + e.getMessage());
          Thread.sleep(1000 * e.retryAfterSeconds);
          continue;
        }
        JsonObject run = review.getJsonObject("run");
        if (run != null && !"RUNNING".equals(run.getString("status"))) {
          double sec = (System.nanoTime() - t0) / 1e9;
          JsonObject line = review.getJsonArray("lines").stream().map(JsonObject.class::cast)
              .filter(l -> mapping.equals(l.getString("mapping"))).findFirst().orElseThrow();
          if (!"SUCCEEDED".equals(run.getString("status"))) {
            String errors = send("GET", api + "/errors?mapping=" + mapping + "&limit=3", null, "Authorization", auth);
            throw new IllegalStateException("full synchronization ended " + run.encode() + ": " + line.encode()
                + "; errors: " + errors.substring(0, Math.min(1500, errors.length())));
          }
          JsonObject c = line.getJsonObject(side).getJsonObject("counts");
          return new Run(line, c.getLong("inserted") + c.getLong("modified"), c.getLong("inserted"), sec);
        }
        if (System.nanoTime() - lastProgress > 10_000_000_000L) {
          lastProgress = System.nanoTime();
          System.out.printf(Locale.ROOT, "  %s full sync %.0f s: CRM holds %,d accounts; %s%n", mapping,
              (lastProgress - t0) / 1e9, crmCount("accounts"), heap.now());
        }
        Thread.sleep(100);
      }
    }

    @Override
    public void close() throws Exception {
      rt.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  // ---- the realistic profile: envelope and throttling ----------------------------------------------------------

  /**
   * The highest rate Dataverse's limits allow for Tandem's write of N customers: one $batch of 1000 upserts with
   * return=representation per page, each operation charging request + upsert + representation, the request one
   * more request cost. With U users the budget B (1,200,000 ms per window W of 300 s, both scaled) and the
   * concurrency C (52) grow U times. Work E that fits into one window runs at C requests' worth of execution at
   * once (E / C). More runs in bursts: a charge stays in the sliding window for W, so however the work is spread, at
   * most B fits into any span of W, and E needs k = ceil(E / B) windows' worth — the last burst starts (k - 1) W
   * after the first and runs (E - (k - 1) B) / C. (Until this was corrected the envelope read W (E / B - 1) + B / C,
   * as if the budget came back continuously: 703 s instead of 906 s for 98,020 customers and one user.)
   */
  /**
   * @param e the work, ms of execution
   * @param b the budget per window, ms
   * @param w the window, ms
   * @param conc requests at once
   * @return the least seconds a sliding-window budget allows for the work: k = ceil(e / b) bursts, one per window
   */
  static double windowedSeconds(double e, double b, double w, double conc) {
    double k = Math.max(1, Math.ceil(e / b));
    return ((k - 1) * w + (e - (k - 1) * b) / conc) / 1000;
  }

  /**
   * The envelope of the line Tandem runs, from the simulator's own cost profile and limits ({@code GET
   * /__admin/sim/costs}, {@code /limits}) and its admission rule ({@link CrmEnvelope}): the two one-row reads that
   * mark the CRM when the line starts, the writes (one {@code $batch} of at most 1000 upserts by alternate key with
   * return=representation per ERP page: request + part + upsert + representation per record, one request cost per
   * batch), then the line's last job (the newest-stamp read and every CRM id read once with change tracking, pages
   * of 5000 one after the other). The older bound ({@link #windowedSeconds}: the budget never exceeded, the writes
   * only) is printed beside it.
   */
  private String envelope(Run r, long n) throws Exception {
    JsonObject c = new JsonObject(send("GET", crmAdmin + "/costs", null));
    JsonObject lim = new JsonObject(send("GET", crmAdmin + "/limits", null));
    double req = c.getDouble("requestMs");
    double row = c.getDouble("readRowMs");
    double perOp = req + c.getDouble("upsertMs") + c.getDouble("representationMs");
    double budget = lim.getDouble("executionMs") * timeScale * crmUsers;
    double window = lim.getDouble("windowMs") * timeScale;
    int conc = lim.getInteger("concurrent") * crmUsers;
    CrmEnvelope.Limits limits = new CrmEnvelope.Limits(budget, window, conc, lim.getInteger("requests") * crmUsers,
        c.getDouble("latencyMs") * timeScale);
    List<Double> marks = new ArrayList<>(CrmEnvelope.pages(1, 1, req, row, timeScale));
    marks.addAll(CrmEnvelope.pages(1, 1, req, row, timeScale));
    List<Double> writes = CrmEnvelope.pages(n, 1000, req, perOp, timeScale);
    List<Double> tracking = new ArrayList<>(CrmEnvelope.pages(1, 1, req, row, timeScale));
    tracking.addAll(CrmEnvelope.pages(n, 5000, req, row, timeScale));
    CrmEnvelope.Result line = CrmEnvelope.schedule(List.of(new CrmEnvelope.Phase("marks", marks, false),
        new CrmEnvelope.Phase("writes", writes, false), new CrmEnvelope.Phase("tracking", tracking, true)), limits);
    double e = timeScale * (n * perOp + Math.ceil(n / 1000.0) * req);
    double old = windowedSeconds(e, budget, window, conc);
    double envelopeRate = n / line.seconds();
    lastEnvelope = line;
    return String.format(Locale.ROOT, "envelope    CUSTOMER %,9d in %7.2f s = %,9.0f /s (realistic profile, time scale "
        + "%s, %d application user(s); the line's %d CRM requests, %.0f s of execution: %.0f ms per record written, "
        + "the id read %.1f s; the simulator's rules: admitted under the budget, charged at the end); writes done at "
        + "%.1f s, tracking read %.1f s; Tandem %.2f of the envelope (the older bound, budget never exceeded, writes "
        + "only: %.1f s, Tandem %.2f of it)", n, line.seconds(), envelopeRate, timeScale, crmUsers, line.requests(),
        line.executionMs() / 1000, perOp, tracking.stream().mapToDouble(Double::doubleValue).sum() / 1000,
        line.phaseEndSeconds().get(1), line.phaseEndSeconds().get(2) - line.phaseEndSeconds().get(1),
        r.rate() / envelopeRate, old, r.rate() / (n / old));
  }

  private CrmEnvelope.Result lastEnvelope;

  /**
   * Where the line's time went: its range jobs and its last (tracking) job from the node's job log, and what the CRM
   * simulator charged (requests, execution) against what the envelope's workload needs.
   */
  private String timeline(Node node, Run r) throws Exception {
    JsonArray jobs = new JsonObject(send("GET", node.api + "/jobs?mapping=CUSTOMER&kind=FULL_SYNC&limit=1000", null,
        "Authorization", "Bearer tandem-bench-admin-token")).getJsonArray("jobs");
    java.time.Instant t0 = null;
    java.time.Instant lastRange = null;
    java.time.Instant firstStart = null;
    JsonObject track = null;
    for (Object o : jobs) {
      JsonObject j = (JsonObject) o;
      java.time.Instant created = java.time.Instant.parse(j.getString("createdAt"));
      t0 = t0 == null || created.isBefore(t0) ? created : t0;
      if (j.getJsonObject("parameters", new JsonObject()).getBoolean("track", false)) {
        track = j;
      } else if (j.getString("finishedAt") != null) {
        java.time.Instant f = java.time.Instant.parse(j.getString("finishedAt"));
        lastRange = lastRange == null || f.isAfter(lastRange) ? f : lastRange;
        java.time.Instant st = java.time.Instant.parse(j.getString("startedAt"));
        firstStart = firstStart == null || st.isBefore(firstStart) ? st : firstStart;
      }
    }
    JsonObject users = new JsonObject(send("GET", crmAdmin + "/usage", null)).getJsonObject("users");
    long requests = 0;
    long throttled = 0;
    double ms = 0;
    for (String u : users.fieldNames()) {
      requests += users.getJsonObject(u).getLong("requests");
      throttled += users.getJsonObject(u).getLong("throttled");
      ms += users.getJsonObject(u).getDouble("executionMs");
    }
    java.time.Instant base = t0;
    java.util.function.Function<String, Double> at = ts -> ts == null ? Double.NaN
        : java.time.Duration.between(base, java.time.Instant.parse(ts)).toMillis() / 1000.0;
    String trackPart = track == null ? "no tracking job" : String.format(Locale.ROOT, "tracking job created %.1f s, "
        + "started %.1f s, ended %.1f s", at.apply(track.getString("createdAt")), at.apply(track.getString("startedAt")),
        at.apply(track.getString("finishedAt")));
    return String.format(Locale.ROOT, "  where the time went (from the first job's creation): range jobs started %.1f s, "
        + "the last ended %.1f s; %s; the line %.1f s in all. The CRM simulator charged %,d requests (%d refused) and "
        + "%.0f s of execution (%.1f ms per record; the envelope's workload: %d requests, %.0f s)",
        at.apply(firstStart == null ? null : firstStart.toString()), at.apply(lastRange == null ? null
            : lastRange.toString()), trackPart, r.seconds, requests, throttled, ms / 1000, ms / Math.max(1, r.written),
        lastEnvelope == null ? 0 : lastEnvelope.requests(), lastEnvelope == null ? 0
            : lastEnvelope.executionMs() / 1000);
  }

  /**
   * CRM to ERP: the CRM holds N accounts, the ERP (bc-online, realistic costs) no customers; the full
   * synchronization creates them all, timed from its start to its end, against the ERP's envelope.
   */
  private int runToErp() throws Exception {
    send("POST", erpAdmin + "/reset", "");
    send("POST", erpAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("SalespersonPurchaser", 0).put("Customer", 0).put("Item", 0)).encode(), "Content-Type", "application/json");
    long t0 = System.nanoTime();
    send("POST", crmAdmin + "/reset", "");
    send("POST", crmAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("systemusers", 5).put("accounts", customers)).encode(), "Content-Type", "application/json");
    long accounts = crmCount("accounts");
    System.out.printf(Locale.ROOT, "seeded %,d CRM accounts, ERP customers %,d, in %.1f s%n", accounts,
        erpCount("Customer", null), (System.nanoTime() - t0) / 1e9);
    List<String> results = new ArrayList<>();
    try (Node node = new Node(false)) {
      // The accounts' owners are CRM users no salesperson is coupled with: the owner lookup is switched off, as
      // an operator would before the salespeople are coupled.
      send("PATCH", node.api + "/mappings/CUSTOMER", new JsonObject().put("disabledFields", new JsonArray()
          .add("Salesperson_Code")).encode(), "Authorization", "Bearer tandem-bench-admin-token", "Content-Type",
          "application/json");
      heap.start();
      Throttling throttling = new Throttling(node.metricsUrl(), "ERP");
      Run r = node.fullSync("CUSTOMER", Math.max(1, parts), "fromCrm");
      throttling.stop();
      heap.stop();
      long inErp = erpCount("Customer", null);
      results.add(erpEnvelope(r, r.written));
      results.add(String.format(Locale.ROOT, "  of which ERP writing (first to last ERP request after the start): "
          + "%.1f s = %,.0f /s", throttling.writingSeconds(), r.written / throttling.writingSeconds()));
      results.add(throttling.summary(60_000 * timeScale));
      results.add(String.format(Locale.ROOT, "Tandem      CUSTOMER CRM->ERP %,9d in %7.2f s = %,9.0f /s; the ERP "
          + "holds %,d customers, the CRM %,d accounts; job %s", r.written, r.seconds, r.rate(), inErp, accounts,
          r.job.getJsonObject("fromCrm").getJsonObject("counts").encode()));
      if (r.inserted != inErp) {
        throw new IllegalStateException("CUSTOMER inserted " + r.inserted + ", the ERP holds " + inErp + ": "
            + r.job.encode());
      }
      // Exactly one ERP customer per account: every seeded account is active (statecode 0, CUSTOMER's CRM filter),
      // each is coupled once, and no ERP customer is coupled twice.
      java.util.Set<String> crmIds = new java.util.HashSet<>();
      java.util.Set<String> erpIds = new java.util.HashSet<>();
      long couplingRows = 0;
      for (long after = 0; ; ) {
        JsonArray page = new JsonObject(send("GET", node.api + "/couplings?mapping=CUSTOMER&limit=5000&after=" + after,
            null, "Authorization", "Bearer tandem-bench-admin-token")).getJsonArray("couplings");
        for (int i = 0; i < page.size(); i++) {
          JsonObject c = page.getJsonObject(i);
          couplingRows++;
          crmIds.add(c.getString("crmId"));
          erpIds.add(c.getString("erpId"));
        }
        if (page.size() < 5000) {
          break;
        }
        after = page.getJsonObject(page.size() - 1).getLong("id");
      }
      results.add(String.format(Locale.ROOT, "exactness  %,d accounts, %,d ERP customers, %,d couplings (%,d accounts, "
          + "%,d ERP customers)", accounts, inErp, couplingRows, crmIds.size(), erpIds.size()));
      if (inErp != accounts || couplingRows != accounts || crmIds.size() != accounts || erpIds.size() != accounts) {
        throw new IllegalStateException("expected one ERP customer per CRM account: " + results.get(results.size() - 1));
      }
    }
    System.out.println();
    results.forEach(System.out::println);
    System.out.println(heap.summary());
    return 0;
  }

  /**
   * The shortest time Business Central's limits allow for creating N customers in JSON $batch requests of 100:
   * each insert holds one of the user's 5 processing slots for request + insert ms (the $batch request one more
   * request ms), all scaled; and at most 6,000 requests per 5-minute window (scaled). The larger bound wins.
   */
  private String erpEnvelope(Run r, long n) throws Exception {
    JsonObject c = new JsonObject(send("GET", erpAdmin + "/costs", null));
    double perOp = c.getDouble("requestMs") + c.getDouble("insertMs");
    long requests = (n + 99) / 100;
    double work = timeScale * (n * perOp + requests * c.getDouble("requestMs"));
    double bySlots = work / 5;
    double w = 300_000 * timeScale;
    double byRequests = requests <= 6000 ? 0 : w * (requests / 6000.0 - 1);
    double t = Math.max(bySlots, byRequests) / 1000;
    double envelopeRate = n / t;
    return String.format(Locale.ROOT, "envelope    CUSTOMER CRM->ERP %,9d in %7.2f s = %,9.0f /s (bc-online, realistic "
        + "costs, time scale %s: %.0f ms per insert on 5 processing slots, %,d $batch requests); Tandem %.2f of the "
        + "envelope; the ERP simulator answered %d requests with 429", n, t, envelopeRate, timeScale, perOp,
        requests, r.rate() / envelopeRate, c.getLong("throttled", 0L));
  }

  /** Samples the node's CRM request and 429 counters every 250 ms while a run goes. */
  private final class Throttling {
    private final List<long[]> samples = new java.util.concurrent.CopyOnWriteArrayList<>(); // {ms, all, 429}
    private final long t0 = System.currentTimeMillis();
    private final Thread thread;
    private volatile boolean on = true;

    private final String endpoint;

    Throttling(String url) {
      this(url, "CRM");
    }

    Throttling(String url, String endpoint) {
      this.endpoint = endpoint;
      thread = new Thread(() -> {
        while (on) {
          try {
            long[] s = counts(send("GET", url, null));
            samples.add(new long[] {System.currentTimeMillis() - t0, s[0], s[1]});
            Thread.sleep(250);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            // the node is stopping
          }
        }
      }, "throttling-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    private long[] counts(String metrics) {
      long all = 0;
      long throttled = 0;
      for (String line : metrics.split("\n")) {
        if (line.startsWith("tandem_endpoint_requests_total{") && line.contains("endpoint=\"" + endpoint + "\"")) {
          long v = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          all += v;
          if (line.contains("status=\"429\"")) {
            throttled += v;
          }
        }
      }
      return new long[] {all, throttled};
    }

    void stop() throws InterruptedException {
      on = false;
      thread.interrupt();
      thread.join();
    }

    /** @return seconds from the first sample with more CRM requests than at the start to the last change */
    double writingSeconds() {
      if (samples.size() < 2) {
        return Double.NaN;
      }
      long base = samples.get(0)[1];
      long from = -1;
      long to = -1;
      long prev = base;
      for (long[] s : samples) {
        if (s[1] > base + 20 && from < 0) {
          from = s[0];
        }
        if (s[1] != prev) {
          to = s[0];
        }
        prev = s[1];
      }
      return from < 0 || to <= from ? Double.NaN : (to - from) / 1000.0;
    }

    /** @param afterMs the warm-up (the first minute on the time scale) left out of the second figure */
    String summary(double afterMs) {
      if (samples.isEmpty()) {
        return "throttled: no samples";
      }
      long[] first = samples.get(0);
      long[] last = samples.get(samples.size() - 1);
      long[] at = first;
      for (long[] s : samples) {
        if (s[0] <= afterMs) {
          at = s;
        }
      }
      long all = last[1] - first[1];
      long thr = last[2] - first[2];
      long allAfter = last[1] - at[1];
      long thrAfter = last[2] - at[2];
      return String.format(Locale.ROOT, "%s requests %,d, throttled %,d (%.2f %%); after the first %.1f s: %,d, "
          + "throttled %,d (%.2f %%)", endpoint, all, thr, all == 0 ? 0 : 100.0 * thr / all, afterMs / 1000,
          allAfter, thrAfter, allAfter == 0 ? 0 : 100.0 * thrAfter / allAfter);
    }
  }

  // ---- the copy floor ----------------------------------------------------------------------------------------

  /**
   * Pages the ERP with Tandem's page size, filter, order and fields, and writes each page as one multipart $batch
   * of PATCH upserts to the CRM, as Tandem does, one request in flight, no state.
   */
  private long copyFloor(long expected) throws Exception {
    String[][] fields = {{"Name", "name"}, {"Address", "address1_line1"}, {"Address_2", "address1_line2"},
        {"City", "address1_city"}, {"Post_Code", "address1_postalcode"}, {"County", "address1_county"},
        {"Phone_No", "telephone1"}, {"Fax_No", "fax"}, {"E_Mail", "emailaddress1"}, {"Home_Page", "websiteurl"},
        {"No", "accountnumber"}, {"Credit_Limit_LCY", "creditlimit"}};
    StringBuilder select = new StringBuilder("No,SystemModifiedAt,Salesperson_Code,Payment_Terms_Code,"
        + "Shipment_Method_Code");
    for (String[] f : fields) {
      if (!f[0].equals("No")) {
        select.append(',').append(f[0]);
      }
    }
    String next = erpCompanyUrl + "/Customer?$filter=" + enc("Blocked eq ' '") + "&$orderby=SystemModifiedAt&$select="
        + select;
    long written = 0;
    while (next != null) {
      JsonObject page = new JsonObject(send("GET", next, null, "Authorization", erpAuth, "Prefer",
          "odata.maxpagesize=1000", "Accept", "application/json"));
      JsonArray rows = page.getJsonArray("value");
      String boundary = "batch_" + UUID.randomUUID();
      StringBuilder b = new StringBuilder(rows.size() * 700);
      for (int i = 0; i < rows.size(); i++) {
        JsonObject row = rows.getJsonObject(i);
        JsonObject body = new JsonObject();
        for (String[] f : fields) {
          body.put(f[1], row.getValue(f[0]));
        }
        body.put("customertypecode", 3);
        String id = UUID.nameUUIDFromBytes(("copy:" + row.getString("No")).getBytes(StandardCharsets.UTF_8)).toString();
        b.append("--").append(boundary).append("\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: "
            + "binary\r\nContent-ID: ").append(i + 1).append("\r\n\r\nPATCH /api/data/v9.2/accounts(").append(id)
            .append(") HTTP/1.1\r\nContent-Type: application/json\r\nPrefer: return=representation\r\n\r\n")
            .append(body.encode()).append("\r\n");
      }
      b.append("--").append(boundary).append("--\r\n");
      if (!rows.isEmpty()) {
        send("POST", crmApi + "/$batch", b.toString(), "Authorization", "Bearer " + crmToken, "Content-Type",
            "multipart/mixed; boundary=" + boundary, "Prefer", "odata.continue-on-error");
        written += rows.size();
      }
      next = page.getString("@odata.nextLink");
    }
    long inCrm = crmCount("accounts");
    if (written != expected || inCrm != expected) {
      throw new IllegalStateException("copy floor wrote " + written + ", CRM holds " + inCrm + ", expected " + expected);
    }
    return written;
  }

  // ---- simulators ----------------------------------------------------------------------------------------------

  private void seed(int customerCount, int itemCount) throws Exception {
    long t0 = System.nanoTime();
    send("POST", erpAdmin + "/reset", "");
    send("POST", erpAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("SalespersonPurchaser", 0).put("Customer", customerCount).put("Item", itemCount)).encode(),
        "Content-Type", "application/json");
    resetCrm();
    System.out.printf(Locale.ROOT, "seeded %,d customers, %,d items in %.1f s%n", customerCount, itemCount,
        (System.nanoTime() - t0) / 1e9);
  }

  private void resetCrm() throws Exception {
    send("POST", crmAdmin + "/reset", "");
    send("POST", crmAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("systemusers", 5)).encode(), "Content-Type", "application/json");
  }

  private long crmCount(String set) throws Exception {
    return new JsonObject(send("GET", crmAdmin + "/counts", null)).getLong(set, 0L);
  }

  private long erpCount(String service, String filter) throws Exception {
    return new JsonObject(send("GET", erpCompanyUrl + "/" + service + "?$count=true&$top=0"
        + (filter == null ? "" : "&$filter=" + enc(filter)), null,
        "Authorization", erpAuth, "Accept", "application/json")).getLong("@odata.count");
  }

  /** @return the deletion check's line of a job's message, or that none was due */
  private static String check(JsonObject job) {
    String m = job.getString("message", "");
    int at = m.indexOf("ERP deletion check:");
    return at < 0 ? "no ERP deletion check due" : m.substring(at);
  }

  /** Deletes the {@code n} last customers (by key) that pass the mapping's filter, through the ERP's OData DELETE. */
  private int deleteCustomers(int n) throws Exception {
    JsonArray keys = new JsonObject(send("GET", erpCompanyUrl + "/Customer?$select=No&$filter=" + enc("Blocked eq ' '")
        + "&$orderby=" + enc("No desc") + "&$top=" + n, null, "Authorization", erpAuth, "Accept", "application/json"))
        .getJsonArray("value");
    for (int i = 0; i < keys.size(); i++) {
      send("DELETE", erpCompanyUrl + "/Customer('" + keys.getJsonObject(i).getString("No") + "')", null,
          "Authorization", erpAuth, "If-Match", "*");
    }
    return keys.size();
  }

  /**
   * The deletion check before key ranges: one key-only read of every ERP customer at Tandem's page size (1,000),
   * as DeletionSync did once per interval; its requests and time.
   */
  private String keyScanBaseline() throws Exception {
    long t0 = System.nanoTime();
    int requests = 0;
    long keys = 0;
    String next = erpCompanyUrl + "/Customer?$select=No";
    while (next != null) {
      JsonObject page = new JsonObject(send("GET", next, null, "Authorization", erpAuth, "Prefer",
          "odata.maxpagesize=1000", "Accept", "application/json"));
      requests++;
      keys += page.getJsonArray("value").size();
      next = page.getString("@odata.nextLink");
    }
    return String.format(Locale.ROOT, "the previous deletion check (every ERP key, pages of 1,000): %,d ERP requests "
        + "for %,d keys in %.2f s", requests, keys, (System.nanoTime() - t0) / 1e9);
  }

  /** Changes the name of {@code n} customers spread over the key range, through the ERP's OData PATCH. */
  private void changeCustomers(int n, int round) throws Exception {
    JsonArray keys = new JsonObject(send("GET", erpCompanyUrl + "/Customer?$select=No&$filter=" + enc("Blocked eq ' '")
        + "&$top=" + n, null, "Authorization", erpAuth, "Accept", "application/json")).getJsonArray("value");
    for (int i = 0; i < keys.size(); i++) {
      String no = keys.getJsonObject(i).getString("No");
      send("PATCH", erpCompanyUrl + "/Customer('" + no + "')", new JsonObject().put("Name", "Changed " + round + " " + no).encode(),
          "Authorization", erpAuth, "If-Match", "*", "Content-Type", "application/json");
    }
  }

  private void startChild(String name, String xmx, Path jar, String... args) throws Exception {
    BenchSupport.startChild(children, name, xmx, true, jar, args);
  }

  private static Path jar(String dir, String prefix) {
    return BenchSupport.jar(dir, prefix, ".jar");
  }

  private static Path jar(String dir, String prefix, String suffix) {
    return BenchSupport.jar(dir, prefix, suffix);
  }

  private static int freePort() throws Exception {
    return BenchSupport.freePort();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String send(String method, String url, String body, String... headers) throws Exception {
    return BenchSupport.send(http, method, url, body, headers);
  }

  // ---- heap --------------------------------------------------------------------------------------------------

  /** Heap used after each garbage collection (every heap pool after GC), from the GC notifications. */
  private static final class HeapSampler {
    private final AtomicLong first = new AtomicLong(-1);
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong last = new AtomicLong();
    private final AtomicLong gcs = new AtomicLong();
    private volatile boolean on;

    HeapSampler() {
      for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        ((NotificationEmitter) gc).addNotificationListener((n, h) -> {
          if (!on || !"com.sun.management.gc.notification".equals(n.getType())) {
            return;
          }
          CompositeData info = (CompositeData) ((CompositeData) n.getUserData()).get("gcInfo");
          long used = 0;
          for (Object v : ((javax.management.openmbean.TabularData) info.get("memoryUsageAfterGc")).values()) {
            CompositeData entry = (CompositeData) v;
            String pool = (String) entry.get("key");
            if (isHeap(pool)) {
              used += MemoryUsage.from((CompositeData) entry.get("value")).getUsed();
            }
          }
          first.compareAndSet(-1, used);
          peak.accumulateAndGet(used, Math::max);
          last.set(used);
          gcs.incrementAndGet();
        }, null, null);
      }
    }

    private static boolean isHeap(String pool) {
      for (var p : ManagementFactory.getMemoryPoolMXBeans()) {
        if (p.getName().equals(pool)) {
          return p.getType() == java.lang.management.MemoryType.HEAP;
        }
      }
      return false;
    }

    void start() {
      on = true;
      System.gc();
    }

    void stop() {
      System.gc();
      on = false;
    }

    String now() {
      return String.format(Locale.ROOT, "heap after last GC %d MB, peak %d MB", last.get() >> 20, peak.get() >> 20);
    }

    String summary() {
      return String.format(Locale.ROOT, "heap used after GC during the Tandem runs: start %d MB, peak %d MB, end %d MB "
          + "(%d collections; max heap %d MB)", first.get() >> 20, peak.get() >> 20, last.get() >> 20, gcs.get(),
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }
}
