package dev.tandem.sim.crm;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import dev.tandem.sim.core.StoreAdmin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar tandem-sim-crm-dataverse-…-standalone.jar --port 8081 --seed 42 --accounts 500}. */
@Command(name = "crm-dataverse-simulator", mixinStandardHelpOptions = true,
    description = "Dataverse Web API v9.2 simulator.")
public final class DataverseMain implements Callable<Integer> {

  @Option(names = "--port", defaultValue = "8081", description = "port (default ${DEFAULT-VALUE}; 0 = any free)")
  int port;
  @Option(names = "--seed", defaultValue = "42", description = "seed of the generated data (default ${DEFAULT-VALUE})")
  long seed;
  @Option(names = "--tenant", defaultValue = "tandem-tenant", description = "tenant in the token endpoint path")
  String tenant;
  @Option(names = "--client-id", defaultValue = "tandem-sync", description = "OAuth client id of the integration user")
  String clientId;
  @Option(names = "--client-secret", defaultValue = "tandem-secret", description = "its secret")
  String clientSecret;
  @Option(names = "--profile", defaultValue = "fast",
      description = "cost model: fast (no latency or execution cost) or realistic (default ${DEFAULT-VALUE})")
  String profile;
  @Option(names = "--time-scale", defaultValue = "1",
      description = "factor on every cost and service-protection window (default ${DEFAULT-VALUE})")
  double timeScale;
  @Option(names = "--systemusers", defaultValue = "20", description = "licensed users to generate")
  int users;
  @Option(names = "--accounts", defaultValue = "0", description = "accounts to generate")
  int accounts;
  @Option(names = "--contacts", defaultValue = "0", description = "contacts to generate")
  int contacts;
  @Option(names = "--products", defaultValue = "0", description = "products to generate")
  int products;
  @Option(names = "--organization", defaultValue = "tandem-solution",
      description = "table definitions to start with: fresh (no change tracking, no alternate keys) or "
          + "tandem-solution (as after importing Tandem's solution; default ${DEFAULT-VALUE})")
  String organization;

  /** @param args command line */
  public static void main(String[] args) {
    int rc = new CommandLine(new DataverseMain()).execute(args);
    if (rc != 0) {
      System.exit(rc);
    }
  }

  @Override
  public Integer call() throws Exception {
    DataverseSimulator sim = new DataverseSimulator(new DataverseSimulator.Options(port, seed, tenant, clientId,
        clientSecret));
    sim.profile(profile, timeScale);
    if (organization.equals("fresh")) {
      sim.metadata().freshOrganization();
    } else if (!organization.equals("tandem-solution")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--organization must be fresh or "
          + "tandem-solution");
    }
    sim.start();
    Map<String, Integer> counts = new LinkedHashMap<>();
    counts.put("systemusers", users);
    counts.put("accounts", accounts);
    counts.put("contacts", contacts);
    counts.put("products", products);
    DataverseAdmin.seed(sim, seed, counts);
    System.out.println("Dataverse simulator listening: " + sim.apiUrl());
    System.out.println("  token endpoint " + sim.tokenUrl() + ", client " + clientId + " / " + clientSecret);
    System.out.println("  cost model: " + sim.costs().describe());
    System.out.println("  rows: " + sim.store().counts());
    StoreAdmin.runUntilStopped(sim);
    return 0;
  }
}
