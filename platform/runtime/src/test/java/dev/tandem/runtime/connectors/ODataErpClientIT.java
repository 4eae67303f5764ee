package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient.Write;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.erp.ErpSimulator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The ERP OData client against the ERP simulator over HTTP. */
class ODataErpClientIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private Vertx vertx;
  private ODataErpClient client;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void setUp() throws Exception {
    admin(erp.get().baseUrl(), "POST", "reset", null);
    admin(erp.get().baseUrl(), "DELETE", "faults", null);
    vertx = Vertx.vertx();
    client = client(erp.get().options().accessKey());
  }

  private ODataErpClient client(String key) {
    ErpSimulator.Options o = erp.get().options();
    return new ODataErpClient(vertx, new ODataErpSettings(erp.get().serviceRoot(), o.company(), o.user(), key, 200,
        100, 5, 3, 10_000), EndpointMetrics.micrometer(registry));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private List<JsonObject> readAll(String service, String filter) throws Exception {
    List<JsonObject> rows = new ArrayList<>();
    Page page = on(vertx, () -> client.read(service, filter, null, null));
    rows.addAll(page.rows());
    while (page.hasNext()) {
      String next = page.nextLink();
      page = on(vertx, () -> client.follow(next));
      rows.addAll(page.rows());
    }
    return rows;
  }

  @Test
  void pagesThroughEveryRowAndEscapesFilterValues() throws Exception {
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":5,\"counts\":{\"Customer\":1234}}");
    List<JsonObject> all = readAll("Customer", null);
    Set<String> nos = new HashSet<>();
    all.forEach(r -> nos.add(r.getString("No")));
    assertEquals(1234, nos.size());
    List<WriteResult> w = on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("No", "Q1").put("Name", "O'Brien & Co. 100%")))));
    assertTrue(w.get(0).ok(), String.valueOf(w.get(0).error()));
    List<JsonObject> found = readAll("Customer", "Name eq " + ODataErpClient.literal("O'Brien & Co. 100%"));
    assertEquals(1, found.size());
    assertEquals("Q1", found.get(0).getString("No"));
    // A value cannot widen the query: the quote stays inside the literal.
    assertEquals(0, readAll("Customer", "Name eq " + ODataErpClient.literal("x' or No ne '")).size());
  }

  @Test
  void rowsWithACompositeKeyAreReadByTheirSystemId() throws Exception {
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":5,\"counts\":{\"Item\":30}}");
    List<JsonObject> prices = readAll("SalesPrice", null);
    assertTrue(prices.size() > 3, "seeded sales prices: " + prices.size());
    List<String> ids = prices.subList(0, 3).stream().map(r -> r.getString("SystemId")).toList();
    String filter = ODataErpClient.anyOf("SystemId", ids);
    assertEquals("(SystemId eq " + ids.get(0) + " or SystemId eq " + ids.get(1) + " or SystemId eq " + ids.get(2)
        + ")", filter, "an Edm.Guid goes unquoted");
    assertEquals("(No eq '" + ids.get(0) + "')", ODataErpClient.anyOf("No", ids.subList(0, 1)), "a code stays text");
    List<JsonObject> found = readAll("SalesPrice", filter);
    assertEquals(Set.copyOf(ids), Set.copyOf(found.stream().map(r -> r.getString("SystemId")).toList()));
  }

  @Test
  void changedRowsByModifiedAtAndBatchedWritesWithIfMatch() throws Exception {
    List<WriteResult> created = on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("No", "W1").put("Name", "One")),
        new Write("POST", "Customer", null, null, new JsonObject().put("No", "W2").put("Name", "x".repeat(101))),
        new Write("POST", "Customer", null, null, new JsonObject().put("No", "W3").put("Name", "Three")))));
    assertTrue(created.get(0).ok());
    assertEquals(ErrorKind.DATA, created.get(1).error().kind());
    assertEquals(Stage.WRITE, created.get(1).error().stage());
    assertTrue(created.get(1).error().getMessage().contains("Application_StringExceededLength"));
    assertTrue(created.get(2).ok());
    String etag = created.get(0).body().getString("@odata.etag");
    Instant mark = Instant.parse(created.get(2).body().getString("SystemModifiedAt"));
    List<WriteResult> updated = on(vertx, () -> client.batch(List.of(
        new Write("PATCH", "Customer", ODataErpClient.literal("W1"), etag, new JsonObject().put("City", "Cork")),
        new Write("PATCH", "Customer", ODataErpClient.literal("W3"), "W/\"stale\"", new JsonObject().put("City", "x")))));
    assertTrue(updated.get(0).ok(), String.valueOf(updated.get(0).error()));
    assertEquals(409, updated.get(1).status());
    assertEquals(ErrorKind.DATA, updated.get(1).error().kind());
    List<JsonObject> changed = readAll("Customer", ODataErpClient.modifiedSince("SystemModifiedAt", mark));
    assertEquals(1, changed.size());
    assertEquals("Cork", changed.get(0).getString("City"));
    assertThrows(IllegalArgumentException.class, () -> client.batch(List.of(
        new Write("PATCH", "Customer", ODataErpClient.literal("W1"), null, new JsonObject()))));
  }

  @Test
  void wrongAccessKeyIsPermanentAndServerErrorsAreRetried() throws Exception {
    ODataErpClient wrong = client("not-the-key");
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> on(vertx, () -> wrong.read("Customer", null, null, null)));
    TandemException te = (TandemException) e.getCause();
    assertEquals(ErrorKind.PERMANENT, te.kind());
    assertTrue(te.getMessage().contains("401"), te.getMessage());

    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Currency\",\"kind\":\"STATUS\",\"status\":503,\"nth\":1}");
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Currency\",\"kind\":\"DROP\",\"nth\":1}");
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":1,\"counts\":{}}");
    Page page = on(vertx, () -> client.read("Currency", null, List.of("Code"), "Code"));
    assertEquals(5, page.rows().size(), "succeeds after a 503 and a dropped connection");
    assertNull(page.nextLink());
    assertEquals(1.0, registry.get("tandem.endpoint.requests").tag("status", "503").counter().count());
    assertEquals(1.0, registry.get("tandem.endpoint.requests").tag("status", "io_error").counter().count());
  }

  @Test
  void aBatchOfUpdatesThatTimedOutIsSplitNotResentWholeAndOneWithCreatesIsNotRepeated() throws Exception {
    List<Write> creates = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      creates.add(new Write("POST", "Customer", null, null, new JsonObject().put("No", "T" + i).put("Name", "T" + i)));
    }
    List<WriteResult> created = on(vertx, () -> client.batch(creates));
    List<Write> updates = new ArrayList<>();
    for (WriteResult c : created) {
      assertTrue(c.ok(), String.valueOf(c.error()));
      updates.add(new Write("PATCH", "Customer", ODataErpClient.literal(c.body().getString("No")),
          c.body().getString("@odata.etag"), new JsonObject().put("City", "Split")));
    }
    admin(erp.get().baseUrl(), "POST", "stats/reset", null);
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"kind\":\"STATUS\",\"status\":504,\"nth\":1}");
    List<WriteResult> results = on(vertx, () -> client.batch(updates));
    assertEquals(10, results.size());
    for (int i = 0; i < 10; i++) {
      assertTrue(results.get(i).ok(), String.valueOf(results.get(i).error()));
      assertEquals(i, results.get(i).index());
      assertEquals("T" + i, results.get(i).body().getString("No"));
    }
    // One batch of 10 timed out; its halves of 5 went through: three $batch requests, none with all 10 again.
    java.util.Map<?, ?> routes = (java.util.Map<?, ?>) dev.tandem.sim.core.Json.object(
        admin(erp.get().baseUrl(), "GET", "stats", null)).get("byRoute");
    assertEquals(3L, ((Number) routes.get("POST $batch")).longValue(), routes.toString());
    assertEquals(10, readAll("Customer", "City eq 'Split'").size());

    // A batch with creates that timed out may have created them: it fails retriable and is not sent again.
    admin(erp.get().baseUrl(), "POST", "stats/reset", null);
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"kind\":\"STATUS\",\"status\":504,\"nth\":1}");
    ExecutionException e = assertThrows(ExecutionException.class, () -> on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("Name", "A")),
        new Write("POST", "Customer", null, null, new JsonObject().put("Name", "B"))))));
    assertEquals(ErrorKind.RETRIABLE, ((TandemException) e.getCause()).kind());
    routes = (java.util.Map<?, ?>) dev.tandem.sim.core.Json.object(
        admin(erp.get().baseUrl(), "GET", "stats", null)).get("byRoute");
    assertEquals(1L, ((Number) routes.get("POST $batch")).longValue(), routes.toString());
  }

  @Test
  void aSingleWriteThatTimesOutIsRetriableAndA408IsRetried() throws Exception {
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"kind\":\"STATUS\",\"status\":504,\"rate\":1.0}");
    ExecutionException e = assertThrows(ExecutionException.class, () -> on(vertx, () -> client.batch(List.of(
        new Write("PATCH", "Customer", "'NONE'", "*", new JsonObject().put("Name", "Slow"))))));
    assertEquals(ErrorKind.RETRIABLE, ((TandemException) e.getCause()).kind());
    admin(erp.get().baseUrl(), "DELETE", "faults", null);
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Currency\",\"kind\":\"STATUS\",\"status\":408,\"nth\":1}");
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":1,\"counts\":{}}");
    assertEquals(5, on(vertx, () -> client.read("Currency", null, List.of("Code"), "Code")).rows().size(),
        "a read that got 408 succeeds on the next attempt");
    assertEquals(ErrorKind.RETRIABLE, HttpFailures.classify("ERP", Stage.WRITE, 408, null, null, true).kind());
  }

  @Test
  void mappingsAreCheckedAgainstTheMetadataAndUnknownFieldsNamed() throws Exception {
    java.util.Map<String, Set<String>> metadata = on(vertx, () -> client.metadata());
    assertTrue(metadata.get("Customer").containsAll(List.of("No", "Name", "Salesperson_Code", "SystemModifiedAt")));
    dev.tandem.api.MappingDefinition good = dev.tandem.api.MappingDefinition.builder("GOOD").erp("Customer", "No")
        .crm("accounts", "accountid").field("Name", "name", dev.tandem.api.Direction.TO_CRM).build();
    assertEquals(List.of(), ODataErpClient.unknownErpFields(good, metadata));
    dev.tandem.api.MappingDefinition typo = dev.tandem.api.MappingDefinition.builder("TYPO").erp("Customer", "No")
        .crm("accounts", "accountid").field("Nmae", "name", dev.tandem.api.Direction.TO_CRM)
        .field("Cty", "address1_city", dev.tandem.api.Direction.TO_CRM).build();
    List<String> problems = ODataErpClient.unknownErpFields(typo, metadata);
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).contains("mapping TYPO: ERP Customer has no field Nmae, Cty"), problems.get(0));
    dev.tandem.api.MappingDefinition unpublished = dev.tandem.api.MappingDefinition.builder("GONE")
        .erp("PriceListLine", "SystemId").crm("productpricelevels", "productpricelevelid")
        .field("Unit_Price", "amount", dev.tandem.api.Direction.TO_CRM).build();
    assertTrue(ODataErpClient.unknownErpFields(unpublished, metadata).get(0).contains("no web service PriceListLine"));
  }

  @Test
  void aBatchWithCreatesIsNotRepeatedOnceItMayHaveReachedTheErpButUpdatesAre() throws Exception {
    // The ERP creates the customer, then the answer is lost: repeating the batch would create a second one.
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"method\":\"POST\","
        + "\"kind\":\"DROP_RESPONSE\",\"nth\":1}");
    ExecutionException lost = assertThrows(ExecutionException.class, () -> on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("Name", "Only Once"))))));
    TandemException te = (TandemException) lost.getCause();
    assertEquals(ErrorKind.RETRIABLE, te.kind());
    assertTrue(te.getMessage().contains("not repeated"), te.getMessage());
    List<JsonObject> created = readAll("Customer", "Name eq 'Only Once'");
    assertEquals(1, created.size(), "created once");

    // A 5xx to a create is not repeated either (the server may have done the work before failing)...
    admin(erp.get().baseUrl(), "DELETE", "faults", null);
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"method\":\"POST\","
        + "\"kind\":\"STATUS\",\"status\":503,\"nth\":1}");
    assertThrows(ExecutionException.class, () -> on(vertx, () -> client.batch(List.of(
        new Write("POST", "Customer", null, null, new JsonObject().put("Name", "Refused"))))));
    // ...while a batch of updates (each with If-Match) is: repeating it cannot duplicate anything.
    admin(erp.get().baseUrl(), "DELETE", "faults", null);
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/\\\\$batch\",\"method\":\"POST\","
        + "\"kind\":\"STATUS\",\"status\":503,\"nth\":1}");
    JsonObject row = created.get(0);
    List<WriteResult> updated = on(vertx, () -> client.batch(List.of(new Write("PATCH", "Customer",
        ODataErpClient.literal(row.getString("No")), row.getString("@odata.etag"), new JsonObject().put("City", "Cork")))));
    assertTrue(updated.get(0).ok(), String.valueOf(updated.get(0).error()));
  }

  @Test
  void anEndpointThatStaysDownOpensTheCircuit() throws Exception {
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Item\",\"kind\":\"STATUS\",\"status\":503,\"rate\":1.0}");
    for (int i = 0; i < 5; i++) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> on(vertx, () -> client.read("Item", null, null, null)));
      assertEquals(ErrorKind.RETRIABLE, ((TandemException) e.getCause()).kind());
    }
    ExecutionException open = assertThrows(ExecutionException.class,
        () -> on(vertx, () -> client.read("Customer", null, null, null)));
    TandemException te = (TandemException) open.getCause();
    assertEquals(ErrorKind.RETRIABLE, te.kind());
    assertTrue(te.getMessage().contains("circuit open"), te.getMessage());
    assertTrue(te.retryAfter() != null && te.retryAfter().toMillis() > 0);
  }

  @Test
  void manyKeysOnNavAreOrsOfFiftyEquals() throws Exception {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      keys.add("K" + i);
    }
    List<String> filters = client.anyOfFilters("No", keys);
    assertEquals(3, filters.size());
    assertEquals(ODataErpClient.anyOf("No", keys.subList(0, 50)), filters.get(0), "NAV 2017 has no 'in'");
    assertEquals(ODataErpClient.anyOf("No", keys.subList(100, 120)), filters.get(2));
  }
}
