package dev.tandem.bench;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How fast the simulators are, so they are never a Tandem benchmark's bottleneck: records created per second
 * through batches of 1000 (ERP JSON $batch, CRM CreateMultiple and multipart $batch) and rows read per second
 * through server-driven paging, each with a few concurrent clients over real HTTP.
 */
@Command(name = "simulator-benchmark", mixinStandardHelpOptions = true,
    description = "Measures simulator write and read throughput over HTTP.")
public final class SimulatorBenchmark implements Callable<Integer> {

  @Option(names = "--records", defaultValue = "100000", description = "records to create per measurement")
  int records;

  @Option(names = "--clients", defaultValue = "4", description = "concurrent HTTP clients")
  int clients;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(new CommandLine(new SimulatorBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    ErpSimulator erp = new ErpSimulator(ErpSimulator.Options.defaults().withBatchLimit(1000));
    DataverseSimulator crm = new DataverseSimulator();
    erp.start();
    crm.start();
    try {
      // One untimed round first, so the JIT has compiled the paths that are measured.
      measure(erp, crm, false);
      send("POST", erp.baseUrl() + "/__admin/sim/reset", "");
      send("POST", crm.baseUrl() + "/__admin/sim/reset", "");
      measure(erp, crm, true);
      return 0;
    } finally {
      erp.stop();
      crm.stop();
    }
  }

  private void measure(ErpSimulator erp, DataverseSimulator crm, boolean print) throws Exception {
    printing = print;
    {
      String erpAuth = "Basic " + Base64.getEncoder().encodeToString((erp.options().user() + ":"
          + erp.options().accessKey()).getBytes(StandardCharsets.UTF_8));
      String company = "Company('" + URLEncoder.encode(erp.options().company(), StandardCharsets.UTF_8)
          .replace("+", "%20") + "')";
      report("ERP  create, JSON $batch of 1000", records, parallel(records / 1000, i -> {
        StringBuilder b = new StringBuilder("{\"requests\":[");
        for (int j = 0; j < 1000; j++) {
          b.append(j == 0 ? "" : ",").append("{\"id\":\"").append(j).append("\",\"method\":\"POST\",\"url\":\"")
              .append(company).append("/Customer\",\"body\":{\"No\":\"B").append(i * 1000 + j)
              .append("\",\"Name\":\"Customer ").append(i * 1000 + j).append("\",\"City\":\"Malmö\"}}");
        }
        return send("POST", erp.serviceRoot() + "/$batch", b.append("]}").toString(), "Authorization", erpAuth,
            "Content-Type", "application/json");
      }));
      report("ERP  read, pages of 5000, all 25 fields", records, readAll(erp.companyUrl() + "/Customer",
          "Authorization", erpAuth));
      report("ERP  read, pages of 5000, 4 fields", records, readAll(erp.companyUrl()
          + "/Customer?$select=No,Name,City,SystemModifiedAt", "Authorization", erpAuth));

      String token = (String) Json.object(send("POST", crm.tokenUrl(), "grant_type=client_credentials&client_id="
          + crm.options().clientId() + "&client_secret=" + crm.options().clientSecret() + "&scope="
          + java.net.URLEncoder.encode(crm.scope(), java.nio.charset.StandardCharsets.UTF_8),
          "Content-Type", "application/x-www-form-urlencoded")).get("access_token");
      report("CRM  create, CreateMultiple of 1000", records, parallel(records / 1000, i -> {
        StringBuilder b = new StringBuilder("{\"Targets\":[");
        for (int j = 0; j < 1000; j++) {
          b.append(j == 0 ? "" : ",").append("{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"Account ")
              .append(i * 1000 + j).append("\",\"accountnumber\":\"M").append(i * 1000 + j).append("\"}");
        }
        return send("POST", crm.apiUrl() + "/accounts/Microsoft.Dynamics.CRM.CreateMultiple", b.append("]}").toString(),
            "Authorization", "Bearer " + token, "Content-Type", "application/json");
      }));
      int batchRecords = records / 2;
      report("CRM  create, $batch of 1000 (continue-on-error)", batchRecords, parallel(batchRecords / 1000, i -> {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < 1000; j++) {
          b.append("--batch_b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
              .append("POST /api/data/v9.2/contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n")
              .append("{\"lastname\":\"Contact ").append(i * 1000 + j).append("\"}\r\n");
        }
        return send("POST", crm.apiUrl() + "/$batch", b.append("--batch_b--\r\n").toString(),
            "Authorization", "Bearer " + token, "Content-Type", "multipart/mixed; boundary=batch_b",
            "Prefer", "odata.continue-on-error");
      }));
      report("CRM  read, pages of 5000, 2 columns", records, readAll(crm.apiUrl()
          + "/accounts?$select=name,accountnumber", "Authorization", "Bearer " + token));
      if (!print) {
        return;
      }
    }
  }

  private interface Call {
    String run(int i) throws Exception;
  }

  private long parallel(int calls, Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Callable<String>> tasks = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      int n = i;
      tasks.add(() -> call.run(n));
    }
    long t0 = System.nanoTime();
    for (Future<String> f : pool.invokeAll(tasks)) {
      f.get();
    }
    pool.shutdown();
    return System.nanoTime() - t0;
  }

  private long readAll(String url, String... headers) throws Exception {
    long t0 = System.nanoTime();
    String next = url;
    int rows = 0;
    while (next != null) {
      Map<String, Object> page = Json.object(sendHeaders("GET", next, null, with(headers, "Prefer",
          "odata.maxpagesize=5000")));
      rows += ((List<?>) page.get("value")).size();
      next = (String) page.get("@odata.nextLink");
    }
    if (rows < records) {
      throw new IllegalStateException("read " + rows + " rows, expected at least " + records);
    }
    return System.nanoTime() - t0;
  }

  private static String[] with(String[] h, String... more) {
    String[] out = new String[h.length + more.length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(more, 0, out, h.length, more.length);
    return out;
  }

  private String send(String method, String url, String body, String... headers) throws Exception {
    return sendHeaders(method, url, body, headers);
  }

  private String sendHeaders(String method, String url, String body, String[] headers) throws Exception {
    return BenchSupport.send(http, method, url, body, headers);
  }

  private boolean printing;

  private void report(String what, int n, long nanos) {
    if (!printing) {
      return;
    }
    System.out.printf(Locale.ROOT, "%-48s %,9d in %6.2f s = %,8.0f /s%n", what, n, nanos / 1e9, n / (nanos / 1e9));
  }
}
