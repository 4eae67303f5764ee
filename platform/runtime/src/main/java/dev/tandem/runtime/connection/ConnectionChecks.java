package dev.tandem.runtime.connection;

import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.connectors.ClientCredentialsToken;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The connection test ({@code POST /api/v1/connection/test}): each check by name, with what went wrong and what to
 * do about it. A check that cannot run because an earlier one failed says so ({@code skipped}). Messages name
 * hosts, users and companies, never a secret.
 */
public final class ConnectionChecks {

  /** The unique name of Tandem's CRM solution. */
  public static final String SOLUTION = "TandemIntegration";
  /** The roles the integration user needs; they come with the solution. */
  public static final List<String> INTEGRATION_ROLES = List.of("Integration Administrator", "Integration User");

  private final Vertx vertx;
  private final long timeoutMs;

  /**
   * @param vertx Vert.x
   * @param timeoutMs per request
   */
  public ConnectionChecks(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  /** One result. */
  private record Result(String name, String ok, String message, String remedy, JsonObject detail) {
    Result(String name, String ok, String message, String remedy) {
      this(name, ok, message, remedy, null);
    }

    JsonObject json() {
      JsonObject j = new JsonObject().put("name", name).put("ok", "ok".equals(ok)).put("state", ok)
          .put("message", message).put("remedy", remedy);
      return detail == null ? j : j.put("detail", detail);
    }
  }

  /**
   * @param uniqueName the solution's unique name
   * @param version its version
   * @return the {@code crm.solution} check's result for a solution found imported
   */
  public static JsonObject solutionImported(String uniqueName, String version) {
    return new Result("crm.solution", "ok", "solution " + uniqueName + " " + version + " is imported", null,
        new JsonObject().put("uniqueName", uniqueName).put("version", version)).json();
  }

  /**
   * Runs every check that applies.
   *
   * @param c the connection to test
   * @param mappings the enabled mappings (their ERP services and fields are checked)
   * @param availabilityUser the availability web-service user, or null
   * @param availabilityKey its access key, or null
   * @return the results in order, each {name, ok, state (ok, failed, skipped), message, remedy}
   */
  public Future<JsonArray> run(TandemConfig.Connections c, List<MappingDefinition> mappings, String availabilityUser,
      String availabilityKey) {
    WebClient web = WebClient.create(vertx, new WebClientOptions().setConnectTimeout((int) Math.min(timeoutMs,
        Integer.MAX_VALUE)).setIdleTimeout((int) (timeoutMs / 1000) + 1));
    List<Result> out = new ArrayList<>();
    Future<Void> erp = c.erp() == null ? skip(out, "erp", "the ERP connection is not set up")
        : erpChecks(web, c.erp(), mappings, out);
    return erp.compose(v -> c.crm() == null ? skip(out, "crm", "the CRM connection is not set up")
            : crmChecks(web, c.crm(), mappings, out))
        .compose(v -> availabilityUser == null || c.erp() == null ? Future.succeededFuture()
            : availability(web, c.erp(), availabilityUser, availabilityKey, out))
        .map(v -> {
          JsonArray a = new JsonArray();
          out.forEach(r -> a.add(r.json()));
          return a;
        })
        .onComplete(ar -> web.close());
  }

  private static Future<Void> skip(List<Result> out, String side, String why) {
    out.add(new Result(side + ".configured", "failed", why, "set the " + side.toUpperCase() + " side with PUT "
        + "/api/v1/connection or the setup guide's connection step"));
    return Future.succeededFuture();
  }

  private Future<HttpResponse<Buffer>> get(WebClient web, String url, String authorization) {
    var req = web.getAbs(url).timeout(timeoutMs).putHeader("Accept", "application/json");
    if (authorization != null) {
      req.putHeader("Authorization", authorization);
    }
    return req.send();
  }

  private Future<String> token(WebClient web, String tokenUrl, String clientId, String secret, String scope) {
    return ClientCredentialsToken.request(web, tokenUrl, clientId, secret, scope, timeoutMs)
        .compose(r -> {
          if (r.statusCode() == 200 && r.bodyAsJsonObject().getString("access_token") != null) {
            return Future.succeededFuture(r.bodyAsJsonObject().getString("access_token"));
          }
          String desc = "HTTP " + r.statusCode();
          try {
            JsonObject b = r.bodyAsJsonObject();
            desc += ": " + b.getString("error") + " — " + b.getString("error_description");
          } catch (RuntimeException e) {
            // not JSON: the status says enough
          }
          return Future.failedFuture(desc);
        });
  }

  private static String host(String url) {
    try {
      java.net.URI u = java.net.URI.create(url);
      return u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "");
    } catch (RuntimeException e) {
      return url;
    }
  }

