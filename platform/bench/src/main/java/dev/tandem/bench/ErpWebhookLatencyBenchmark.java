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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How long an ERP change takes to reach the CRM: with Business Central online's webhooks (the ERP simulator on
 * bc-online, Tandem subscribed, no schedule on the node: only notifications wake CUSTOMER) and with polling only
 * (the same schema, a node without a notification URL whose CUSTOMER schedule runs every {@code --poll-seconds}).
 * Each round renames one customer through the ERP's OData PATCH and polls the CRM account until it carries the new
 * name. For webhooks it reports both the time from the notification (as the simulator logs its POST) to the CRM and
 * from the ERP change to the CRM (which adds BC's delay before it notifies, {@code --notification-delay-ms}; BC's
 * own is 30 s).
 */
@Command(name = "erp-webhook-latency-benchmark", mixinStandardHelpOptions = true,
    description = "Measures ERP change to CRM with Business Central webhooks and with polling only.")
public final class ErpWebhookLatencyBenchmark implements Callable<Integer> {

  @Option(names = "--db", defaultValue = "${env:TANDEM_DB_URL:-postgresql://postgres@127.0.0.1:5432/test}",
      description = "PostgreSQL URL (default: ${DEFAULT-VALUE})")
  String dbUrl;

  @Option(names = "--customers", defaultValue = "10000", description = "ERP customers (default: ${DEFAULT-VALUE})")
  int customers;

  @Option(names = "--rounds", defaultValue = "10", description = "changes per mode (default: ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--poll-seconds", defaultValue = "30",
      description = "CUSTOMER's schedule in the polling mode (default: ${DEFAULT-VALUE}); 0 skips the mode")
  int pollSeconds;

  @Option(names = "--notification-delay-ms", defaultValue = "0",
      description = "the simulator's wait before it notifies (BC: 30000) (default: ${DEFAULT-VALUE})")
  long notificationDelayMs;

  @Option(names = "--erp-costs", defaultValue = "fast",
      description = "the ERP simulator's cost model: fast or realistic (default: ${DEFAULT-VALUE})")
  String erpCosts;

  @Option(names = "--crm-profile", defaultValue = "fast",
      description = "the CRM simulator's profile: fast or realistic (default: ${DEFAULT-VALUE})")
  String crmProfile;

  @Option(names = "--time-scale", defaultValue = "1",
      description = "both simulators' time scale: every cost and window times this (default: ${DEFAULT-VALUE})")
  double timeScale;

  @Option(names = "--plugins", split = ",", description = "plugin jars (default: plugins/customers)")
  List<Path> pluginJars;

