package dev.tandem.runtime.connection;

import dev.tandem.runtime.connectors.ClientCredentialsToken;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The Dataverse calls of the setup guide, made as one account (an administrator's or the integration user's):
 * token, WhoAmI, the account's roles, ImportSolution and its import job, role association. The account's secret
 * is held by this object only, for as long as the step runs.
 */
public final class CrmSetupClient implements AutoCloseable {

  private final Vertx vertx;
  private final WebClient web;
  private final String apiUrl;
  private final String tokenUrl;
  private final String clientId;
  private final String secret;
  private final String scope;
  private String bearer;

  /**
   * @param vertx Vert.x
   * @param apiUrl Web API root
   * @param tokenUrl token endpoint
   * @param clientId the account's client id
   * @param secret its secret (held in memory only)
   * @param scope token scope, or null for the organization's own ({@code <org URL>/.default})
   */
  public CrmSetupClient(Vertx vertx, String apiUrl, String tokenUrl, String clientId, String secret, String scope) {
    this.vertx = vertx;
    this.web = WebClient.create(vertx);
    this.apiUrl = apiUrl;
    this.tokenUrl = tokenUrl;
    this.clientId = clientId;
    this.secret = secret;
    this.scope = scope != null && !scope.isBlank() ? scope
        : dev.tandem.runtime.connectors.crm.DataverseClient.defaultScope(apiUrl);
  }

  /** A refused call, with Dataverse's message (which never holds a secret). */
  public static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    Refused(int status, String message) {
      super(message);
      this.status = status;
    }

