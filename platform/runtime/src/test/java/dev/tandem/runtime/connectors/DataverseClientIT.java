package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Dataverse client against the CRM simulator over HTTP. */
class DataverseClientIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private Vertx vertx;
  private DataverseClient client;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void setUp() throws Exception {
    admin(crm.get().baseUrl(), "POST", "reset", null);
    admin(crm.get().baseUrl(), "DELETE", "faults", null);
    admin(crm.get().baseUrl(), "POST", "limits", "{\"requests\":6000,\"executionMs\":1200000,\"concurrent\":52,"
        + "\"windowMs\":300000}");
    vertx = Vertx.vertx();
    client = client("tandem-secret", 1000);
  }

  private DataverseClient client(String secret, int pageSize) {
    return new DataverseClient(vertx, new DataverseSettings(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync",
        secret, crm.get().scope(), pageSize, 52, 8, 4, 1000, 10_000),
        EndpointMetrics.micrometer(registry));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static List<JsonObject> accounts(int from, int n) {
    List<JsonObject> t = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      t.add(new JsonObject().put("@odata.id", "accounts(accountnumber='N" + i + "')").put("name", "Account " + i));
    }
    return t;
  }

  @Test
  void deltaResultsAreFollowedPageByPageToTheNextDeltaLink() throws Exception {
    DataverseClient small = client("tandem-secret", 3);
    Page first = on(vertx, () -> small.trackChanges("accounts", "name"));
    assertNotNull(first.deltaLink());
    List<WriteResult> written = on(vertx, () -> small.upsertMultiple("accounts", "account", accounts(0, 7)));
    assertTrue(written.stream().allMatch(WriteResult::ok));
    Page page = on(vertx, () -> small.follow(first.deltaLink()));
    int rows = 0;
    int pages = 1;
    while (page.hasNext()) {
      rows += page.rows().size();
      assertTrue(page.rows().size() <= 3, "odata.maxpagesize holds for delta pages");
      String next = page.nextLink();
      page = on(vertx, () -> small.follow(next));
      pages++;
    }
    rows += page.rows().size();
    assertEquals(7, rows);
    assertEquals(3, pages);
    assertNotNull(page.deltaLink(), "the last delta page carries the next delta link");
  }

  @Test
  void theTokenScopeIsTheOrganizationsUrlByDefault() {
    assertEquals("https://contoso.crm4.dynamics.com/.default",
        DataverseClient.defaultScope("https://contoso.crm4.dynamics.com/api/data/v9.2"));
    assertEquals("http://localhost:8081/.default", DataverseClient.defaultScope("http://localhost:8081/api/data/v9.2"));
  }

  @Test
  void upsertsInBulkPagesAndTracksChanges() throws Exception {
    List<WriteResult> results = on(vertx, () -> client.upsertMultiple("accounts", "account", accounts(0, 2500)));
    assertEquals(2500, results.size());
    assertTrue(results.stream().allMatch(WriteResult::ok));
    Page page = on(vertx, () -> client.trackChanges("accounts", "name,accountnumber"));
    List<JsonObject> all = new ArrayList<>(page.rows());
    while (page.hasNext()) {
      String next = page.nextLink();
      page = on(vertx, () -> client.follow(next));
      all.addAll(page.rows());
    }
    Set<String> ids = new HashSet<>();
    all.forEach(r -> ids.add(r.getString("accountid")));
    assertEquals(2500, ids.size());
    assertEquals(2500, all.size());
    String delta = page.deltaLink();
    assertNotNull(delta);
    on(vertx, () -> client.upsertMultiple("accounts", "account", List.of(
        new JsonObject().put("@odata.id", "accounts(accountnumber='N7')").put("name", "Renamed"))));
    Page changes = on(vertx, () -> client.follow(delta));
    assertEquals(1, changes.rows().size());
    assertEquals("Renamed", changes.rows().get(0).getString("name"));
    assertNotNull(changes.deltaLink());
    assertEquals(crm.get().integrationUserId(), on(vertx, client::whoAmI).getString("UserId"));
  }

  @Test
  void oneBadRowDoesNotHoldBackTheOthers() throws Exception {
    List<JsonObject> targets = accounts(0, 10);
    targets.get(4).put("name", "x".repeat(200));
    List<WriteResult> results = on(vertx, () -> client.upsertMultiple("accounts", "account", targets));
    assertEquals(10, results.size());
    for (WriteResult r : results) {
      if (r.index() == 4) {
        assertEquals(ErrorKind.DATA, r.error().kind());
        assertTrue(r.error().getMessage().contains("0x80044331"), r.error().getMessage());
      } else {
        assertTrue(r.ok(), r.index() + ": " + r.error());
      }
    }
    assertEquals(9, Integer.parseInt(String.valueOf(io.vertx.core.json.Json.decodeValue(
        admin(crm.get().baseUrl(), "GET", "counts", null), Map.class).get("accounts"))));
  }

  @Test
  void batchGivesPerRecordResultsAndEntityIds() throws Exception {
    List<WriteResult> r = on(vertx, () -> client.batch(List.of(
        new BatchOperation("POST", "accounts", null, new JsonObject().put("name", "B1")),
        new BatchOperation("POST", "accounts", null, new JsonObject().put("name", "B2")
            .put("ownerid@odata.bind", "/systemusers(11111111-1111-1111-1111-111111111111)")),
        new BatchOperation("PATCH", "accounts(accountnumber='B3')", Map.of("If-None-Match", "*"),
            new JsonObject().put("name", "B3")))));
    assertTrue(r.get(0).ok());
    assertNotNull(r.get(0).entityId());
    assertEquals(404, r.get(1).status());
    assertEquals(ErrorKind.DATA, r.get(1).error().kind());
    assertTrue(r.get(1).error().getMessage().contains("Does Not Exist"));
    assertTrue(r.get(2).ok(), String.valueOf(r.get(2).error()));
  }

  @Test
  void anExpiredTokenIsRenewedAndWrongSecretsArePermanent() throws Exception {
    on(vertx, client::whoAmI);
    admin(crm.get().baseUrl(), "POST", "tokens/expire", null);
    assertEquals(crm.get().integrationUserId(), on(vertx, client::whoAmI).getString("UserId"), "renewed once");
    DataverseClient wrong = client("wrong-secret", 100);
    ExecutionException e = assertThrows(ExecutionException.class, () -> on(vertx, wrong::whoAmI));
    TandemException te = (TandemException) e.getCause();
    assertEquals(ErrorKind.PERMANENT, te.kind());
    assertTrue(te.getMessage().contains("the client id and secret"), te.getMessage());
    assertTrue(te.getMessage().contains("invalid_client: AADSTS7000215: Invalid client secret provided."),
        te.getMessage());
  }

  private DataverseClient scoped(String scope) {
    return new DataverseClient(vertx, DataverseSettings.of(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync",
        "tandem-secret", scope), EndpointMetrics.NONE);
  }

  private static TandemException refusal(Vertx vertx, DataverseClient c) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> on(vertx, c::whoAmI));
    TandemException te = (TandemException) e.getCause();
    assertEquals(ErrorKind.PERMANENT, te.kind(), te.getMessage());
    return te;
  }

  @Test
  void entraRefusalsOfTheScopeArePermanentAndNameTheirAadstsCode() throws Exception {
    // No scope configured: the client asks for the organization's own, which the simulator (as Entra) requires.
    assertEquals(crm.get().integrationUserId(), on(vertx, scoped(null)::whoAmI).getString("UserId"));
    assertEquals(crm.get().scope(), DataverseSettings.of(crm.get().apiUrl(), "t", "c", "s", null).tokenScope());
    TandemException resource = refusal(vertx, scoped("https://org.crm.dynamics.com/.default"));
    assertTrue(resource.getMessage().contains("invalid_resource: AADSTS500011: The resource principal named "
        + "https://org.crm.dynamics.com was not found in the tenant named tandem-tenant."), resource.getMessage());
    assertTrue(resource.getMessage().contains("the scope https://org.crm.dynamics.com/.default"),
        resource.getMessage());
    TandemException suffix = refusal(vertx, scoped(crm.get().organizationUrl() + "/user_impersonation"));
    assertTrue(suffix.getMessage().contains("invalid_scope: AADSTS1002012:"), suffix.getMessage());
    // A token Entra issues for another organization of the tenant: this organization's Web API refuses it (401),
    // and the failure names the resource its WWW-Authenticate asks for.
    crm.get().otherOrganizationInTenant("https://contoso-test.crm4.dynamics.com");
    TandemException other = refusal(vertx, scoped("https://contoso-test.crm4.dynamics.com/.default"));
    assertTrue(other.getMessage().contains("answered 401"), other.getMessage());
    assertTrue(other.getMessage().contains("the token scope must be " + crm.get().scope()), other.getMessage());
  }

  @Test
  void throttlingWaitsTheRetryAfterAndLowersConcurrency() throws Exception {
    admin(crm.get().baseUrl(), "POST", "limits", "{\"requests\":3,\"windowMs\":2000}");
    // The engine is not told of the lowered limits (its budget would keep it under them): only 429s teach it.
    vertx.close().toCompletionStage().toCompletableFuture().get();
    vertx = Vertx.vertx();
    client = new DataverseClient(vertx, new DataverseSettings(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync",
        "tandem-secret", null, 1000, 52, 8, 4, 1000, 10_000)
        .withLimits(EndpointBudget.Limits.concurrency(52)), EndpointMetrics.micrometer(registry));
    int before = client.budget().limit();
    long t0 = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      on(vertx, () -> client.query("accounts?$select=name"));
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 1500, "waited for the window: " + ms + " ms");
    assertTrue(client.budget().limit() < before, "concurrency lowered: " + client.budget().limit());
    assertTrue(registry.get("tandem.endpoint.throttled").tag("endpoint", "CRM").counter().count() >= 1);
  }
}