  private Future<Void> erpChecks(WebClient web, ODataErpSettings erp, List<MappingDefinition> mappings,
      List<Result> out) {
    String companies = erp.serviceRoot() + "/Company";
    return get(web, erp.serviceRoot() + "/$metadata", null).transform(ar -> {
      if (ar.failed()) {
        out.add(new Result("erp.reachable", "failed", "the ERP at " + host(erp.serviceRoot()) + " does not answer: "
            + ar.cause().getMessage(), "check erp.url, DNS and firewalls, and that the OData web services are "
            + "enabled on the server instance"));
        skipRest(out, "erp.reachable", "erp.authenticated", "erp.company", "erp.services");
        return Future.succeededFuture((String) null);
      }
      out.add(new Result("erp.reachable", "ok", "the ERP at " + host(erp.serviceRoot()) + " answers", null));
      Future<String> auth = erp.profile() == ODataErpSettings.Profile.BC_ONLINE
          ? token(web, erp.oauth().tokenUrl(), erp.oauth().clientId(), erp.oauth().clientSecret(),
              erp.oauth().scope()).map(t -> "Bearer " + t)
          : Future.succeededFuture("Basic " + Base64.getEncoder().encodeToString((erp.user() + ":" + erp.accessKey())
              .getBytes(StandardCharsets.UTF_8)));
      return auth.compose(a -> get(web, companies, a).compose(r -> r.statusCode() == 200
              ? Future.succeededFuture(r.bodyAsJsonObject())
              : Future.failedFuture("HTTP " + r.statusCode() + " for the company list")))
          .map(body -> {
            out.add(new Result("erp.authenticated", "ok", erp.profile() == ODataErpSettings.Profile.BC_ONLINE
                ? "client " + erp.oauth().clientId() + " was granted a token" : "user " + erp.user()
                + " was accepted", null));
            List<String> names = new ArrayList<>();
            body.getJsonArray("value", new JsonArray()).forEach(o -> names.add(((JsonObject) o).getString("Name")));
            if (names.contains(erp.company())) {
              out.add(new Result("erp.company", "ok", "company '" + erp.company() + "' exists", null));
              return "ok";
            }
            out.add(new Result("erp.company", "failed", "company '" + erp.company() + "' is not one of the ERP's "
                + "companies " + names, "set erp.company to one of " + names));
            skipRest(out, "erp.company", "erp.services");
            return (String) null;
          }).recover(e -> {
            out.add(new Result("erp.authenticated", "failed", (erp.profile() == ODataErpSettings.Profile.BC_ONLINE
                ? "client " + erp.oauth().clientId() + " was refused: " : "user " + erp.user() + " was refused: ")
                + e.getMessage(), erp.profile() == ODataErpSettings.Profile.BC_ONLINE
                ? "check erp.clientId and erp.clientSecret of the Entra application, and that it is registered in "
                    + "Business Central (Microsoft Entra Applications)"
                : "check erp.user and its Web Service Access Key on the ERP's user card"));
            skipRest(out, "erp.authenticated", "erp.company", "erp.services");
            return Future.succeededFuture((String) null);
          });
    }).compose(ok -> ok == null ? Future.succeededFuture() : services(erp, mappings, out));
  }

  private Future<Void> services(ODataErpSettings erp, List<MappingDefinition> mappings, List<Result> out) {
    ODataErpClient client = new ODataErpClient(vertx, erp, EndpointMetrics.NONE);
    return client.metadata().transform(ar -> {
      if (ar.failed()) {
        out.add(new Result("erp.services", "failed", "the ERP's $metadata could not be read: " + ar.cause()
            .getMessage(), "publish the web services Tandem reads (Web Services page of the ERP)"));
      } else {
        List<String> problems = new ArrayList<>();
        for (MappingDefinition m : mappings) {
          problems.addAll(ODataErpClient.unknownErpFields(m, ar.result()));
        }
        out.add(problems.isEmpty()
            ? new Result("erp.services", "ok", "every enabled mapping's ERP web service answers with its fields", null)
            : new Result("erp.services", "failed", String.join("; ", problems), "publish these web services "
                + "(with these fields) on the ERP's Web Services page, or disable the mappings that need them"));
      }
      client.close();
      return Future.succeededFuture();
    });
  }

  private static void skipRest(List<Result> out, String failed, String... names) {
    for (String n : names) {
      if (!n.equals(failed)) {
        out.add(new Result(n, "skipped", "not checked: " + failed + " failed", "fix " + failed + " first"));
      }
    }
  }

