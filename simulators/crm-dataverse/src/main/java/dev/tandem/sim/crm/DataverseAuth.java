package dev.tandem.sim.crm;

import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * OAuth 2.0 client credentials as Entra ID answers them for a Dataverse organization:
 * {@code POST /{tenant}/oauth2/v2.0/token} issues bearer tokens for registered clients, each mapped to an application
 * user, and only for a resource of the tenant, named by the v2 endpoint's {@code scope} =
 * {@code <organization URL>/.default}. A token names the organization it was issued for; the Web API refuses a
 * missing, unknown or expired token and one issued for another organization.
 *
 * <p>Sources: "Acquire tokens to call a web API using a daemon application" (learn.microsoft.com/entra/
 * identity-platform/scenario-daemon-acquire-token: the scope of client credentials is "the resource identifier
 * (application ID URI) of the resource you want, affixed with the .default suffix"); the Entra error codes
 * (learn.microsoft.com/entra/identity-platform/reference-error-codes, login.microsoftonline.com/error):
 * AADSTS900144 (a required body parameter is missing), AADSTS1002012 (a client-credentials scope without
 * {@code /.default}), AADSTS500011 (no resource principal of that name in the tenant), AADSTS700016, AADSTS7000215;
 * "Use OAuth authentication with Microsoft Dataverse" (learn.microsoft.com/power-apps/developer/data-platform/
 * authenticate-oauth): a 401 names the authority and the resource in
 * {@code WWW-Authenticate: Bearer authorization_uri=…, resource_id=…}.
 */
final class DataverseAuth {

  /** A registered client. */
  record Client(String secret, String userId) {}

  private record Token(String userId, String resource, long expiresAtMillis) {}

  private final String tenant;
  private final Supplier<String> organization;
  private final DoubleSupplier timeScale;
  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  /** Other organizations (environments) of the same tenant: Entra issues tokens for them too. */
  private final Set<String> otherOrganizations = ConcurrentHashMap.newKeySet();
  private final SecureRandom random = new SecureRandom();
  private volatile long lifetimeSeconds = 3599;

  /**
   * @param tenant the tenant in the token endpoint's path
   * @param organization this organization's URL, e.g. {@code http://localhost:8081} (the resource of its tokens)
   * @param timeScale the simulator's time scale: a token lives its lifetime times it, as every window does
   */
  DataverseAuth(String tenant, Supplier<String> organization, DoubleSupplier timeScale) {
    this.tenant = tenant;
    this.organization = organization;
    this.timeScale = timeScale;
  }

  void register(String clientId, String secret, String userId) {
    clients.put(clientId, new Client(secret, userId));
  }

  /** @return client id → application user id */
  Map<String, String> registered() {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    clients.forEach((k, c) -> m.put(k, c.userId()));
    return m;
  }

  void lifetime(long seconds) {
    lifetimeSeconds = seconds;
  }

  /** @param url another organization of this tenant, e.g. {@code https://contoso-test.crm.dynamics.com} */
  void otherOrganization(String url) {
    otherOrganizations.add(resource(url));
  }

  /** Expires every token issued so far (tests of refresh). */
  void expireAll() {
    tokens.replaceAll((k, t) -> new Token(t.userId(), t.resource(), 0));
  }

  /** @return the scope this organization's tokens are asked for: {@code <organization URL>/.default} */
  String scope() {
    return organization.get() + "/.default";
  }

  /** @return Dataverse's 401: it names the authority to get a token from and the resource to ask it for */
  SimResponse challenge() {
    return SimResponse.empty(401).with("WWW-Authenticate", "Bearer authorization_uri=" + authority()
        + "/oauth2/authorize, resource_id=" + organization.get() + "/");
  }

  private String authority() {
    String org = organization.get();
    return org + "/" + tenant;
  }

  SimResponse token(SimRequest r) {
    Map<String, String> form = new java.util.HashMap<>();
    for (String kv : r.bodyText().split("&")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        form.put(URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    if (!"client_credentials".equals(form.get("grant_type"))) {
      return entra(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"
          + form.get("grant_type") + "'.");
    }
    String scope = form.get("scope");
    if (scope == null || scope.isBlank()) {
      return entra(400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: "
          + "'scope'.");
    }
    scope = scope.trim();
    if (!scope.endsWith("/.default")) {
      return entra(400, "invalid_scope", "AADSTS1002012: The provided value for scope " + scope + " is not valid. "
          + "Client credential flows must have a scope value with /.default suffixed to the resource identifier "
          + "(application ID URI).");
    }
    Client c = clients.get(form.get("client_id"));
    if (c == null) {
      return entra(400, "unauthorized_client", "AADSTS700016: Application with identifier '" + form.get("client_id")
          + "' was not found in the directory '" + tenant + "'. This can happen if the application has not been "
          + "installed by the administrator of the tenant or consented to by any user in the tenant. You may have "
          + "sent your authentication request to the wrong tenant.");
    }
    if (!c.secret().equals(form.get("client_secret"))) {
      return entra(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
          + "sent in the request is the client secret value, not the client secret ID.");
    }
    String named = scope.substring(0, scope.length() - "/.default".length());
    String resource = resource(named);
    if (!resource.equals(resource(organization.get())) && !otherOrganizations.contains(resource)) {
      return entra(400, "invalid_resource", "AADSTS500011: The resource principal named " + named + " was not "
          + "found in the tenant named " + tenant + ". This can happen if the application has not been installed by "
          + "the administrator of the tenant or consented to by any user in the tenant. You might have sent your "
          + "authentication request to the wrong tenant.");
    }
    byte[] b = new byte[32];
    random.nextBytes(b);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    // The lifetime shrinks with the time scale like every other window, so refresh is exercised at scale.
    long lifetime = Math.max(1, Math.round(lifetimeSeconds * timeScale.getAsDouble()));
    tokens.put(token, new Token(c.userId(), resource, System.currentTimeMillis() + lifetime * 1000));
    return SimResponse.json(200, Map.of("token_type", "Bearer", "expires_in", lifetime, "ext_expires_in", lifetime,
        "access_token", token));
  }

  /**
   * @param r a Web API request
   * @return the calling user's id, or null when the bearer token is missing, unknown, expired or issued for
   *     another organization
   */
  String user(SimRequest r) {
    String h = r.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    Token t = tokens.get(h.substring(7).trim());
    return t == null || t.expiresAtMillis() < System.currentTimeMillis()
        || !t.resource().equals(resource(organization.get())) ? null : t.userId();
  }

  /** A resource identifier as Entra compares it: without a trailing slash, scheme and host case-insensitive. */
  private static String resource(String url) {
    String u = url.trim();
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    int path = u.indexOf('/', u.indexOf("://") + 3);
    return path < 0 || u.indexOf("://") < 0 ? u.toLowerCase(Locale.ROOT)
        : u.substring(0, path).toLowerCase(Locale.ROOT) + u.substring(path);
  }

  private static SimResponse entra(int status, String error, String description) {
    return SimResponse.json(status, Map.of("error", error, "error_description", description));
  }
}
