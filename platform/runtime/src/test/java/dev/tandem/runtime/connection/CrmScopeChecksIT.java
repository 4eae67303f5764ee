package dev.tandem.runtime.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The connection test and the set-up client ask Entra for the organization's scope when none is configured, and a
 * wrong scope is reported with Entra's AADSTS code and message (the simulator answers as Entra does).
 */
class CrmScopeChecksIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private JsonObject check(String scope, String name) throws Exception {
    DataverseSettings s = DataverseSettings.of(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync",
        "tandem-secret", scope);
    JsonArray results = new ConnectionChecks(vertx, 10_000).run(new TandemConfig.Connections(null, s), List.of(),
        null, null).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (Object o : results) {
      if (name.equals(((JsonObject) o).getString("name"))) {
        return (JsonObject) o;
      }
    }
    throw new AssertionError(name + " not in " + results.encode());
  }

  @Test
  void withoutAScopeTheOrganizationsOwnIsAskedFor() throws Exception {
    JsonObject token = check(null, "crm.token");
    assertEquals("ok", token.getString("state"), token.encode());
    assertEquals("ok", check(null, "crm.whoAmI").getString("state"));
    CrmSetupClient setup = new CrmSetupClient(vertx, crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync",
        "tandem-secret", null);
    setup.signIn().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    setup.close();
  }

  @Test
  void aWrongScopeIsReportedWithEntrasCodeAndMessage() throws Exception {
    JsonObject token = check("https://org.crm.dynamics.com/.default", "crm.token");
    assertEquals("failed", token.getString("state"), token.encode());
    assertTrue(token.getString("message").contains("invalid_resource — AADSTS500011: The resource principal named "
        + "https://org.crm.dynamics.com was not found"), token.encode());
    assertTrue(token.getString("remedy").contains("crm.scope"), token.encode());
    assertEquals("skipped", check("https://org.crm.dynamics.com/.default", "crm.whoAmI").getString("state"));
  }
}
