package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Links the endpoints hand out (and Tandem stores) are followed with credentials only on the configured origin: a
 * next or delta link to another host — here a second HTTP server that records what it receives — is refused
 * before any request is made, so the bearer token and the web-service key never leave for it.
 */
class ForeignLinkIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);

  private Vertx vertx;
  private HttpServer foreign;
  private final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    foreign = vertx.createHttpServer().requestHandler(req -> {
      received.add(req.method() + " " + req.uri() + " Authorization=" + req.getHeader("Authorization"));
      req.response().putHeader("Content-Type", "application/json").end("{\"value\":[]}");
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private String foreignOrigin() {
    return "http://127.0.0.1:" + foreign.actualPort();
  }

  private static TandemException failure(ExecutionException e) {
    assertTrue(e.getCause() instanceof TandemException, String.valueOf(e.getCause()));
    return (TandemException) e.getCause();
  }

  @Test
  void theCrmBearerTokenNeverGoesToAnotherOrigin() throws Exception {
    DataverseClient crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(),
        crmSim.get().tokenUrl(), "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
    // The client works against its own endpoint (and holds a token by now).
    assertTrue(on(vertx, crm::whoAmI).containsKey("UserId"));
    for (String link : List.of(foreignOrigin() + "/api/data/v9.2/accounts?$deltatoken=MTIz",
        foreignOrigin() + "/api/data/v9.2/accounts?$skiptoken=abc")) {
      TandemException e = failure(assertThrows(ExecutionException.class, () -> on(vertx, () -> crm.follow(link))));
      assertEquals(ErrorKind.PERMANENT, e.kind(), e.getMessage());
      assertTrue(e.getMessage().contains(foreignOrigin()), "names the link's origin: " + e.getMessage());
    }
    assertEquals(List.of(), received, "the foreign host received nothing, let alone the bearer token");
  }

  @Test
  void theErpKeyNeverGoesToAnotherOrigin() throws Exception {
    ErpSimulator.Options o = erpSim.get().options();
    ODataErpClient erp = new ODataErpClient(vertx, ODataErpSettings.of(erpSim.get().serviceRoot(), o.company(),
        o.user(), o.accessKey()), EndpointMetrics.NONE);
    String link = foreignOrigin() + "/ODataV4/Company('CRONUS')/Customer?$skiptoken='C10010'";
    TandemException e = failure(assertThrows(ExecutionException.class, () -> on(vertx, () -> erp.follow(link))));
    assertEquals(ErrorKind.PERMANENT, e.kind(), e.getMessage());
    assertTrue(e.getMessage().contains(foreignOrigin()), e.getMessage());
    // The same host on another port, or another scheme, is another origin too.
    String otherPort = erpSim.get().serviceRoot().replaceFirst(":(\\d+)", ":" + foreign.actualPort());
    assertThrows(ExecutionException.class, () -> on(vertx, () -> erp.follow(otherPort + "/Company('X')/Customer")));
    assertEquals(List.of(), received, "the foreign host received nothing, let alone the web-service key");
  }

  @Test
  void originsCompareSchemeHostAndPort() {
    assertEquals("https://org.crm.dynamics.com:443", EndpointOrigin.of("https://ORG.crm.dynamics.com/api/data/v9.2"));
    assertEquals("http://localhost:8080", EndpointOrigin.of("http://localhost:8080/x?y=1"));
    EndpointOrigin crm = new EndpointOrigin("CRM", "https://org.crm.dynamics.com/api/data/v9.2");
    assertEquals(null, crm.refuse("https://org.crm.dynamics.com:443/api/data/v9.2/accounts?$deltatoken=1",
        Stage.READ));
    assertTrue(crm.refuse("https://org.crm.dynamics.com.evil.example/api", Stage.READ) != null);
    assertTrue(crm.refuse("http://org.crm.dynamics.com/api", Stage.READ) != null, "another scheme");
    assertTrue(crm.refuse("https://user@evil.example/api", Stage.READ) != null);
  }
}
