package dev.tandem.bench;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.config.TandemConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Sales orders end to end (issue 15's "Latency and scale"): both simulators as child JVMs on their realistic cost
 * models (the ERP on the bc-online profile), a real Tandem node with the customers, items and sales-orders plugin
 * jars on a fresh PostgreSQL schema; customers, units and products synchronized to the CRM first. Then three parts:
 *
 * <ol>
 *   <li>latency: CRM orders of five lines submitted one by one at a steady rate through the CRM's Web API, the
 *       node's schedules on (only SALESORDER-ORDER's: the others paused), each order's time from its submission's
 *       answer to its coupling (after the ERP's change set went through), p50 and p99;
 *   <li>CRM to ERP: many submitted orders of five lines, one SALESORDER-ORDER job timed from enqueue to SUCCEEDED,
 *       against the ERP's envelope for exactly those writes (Business Central's 5 processing slots, 6,000 requests
 *       per 5 minutes, 100 operations per $batch, the simulator's own costs);
 *   <li>ERP to CRM: the ERP orders posted (ship and invoice) through the simulator's admin API, one
 *       POSTEDSALESINV-INV job timed, against the CRM's envelope for the invoices and their details (Dataverse's
 *       service protection as the simulator applies it, {@link CrmEnvelope}).
 * </ol>
 * Each part checks its result (one ERP order with its lines per CRM order, one CRM invoice with its details per
 * posted invoice) and the run fails otherwise.
 */
@Command(name = "sales-orders-benchmark", mixinStandardHelpOptions = true,
    description = "Measures sales orders CRM->ERP and posted invoices ERP->CRM against the simulators' envelopes.")
public final class SalesOrdersBenchmark implements Callable<Integer> {

  @Option(names = "--db", description = "PostgreSQL URL (default: ${DEFAULT-VALUE})",
      defaultValue = "${env:TANDEM_DB_URL:-postgresql://postgres@127.0.0.1:5432/test}")
  String dbUrl;

  @Option(names = "--time-scale", defaultValue = "1",
      description = "both simulators' time scale: every cost and window times this; Tandem's limits follow "
          + "(default: ${DEFAULT-VALUE})")
  double timeScale;

  @Option(names = "--latency-orders", defaultValue = "1000",
      description = "orders submitted one by one for the latency part; 0 skips it (default: ${DEFAULT-VALUE})")
  int latencyOrders;

  @Option(names = "--rate", defaultValue = "4",
      description = "orders submitted per second (real time) in the latency part (default: ${DEFAULT-VALUE})")
  double rate;

  @Option(names = "--orders", defaultValue = "10000",
      description = "orders CRM to ERP in one job; 0 skips it and the invoices (default: ${DEFAULT-VALUE})")
  int orders;

  @Option(names = "--lines", defaultValue = "5", description = "lines per order (default: ${DEFAULT-VALUE})")
  int lines;

  @Option(names = "--invoices", defaultValue = "10000",
      description = "of the --orders, how many are posted in the ERP and go back as CRM invoices; 0 skips "
          + "(default: ${DEFAULT-VALUE})")
  int invoices;

  @Option(names = "--customers", defaultValue = "200", description = "ERP customers (default: ${DEFAULT-VALUE})")
  int customers;

  @Option(names = "--items", defaultValue = "100", description = "ERP items (default: ${DEFAULT-VALUE})")
  int items;

  @Option(names = "--poll-back", defaultValue = "2000",
      description = "the latency part's coupling poller re-reads the ids this far below the highest it saw: ids are "
          + "taken when a transaction starts and seen when it commits, so they appear out of order "
          + "(default: ${DEFAULT-VALUE})")
  long pollBack;

  @Option(names = "--trace", description = "print every change of a timed job's progress and every in-flight sample")
  boolean trace;

  @Option(names = "--sim-heap", defaultValue = "1536m", description = "-Xmx of each simulator JVM")
  String simHeap;