  private static final String TOKEN = "tandem-bench-admin-token";
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<Process> children = new ArrayList<>();
  private String erpRoot;
  private String erpCompanyUrl;
  private String erpTokenUrl;
  private String erpAdmin;
  private String crmAdmin;
  private String crmApi;
  private String crmTokenUrl;
  private final String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new ErpWebhookLatencyBenchmark()).execute(args));
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
    System.out.printf(Locale.ROOT, "load %s%n", load());
    int erpPort = BenchSupport.freePort();
    int crmPort = BenchSupport.freePort();
    String xmx = Math.max(1024, customers / 1000 * 5) + "m";
    BenchSupport.startChild(children, "ERP", xmx, true, BenchSupport.jar("simulators/erp-odata/target",
        "tandem-sim-erp-odata-", "-standalone.jar"), "--port", "" + erpPort, "--seed", "42", "--salespeople", "0",
        "--max-page-size", "5000", "--profile", "bc-online", "--cost-profile", erpCosts, "--time-scale", "" + timeScale);
    BenchSupport.startChild(children, "CRM", xmx, true, BenchSupport.jar("simulators/crm-dataverse/target",
        "tandem-sim-crm-dataverse-", "-standalone.jar"), "--port", "" + crmPort, "--seed", "42", "--systemusers", "5",
        "--profile", crmProfile, "--time-scale", "" + timeScale);
    erpRoot = "http://localhost:" + erpPort + "/v2.0/tandem-tenant/Production/ODataV4";
    erpCompanyUrl = erpRoot + "/Company('" + URLEncoder.encode("CRONUS International Ltd.", StandardCharsets.UTF_8)
        .replace("+", "%20") + "')";
    erpTokenUrl = "http://localhost:" + erpPort + "/tandem-tenant/oauth2/v2.0/token";
    erpAdmin = "http://localhost:" + erpPort + "/__admin/sim";
    crmAdmin = "http://localhost:" + crmPort + "/__admin/sim";
    crmApi = "http://localhost:" + crmPort + "/api/data/v9.2";
    crmTokenUrl = "http://localhost:" + crmPort + "/tandem-tenant/oauth2/v2.0/token";
    send("POST", erpAdmin + "/reset", "");
    send("POST", erpAdmin + "/seed", new JsonObject().put("seed", 42).put("counts", new JsonObject()
        .put("SalespersonPurchaser", 0).put("Customer", customers)).encode(), "Content-Type", "application/json");
    send("POST", erpAdmin + "/webhooks", new JsonObject().put("delayMs", notificationDelayMs).encode(),
        "Content-Type", "application/json");
    send("POST", crmAdmin + "/reset", "");
    List<String> results = new ArrayList<>();

    int port = BenchSupport.freePort();
    try (Node node = new Node(port, true)) {
      long t0 = System.nanoTime();
      // The load as an operator makes it: a full synchronization, after which runs read only real changes.
      JsonObject line = node.fullSync("CUSTOMER");
      System.out.printf(Locale.ROOT, "CUSTOMER loaded by a full synchronization in %.1f s: %s%n",
          (System.nanoTime() - t0) / 1e9, line.getJsonObject("toCrm", new JsonObject()).getJsonObject("counts"));
      long until = System.currentTimeMillis() + 60_000;
      while (!subscribed()) {
        if (System.currentTimeMillis() > until) {
          throw new IllegalStateException("Tandem did not subscribe: " + send("GET", erpAdmin + "/webhooks", null));
        }
        Thread.sleep(200);
      }
      node.idle();
      List<Double> fromNotification = new ArrayList<>();
      List<Double> fromChange = new ArrayList<>();
      for (int r = 1; r <= rounds; r++) {
        int delivered = deliveries().size();
        String name = "Webhook " + r + " " + UUID.randomUUID().toString().substring(0, 8);
        String crmId = node.crmIdOf(rename(r, name));
        long changed = System.currentTimeMillis();
        long arrived = awaitCrm(crmId, name, 120_000);
        List<JsonObject> log = deliveries();
        Instant sent = log.size() > delivered ? Instant.parse(log.get(delivered).getString("sentAt")) : null;
        fromChange.add((arrived - changed) / 1000.0);
        if (sent != null) {
          fromNotification.add((arrived - sent.toEpochMilli()) / 1000.0);
        }
        System.out.printf(Locale.ROOT, "  webhook round %d: ERP change to CRM %.2f s, notification to CRM %s (load %s)%n",
            r, (arrived - changed) / 1000.0, sent == null ? "-" : String.format(Locale.ROOT, "%.2f s",
                (arrived - sent.toEpochMilli()) / 1000.0), load());
        node.idle();
      }
      results.add("webhooks (notification delay " + notificationDelayMs + " ms): notification to CRM "
          + stats(fromNotification) + "; ERP change to CRM " + stats(fromChange) + "; runs woken by notifications: "
          + node.notifiedRuns());
    }
    if (pollSeconds > 0) {
      try (Node node = new Node(port, false)) {
        JsonObject patched = new JsonObject(node.api("PATCH", "/mappings/CUSTOMER",
            new JsonObject().put("scheduleSeconds", pollSeconds).encode()));
        System.out.println("CUSTOMER every " + pollSeconds + " s: " + patched.getInteger("scheduleSeconds",
            pollSeconds));
        node.idle();
        List<Double> fromChange = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
          String name = "Polled " + r + " " + UUID.randomUUID().toString().substring(0, 8);
          String crmId = node.crmIdOf(rename(r, name));
          long changed = System.currentTimeMillis();
          long arrived = awaitCrm(crmId, name, Math.max(120_000, pollSeconds * 4_000L));
          fromChange.add((arrived - changed) / 1000.0);
          System.out.printf(Locale.ROOT, "  polling round %d: ERP change to CRM %.2f s (load %s)%n", r,
              (arrived - changed) / 1000.0, load());
          // The next change at a random point of the interval, as people make them.
          Thread.sleep((long) (Math.random() * pollSeconds * 1000));
        }
        results.add("polling only (CUSTOMER every " + pollSeconds + " s): ERP change to CRM " + stats(fromChange));
      }
    }
    System.out.println();
    System.out.printf(Locale.ROOT, "%,d customers, ERP bc-online costs %s, CRM %s, time scale %s; load %s%n",
        customers, erpCosts, crmProfile, timeScale, load());
    results.forEach(System.out::println);
    return 0;
  }

  private static String stats(List<Double> s) {
    if (s.isEmpty()) {
      return "-";
    }
    List<Double> sorted = new ArrayList<>(s);
    Collections.sort(sorted);
    double sum = 0;
    for (double d : sorted) {
      sum += d;
    }
    return String.format(Locale.ROOT, "median %.2f s, mean %.2f s, max %.2f s (%d rounds)", sorted.get(sorted.size() / 2),
        sum / sorted.size(), sorted.get(sorted.size() - 1), sorted.size());
  }

  private boolean subscribed() throws Exception {
    JsonArray subs = new JsonObject(send("GET", erpAdmin + "/webhooks", null)).getJsonArray("subscriptions");
    return subs.stream().map(JsonObject.class::cast).anyMatch(s -> s.getString("resource").endsWith("/customers"));
  }

  private List<JsonObject> deliveries() throws Exception {
    List<JsonObject> out = new ArrayList<>();
    new JsonObject(send("GET", erpAdmin + "/webhooks", null)).getJsonArray("deliveries")
        .forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** Renames the round's customer in the ERP; @return its number */
  private String rename(int round, String name) throws Exception {
    JsonArray keys = new JsonObject(send("GET", erpCompanyUrl + "/Customer?$select=No&$filter="
        + enc("Blocked eq ' '") + "&$skip=" + (round * 37 % Math.max(1, customers / 2)) + "&$top=1", null,
        "Authorization", erpAuth(), "Accept", "application/json")).getJsonArray("value");
    String no = keys.getJsonObject(0).getString("No");
    send("PATCH", erpCompanyUrl + "/Customer('" + no + "')", new JsonObject().put("Name", name).encode(),
        "Authorization", erpAuth(), "If-Match", "*", "Content-Type", "application/json");
    return no;
  }

  /** @return when the CRM account first carried the name (polled every 20 ms) */
  private long awaitCrm(String crmId, String name, long timeoutMs) throws Exception {
    long until = System.currentTimeMillis() + timeoutMs;
    String token = crmToken();
    while (System.currentTimeMillis() < until) {
      String body = send("GET", crmApi + "/accounts(" + crmId + ")?$select=name", null, "Authorization",
          "Bearer " + token, "Accept", "application/json");
      if (name.equals(new JsonObject(body).getString("name"))) {
        return System.currentTimeMillis();
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException(name + " did not reach the CRM within " + timeoutMs + " ms");
  }

  private String cachedErpAuth;

  private String erpAuth() throws Exception {
    if (cachedErpAuth == null) {
      cachedErpAuth = "Bearer " + new JsonObject(send("POST", erpTokenUrl, "grant_type=client_credentials&client_id="
          + "tandem-bc-sync&client_secret=tandem-bc-secret&scope=" + enc("https://api.businesscentral.dynamics.com/"
          + ".default"), "Content-Type", "application/x-www-form-urlencoded")).getString("access_token");
    }
    return cachedErpAuth;
  }

  private String cachedCrmToken;

  private String crmToken() throws Exception {
    if (cachedCrmToken == null) {
      cachedCrmToken = new JsonObject(send("POST", crmTokenUrl, "grant_type=client_credentials&client_id=tandem-sync"
          + "&client_secret=tandem-secret&scope=" + enc(crmApi.replace("/api/data/v9.2", "") + "/.default"),
          "Content-Type", "application/x-www-form-urlencoded")).getString("access_token");
    }
    return cachedCrmToken;
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "?";
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private String send(String method, String url, String body, String... headers) throws Exception {
    return BenchSupport.send(http, method, url, body, headers);
  }

  /** A Tandem node on the benchmark's schema: webhooks and no schedules, or schedules and no webhooks. */
  private final class Node implements AutoCloseable {
    private final TandemRuntime rt;
    private final String api;

    Node(int port, boolean webhooks) throws Exception {
      Path dir = Files.createTempDirectory("tandem-bench");
      Path plugins = Files.createDirectories(dir.resolve("plugins"));
      for (Path j : pluginJars != null ? pluginJars : List.of(BenchSupport.jar("plugins/customers/target",
          "tandem-plugin-customers-", ".jar"))) {
        Files.copy(j, plugins.resolve(j.getFileName()));
      }
      JsonObject erp = new JsonObject().put("profile", "bc-online").put("url", erpRoot)
          .put("company", "CRONUS International Ltd.").put("clientId", "tandem-bc-sync")
          .put("clientSecret", "tandem-bc-secret").put("tokenUrl", erpTokenUrl)
          .put("requestLimits", new JsonObject().put("windowMs", Math.round(300_000 * timeScale)));
      if (webhooks) {
        erp.put("notificationUrl", "http://127.0.0.1:" + port + "/erp/notifications").put("subscriptionCheckMs", 1000);
      }
      JsonObject crm = new JsonObject().put("url", crmApi).put("tokenUrl", crmTokenUrl).put("clientId", "tandem-sync")
          .put("clientSecret", "tandem-secret");
      if ("realistic".equals(crmProfile)) {
        crm.put("serviceProtection", new JsonObject().put("executionMs", Math.round(1_200_000 * timeScale))
            .put("windowMs", Math.round(300_000 * timeScale)));
      }
      JsonObject config = new JsonObject()
          .put("database", new JsonObject().put("url", dbUrl).put("schema", schema).put("poolSize", 8))
          .put("http", new JsonObject().put("host", "127.0.0.1").put("port", port))
          .put("adminToken", TOKEN)
          .put("pluginsDir", plugins.toString())
          .put("schedules", new JsonObject().put("enabled", !webhooks))
          .put("connections", new JsonObject().put("erp", erp).put("crm", crm));
      Path file = dir.resolve("tandem.json");
      Files.writeString(file, config.encodePrettily());
      rt = TandemRuntime.start(TandemConfig.load(file, Map.of())).toCompletionStage().toCompletableFuture()
          .get(120, TimeUnit.SECONDS);
      api = "http://127.0.0.1:" + rt.httpPort() + "/api/v1";
      if (webhooks) {
        for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT")) {
          sync(m);
        }
      }
    }

    String api(String method, String path, String body) throws Exception {
      return send(method, api + path, body, "Authorization", "Bearer " + TOKEN, "Content-Type", "application/json");
    }

    JsonObject sync(String mapping) throws Exception {
      long id = new JsonObject(api("POST", "/mappings/" + mapping + "/sync", "{\"direction\":\"TO_CRM\"}"))
          .getLong("jobId");
      while (true) {
        JsonObject job = new JsonObject(api("GET", "/jobs/" + id, null));
        String status = job.getString("status");
        if ("SUCCEEDED".equals(status)) {
          return job;
        }
        if ("FAILED".equals(status) || "CANCELLED".equals(status) || "DEAD".equals(status)) {
          throw new IllegalStateException(mapping + " sync ended " + status + ": " + job.encode());
        }
        Thread.sleep(100);
      }
    }

    /** A full synchronization of one mapping, one key range; @return its line */
    JsonObject fullSync(String mapping) throws Exception {
      String started = api("POST", "/full-sync/start", new JsonObject().put("mappings", new JsonArray().add(mapping))
          .encode());
      if (!started.contains("runId")) {
        throw new IllegalStateException("full synchronization refused: " + started);
      }
      while (true) {
        JsonObject review = new JsonObject(api("GET", "/full-sync?counts=false", null));
        JsonObject run = review.getJsonObject("run");
        if (run != null && !"RUNNING".equals(run.getString("status"))) {
          if (!"SUCCEEDED".equals(run.getString("status"))) {
            throw new IllegalStateException("full synchronization ended " + review.encode());
          }
          return review.getJsonArray("lines").stream().map(JsonObject.class::cast)
              .filter(l -> mapping.equals(l.getString("mapping"))).findFirst().orElseThrow();
        }
        Thread.sleep(200);
      }
    }

    /** Waits until no CUSTOMER job is queued or running. */
    void idle() throws Exception {
      long until = System.currentTimeMillis() + 300_000;
      while (System.currentTimeMillis() < until) {
        JsonArray jobs = new JsonObject(api("GET", "/jobs?mapping=CUSTOMER&limit=20", null)).getJsonArray("jobs",
            new JsonArray());
        if (jobs.stream().map(JsonObject.class::cast).noneMatch(j -> "QUEUED".equals(j.getString("status"))
            || "RUNNING".equals(j.getString("status")))) {
          return;
        }
        Thread.sleep(100);
      }
    }

    String crmIdOf(String erpNo) throws Exception {
      JsonArray c = new JsonObject(api("GET", "/couplings?mapping=CUSTOMER&erpId=" + enc(erpNo), null))
          .getJsonArray("couplings", new JsonArray());
      if (c.isEmpty()) {
        throw new IllegalStateException("customer " + erpNo + " is not coupled");
      }
      return c.getJsonObject(0).getString("crmId");
    }

    long notifiedRuns() throws Exception {
      return new JsonObject(api("GET", "/jobs?mapping=CUSTOMER&limit=500", null)).getJsonArray("jobs", new JsonArray())
          .stream().map(JsonObject.class::cast).filter(j -> j.getJsonObject("parameters", new JsonObject())
              .getString("trigger", "").equals("erp-notification")).count();
    }

    @Override
    public void close() {
      rt.stop().toCompletionStage().toCompletableFuture().join();
    }
  }
}
