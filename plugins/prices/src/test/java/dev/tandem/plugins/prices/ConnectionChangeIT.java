package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A connection change reaches the plugins without restarting the node: a node started without a connection
 * declares the legacy pricing pair; once the stored connection points at Business Central online, the prices
 * plugin declares the price lists instead and the engine serves them. The connection's item-availability user
 * and key are the ones availability reads go with, and switching availability off in the connection stops them.
 */
class ConnectionChangeIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> nav = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<ErpSimulator> online =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));
  @RegisterExtension
  @Order(3)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(4)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar",
          "tandem.items.jar"))
      .withSecretKey()
      .againstSimulators(nav, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "USD"))
      .configure(c -> c.withConnections(TandemConfig.Connections.none()));

  private static JsonObject crmSide() {
    return new JsonObject().put("url", crm.get().apiUrl()).put("tokenUrl", crm.get().tokenUrl())
        .put("applicationUsers", new JsonArray().add(new JsonObject().put("clientId", "tandem-sync")
            .put("clientSecret", "tandem-secret")));
  }

  private static JsonObject navConnection(String availabilityKey) {
    // The simulator has one web-service user: the availability user is that user, told apart by its own key.
    ErpSimulator.Options o = nav.get().options();
    return new JsonObject()
        .put("erp", new JsonObject().put("profile", "nav").put("url", nav.get().serviceRoot())
            .put("company", o.company()).put("user", o.user()).put("accessKey", o.accessKey()))
        .put("crm", crmSide())
        .put("availability", new JsonObject().put("enabled", true).put("user", o.user())
            .put("accessKey", availabilityKey));
  }

  private static JsonObject onlineConnection() {
    ErpSimulator.Options o = online.get().options();
    return new JsonObject()
        .put("erp", new JsonObject().put("profile", "bc-online").put("url", online.get().serviceRoot())
            .put("tokenUrl", online.get().tokenUrl()).put("scope", ErpSimulator.scope()).put("company", o.company())
            .put("clientId", o.clientId()).put("clientSecret", o.clientSecret()))
        .put("crm", crmSide());
  }

  private static void change(String method, JsonObject body) throws Exception {
    TandemExtension.ApiResponse r = tandem.api(method, "/api/v1/connection", body);
    assertEquals(200, r.status(), r.body());
  }

  /**
   * Waits until the node answers a path with a status (and a body holding a text): a change applies
   * asynchronously, on every node.
   */
  private static void await(String what, String path, int status, String text) throws Exception {
    long until = System.currentTimeMillis() + 30_000;
    TandemExtension.ApiResponse last = null;
    while (System.currentTimeMillis() < until) {
      last = tandem.api("GET", path, null);
      if (last.status() == status && (text == null || last.body().contains(text))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + ": still " + last.status() + " " + last.body() + " after 30 s, expected "
        + status + (text == null ? "" : " with '" + text + "'"));
  }

  @Test
  void pluginsFollowTheStoredConnectionWithoutARestart() throws Exception {
    // No connection, no profile hint: the prices plugin declares the legacy pair.
    assertEquals(200, tandem.api("GET", "/api/v1/mappings/SALESPRC-PRODPRICE", null).status());
    assertEquals(404, tandem.api("GET", "/api/v1/mappings/PLHEADER-PRICE", null).status());

    // NAV, with the connection's availability user: the availability read goes with that user and key.
    change("PUT", navConnection(nav.get().options().accessKey()));
    await("the engine serves ITEM-PRODUCT on NAV", "/api/v1/mappings/ITEM-PRODUCT", 200, "\"connection\":\"connected\"");
    http("POST", nav.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":3,\"counts\":{\"SalespersonPurchaser\":0,\"Item\":5,\"Resource\":0}}");
    for (String m : new String[] {"UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE", "ITEM-PRODUCT"}) {
      tandem.syncSucceeded(m);
    }
    String product = tandem.coupledCrmIds("ITEM-PRODUCT").values().iterator().next();
    String availability = "/api/v1/availability/" + product;
    await("availability read with the connection's availability user", availability, 200, "inventory");
    // A wrong key for that user: the reads fail with the ERP's 401, so they do go with it.
    change("PATCH", new JsonObject().put("availability", new JsonObject().put("accessKey", "not-the-key")));
    await("availability read with a wrong availability key", availability, 503, "401");
    // Switched off in the connection: the reads stop, and the answer says so.
    change("PATCH", new JsonObject().put("availability", new JsonObject().put("enabled", false)));
    await("availability switched off", availability, 409, "switched off");

    // Business Central online: the price lists replace the legacy pair, and the engine serves them.
    change("PUT", onlineConnection());
    await("price lists declared on bc-online", "/api/v1/mappings/PLHEADER-PRICE", 200, null);
    assertEquals(404, tandem.api("GET", "/api/v1/mappings/SALESPRC-PRODPRICE", null).status());
    JsonObject mapping = tandem.api("GET", "/api/v1/mappings/PLHEADER-PRICE", null).json();
    assertEquals("connected", mapping.getString("connection"), mapping.encode());
    // The new connection has no availability section: reads go with the application again (the ERP there has no
    // such item: 404 naming it, not a failure to read).
    await("availability back on with the connection's own credentials", availability, 404, "no longer exists");

    http("POST", online.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":3,\"counts\":{\"SalespersonPurchaser\":0,\"Item\":5,\"Resource\":0}}");
    long currencies = tandem.syncSucceeded("CURRENCY").getLong("inserted");
    assertTrue(currencies > 0, "currencies written through the new connection");
    JsonObject lists = tandem.syncSucceeded("PLHEADER-PRICE");
    assertTrue(lists.getLong("inserted") > 0, lists.encode());
  }
}