    /** @return the HTTP status */
    public int status() {
      return status;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8);
  }

  /** A query option value: percent-encoded, a space as %20 (a '+' in a URL query is a plus to OData). */
  private static String query(String s) {
    return enc(s).replace("+", "%20");
  }

  /** @return signs in (client credentials) */
  public Future<Void> signIn() {
    return ClientCredentialsToken.request(web, tokenUrl, clientId, secret, scope, 30_000)
        .compose(r -> {
          if (r.statusCode() == 200) {
            bearer = "Bearer " + r.bodyAsJsonObject().getString("access_token");
            return Future.succeededFuture();
          }
          return Future.failedFuture(new Refused(r.statusCode(), "account " + clientId + " was refused a token: "
              + message(r)));
        });
  }

  private static String message(HttpResponse<Buffer> r) {
    try {
      JsonObject b = r.bodyAsJsonObject();
      if (b.getValue("error") instanceof JsonObject e) {
        return e.getString("message");
      }
      return b.getString("error") + " — " + b.getString("error_description");
    } catch (RuntimeException e) {
      return "HTTP " + r.statusCode();
    }
  }

  private Future<JsonObject> call(String method, String path, JsonObject body) {
    var req = web.requestAbs(io.vertx.core.http.HttpMethod.valueOf(method), apiUrl + "/" + path).timeout(60_000)
        .putHeader("Authorization", bearer).putHeader("Accept", "application/json")
        .putHeader("OData-Version", "4.0");
    Future<HttpResponse<Buffer>> sent = body == null ? req.send() : req.sendJsonObject(body);
    return sent.compose(r -> {
      if (r.statusCode() / 100 == 2) {
        return Future.succeededFuture(r.body() == null || r.body().length() == 0 ? new JsonObject()
            : r.bodyAsJsonObject());
      }
      return Future.failedFuture(new Refused(r.statusCode(), message(r)));
    });
  }

  /** @return WhoAmI: UserId, BusinessUnitId, OrganizationId */
  public Future<JsonObject> whoAmI() {
    return call("GET", "WhoAmI", null);
  }

  /**
   * @param userId a system user
   * @return its roles (roleid, name, _businessunitid_value)
   */
  public Future<List<JsonObject>> roles(String userId) {
    return call("GET", "systemusers(" + userId + ")/systemuserroles_association?$select=roleid,name", null)
        .map(b -> {
          List<JsonObject> out = new ArrayList<>();
          b.getJsonArray("value", new JsonArray()).forEach(o -> out.add((JsonObject) o));
          return out;
        });
  }

  /**
   * @param name a role name
   * @param businessUnit the business unit whose copy is wanted
   * @return the role's id there, or null
   */
  public Future<String> roleId(String name, String businessUnit) {
    return call("GET", "roles?$select=roleid,name,_businessunitid_value&$filter=" + query("name eq '" + name
        + "' and _businessunitid_value eq " + businessUnit), null)
        .map(b -> b.getJsonArray("value", new JsonArray()).isEmpty() ? null
            : b.getJsonArray("value").getJsonObject(0).getString("roleid"));
  }

  /**
   * Associates a role with a user; an association already there counts as done (Dataverse answers it with
   * "Cannot insert duplicate key").
   *
   * @param userId the user
   * @param roleId the role
   * @return whether it was added now
   */
  public Future<Boolean> associate(String userId, String roleId) {
    return call("POST", "systemusers(" + userId + ")/systemuserroles_association/$ref",
        new JsonObject().put("@odata.id", apiUrl + "/roles(" + roleId + ")"))
        .map(v -> true)
        .recover(e -> e instanceof Refused r && r.getMessage() != null
            && r.getMessage().contains("Cannot insert duplicate key") ? Future.succeededFuture(false)
            : Future.failedFuture(e));
  }

  /**
   * @param uniqueName the solution
   * @return its version, or null when it is not imported
   */
  public Future<String> solutionVersion(String uniqueName) {
    return call("GET", "solutions?$select=uniquename,version&$filter=" + query("uniquename eq '" + uniqueName + "'"),
        null).map(b -> b.getJsonArray("value", new JsonArray()).isEmpty() ? null
            : b.getJsonArray("value").getJsonObject(0).getString("version"));
  }

  /**
   * Imports a solution and waits for its import job to complete.
   *
   * @param file the solution file
   * @param timeoutMs how long to wait for the import job
   * @return the import job's id
   */
  public Future<String> importSolution(byte[] file, long timeoutMs) {
    String job = UUID.randomUUID().toString();
    return call("POST", "ImportSolution", new JsonObject()
            .put("OverwriteUnmanagedCustomizations", true)
            .put("PublishWorkflows", true)
            .put("CustomizationFile", java.util.Base64.getEncoder().encodeToString(file))
            .put("ImportJobId", job))
        .compose(v -> pollImportJob(job, System.currentTimeMillis() + timeoutMs))
        .map(job);
  }

  private Future<Void> pollImportJob(String job, long deadline) {
    return call("GET", "importjobs(" + job + ")?$select=progress,completedon", null).compose(j -> {
      if (j.getValue("completedon") != null) {
        return Future.succeededFuture();
      }
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(new Refused(504, "import job " + job + " did not complete in time (progress "
            + j.getValue("progress") + "%)"));
      }
      Promise<Void> p = Promise.promise();
      vertx.setTimer(1000, t -> pollImportJob(job, deadline).onComplete(p));
      return p.future();
    });
  }

  /**
   * @return every table definition: EntitySetName → {LogicalName, ChangeTrackingEnabled}
   */
  public Future<java.util.Map<String, JsonObject>> tables() {
    return call("GET", "EntityDefinitions?$select=LogicalName,EntitySetName,ChangeTrackingEnabled", null).map(b -> {
      java.util.Map<String, JsonObject> out = new java.util.HashMap<>();
      b.getJsonArray("value", new JsonArray()).forEach(o -> out.put(((JsonObject) o).getString("EntitySetName"),
          (JsonObject) o));
      return out;
    });
  }

  /**
   * @param logicalName a table
   * @return its alternate keys: KeyAttributes, EntityKeyIndexStatus (Pending, InProgress, Active, Failed)
   */
  public Future<List<JsonObject>> keys(String logicalName) {
    return call("GET", "EntityDefinitions(LogicalName='" + logicalName + "')/Keys", null).map(b -> {
      List<JsonObject> out = new ArrayList<>();
      b.getJsonArray("value", new JsonArray()).forEach(o -> out.add((JsonObject) o));
      return out;
    });
  }

  /**
   * What the mappings need of their CRM tables: change tracking where they read from the CRM, and their alternate
   * key Active.
   *
   * @param mappings the enabled mappings
   * @return problems, each naming the mapping and the table (empty: ready)
   */
  public Future<List<String>> tableProblems(List<dev.tandem.api.MappingDefinition> mappings) {
    return tables().compose(tables -> {
      List<String> problems = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      // Several mappings write the same table (items and resources both to products): its keys are read once.
      java.util.Map<String, Future<List<JsonObject>>> keysOf = new java.util.HashMap<>();
      for (dev.tandem.api.MappingDefinition m : mappings) {
        if (m.isOptionSet()) {
          continue; // ERP codes to an option set's values: metadata, no table rows to track or address by key
        }
        JsonObject t = tables.get(m.crmEntitySet());
        if (t == null) {
          problems.add("mapping " + m.name() + ": the CRM has no table " + m.crmEntitySet());
          continue;
        }
        if (m.direction() != dev.tandem.api.Direction.TO_CRM && !Boolean.TRUE.equals(t.getBoolean(
            "ChangeTrackingEnabled"))) {
          problems.add("mapping " + m.name() + ": change tracking is off on table " + t.getString("LogicalName"));
        }
        if (m.crmAlternateKey() != null) {
          chain = chain.compose(v -> keysOf.computeIfAbsent(t.getString("LogicalName"), this::keys).map(keys -> {
            JsonObject k = keys.stream().filter(x -> x.getJsonArray("KeyAttributes", new JsonArray())
                .equals(new JsonArray().add(m.crmAlternateKey()))).findFirst().orElse(null);
            // No key at all (uom has none in Dataverse): the engine finds rows by the column's value and writes
            // them by id. A key that exists must be Active before the mapping can use it.
            if (k == null) {
              return null;
            } else if (!"Active".equals(k.getString("EntityKeyIndexStatus"))) {
              problems.add("mapping " + m.name() + ": the alternate key on " + t.getString("LogicalName") + "."
                  + m.crmAlternateKey() + " is " + k.getString("EntityKeyIndexStatus"));
            }
            return null;
          }));
        }
      }
      return chain.map(v -> problems);
    });
  }

  /**
   * The CRM columns each mapping names that its table does not have, and those it would write that the CRM
   * computes itself ({@link dev.tandem.runtime.connectors.crm.DataverseColumns}); each table's attributes are read
   * once.
   *
   * @param mappings the enabled mappings
   * @return one problem per mapping with unknown columns and one per mapping writing computed ones, naming them by
   *     field
   */
  public Future<List<String>> columnProblems(List<dev.tandem.api.MappingDefinition> mappings) {
    return tables().compose(tables -> {
      List<String> problems = new ArrayList<>();
      java.util.Map<String, Future<java.util.Map<String, Boolean>>> columnsOf = new java.util.HashMap<>();
      Future<Void> chain = Future.succeededFuture();
      for (dev.tandem.api.MappingDefinition m : mappings) {
        JsonObject t = tables.get(m.crmEntitySet());
        if (m.isOptionSet() || t == null) {
          continue; // option sets are metadata; a missing table is crm.tables' finding
        }
        chain = chain.compose(v -> columnsOf.computeIfAbsent(t.getString("LogicalName"), this::columns)
            .map(columns -> {
              List<String> unknown = dev.tandem.runtime.connectors.crm.DataverseColumns.unknown(m,
                  columns.keySet());
              if (!unknown.isEmpty()) {
                problems.add(dev.tandem.runtime.connectors.crm.DataverseColumns.message(m, unknown));
              }
              java.util.Set<String> readOnly = new java.util.HashSet<>();
              columns.forEach((name, ro) -> {
                if (ro) {
                  readOnly.add(name);
                }
              });
              List<String> computed = dev.tandem.runtime.connectors.crm.DataverseColumns.readOnly(m, readOnly);
              if (!computed.isEmpty()) {
                problems.add(dev.tandem.runtime.connectors.crm.DataverseColumns.readOnlyMessage(m, computed));
              }
              return null;
            }));
      }
      return chain.map(v -> problems);
    });
  }

  /** @return the table's columns, each with whether it is read-only (valid neither for create nor for update) */
  private Future<java.util.Map<String, Boolean>> columns(String logicalName) {
    return call("GET", "EntityDefinitions(LogicalName='" + logicalName + "')/Attributes?$select=LogicalName,"
        + "IsValidForCreate,IsValidForUpdate", null).compose(b -> moreColumns(b, new java.util.HashMap<>()));
  }

  private Future<java.util.Map<String, Boolean>> moreColumns(JsonObject page, java.util.Map<String, Boolean> names) {
    page.getJsonArray("value", new JsonArray()).forEach(o -> {
      JsonObject a = (JsonObject) o;
      names.put(a.getString("LogicalName"), Boolean.FALSE.equals(a.getBoolean("IsValidForCreate"))
          && Boolean.FALSE.equals(a.getBoolean("IsValidForUpdate")));
    });
    String next = page.getString("@odata.nextLink");
    return next == null ? Future.succeededFuture(names)
        : call("GET", next.substring(apiUrl.length() + 1), null).compose(b -> moreColumns(b, names));
  }

  /**
   * Waits until the mappings' tables are ready (a new key's index job takes a while).
   *
   * @param mappings the enabled mappings
   * @param deadline when to give up (epoch ms)
   * @return the problems left at the end (empty: ready)
   */
  public Future<List<String>> awaitTables(List<dev.tandem.api.MappingDefinition> mappings, long deadline) {
    return tableProblems(mappings).compose(problems -> {
      boolean waiting = problems.stream().anyMatch(p -> p.endsWith(" is Pending") || p.endsWith(" is InProgress"));
      if (!waiting || System.currentTimeMillis() > deadline) {
        return Future.succeededFuture(problems);
      }
      Promise<List<String>> p = Promise.promise();
      vertx.setTimer(1000, t -> awaitTables(mappings, deadline).onComplete(p));
      return p.future();
    });
  }

  @Override
  public void close() {
    web.close();
  }

  /** The secret never shows. */
  @Override
  public String toString() {
    return "CrmSetupClient[" + apiUrl + ", client " + clientId + "]";
  }
}