  private Future<Void> crmChecks(WebClient web, DataverseSettings crm, List<MappingDefinition> mappings,
      List<Result> out) {
    String[] later = {"crm.token", "crm.whoAmI", "crm.integrationUser", "crm.solution", "crm.tables", "crm.columns"};
    return get(web, crm.apiUrl() + "/", null).transform(ar -> {
      if (ar.failed()) {
        out.add(new Result("crm.reachable", "failed", "the CRM at " + host(crm.apiUrl()) + " does not answer: "
            + ar.cause().getMessage(), "check crm.url (the environment's Web API root, e.g. https://contoso.crm"
            + ".dynamics.com/api/data/v9.2), DNS and firewalls"));
        for (String n : later) {
          out.add(new Result(n, "skipped", "not checked: crm.reachable failed", "fix crm.reachable first"));
        }
        return Future.succeededFuture();
      }
      out.add(new Result("crm.reachable", "ok", "the CRM at " + host(crm.apiUrl()) + " answers", null));
      List<Future<String>> tokens = new ArrayList<>();
      for (DataverseSettings.Credential cr : crm.clients()) {
        tokens.add(token(web, crm.tokenUrl(), cr.clientId(), cr.clientSecret(), crm.tokenScope())
            .recover(e -> Future.failedFuture("application user " + cr.clientId() + ": " + e.getMessage())));
      }
      return Future.join(tokens).transform(all -> {
        List<String> refused = new ArrayList<>();
        for (Future<String> t : tokens) {
          if (t.failed()) {
            refused.add(t.cause().getMessage());
          }
        }
        if (!refused.isEmpty()) {
          out.add(new Result("crm.token", "failed", "no token: " + String.join("; ", refused), "check crm.tokenUrl "
              + "(the tenant), each application user's client id and secret (Entra ID app registrations) and the "
              + "scope " + crm.tokenScope() + " (crm.scope: the organization's URL + /.default)"));
          for (String n : new String[] {"crm.whoAmI", "crm.integrationUser", "crm.solution", "crm.tables",
              "crm.columns"}) {
            out.add(new Result(n, "skipped", "not checked: crm.token failed", "fix crm.token first"));
          }
          return Future.succeededFuture();
        }
        out.add(new Result("crm.token", "ok", crm.clients().size() + " application user(s) granted a token", null));
        return crmIdentity(web, crm, "Bearer " + tokens.get(0).result(), out)
            .compose(v -> out.stream().anyMatch(x -> x.name().equals("crm.tables")) ? Future.succeededFuture()
                : tables(crm, mappings, out));
      });
    });
  }

  private Future<Void> crmIdentity(WebClient web, DataverseSettings crm, String bearer, List<Result> out) {
    return get(web, crm.apiUrl() + "/WhoAmI", bearer).transform(ar -> {
      if (ar.failed() || ar.result().statusCode() != 200) {
        out.add(new Result("crm.whoAmI", "failed", "WhoAmI did not answer: " + (ar.failed() ? ar.cause().getMessage()
            : "HTTP " + ar.result().statusCode()), "create the application user in the environment (Power Platform "
            + "admin center → Application users) for the client id"));
        out.add(new Result("crm.integrationUser", "skipped", "not checked: crm.whoAmI failed", "fix crm.whoAmI first"));
        out.add(new Result("crm.solution", "skipped", "not checked: crm.whoAmI failed", "fix crm.whoAmI first"));
        out.add(new Result("crm.tables", "skipped", "not checked: crm.whoAmI failed", "fix crm.whoAmI first"));
        out.add(new Result("crm.columns", "skipped", "not checked: crm.whoAmI failed", "fix crm.whoAmI first"));
        return Future.succeededFuture();
      }
      String user = ar.result().bodyAsJsonObject().getString("UserId");
      out.add(new Result("crm.whoAmI", "ok", "the integration user is " + user, null));
      return get(web, crm.apiUrl() + "/systemusers(" + user + ")/systemuserroles_association?$select=name", bearer)
          .transform(roles -> {
            List<String> held = new ArrayList<>();
            if (roles.succeeded() && roles.result().statusCode() == 200) {
              roles.result().bodyAsJsonObject().getJsonArray("value", new JsonArray())
                  .forEach(o -> held.add(((JsonObject) o).getString("name")));
            }
            List<String> missing = INTEGRATION_ROLES.stream().filter(r -> !held.contains(r)).toList();
            out.add(missing.isEmpty()
                ? new Result("crm.integrationUser", "ok", "user " + user + " holds " + INTEGRATION_ROLES, null)
                : new Result("crm.integrationUser", "failed", "user " + user + " lacks the role(s) " + missing
                    + (roles.succeeded() && roles.result().statusCode() == 200 ? " (holds " + held + ")"
                        : " (its roles could not be read: " + (roles.failed() ? roles.cause().getMessage()
                            : "HTTP " + roles.result().statusCode()) + ")"),
                    "run the setup guide's integration-user step, which assigns them (after the solution step)"));
            return get(web, crm.apiUrl() + "/solutions?$select=uniquename,version&$filter=uniquename%20eq%20'"
                + SOLUTION + "'", bearer);
          })
          .transform(sol -> {
            JsonArray rows = sol.succeeded() && sol.result().statusCode() == 200
                ? sol.result().bodyAsJsonObject().getJsonArray("value", new JsonArray()) : new JsonArray();
            out.add(rows.isEmpty()
                ? new Result("crm.solution", "failed", "solution " + SOLUTION + " is not imported"
                    + (sol.failed() ? " (" + sol.cause().getMessage() + ")" : sol.result().statusCode() != 200
                        ? " (HTTP " + sol.result().statusCode() + ")" : ""),
                    "run the setup guide's solution step with a System Administrator / System Customizer account")
                : new Result("crm.solution", "ok", "solution " + SOLUTION + " " + rows.getJsonObject(0)
                    .getString("version") + " is imported", null, new JsonObject().put("uniqueName", SOLUTION)
                    .put("version", rows.getJsonObject(0).getString("version"))));
            return Future.succeededFuture();
          });
    });
  }