  private static final String TOKEN = "tandem-bench-admin-token";
  private static final String AUTH = "Bearer " + TOKEN;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<Process> children = new ArrayList<>();
  private String erpAdmin;
  private String crmAdmin;
  private String crmApi;
  private String crmTokenUrl;
  private String erpRoot;
  private String erpTokenUrl;
  private String salesToken;
  private String crmScope;
  private String api;
  private String metricsUrl;
  private final List<String> accounts = new ArrayList<>();
  private final List<String[]> products = new ArrayList<>();   // {crm product id, its default unit}
  private final List<String> results = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new SalesOrdersBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> children.forEach(Process::destroyForcibly)));
    try {
      return run();
    } finally {
      children.forEach(Process::destroyForcibly);
    }
  }

  private int run() throws Exception {
    if (orders > 0 && invoices > orders) {
      throw new IllegalArgumentException("--invoices must not exceed --orders");
    }
    if (pollBack < 0) {
      throw new IllegalArgumentException("--poll-back must not be negative");
    }
    print(String.format(Locale.ROOT, "load %s, %d cores, time scale %s", load(),
        Runtime.getRuntime().availableProcessors(), timeScale));
    int erpPort = BenchSupport.freePort();
    int crmPort = BenchSupport.freePort();
    BenchSupport.startChild(children, "ERP", simHeap, false, BenchSupport.jar("simulators/erp-odata/target",
        "tandem-sim-erp-odata-", "-standalone.jar"), "--port", "" + erpPort, "--seed", "42", "--salespeople", "0",
        "--max-page-size", "5000", "--profile", "bc-online", "--cost-profile", "realistic", "--time-scale",
        "" + timeScale);
    BenchSupport.startChild(children, "CRM", simHeap, false, BenchSupport.jar("simulators/crm-dataverse/target",
        "tandem-sim-crm-dataverse-", "-standalone.jar"), "--port", "" + crmPort, "--seed", "42", "--systemusers",
        "5", "--profile", "realistic", "--time-scale", "" + timeScale);
    erpAdmin = "http://localhost:" + erpPort + "/__admin/sim";
    crmAdmin = "http://localhost:" + crmPort + "/__admin/sim";
    crmApi = "http://localhost:" + crmPort + "/api/data/v9.2";
    crmTokenUrl = "http://localhost:" + crmPort + "/tandem-tenant/oauth2/v2.0/token";
    erpRoot = "http://localhost:" + erpPort + "/v2.0/tandem-tenant/Production/ODataV4";
    erpTokenUrl = "http://localhost:" + erpPort + "/tandem-tenant/oauth2/v2.0/token";
    send("POST", erpAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("SalespersonPurchaser", 0).put("Customer", customers).put("Item", items)).encode(),
        "Content-Type", "application/json");
    // The salespeople: another application user, so their requests do not count against Tandem's limits.
    send("POST", crmAdmin + "/clients", new JsonObject().put("clientId", "bench-sales").put("clientSecret",
        "bench-sales-secret").put("applicationUser", true).encode(), "Content-Type", "application/json");
    crmScope = "http://localhost:" + crmPort + "/.default";
    salesToken = salesToken();

    Path dir = Files.createTempDirectory("tandem-bench");
    Path plugins = Files.createDirectories(dir.resolve("plugins"));
    for (String p : List.of("customers", "items", "sales-orders")) {
      Path j = BenchSupport.jar("plugins/" + p + "/target", "tandem-plugin-" + p + "-", ".jar");
      Files.copy(j, plugins.resolve(j.getFileName()));
    }
    String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    // First without schedules: the master data, then the node again with its schedules (only the orders' on).
    TandemRuntime rt = node(dir, plugins, schema, false);
    try {
      for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "CUSTOMER", "UNIT-OF-MEASURE",
          "UNIT-OF-MEASURE-BASE", "ITEM-PRODUCT")) {
        JsonObject job = job(api + "/mappings/" + m + "/sync", "{\"direction\":\"TO_CRM\"}");
        System.out.printf(Locale.ROOT, "  %s: %s%n", m, job.getJsonObject("counts").encode());
      }
      masterData();
    } finally {
      rt.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    rt = node(dir, plugins, schema, true);
    try {
      pauseAllBut(Set.of("SALESORDER-ORDER"));
      if (latencyOrders > 0) {
        latency();
      }
      pauseAllBut(Set.of());
      awaitIdle();
      if (orders > 0) {
        toErp();
        if (invoices > 0) {
          toCrm();
        }
      }
    } finally {
      rt.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    System.out.println();
    print("load at the end " + load());
    results.forEach(System.out::println);
    failures.forEach(f -> System.out.println("FAILED: " + f));
    return failures.isEmpty() ? 0 : 1;
  }

  private TandemRuntime node(Path dir, Path plugins, String schema, boolean schedules) throws Exception {
    JsonObject config = new JsonObject()
        .put("database", new JsonObject().put("url", dbUrl).put("schema", schema).put("poolSize", 16))
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", BenchSupport.freePort()))
        .put("adminToken", TOKEN).put("pluginsDir", plugins.toString())
        .put("schedules", new JsonObject().put("enabled", schedules).put("tickMs", 500)
            .put("erpDeletionScanMs", 3_600_000L))
        .put("jobs", new JsonObject().put("maxConcurrent", 16))
        .put("connections", new JsonObject()
            .put("erp", new JsonObject().put("profile", "bc-online").put("url", erpRoot)
                .put("company", "CRONUS International Ltd.").put("clientId", "tandem-bc-sync")
                .put("clientSecret", "tandem-bc-secret").put("tokenUrl", erpTokenUrl)
                .put("requestLimits", new JsonObject().put("windowMs", Math.round(300_000 * timeScale))))
            .put("crm", new JsonObject().put("url", crmApi).put("tokenUrl", crmTokenUrl)
                .put("clientId", "tandem-sync").put("clientSecret", "tandem-secret")
                .put("serviceProtection", new JsonObject().put("executionMs", Math.round(1_200_000 * timeScale))
                    .put("windowMs", Math.round(300_000 * timeScale)))));
    Path file = dir.resolve("tandem.json");
    Files.writeString(file, config.encodePrettily());
    TandemRuntime rt = TandemRuntime.start(TandemConfig.load(file, Map.of())).toCompletionStage()
        .toCompletableFuture().get(120, TimeUnit.SECONDS);
    api = "http://127.0.0.1:" + rt.httpPort() + "/api/v1";
    metricsUrl = "http://127.0.0.1:" + rt.httpPort() + "/metrics";
    return rt;
  }

  /** The coupled accounts and products (with their default unit) the orders are made of. */
  private void masterData() throws Exception {
    // Only through Tandem's couplings: accounts and products Tandem wrote from ERP customers and items.
    for (String[] c : couplings("CUSTOMER")) {
      accounts.add(c[0]);
    }
    for (String[] c : couplings("ITEM-PRODUCT")) {
      JsonObject p = new JsonObject(send("GET", crmApi + "/products(" + c[0] + ")?$select=_defaultuomid_value,"
          + "statecode", null, "Authorization", "Bearer " + salesToken));
      if (p.getInteger("statecode", -1) == 0 && p.getString("_defaultuomid_value") != null) {
        products.add(new String[] {c[0], p.getString("_defaultuomid_value")});
      }
      if (products.size() >= 50) {
        break;
      }
    }
    if (accounts.isEmpty() || products.size() < lines) {
      throw new IllegalStateException("not enough coupled accounts (" + accounts.size() + ") or active products ("
          + products.size() + ")");
    }
    print(String.format(Locale.ROOT, "master data: %,d coupled accounts, %d active coupled products used",
        accounts.size(), products.size()));
  }

  // ---- part 1: latency -------------------------------------------------------------------------------------

  private void latency() throws Exception {
    List<String> ids = createOrders(latencyOrders, "LO");
    salesToken = salesToken();
    Map<String, Long> submitted = new ConcurrentHashMap<>();
    Map<String, Long> seen = new ConcurrentHashMap<>();
    boolean[] on = {true};
    // Coupling ids come from a sequence when a transaction takes them, and show once it commits: a page's
    // transaction may commit after a later one, so a poller reading only after the highest id seen would miss it.
    // Each poll reads again from --poll-back below the highest id seen.
    Thread poller = new Thread(() -> {
      long highest = 0;
      while (on[0]) {
        try {
          long after = Math.max(0, highest - pollBack);
          while (true) {
            JsonArray page = new JsonObject(send("GET", api + "/couplings?mapping=SALESORDER-ORDER&limit=1000&after="
                + after, null, "Authorization", AUTH)).getJsonArray("couplings");
            long now = System.nanoTime();
            for (int i = 0; i < page.size(); i++) {
              JsonObject c = page.getJsonObject(i);
              seen.putIfAbsent(c.getString("crmId").toLowerCase(Locale.ROOT), now);
              after = Math.max(after, c.getLong("id"));
              highest = Math.max(highest, c.getLong("id"));
            }
            if (page.size() < 1000) {
              break;
            }
          }
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          // the node is busy; try again
        }
      }
    }, "coupling-poller");
    poller.setDaemon(true);
    poller.start();
    long gap = Math.round(1e9 / rate);
    long t0 = System.nanoTime();
    for (int i = 0; i < ids.size(); i++) {
      long due = t0 + i * gap;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      send("PATCH", crmApi + "/salesorders(" + ids.get(i) + ")", new JsonObject().put("statecode", 1)
          .put("statuscode", 3).encode(), "Authorization", "Bearer " + salesToken, "Content-Type",
          "application/json");
      submitted.put(ids.get(i), System.nanoTime());
    }
    double submitSeconds = (System.nanoTime() - t0) / 1e9;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
    while (!seen.keySet().containsAll(ids) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    on[0] = false;
    poller.interrupt();
    poller.join();
    List<Double> ms = new ArrayList<>();
    for (String id : ids) {
      if (seen.containsKey(id)) {
        ms.add((seen.get(id) - submitted.get(id)) / 1e6);
      }
    }
    if (ms.size() != ids.size() && !unseenButThere(ids, seen)) {
      return;
    }
    if (ms.isEmpty()) {
      failures.add("the poller saw none of the " + ids.size() + " orders, though they are there: no latency measured");
      return;
    }
    Collections.sort(ms);
    verifyOrders(ids);
    results.add(String.format(Locale.ROOT, "latency     %,d orders of %d lines submitted at %.1f /s over %.1f s "
        + "(the node's SALESORDER-ORDER schedule, every %s s): submit to ERP p50 %.2f s, p99 %.2f s, max %.2f s "
        + "(goal < 5 s); load %s", ids.size(), lines, rate, submitSeconds, scheduleSeconds("SALESORDER-ORDER"),
        pct(ms, 0.50) / 1000, pct(ms, 0.99) / 1000, ms.get(ms.size() - 1) / 1000, load()));
    print(results.get(results.size() - 1));
  }

  /**
   * The orders the poller did not see, checked against the whole coupling list and the ERP: only an order neither
   * coupled nor an ERP order is lost (the run fails); one coupled that the poller missed is reported as such.
   *
   * @return whether every order is there (coupled, and an ERP order)
   */
  private boolean unseenButThere(List<String> ids, Map<String, Long> seen) throws Exception {
    Set<String> coupled = new HashSet<>();
    couplings("SALESORDER-ORDER").forEach(c -> coupled.add(c[0]));
    Set<String> inErp = new HashSet<>();
    for (int skip = 0; ; skip += 5000) {
      JsonArray rows = new JsonObject(send("GET", erpAdmin + "/rows/SalesOrder?skip=" + skip + "&top=5000", null))
          .getJsonArray("rows");
      for (int i = 0; i < rows.size(); i++) {
        inErp.add(rows.getJsonObject(i).getString("No"));
      }
      if (rows.size() < 5000) {
        break;
      }
    }
    List<String> late = new ArrayList<>();
    List<String> uncoupled = new ArrayList<>();
    List<String> absent = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      if (seen.containsKey(id)) {
        continue;
      }
      String no = number("LO", i + 1);
      if (!inErp.contains(no)) {
        absent.add(id);
      } else if (!coupled.contains(id)) {
        uncoupled.add(id);
      } else {
        late.add(id);
      }
    }
    if (!late.isEmpty()) {
      results.add(String.format(Locale.ROOT, "latency     %d orders coupled and in the ERP but not seen by the "
          + "poller (its --poll-back %d is too small for this run); left out of the percentiles", late.size(),
          pollBack));
      print(results.get(results.size() - 1));
    }
    if (uncoupled.isEmpty() && absent.isEmpty()) {
      return true;
    }
    StringBuilder missing = new StringBuilder();
    for (String id : absent) {
      if (missing.length() < 2000) {
        try {
          missing.append(new JsonObject(send("GET", crmApi + "/salesorders(" + id + ")?$select=ordernumber,"
              + "statecode,modifiedon", null, "Authorization", "Bearer " + salesToken())).encode()).append(' ');
        } catch (Exception e) {
          missing.append(id).append(" (").append(e.getMessage()).append(") ");
        }
      }
    }
    // Parts 2 and 3 still run (their orders are others); the run fails at the end.
    failures.add(absent.size() + " of " + ids.size() + " submitted orders are not ERP orders and " + uncoupled.size()
        + " are ERP orders without a coupling, 300 s after the last submission; errors: " + errors("SALESORDER-ORDER")
        + "; the orders missing: " + missing + "; the mapping: " + send("GET", api + "/mappings/SALESORDER-ORDER",
        null, "Authorization", AUTH).replaceAll("\"fields\":\\[.*?\\]", ""));
    print("FAILED: " + failures.get(failures.size() - 1));
    return false;
  }

  private static double pct(List<Double> sorted, double p) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
  }

  // ---- part 2: CRM to ERP ----------------------------------------------------------------------------------

  private void toErp() throws Exception {
    List<String> ids = createOrders(orders, "BO");
    submitAll(ids);
    long[] erp0 = endpoint("ERP");
    long throttled0 = new JsonObject(send("GET", erpAdmin + "/costs", null)).getLong("throttled", 0L);
    InFlight sampler = new InFlight(erpAdmin);
    InFlight crmSampler = new InFlight(crmAdmin);
    long t0 = System.nanoTime();
    JsonObject job = job(api + "/mappings/SALESORDER-ORDER/sync", "{\"direction\":\"FROM_CRM\"}");
    double seconds = (System.nanoTime() - t0) / 1e9;
    String busy = sampler.stop() + "; CRM " + crmSampler.stop();
    long[] erp1 = endpoint("ERP");
    JsonObject c = new JsonObject(send("GET", erpAdmin + "/costs", null));
    long throttled = c.getLong("throttled", 0L) - throttled0;
    verifyOrders(ids);
    // The ERP's envelope for exactly these writes: each insert (header or line) holds one of the user's 5
    // processing slots for request + insert ms, every $batch of at most 100 operations one request ms more; at
    // most 6,000 requests per 5-minute window (all on the time scale). The larger bound wins.
    long writes = (long) orders * (1 + lines);
    double perOp = c.getDouble("requestMs") + c.getDouble("insertMs");
    JsonObject limits = c.getJsonObject("limits");
    int perBatch = limits.getInteger("batchOperations");
    int slots = limits.getInteger("processing");
    int perWindow = limits.getInteger("requestsPer5Minutes");
    long requests = (writes + perBatch - 1) / perBatch;
    double bySlots = timeScale * (writes * perOp + requests * c.getDouble("requestMs")) / slots;
    double window = 300_000 * timeScale;
    double byRequests = requests <= perWindow ? 0 : window * Math.ceil((double) requests / perWindow - 1);
    double envelope = Math.max(bySlots, byRequests) / 1000;
    results.add(String.format(Locale.ROOT, "CRM->ERP    %,d orders of %d lines (%,d ERP inserts) in %.1f s = %,.0f "
        + "orders/s; ERP envelope %.1f s (bc-online realistic, time scale %s: %.0f ms per insert on %d slots, %,d "
        + "$batch of %d); Tandem %.2f of the envelope (goal >= 0.9); ERP requests %,d (node), 429s %d (node) / %d "
        + "(simulator); ERP %s; load %s; job %s", orders, lines, writes, seconds, orders / seconds, envelope,
        timeScale, perOp, slots, requests, perBatch, envelope / seconds, erp1[0] - erp0[0], erp1[1] - erp0[1],
        throttled, busy, load(), job.getJsonObject("counts").encode()));
    print(results.get(results.size() - 1));
  }

  /** Submits the orders as the salespeople: PATCH statecode 1 in $batch requests of 500, 4 side by side. */
  private void submitAll(List<String> ids) throws Exception {
    salesToken = salesToken();
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> sent = new ArrayList<>();
      for (int i = 0; i < ids.size(); i += 500) {
        List<String> part = ids.subList(i, Math.min(ids.size(), i + 500));
        sent.add(pool.submit(() -> crmBatch(part.stream().map(id -> new String[] {"PATCH", "salesorders(" + id
            + ")", new JsonObject().put("statecode", 1).put("statuscode", 3).encode()}).toList())));
      }
      for (Future<String> f : sent) {
        String answer = f.get();
        if (answer.contains("HTTP/1.1 4") || answer.contains("HTTP/1.1 5")) {
          throw new IllegalStateException("submitting orders failed: " + answer.substring(0,
              Math.min(1000, answer.length())));
        }
      }
    } finally {
      pool.shutdown();
    }
    print(String.format(Locale.ROOT, "  %,d orders submitted in %.1f s", ids.size(), (System.nanoTime() - t0) / 1e9));
  }

  // ---- part 3: ERP to CRM ----------------------------------------------------------------------------------

  private void toCrm() throws Exception {
    // Posting (ship and invoice) in the ERP, as its users do: every posted order becomes a posted invoice.
    List<String> numbers = new ArrayList<>();
    for (int i = 1; i <= invoices; i++) {
      numbers.add(number("BO", i));
    }
    long tp = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> posted = new ArrayList<>();
      for (String no : numbers) {
        posted.add(pool.submit(() -> send("POST", erpAdmin + "/sales-orders/post", new JsonObject().put("no", no)
            .encode(), "Content-Type", "application/json")));
      }
      for (Future<String> f : posted) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    long postedInvoices = count(erpAdmin, "SalesInvoice");
    print(String.format(Locale.ROOT, "  %,d ERP orders posted in %.1f s; the ERP holds %,d posted invoices",
        numbers.size(), (System.nanoTime() - tp) / 1e9, postedInvoices));
    if (postedInvoices != invoices) {
      throw new IllegalStateException("expected " + invoices + " posted invoices, the ERP holds " + postedInvoices);
    }
    long[] crm0 = endpoint("CRM");
    JsonObject usage0 = tandemUsage();
    InFlight sampler = new InFlight(crmAdmin);
    long t0 = System.nanoTime();
    JsonObject job = job(api + "/mappings/POSTEDSALESINV-INV/sync", "{\"direction\":\"TO_CRM\"}");
    double seconds = (System.nanoTime() - t0) / 1e9;
    String busy = sampler.stop();
    long[] crm1 = endpoint("CRM");
    JsonObject usage1 = tandemUsage();
    // Exactly one CRM invoice with its details per posted invoice.
    long inCrm = count(crmAdmin, "invoices");
    long details = count(crmAdmin, "invoicedetails");
    List<String[]> coupled = couplings("POSTEDSALESINV-INV");
    Set<String> crmIds = new HashSet<>();
    Set<String> erpIds = new HashSet<>();
    coupled.forEach(c -> {
      crmIds.add(c[0]);
      erpIds.add(c[1]);
    });
    String exact = String.format(Locale.ROOT, "%,d posted invoices, %,d CRM invoices with %,d details, %,d "
        + "couplings (%,d CRM ids, %,d ERP keys)", invoices, inCrm, details, coupled.size(), crmIds.size(),
        erpIds.size());
    if (inCrm != invoices || details != (long) invoices * lines || coupled.size() != invoices
        || crmIds.size() != invoices || erpIds.size() != invoices) {
      throw new IllegalStateException("expected one CRM invoice with " + lines + " details per posted invoice: "
          + exact + "; errors: " + errors("POSTEDSALESINV-INV"));
    }
    // The CRM's envelope for exactly these writes: every invoice and every detail one upsert (request part +
    // upsert), in $batch requests of one size for all, as early as the simulator's service protection admits them
    // (CrmEnvelope); the smallest over the batch sizes a client may choose.
    JsonObject c = new JsonObject(send("GET", crmAdmin + "/costs", null));
    JsonObject lim = new JsonObject(send("GET", crmAdmin + "/limits", null));
    CrmEnvelope.Limits limits = new CrmEnvelope.Limits(lim.getDouble("executionMs") * timeScale,
        lim.getDouble("windowMs") * timeScale, lim.getInteger("concurrent"), lim.getInteger("requests"),
        c.getDouble("latencyMs") * timeScale);
    long writes = (long) invoices * (1 + lines);
    double perOp = c.getDouble("requestMs") + c.getDouble("upsertMs");
    CrmEnvelope.Result best = null;
    int bestSize = 0;
    for (int size : new int[] {10, 25, 50, 100, 200, 500, 1000}) {
      CrmEnvelope.Result r = CrmEnvelope.schedule(List.of(new CrmEnvelope.Phase("writes",
          CrmEnvelope.pages(writes, size, c.getDouble("requestMs"), perOp, timeScale), false)), limits);
      if (best == null || r.seconds() < best.seconds()) {
        best = r;
        bestSize = size;
      }
    }
    results.add(String.format(Locale.ROOT, "ERP->CRM    %,d posted invoices of %d lines (%,d CRM upserts) in %.1f s "
        + "= %,.0f invoices/s; CRM envelope %.1f s (realistic, time scale %s: %.0f ms per upsert, $batch of %d, "
        + "%d at once, %.0f s of execution per %.0f s); Tandem %.2f of the envelope (goal >= 0.9); CRM requests "
        + "%,d (node) / %,d (simulator), 429s %d (node) / %d (simulator), execution charged %.0f s; CRM %s; load %s; "
        + "job %s",
        invoices, lines, writes, seconds, invoices / seconds, best.seconds(), timeScale, perOp, bestSize,
        limits.concurrency(), limits.budgetMs() / 1000, limits.windowMs() / 1000, best.seconds() / seconds,
        crm1[0] - crm0[0], usage1.getLong("requests") - usage0.getLong("requests"), crm1[1] - crm0[1],
        usage1.getLong("throttled") - usage0.getLong("throttled"),
        (usage1.getDouble("executionMs") - usage0.getDouble("executionMs")) / 1000, busy, load(),
        job.getJsonObject("counts").encode()));
    results.add("exactness   " + exact);
    print(results.get(results.size() - 2));
  }

  /** @return a fresh token of the salespeople's user (its lifetime shrinks with the CRM's time scale) */
  private String salesToken() throws Exception {
    return new JsonObject(send("POST", crmTokenUrl, "grant_type=client_credentials&client_id=bench-sales"
        + "&client_secret=bench-sales-secret&scope=" + enc(crmScope), "Content-Type",
        "application/x-www-form-urlencoded")).getString("access_token");
  }

  /** Tandem's CRM user's requests, refusals and execution since the simulator started. */
  private JsonObject tandemUsage() throws Exception {
    JsonObject users = new JsonObject(send("GET", crmAdmin + "/usage", null)).getJsonObject("users");
    long requests = 0;
    long throttled = 0;
    double ms = 0;
    for (String u : users.fieldNames()) {
      JsonObject x = users.getJsonObject(u);
      if (u.contains("bench-sales")) {
        continue;
      }
      requests += x.getLong("requests", 0L);
      throttled += x.getLong("throttled", 0L);
      ms += x.getDouble("executionMs", 0.0);
    }
    return new JsonObject().put("requests", requests).put("throttled", throttled).put("executionMs", ms);
  }

  // ---- orders ----------------------------------------------------------------------------------------------

  private static String number(String prefix, int i) {
    return String.format(Locale.ROOT, "%s-%06d", prefix, i);
  }

  /**
   * Creates active CRM orders of --lines lines each through the simulator's admin API (as SYSTEM: people's data,
   * not charged to any user), of coupled accounts and active coupled products, price overridden.
   *
   * @return their ids, in number order
   */
  private List<String> createOrders(int n, String prefix) throws Exception {
    long t0 = System.nanoTime();
    List<String> ids = new ArrayList<>();
    JsonArray heads = new JsonArray();
    JsonArray details = new JsonArray();
    for (int i = 1; i <= n; i++) {
      String id = UUID.nameUUIDFromBytes((prefix + i).getBytes(StandardCharsets.UTF_8)).toString();
      ids.add(id);
      heads.add(new JsonObject().put("salesorderid", id).put("name", "Bench order " + prefix + " " + i)
          .put("ordernumber", number(prefix, i))
          .put("customerid_account@odata.bind", "/accounts(" + accounts.get(i % accounts.size()) + ")")
          .put("requestdeliveryby", "2027-01-15T00:00:00Z"));
      for (int l = 1; l <= lines; l++) {
        String[] p = products.get((i * lines + l) % products.size());
        details.add(new JsonObject().put("lineitemnumber", l)
            .put("salesorderid@odata.bind", "/salesorders(" + id + ")")
            .put("productid@odata.bind", "/products(" + p[0] + ")").put("uomid@odata.bind", "/uoms(" + p[1] + ")")
            .put("quantity", l).put("ispriceoverridden", true).put("priceperunit", 10.0 + l));
      }
      if (heads.size() == 1000 || i == n) {
        send("POST", crmAdmin + "/rows/salesorders", new JsonObject().put("rows", heads).encode(),
            "Content-Type", "application/json");
        send("POST", crmAdmin + "/rows/salesorderdetails", new JsonObject().put("rows", details).encode(),
            "Content-Type", "application/json");
        heads = new JsonArray();
        details = new JsonArray();
      }
    }
    print(String.format(Locale.ROOT, "  %,d CRM orders of %d lines created in %.1f s", n, lines,
        (System.nanoTime() - t0) / 1e9));
    return ids;
  }

  /**
   * Exactly one ERP order with its lines per CRM order: every one of these CRM orders coupled, one coupling per CRM
   * order and per ERP order, as many ERP orders as couplings (none written twice or left uncoupled), and every ERP
   * order with exactly --lines lines.
   */
  private void verifyOrders(List<String> ids) throws Exception {
    List<String[]> coupled = couplings("SALESORDER-ORDER");
    Set<String> crmIds = new HashSet<>();
    Set<String> erpIds = new HashSet<>();
    coupled.forEach(c -> {
      crmIds.add(c[0]);
      erpIds.add(c[1]);
    });
    long headers = count(erpAdmin, "SalesOrder");
    Map<String, Integer> linesOf = new HashMap<>();
    for (int skip = 0; ; skip += 5000) {
      JsonObject page = new JsonObject(send("GET", erpAdmin + "/rows/SalesOrderLine?skip=" + skip + "&top=5000",
          null));
      JsonArray rows = page.getJsonArray("rows");
      for (int i = 0; i < rows.size(); i++) {
        linesOf.merge(rows.getJsonObject(i).getString("Document_No"), 1, Integer::sum);
      }
      if (rows.size() < 5000) {
        break;
      }
    }
    long wrong = linesOf.values().stream().filter(v -> v != lines).count();
    long absent = ids.stream().filter(id -> !crmIds.contains(id)).count();
    String exact = String.format(Locale.ROOT, "%,d CRM orders of this part (%d not coupled), %,d ERP orders, %,d with "
        + "lines (%d not with %d), %,d couplings (%,d CRM ids, %,d ERP keys)", ids.size(), absent, headers,
        linesOf.size(), wrong, lines, coupled.size(), crmIds.size(), erpIds.size());
    if (absent != 0 || headers != coupled.size() || linesOf.size() != headers || wrong != 0
        || crmIds.size() != coupled.size() || erpIds.size() != coupled.size()) {
      throw new IllegalStateException("expected exactly one ERP order with " + lines + " lines per CRM order: "
          + exact + "; errors: " + errors("SALESORDER-ORDER"));
    }
    results.add("exactness   " + exact);
  }

  // ---- the node --------------------------------------------------------------------------------------------

  /** Pauses every schedule but those of the given mappings. */
  private void pauseAllBut(Set<String> keep) throws Exception {
    JsonArray all = new JsonObject(send("GET", api + "/schedules", null, "Authorization", AUTH))
        .getJsonArray("schedules");
    Set<String> done = new HashSet<>();
    for (int i = 0; i < all.size(); i++) {
      JsonObject s = all.getJsonObject(i);
      String m = s.getString("mapping");
      if (!keep.contains(m) && done.add(m) && !"PAUSED".equals(s.getString("state"))
          && !"DISABLED".equals(s.getString("state"))) {
        try {
          send("POST", api + "/schedules/" + m + "/pause", new JsonObject().put("reason", "benchmark").encode(),
              "Authorization", AUTH, "Content-Type", "application/json");
        } catch (IllegalStateException e) {
          if (!e.getMessage().contains("404")) {
            throw e;
          }
        }
      }
    }
  }

  /** Waits until no job is queued or running. */
  private void awaitIdle() throws Exception {
    for (int i = 0; i < 1200; i++) {
      int busy = new JsonObject(send("GET", api + "/jobs?status=RUNNING&limit=10", null, "Authorization", AUTH))
          .getJsonArray("jobs").size() + new JsonObject(send("GET", api + "/jobs?status=QUEUED&limit=10", null,
          "Authorization", AUTH)).getJsonArray("jobs").size();
      if (busy == 0) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the node's jobs did not end within 120 s");
  }

  private String scheduleSeconds(String mapping) throws Exception {
    return String.valueOf(new JsonObject(send("GET", api + "/mappings/" + mapping, null, "Authorization", AUTH))
        .getJsonObject("effective").getValue("scheduleSeconds"));
  }

  private JsonObject job(String url, String body) throws Exception {
    long id = new JsonObject(send("POST", url, body, "Authorization", AUTH, "Content-Type", "application/json"))
        .getLong("jobId");
    long t0 = System.nanoTime();
    String last = null;
    while (true) {
      JsonObject job = new JsonObject(send("GET", api + "/jobs/" + id, null, "Authorization", AUTH));
      String status = job.getString("status");
      String now = job.encode().replaceAll("\"(createdAt|updatedAt|leaseUntil|heartbeatAt)\":\"[^\"]*\",?", "");
      if (trace && !now.equals(last)) {
        System.out.printf(Locale.ROOT, "  trace %.2f s job %s%n", (System.nanoTime() - t0) / 1e9, now);
        last = now;
      }
      if ("SUCCEEDED".equals(status)) {
        return job;
      }
      if ("FAILED".equals(status) || "CANCELLED".equals(status) || "DEAD".equals(status)) {
        throw new IllegalStateException(url + " ended " + status + ": " + job.encode());
      }
      Thread.sleep(50);
    }
  }

  /** @return every coupling of a mapping: {crm id (lower case), erp id} */
  private List<String[]> couplings(String mapping) throws Exception {
    List<String[]> out = new ArrayList<>();
    for (long after = 0; ; ) {
      JsonArray page = new JsonObject(send("GET", api + "/couplings?mapping=" + mapping + "&limit=5000&after="
          + after, null, "Authorization", AUTH)).getJsonArray("couplings");
      for (int i = 0; i < page.size(); i++) {
        JsonObject c = page.getJsonObject(i);
        out.add(new String[] {c.getString("crmId").toLowerCase(Locale.ROOT), String.valueOf(c.getValue("erpId"))});
      }
      if (page.size() < 5000) {
        return out;
      }
      after = page.getJsonObject(page.size() - 1).getLong("id");
    }
  }

  private String errors(String mapping) throws Exception {
    String e = send("GET", api + "/errors?mapping=" + mapping + "&limit=3", null, "Authorization", AUTH);
    return e.substring(0, Math.min(1500, e.length()));
  }

  /** @return the node's requests to an endpoint and the 429s among them, from its metrics */
  private long[] endpoint(String endpoint) throws Exception {
    long all = 0;
    long throttled = 0;
    for (String line : send("GET", metricsUrl, null).split("\n")) {
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

  /**
   * Samples a simulator's requests in flight ({@code GET /__admin/sim/stats}, less the sampling request itself)
   * every 100 ms while a part runs: how much of the endpoint's concurrency Tandem kept busy.
   */
  private final class InFlight {
    private final Thread thread;
    private volatile boolean on = true;
    private long samples;
    private long sum;
    private long peak;

    InFlight(String admin) {
      thread = new Thread(() -> {
        while (on) {
          try {
            long n = Math.max(0, new JsonObject(send("GET", admin + "/stats", null)).getLong("inFlight") - 1);
            if (trace) {
              System.out.printf(Locale.ROOT, "  trace %d %s in flight %d%n", System.currentTimeMillis() % 100_000,
                  admin.equals(erpAdmin) ? "ERP" : "CRM", n);
            }
            synchronized (this) {
              samples++;
              sum += n;
              peak = Math.max(peak, n);
            }
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            // the simulator is busy; sample again
          }
        }
      }, "in-flight-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    String stop() throws InterruptedException {
      on = false;
      thread.interrupt();
      thread.join();
      synchronized (this) {
        return String.format(Locale.ROOT, "requests in flight: mean %.1f, peak %d (%d samples)",
            samples == 0 ? 0 : (double) sum / samples, peak, samples);
      }
    }
  }

  // ---- plumbing --------------------------------------------------------------------------------------------

  /** A multipart $batch of independent operations as the salespeople's user: {method, path, JSON body}. */
  private String crmBatch(List<String[]> ops) throws Exception {
    String boundary = "batch_" + UUID.randomUUID();
    StringBuilder b = new StringBuilder(ops.size() * 300);
    for (int i = 0; i < ops.size(); i++) {
      String[] op = ops.get(i);
      b.append("--").append(boundary).append("\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: "
          + "binary\r\nContent-ID: ").append(i + 1).append("\r\n\r\n").append(op[0]).append(" /api/data/v9.2/")
          .append(op[1]).append(" HTTP/1.1\r\nContent-Type: application/json\r\n\r\n").append(op[2]).append("\r\n");
    }
    b.append("--").append(boundary).append("--\r\n");
    return send("POST", crmApi + "/$batch", b.toString(), "Authorization", "Bearer " + salesToken, "Content-Type",
        "multipart/mixed; boundary=" + boundary, "Prefer", "odata.continue-on-error");
  }

  private long count(String admin, String set) throws Exception {
    return new JsonObject(send("GET", admin + "/counts", null)).getLong(set, 0L);
  }

  private void print(String s) {
    System.out.println(s);
  }

  private static String load() throws Exception {
    return Files.readString(Path.of("/proc/loadavg")).trim();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String send(String method, String url, String body, String... headers) throws Exception {
    return BenchSupport.send(http, method, url, body, headers);
  }
}
