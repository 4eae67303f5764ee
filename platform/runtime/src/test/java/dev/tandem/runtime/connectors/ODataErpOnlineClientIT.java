package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient.Write;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.erp.ErpSimulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The ERP client on the bc-online profile: OAuth client credentials, token reuse and renewal, the company check. */
class ODataErpOnlineClientIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private Vertx vertx;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void setUp() throws Exception {
    admin(erp.get().baseUrl(), "POST", "reset", null);
    admin(erp.get().baseUrl(), "POST", "stats/reset", null);
    admin(erp.get().baseUrl(), "POST", "clients", "{\"tokenLifetimeSeconds\":3599}");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private ODataErpClient client(String company, String secret, String scope) {
    ErpSimulator.Options o = erp.get().options();
    return new ODataErpClient(vertx, ODataErpSettings.online(erp.get().serviceRoot(), company,
        new ODataErpSettings.OAuth(erp.get().tokenUrl(), o.clientId(), secret, scope)),
        EndpointMetrics.micrometer(registry));
  }

  private ODataErpClient client() {
    ErpSimulator.Options o = erp.get().options();
    return client(o.company(), o.clientSecret(), null);
  }

  private static long tokenRequests() throws Exception {
    Map<?, ?> routes = (Map<?, ?>) Json.object(admin(erp.get().baseUrl(), "GET", "stats", null)).get("byRoute");
    Object n = routes.get("POST token");
    return n == null ? 0 : ((Number) n).longValue();
  }

  @Test
  void readsAndWritesWithOneTokenForManyRequests() throws Exception {
    ODataErpClient client = client();
    List<WriteResult> w = on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("No", "O1").put("Name", "Online One")))));
    assertTrue(w.get(0).ok(), String.valueOf(w.get(0).error()));
    for (int i = 0; i < 3; i++) {
      Page p = on(vertx, () -> client.read("Customer", "No eq 'O1'", null, null));
      assertEquals("Online One", p.rows().get(0).getString("Name"));
    }
    assertEquals(1, tokenRequests(), "the token is cached");
    assertEquals(ODataErpSettings.ONLINE_SCOPE, client.settings().oauth().scope(), "the scope defaults to BC's");
  }

  @Test
  void theTokenIsRenewedBeforeItExpires() throws Exception {
    admin(erp.get().baseUrl(), "POST", "clients", "{\"tokenLifetimeSeconds\":2}");
    ODataErpClient client = client();
    on(vertx, () -> client.read("Customer", null, null, null));
    Thread.sleep(1_200);
    on(vertx, () -> client.read("Customer", null, null, null));
    assertEquals(2, tokenRequests(), "renewed a second ahead of its 2-second lifetime");
    assertEquals(0.0, registry.find("tandem.endpoint.requests").tag("status", "401").counter() == null ? 0.0
        : registry.get("tandem.endpoint.requests").tag("status", "401").counter().count(),
        "no request went out with an expired token");
  }

  @Test
  void a401GetsOneFreshTokenAndTheRequestSucceeds() throws Exception {
    ODataErpClient client = client();
    on(vertx, () -> client.read("Customer", null, null, null));
    admin(erp.get().baseUrl(), "POST", "tokens/expire", null);
    on(vertx, () -> client.read("Customer", null, null, null));
    assertEquals(2, tokenRequests());
  }

  @Test
  void refusedCredentialsAndAWrongScopeArePermanent() throws Exception {
    ExecutionException secret = assertThrows(ExecutionException.class,
        () -> on(vertx, () -> client(erp.get().options().company(), "wrong", null).read("Customer", null, null, null)));
    TandemException te = (TandemException) secret.getCause();
    assertEquals(ErrorKind.PERMANENT, te.kind());
    assertTrue(te.getMessage().contains("AADSTS7000215"), te.getMessage());
    ExecutionException scope = assertThrows(ExecutionException.class, () -> on(vertx, () -> client(
        erp.get().options().company(), erp.get().options().clientSecret(), "https://contoso.crm.dynamics.com/.default")
        .read("Customer", null, null, null)));
    assertEquals(ErrorKind.PERMANENT, ((TandemException) scope.getCause()).kind());
    assertTrue(scope.getCause().getMessage().contains("invalid_resource"), scope.getCause().getMessage());
  }

  @Test
  void theConnectionTestFindsTheCompanyOrNamesTheOnesThereAre() throws Exception {
    assertEquals(List.of("CRONUS International Ltd."), on(vertx, () -> client().verifyCompany()));
    ExecutionException e = assertThrows(ExecutionException.class, () -> on(vertx, () -> client("CRONUS Ltd.",
        erp.get().options().clientSecret(), null).verifyCompany()));
    TandemException te = (TandemException) e.getCause();
    assertEquals(ErrorKind.PERMANENT, te.kind());
    assertTrue(te.getMessage().contains("'CRONUS Ltd.' does not exist")
        && te.getMessage().contains("CRONUS International Ltd."), te.getMessage());
  }

  @Test
  void settingsRefuseTheOnlineProfileWithoutClientCredentials() {
    assertThrows(IllegalArgumentException.class, () -> new ODataErpSettings(erp.get().serviceRoot(), "C", "U", "K",
        100, 100, 5, 3, 1000, ODataErpSettings.Profile.BC_ONLINE, null));
    assertEquals("https://api.businesscentral.dynamics.com/v2.0/contoso/Sandbox/ODataV4",
        ODataErpSettings.onlineServiceRoot("contoso", "Sandbox"));
  }

  @Test
  void manyKeysAreReadWithInAsFewFiltersAsTheUrlMarginAllows() throws Exception {
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":5,\"counts\":{\"Item\":700}}");
    ODataErpClient client = client();
    List<String> nos = new java.util.ArrayList<>();
    Page page = on(vertx, () -> client.read("Item", null, List.of("No"), "No"));
    page.rows().forEach(r -> nos.add(r.getString("No")));
    while (page.hasNext()) {
      String next = page.nextLink();
      page = on(vertx, () -> client.follow(next));
      page.rows().forEach(r -> nos.add(r.getString("No")));
    }
    List<String> wanted = new java.util.ArrayList<>(nos.subList(0, 600));
    wanted.add("NO'SUCH");
    List<String> filters = client.anyOfFilters("No", wanted);
    java.util.Set<String> found = new java.util.HashSet<>();
    for (String f : filters) {
      assertTrue(f.startsWith("No in ('") && f.length() <= ODataErpClient.KEY_FILTER_CHARS, f);
      on(vertx, () -> client.read("Item", f, List.of("No"), null)).rows().forEach(r -> found.add(r.getString("No")));
    }
    assertTrue(filters.size() < 601 / ODataErpClient.OR_KEYS, "fewer reads than 50 keys each: " + filters.size());
    assertEquals(java.util.Set.copyOf(nos.subList(0, 600)), found);
  }
}