  /** Change tracking and alternate keys on the tables the mappings use. */
  private Future<Void> tables(DataverseSettings crm, List<MappingDefinition> mappings, List<Result> out) {
    DataverseSettings.Credential first = crm.clients().get(0);
    CrmSetupClient c = new CrmSetupClient(vertx, crm.apiUrl(), crm.tokenUrl(), first.clientId(), first.clientSecret(),
        crm.tokenScope());
    return c.signIn().compose(v -> c.tableProblems(mappings)).transform(ar -> {
      if (ar.failed()) {
        out.add(new Result("crm.tables", "failed", "the table definitions could not be read: "
            + ar.cause().getMessage(), "give the integration user its roles (setup guide, integration-user step)"));
      } else if (ar.result().isEmpty()) {
        out.add(new Result("crm.tables", "ok", "change tracking and alternate keys are ready on the tables of "
            + mappings.size() + " mapping(s)", null));
      } else {
        out.add(new Result("crm.tables", "failed", String.join("; ", ar.result()), "import the solution (setup "
            + "guide, solution step), which turns change tracking on and creates the keys; a Pending key becomes "
            + "Active when its index job ends"));
      }
      if (ar.failed()) {
        out.add(new Result("crm.columns", "skipped", "not checked: crm.tables failed", "fix crm.tables first"));
        return Future.<Void>succeededFuture();
      }
      return c.columnProblems(mappings).transform(cols -> {
        out.add(columnsResult(cols.failed() ? null : cols.result(), cols.failed() ? cols.cause() : null,
            mappings.size()));
        return Future.<Void>succeededFuture();
      });
    }).onComplete(ar -> c.close());
  }

  /**
   * @param problems the mappings' unknown CRM columns, or null when they could not be read
   * @param failure why they could not be read
   * @param mappings how many mappings were checked
   * @return the {@code crm.columns} result
   */
  public static JsonObject columns(List<String> problems, Throwable failure, int mappings) {
    return columnsResult(problems, failure, mappings).json();
  }

  private static Result columnsResult(List<String> problems, Throwable failure, int mappings) {
    if (problems == null) {
      return new Result("crm.columns", "failed", "the tables' columns could not be read: " + failure.getMessage(),
          "give the integration user its roles (setup guide, integration-user step)");
    }
    return problems.isEmpty() ? new Result("crm.columns", "ok", "every CRM column of " + mappings + " mapping(s) "
        + "exists", null) : new Result("crm.columns", "failed", String.join("; ", problems), "correct the mappings' "
        + "fields (PATCH /api/v1/mappings/{name}) or disable the mappings (setup guide, synchronize step)");
  }

  private Future<Void> availability(WebClient web, ODataErpSettings erp, String user, String key, List<Result> out) {
    if (key == null) {
      out.add(new Result("availability.key", "failed", "no access key is stored for availability user " + user,
          "set availability.accessKey"));
      return Future.succeededFuture();
    }
    String basic = "Basic " + Base64.getEncoder().encodeToString((user + ":" + key).getBytes(StandardCharsets.UTF_8));
    return get(web, erp.serviceRoot() + "/Company", basic).transform(ar -> {
      boolean ok = ar.succeeded() && ar.result().statusCode() == 200;
      out.add(ok ? new Result("availability.key", "ok", "availability user " + user + " was accepted", null)
          : new Result("availability.key", "failed", "availability user " + user + " was refused: "
              + (ar.failed() ? ar.cause().getMessage() : "HTTP " + ar.result().statusCode()),
              "check availability.user and its Web Service Access Key on the ERP's user card"));
      return Future.succeededFuture();
    });
  }
}
