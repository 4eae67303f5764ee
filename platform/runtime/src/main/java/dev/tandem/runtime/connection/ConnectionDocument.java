package dev.tandem.runtime.connection;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connection as the admin API takes it: the ERP side (profile, URL, company, user and web service access key, or
 * tenant, client id and secret), the CRM side (URL, token endpoint, application users), item availability and the
 * sales-order integration. {@link #parse} splits a request body into the settings kept in clear and the secrets,
 * naming every bad field; {@link #connections} builds the connectors' settings from both.
 *
 * <p>Secrets in a request are plain strings at their place ({@code erp.accessKey}, {@code erp.clientSecret},
 * {@code crm.applicationUsers[i].clientSecret}, {@code availability.accessKey}); a secret left out (or given as the
 * {@code {"set": …}} object GET shows) keeps the stored value.
 */
public final class ConnectionDocument {

  /** Secret name: the ERP user's web service access key (nav). */
  public static final String ERP_ACCESS_KEY = "erp.accessKey";
  /** Secret name: the ERP Entra application's client secret (bc-online). */
  public static final String ERP_CLIENT_SECRET = "erp.clientSecret";
  /** Secret name: the availability web-service user's access key. */
  public static final String AVAILABILITY_KEY = "availability.accessKey";

  private ConnectionDocument() {}

  /**
   * @param clientId a CRM application user's client id
   * @return the name of its secret
   */
  public static String crmSecret(String clientId) {
    return "crm.applicationUsers[" + clientId + "].clientSecret";
  }

  /**
   * A parsed request.
   *
   * @param settings the non-secret settings, as stored
   * @param secrets the secrets given in the request, by name
   * @param enabled the Enabled switch
   * @param disabledReason why it is off, or null
   */
  public record Parsed(JsonObject settings, Map<String, String> secrets, boolean enabled, String disabledReason) {
    /** Secrets stay out of logs. */
    @Override
    public String toString() {
      return "Parsed[settings=" + settings + ", secrets=" + secrets.keySet() + ", enabled=" + enabled + "]";
    }
  }

  /** A request field that is wrong, with the field's path. */
  public static final class Invalid extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    Invalid(List<String> problems) {
      super(String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    /** @return each problem, naming its field */
    public List<String> problems() {
      return problems;
    }
  }

  /**
   * @param body the request body
   * @param storedSecrets names of the secrets already stored
   * @return the settings and secrets
   * @throws Invalid naming every bad field
   */
  public static Parsed parse(JsonObject body, java.util.Set<String> storedSecrets) {
    List<String> problems = new ArrayList<>();
    Map<String, String> secrets = new LinkedHashMap<>();
    JsonObject out = new JsonObject();
    known(body, "", problems, "enabled", "disabledReason", "erp", "crm", "availability", "salesOrders");
    Object en = body.getValue("enabled");
    if (en != null && !(en instanceof Boolean)) {
      problems.add("enabled: must be true or false");
    }
    boolean enabled = !(en instanceof Boolean b) || b;
    String reason = text(body, "disabledReason", "", problems, false);

    JsonObject erp = object(body, "erp", problems);
    if (erp != null) {
      out.put("erp", parseErp(erp, storedSecrets, secrets, problems));
    }
    JsonObject crm = object(body, "crm", problems);
    if (crm != null) {
      out.put("crm", parseCrm(crm, storedSecrets, secrets, problems));
    }
    JsonObject av = object(body, "availability", problems);
    if (av != null) {
      known(av, "availability.", problems, "enabled", "user", "accessKey");
      JsonObject a = new JsonObject().put("enabled", bool(av, "enabled", "availability.", problems));
      // Business Central online takes no web-service users: every request goes with the application's token, so
      // the availability user is needed (and used) on nav only.
      boolean online = erp != null && "bc-online".equals(erp.getString("profile"));
      String user = text(av, "user", "availability.", problems, a.getBoolean("enabled") && !online);
      a.put("user", user);
      secret(av, "accessKey", AVAILABILITY_KEY, "availability.accessKey", a.getBoolean("enabled") && user != null,
          storedSecrets, secrets, problems);
      out.put("availability", a);
    }
    JsonObject so = object(body, "salesOrders", problems);
    if (so != null) {
      known(so, "salesOrders.", problems, "enabled", "user");
      JsonObject s = new JsonObject().put("enabled", bool(so, "enabled", "salesOrders.", problems));
      s.put("user", text(so, "user", "salesOrders.", problems, s.getBoolean("enabled")));
      out.put("salesOrders", s);
    }
    if (!problems.isEmpty()) {
      throw new Invalid(problems);
    }
    return new Parsed(out, secrets, enabled, enabled ? null : reason);
  }

  private static JsonObject parseErp(JsonObject erp, java.util.Set<String> stored, Map<String, String> secrets,
      List<String> problems) {
    known(erp, "erp.", problems, "profile", "url", "company", "user", "accessKey", "tenant", "environment",
        "clientId", "clientSecret", "tokenUrl", "scope");
    JsonObject e = new JsonObject();
    String profileId = text(erp, "profile", "erp.", problems, true);
    ODataErpSettings.Profile profile = null;
    if (profileId != null) {
      try {
        profile = ODataErpSettings.Profile.of(profileId);
        e.put("profile", profile.id());
      } catch (IllegalArgumentException ex) {
        problems.add("erp.profile: unknown profile '" + profileId + "': use nav (NAV / BC on premises, web service "
            + "access key) or bc-online (Business Central online, client credentials)");
      }
    }
    e.put("company", text(erp, "company", "erp.", problems, true));
    if (profile == ODataErpSettings.Profile.BC_ONLINE) {
      String tenant = text(erp, "tenant", "erp.", problems, false);
      String url = url(erp, "url", "erp.", problems, tenant == null);
      String tokenUrl = url(erp, "tokenUrl", "erp.", problems, false);
      if (tenant == null && tokenUrl == null && erp.getValue("tokenUrl") == null) {
        problems.add("erp.tenant: bc-online needs the tenant (or erp.tokenUrl)");
      }
      e.put("url", url).put("tenant", tenant).put("tokenUrl", tokenUrl)
          .put("environment", text(erp, "environment", "erp.", problems, false))
          .put("scope", text(erp, "scope", "erp.", problems, false))
          .put("clientId", text(erp, "clientId", "erp.", problems, true));
      secret(erp, "clientSecret", ERP_CLIENT_SECRET, "erp.clientSecret", true, stored, secrets, problems);
    } else if (profile == ODataErpSettings.Profile.NAV) {
      e.put("url", url(erp, "url", "erp.", problems, true)).put("user", text(erp, "user", "erp.", problems, true));
      secret(erp, "accessKey", ERP_ACCESS_KEY, "erp.accessKey", true, stored, secrets, problems);
    }
    return e;
  }

  private static JsonObject parseCrm(JsonObject crm, java.util.Set<String> stored, Map<String, String> secrets,
      List<String> problems) {
    known(crm, "crm.", problems, "url", "tokenUrl", "scope", "applicationUsers");
    JsonObject c = new JsonObject()
        .put("url", url(crm, "url", "crm.", problems, true))
        .put("tokenUrl", url(crm, "tokenUrl", "crm.", problems, true))
        .put("scope", text(crm, "scope", "crm.", problems, false));
    Object users = crm.getValue("applicationUsers");
    JsonArray out = new JsonArray();
    if (!(users instanceof JsonArray a) || a.isEmpty()) {
      problems.add("crm.applicationUsers: at least one application user ({clientId, clientSecret}) is needed");
    } else {
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (int i = 0; i < a.size(); i++) {
        String at = "crm.applicationUsers[" + i + "].";
        if (!(a.getValue(i) instanceof JsonObject u)) {
          problems.add(at.substring(0, at.length() - 1) + ": must be an object {clientId, clientSecret}");
          continue;
        }
        known(u, at, problems, "clientId", "clientSecret");
        String id = text(u, "clientId", at, problems, true);
        if (id == null) {
          continue;
        }
        if (!seen.add(id)) {
          problems.add(at + "clientId: '" + id + "' is listed twice");
        }
        secret(u, "clientSecret", crmSecret(id), at + "clientSecret", true, stored, secrets, problems);
        out.add(new JsonObject().put("clientId", id));
      }
    }
    return c.put("applicationUsers", out);
  }

  private static void known(JsonObject o, String at, List<String> problems, String... fields) {
    java.util.Set<String> ok = java.util.Set.of(fields);
    for (String f : o.fieldNames()) {
      if (!ok.contains(f)) {
        problems.add(at + f + ": unknown field (known: " + String.join(", ", fields) + ")");
      }
    }
  }

  private static JsonObject object(JsonObject o, String field, List<String> problems) {
    Object v = o.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject j)) {
      problems.add(field + ": must be an object");
      return null;
    }
    return j;
  }

  private static boolean bool(JsonObject o, String field, String at, List<String> problems) {
    Object v = o.getValue(field);
    if (v != null && !(v instanceof Boolean)) {
      problems.add(at + field + ": must be true or false");
    }
    return Boolean.TRUE.equals(v);
  }

  private static String text(JsonObject o, String field, String at, List<String> problems, boolean required) {
    Object v = o.getValue(field);
    if (v == null || v instanceof String s && s.isBlank()) {
      if (required) {
        problems.add(at + field + ": missing");
      }
      return null;
    }
    if (!(v instanceof String s)) {
      problems.add(at + field + ": must be a string");
      return null;
    }
    return s.trim();
  }

  private static String url(JsonObject o, String field, String at, List<String> problems, boolean required) {
    String s = text(o, field, at, problems, required);
    if (s == null) {
      return null;
    }
    try {
      URI u = new URI(s);
      if (!"http".equalsIgnoreCase(u.getScheme()) && !"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
        problems.add(at + field + ": '" + s + "' is not an http(s) URL");
        return null;
      }
    } catch (java.net.URISyntaxException e) {
      problems.add(at + field + ": '" + s + "' is not a URL (" + e.getReason() + ")");
      return null;
    }
    return s.replaceAll("/+$", "");
  }

  /** A secret: a new value, or (left out, or the status object GET shows) the stored one. Never echoed. */
  private static void secret(JsonObject o, String field, String name, String at, boolean required,
      java.util.Set<String> stored, Map<String, String> secrets, List<String> problems) {
    Object v = o.getValue(field);
    if (v instanceof String s && !s.isEmpty()) {
      secrets.put(name, s);
    } else if (v != null && !(v instanceof JsonObject)) {
      problems.add(at + ": must be a string");
    } else if (required && !stored.contains(name)) {
      problems.add(at + ": missing (no value is stored yet)");
    }
  }

  /** @return the names of the secrets the settings refer to */
  public static java.util.Set<String> secretNames(JsonObject settings) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    JsonObject erp = settings.getJsonObject("erp");
    if (erp != null) {
      names.add("bc-online".equals(erp.getString("profile")) ? ERP_CLIENT_SECRET : ERP_ACCESS_KEY);
    }
    JsonObject crm = settings.getJsonObject("crm");
    if (crm != null) {
      crm.getJsonArray("applicationUsers", new JsonArray()).forEach(u -> names.add(crmSecret(((JsonObject) u)
          .getString("clientId"))));
    }
    JsonObject av = settings.getJsonObject("availability");
    if (av != null && Boolean.TRUE.equals(av.getBoolean("enabled")) && av.getString("user") != null) {
      names.add(AVAILABILITY_KEY);
    }
    return names;
  }

  /**
   * @param settings stored settings
   * @param secrets their opened secrets, by name
   * @return the connectors' settings (either side null when not set up)
   */
  public static TandemConfig.Connections connections(JsonObject settings, Map<String, String> secrets) {
    ODataErpSettings erp = null;
    JsonObject e = settings.getJsonObject("erp");
    if (e != null) {
      if ("bc-online".equals(e.getString("profile"))) {
        String root = e.getString("url") != null ? e.getString("url")
            : ODataErpSettings.onlineServiceRoot(e.getString("tenant"),
                e.getString("environment") == null ? "Production" : e.getString("environment"));
        erp = ODataErpSettings.online(root, e.getString("company"), new ODataErpSettings.OAuth(
            e.getString("tokenUrl") != null ? e.getString("tokenUrl")
                : ODataErpSettings.OAuth.tokenUrlOf(e.getString("tenant")),
            e.getString("clientId"), secrets.get(ERP_CLIENT_SECRET), e.getString("scope")));
      } else {
        erp = ODataErpSettings.of(e.getString("url"), e.getString("company"), e.getString("user"),
            secrets.get(ERP_ACCESS_KEY));
      }
    }
    DataverseSettings crm = null;
    JsonObject c = settings.getJsonObject("crm");
    if (c != null) {
      List<DataverseSettings.Credential> users = new ArrayList<>();
      for (Object o : c.getJsonArray("applicationUsers", new JsonArray())) {
        String id = ((JsonObject) o).getString("clientId");
        users.add(new DataverseSettings.Credential(id, secrets.get(crmSecret(id))));
      }
      if (!users.isEmpty()) {
        crm = DataverseSettings.of(c.getString("url"), c.getString("tokenUrl"), users.get(0).clientId(),
            users.get(0).clientSecret(), c.getString("scope")).withMoreClients(users.subList(1, users.size()));
      }
    }
    return new TandemConfig.Connections(erp, crm);
  }

  /**
   * A JSON merge patch (RFC 7386) of the stored settings: objects merge, null removes, anything else replaces.
   *
   * @param target the current document
   * @param patch the patch
   * @return the patched copy
   */
  public static JsonObject mergePatch(JsonObject target, JsonObject patch) {
    JsonObject out = target.copy();
    for (String f : patch.fieldNames()) {
      Object v = patch.getValue(f);
      if (v == null) {
        out.remove(f);
      } else if (v instanceof JsonObject p && out.getValue(f) instanceof JsonObject t) {
        out.put(f, mergePatch(t, p));
      } else {
        out.put(f, v);
      }
    }
    return out;
  }
}
