package dev.tandem.sim.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.admin.Router;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.common.ConsoleNotifier;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.extension.AdminApiExtension;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.http.HttpHeaders;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.http.RequestMethod;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * A WireMock server whose every request is answered by a simulator's {@link SimHandler} from its in-memory store,
 * through one catch-all stub and a global transformer. On the way in, a request is counted ({@link RequestStats}),
 * may be refused by the simulator's {@link Gate} (service protection), and may get an injected fault
 * ({@link FaultInjector}). The request journal is off: a simulator must never be a benchmark's bottleneck.
 *
 * <p>Admin routes live under {@code /__admin/sim/}: {@code GET stats}, {@code POST stats/reset},
 * {@code GET|POST|DELETE faults}, and what the simulator registers ({@link #adminRoute}).
 */
public final class SimulatorServer {

  /** Lets a simulator refuse a request before it is handled, and know when it ended. */
  public interface Gate {
    /**
     * @param request the request
     * @return a refusal (e.g. 429), or null to let it through
     */
    SimResponse enter(SimRequest request);

    /** @param request a request that was let through has ended */
    void exit(SimRequest request);
  }

  private record AdminRoute(RequestMethod method, String template, AdminHandler handler) {}

  /** Handles an admin route. */
  @FunctionalInterface
  public interface AdminHandler {
    /**
     * @param request the request
     * @param params path parameters by name
     * @return the answer
     */
    SimResponse handle(SimRequest request, Map<String, String> params);
  }

  private final String name;
  private final int requestedPort;
  private final SimHandler handler;
  private final Function<SimRequest, String> template;
  private final IntFunction<SimResponse> faultBody;
  private final FaultInjector faults;
  private final RequestStats stats = new RequestStats();
  private final List<AdminRoute> adminRoutes = new ArrayList<>();
  private Gate gate;
  private WireMockServer server;

  /**
   * @param name name of the simulator, for logs
   * @param port port, 0 for a free one
   * @param seed seeds fault injection
   * @param handler answers protocol requests
   * @param template turns a request into its stats template (entity set, no ids)
   * @param faultBody the protocol's error response for an injected status
   */
  public SimulatorServer(String name, int port, long seed, SimHandler handler, Function<SimRequest, String> template,
      IntFunction<SimResponse> faultBody) {
    this.name = name;
    this.requestedPort = port;
    this.handler = handler;
    this.template = template;
    this.faultBody = faultBody;
    this.faults = new FaultInjector(seed);
    adminRoute("GET", "/sim/stats", (r, p) -> SimResponse.json(200, stats.snapshot()));
    adminRoute("POST", "/sim/stats/reset", (r, p) -> {
      stats.reset();
      return SimResponse.json(200, stats.snapshot());
    });
    adminRoute("GET", "/sim/faults", (r, p) -> SimResponse.json(200, Map.of("faults", faults.list())));
    adminRoute("DELETE", "/sim/faults", (r, p) -> {
      faults.clear();
      return SimResponse.empty(204);
    });
    adminRoute("POST", "/sim/faults", (r, p) -> {
      try {
        return SimResponse.json(201, faults.add(Json.object(r.bodyText())));
      } catch (IllegalArgumentException e) {
        return SimResponse.json(400, Map.of("error", Map.of("code", "bad_fault", "message", e.getMessage())));
      }
    });
  }

  /**
   * Registers an admin route; call before {@link #start()}.
   *
   * @param method HTTP method
   * @param template path under {@code /__admin}, e.g. {@code /sim/rows/{entitySet}}
   * @param h the handler
   * @return this
   */
  public SimulatorServer adminRoute(String method, String template, AdminHandler h) {
    adminRoutes.add(new AdminRoute(RequestMethod.fromString(method), template, h));
    return this;
  }

  /**
   * @param value the gate requests pass through (service protection), or null
   * @return this
   */
  public SimulatorServer gate(Gate value) {
    this.gate = value;
    return this;
  }

  /** @return the fault injector */
  public FaultInjector faults() {
    return faults;
  }

  /** @return the request statistics */
  public RequestStats stats() {
    return stats;
  }

  /** @return starts the server */
  public SimulatorServer start() {
    WireMockConfiguration options = WireMockConfiguration.options()
        .port(requestedPort)
        .bindAddress("0.0.0.0")
        .containerThreads(320)
        .disableRequestJournal()
        .notifier(new ConsoleNotifier(false))
        .extensions(new Dispatch(), new Admin());
    server = new WireMockServer(options);
    server.start();
    server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)));
    return this;
  }

  /** Stops the server. */
  public void stop() {
    if (server != null) {
      server.stop();
    }
  }

  /** @return the port it listens on */
  public int port() {
    return server.port();
  }

  /** @return {@code http://localhost:<port>} */
  public String baseUrl() {
    return "http://localhost:" + port();
  }

  /** @return the simulator's name */
  public String name() {
    return name;
  }

  private static SimRequest toSim(Request r) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (HttpHeader h : r.getHeaders().all()) {
      headers.put(h.key(), h.firstValue());
    }
    return SimRequest.of(r.getMethod().getName(), r.getUrl(), headers, r.getBody());
  }

  static ResponseDefinition toDefinition(SimResponse resp) {
    if (resp.drop()) {
      return ResponseDefinitionBuilder.responseDefinition()
          .withFault(com.github.tomakehurst.wiremock.http.Fault.CONNECTION_RESET_BY_PEER).build();
    }
    List<HttpHeader> headers = new ArrayList<>();
    resp.headers().forEach((k, v) -> headers.add(new HttpHeader(k, v)));
    return ResponseDefinitionBuilder.responseDefinition()
        .withStatus(resp.status())
        .withHeaders(new HttpHeaders(headers))
        .withBody(resp.body())
        .build();
  }

  private SimResponse serve(SimRequest req) {
    stats.started(req.method(), template.apply(req));
    try {
      SimResponse refused = gate == null ? null : gate.enter(req);
      if (refused != null) {
        return refused;
      }
      try {
        FaultInjector.Fault f = faults.match(req.method(), req.path());
        if (f != null) {
          switch (f.kind()) {
            case LATENCY -> sleep(f.latencyMs());
            case DROP -> {
              return SimResponse.dropped();
            }
            case DROP_RESPONSE -> {
              handler.handle(req);
              return SimResponse.dropped();
            }
            case STATUS -> {
              SimResponse r = faultBody.apply(f.status());
              return f.retryAfterSeconds() > 0 ? r.with("Retry-After", String.valueOf(f.retryAfterSeconds())) : r;
            }
            default -> throw new IllegalStateException();
          }
        }
        return handler.handle(req);
      } finally {
        if (gate != null) {
          gate.exit(req);
        }
      }
    } catch (RuntimeException e) {
      return faultBody.apply(500).with("X-Simulator-Error", String.valueOf(e));
    } finally {
      stats.finished();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The global transformer: every stubbed request goes to the simulator. */
  private final class Dispatch implements ResponseDefinitionTransformerV2 {
    @Override
    public ResponseDefinition transform(ServeEvent serveEvent) {
      return toDefinition(serve(toSim(serveEvent.getRequest())));
    }

    @Override
    public String getName() {
      return name + "-dispatch";
    }
  }

  /**
   * The admin routes under /__admin/sim. WireMock finds a route's path template by its task's class, so each
   * path depth gets a class of its own and this server matches the simulator's routes itself.
   */
  private final class Admin implements AdminApiExtension {
    @Override
    public void contributeAdminApiRoutes(Router router) {
      for (RequestMethod m : new RequestMethod[] {RequestMethod.GET, RequestMethod.POST, RequestMethod.DELETE,
          RequestMethod.PUT, RequestMethod.PATCH}) {
        router.add(m, "/sim/{a}", new OneSegment());
        router.add(m, "/sim/{a}/{b}", new TwoSegments());
      }
    }

    @Override
    public String getName() {
      return name + "-admin";
    }
  }

  private final class OneSegment implements com.github.tomakehurst.wiremock.admin.AdminTask {
    @Override
    public ResponseDefinition execute(com.github.tomakehurst.wiremock.core.Admin admin, ServeEvent serveEvent,
        com.github.tomakehurst.wiremock.common.url.PathParams pathParams) {
      return toDefinition(admin(toSim(serveEvent.getRequest())));
    }
  }

  private final class TwoSegments implements com.github.tomakehurst.wiremock.admin.AdminTask {
    @Override
    public ResponseDefinition execute(com.github.tomakehurst.wiremock.core.Admin admin, ServeEvent serveEvent,
        com.github.tomakehurst.wiremock.common.url.PathParams pathParams) {
      return toDefinition(admin(toSim(serveEvent.getRequest())));
    }
  }

  /** Matches an admin request against the registered templates ({@code {name}} matches one segment). */
  private SimResponse admin(SimRequest req) {
    String path = req.path().replaceFirst("^/__admin", "");
    String[] parts = path.split("/");
    for (AdminRoute route : adminRoutes) {
      if (!route.method().getName().equals(req.method())) {
        continue;
      }
      String[] tpl = route.template().split("/");
      if (tpl.length != parts.length) {
        continue;
      }
      Map<String, String> params = new LinkedHashMap<>();
      boolean ok = true;
      for (int i = 0; i < tpl.length && ok; i++) {
        if (tpl[i].startsWith("{") && tpl[i].endsWith("}")) {
          params.put(tpl[i].substring(1, tpl[i].length() - 1), parts[i]);
        } else {
          ok = tpl[i].equals(parts[i]);
        }
      }
      if (ok) {
        try {
          return route.handler().handle(req, params);
        } catch (IllegalArgumentException | ClassCastException e) {
          return SimResponse.json(400, Map.of("error", Map.of("code", "bad_request",
              "message", String.valueOf(e.getMessage()))));
        }
      }
    }
    return SimResponse.json(404, Map.of("error", Map.of("code", "not_found",
        "message", "no simulator admin route " + req.method() + " " + req.path())));
  }
}
