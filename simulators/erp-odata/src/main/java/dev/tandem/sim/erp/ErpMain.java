package dev.tandem.sim.erp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import dev.tandem.sim.core.StoreAdmin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar tandem-sim-erp-odata-…-standalone.jar --port 7048 --seed 42 --customers 500}. */
@Command(name = "erp-odata-simulator", mixinStandardHelpOptions = true,
    description = "Business Central / NAV OData v4 page web services simulator.")
public final class ErpMain implements Callable<Integer> {

  @Option(names = "--port", defaultValue = "7048", description = "port (default ${DEFAULT-VALUE}; 0 = any free)")
  int port;
  @Option(names = "--seed", defaultValue = "42", description = "seed of the generated data (default ${DEFAULT-VALUE})")
  long seed;
  @Option(names = "--instance", defaultValue = "BC", description = "server instance in the URL (default ${DEFAULT-VALUE})")
  String instance;
  @Option(names = "--company", defaultValue = "CRONUS International Ltd.", description = "company name")
  String company;
  @Option(names = "--user", defaultValue = "TANDEM", description = "web service user (default ${DEFAULT-VALUE})")
  String user;
  @Option(names = "--access-key", description = "web service access key (default: a fixed demo key, printed)")
  String accessKey;
  @Option(names = "--max-page-size", defaultValue = "20000", description = "server page size cap")
  int maxPageSize;
  @Option(names = "--batch-limit", defaultValue = "100", description = "operations per $batch (BC online: 100)")
  int batchLimit;
  @Option(names = "--profile", defaultValue = "nav", description = "nav (on-premises, web service key) or "
      + "bc-online (OAuth 2.0 client credentials; default ${DEFAULT-VALUE})")
  String profile;
  @Option(names = "--tenant", defaultValue = "tandem-tenant", description = "bc-online: tenant in the URLs")
  String tenant;
  @Option(names = "--environment", defaultValue = "Production", description = "bc-online: environment name")
  String environment;
  @Option(names = "--client-id", defaultValue = "tandem-bc-sync", description = "bc-online: registered client")
  String clientId;
  @Option(names = "--client-secret", defaultValue = "tandem-bc-secret", description = "bc-online: its secret")
  String clientSecret;
  @Option(names = "--cost-profile", defaultValue = "fast", description = "fast (no modelled server time) or "
      + "realistic (latency, per-operation time, FlowFields; default ${DEFAULT-VALUE})")
  String costProfile;
  @Option(names = "--time-scale", defaultValue = "1", description = "factor on every cost, the request-limit "
      + "window and the timeouts (default ${DEFAULT-VALUE})")
  double timeScale;
  @Option(names = "--customers", defaultValue = "0", description = "customers to generate")
  int customers;
  @Option(names = "--contacts", defaultValue = "0", description = "person contacts to generate")
  int contacts;
  @Option(names = "--salespeople", defaultValue = "10", description = "salespeople to generate")
  int salespeople;
  @Option(names = "--items", defaultValue = "0", description = "items (with sales prices) to generate")
  int items;
  @Option(names = "--resources", defaultValue = "0", description = "resources to generate")
  int resources;

  /** @param args command line */
  public static void main(String[] args) {
    int rc = new CommandLine(new ErpMain()).execute(args);
    if (rc != 0) {
      System.exit(rc);
    }
  }

  @Override
  public Integer call() throws Exception {
    ErpSimulator.Options d = ErpSimulator.Options.defaults();
    ErpSimulator sim = new ErpSimulator(new ErpSimulator.Options(port, seed, instance, company, user,
        accessKey == null ? d.accessKey() : accessKey, maxPageSize, batchLimit, ErpSimulator.Profile.of(profile),
        tenant, environment, clientId, clientSecret));
    sim.protection().costs(ErpCosts.profile(costProfile, timeScale));
    sim.start();
    Map<String, Integer> counts = new LinkedHashMap<>();
    counts.put("SalespersonPurchaser", salespeople);
    counts.put("Customer", customers);
    counts.put("Contact", contacts);
    counts.put("Item", items);
    counts.put("Resource", resources);
    ErpAdmin.seed(sim, seed, counts);
    System.out.println("ERP OData simulator listening: " + sim.companyUrl());
    if (sim.tokenUrl() != null) {
      System.out.println("  bc-online: token endpoint " + sim.tokenUrl() + ", client " + clientId + " / "
          + clientSecret + ", scope " + ErpSimulator.scope());
    } else {
      System.out.println("  nav: user " + sim.options().user() + ", web service access key " + sim.options().accessKey());
    }
    System.out.println("  rows: " + sim.store().counts());
    StoreAdmin.runUntilStopped(sim);
    return 0;
  }
}
