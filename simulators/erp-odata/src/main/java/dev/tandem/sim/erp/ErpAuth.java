package dev.tandem.sim.erp;

import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Business Central online's authentication: OAuth 2.0 client credentials against the tenant's token endpoint
 * ({@code POST /{tenant}/oauth2/v2.0/token}, as Entra ID serves it) for an application registered in BC. Entra
 * insists on the v2 endpoint's {@code scope}, which for client credentials must be a resource's {@code /.default};
 * BC accepts only tokens issued for its own resource in its own tenant. Web service access keys are refused.
 */
final class ErpAuth {

  /** The resource Business Central online tokens are issued for. */
  static final String RESOURCE = "https://api.businesscentral.dynamics.com";

  private record Client(String secret) {}

  private record Token(String clientId, long expiresAtMillis) {}

  private final String tenant;
  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private volatile long lifetimeSeconds = 3599;

  ErpAuth(String tenant) {
    this.tenant = tenant;
  }

  String tokenPath() {
    return "/" + tenant + "/oauth2/v2.0/token";
  }

  void register(String clientId, String secret) {
    clients.put(clientId, new Client(secret));
  }

  void lifetime(long seconds) {
    lifetimeSeconds = seconds;
  }

  /** Expires every token issued so far (tests of refresh). */
  void expireAll() {
    tokens.replaceAll((k, t) -> new Token(t.clientId(), 0));
  }

  /** Answers {@code POST /{tenant}/oauth2/v2.0/token} the way Entra ID does. */
  SimResponse token(SimRequest r) {
    Map<String, String> form = new HashMap<>();
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
      // The v2 token endpoint's answer to a form without scope (the same as the CRM simulator's, DataverseAuth):
      // AADSTS900144 "The request body must contain the following parameter", not AADSTS90014, which is about
      // a credential's fields.
      return entra(400, "invalid_request", "AADSTS900144: The request body must contain the following parameter: "
          + "'scope'.");
    }
    if (!scope.endsWith("/.default")) {
      return entra(400, "invalid_scope", "AADSTS1002012: The provided value for scope " + scope + " is not valid. "
          + "Client credential flows must have a scope value with /.default suffixed to the resource identifier "
          + "(application ID URI).");
    }
    Client c = clients.get(form.get("client_id"));
    if (c == null) {
      return entra(400, "unauthorized_client", "AADSTS700016: Application with identifier '" + form.get("client_id")
          + "' was not found in the directory '" + tenant + "'.");
    }
    if (!c.secret().equals(form.get("client_secret"))) {
      return entra(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
          + "sent in the request is the client secret value, not the client secret ID.");
    }
    String resource = scope.substring(0, scope.length() - "/.default".length());
    if (!resource.equals(RESOURCE) && !resource.equals(RESOURCE + "/")) {
      return entra(400, "invalid_resource", "AADSTS500011: The resource principal named " + resource
          + " was not found in the tenant named " + tenant + ".");
    }
    byte[] b = new byte[32];
    random.nextBytes(b);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    long lifetime = lifetimeSeconds;
    tokens.put(token, new Token(form.get("client_id"), System.currentTimeMillis() + lifetime * 1000));
    return SimResponse.json(200, Map.of("token_type", "Bearer", "expires_in", lifetime, "ext_expires_in", lifetime,
        "access_token", token));
  }

  /** An Entra tenant that is not this one: the path names an unknown directory. */
  static SimResponse unknownTenant(String tenant) {
    return entra(400, "invalid_request", "AADSTS90002: Tenant '" + tenant + "' not found. Check to make sure you "
        + "have the correct tenant ID and are signing into the correct cloud.");
  }

  /**
   * @param r a web service request
   * @return whether it carries a live bearer token issued for Business Central in this tenant
   */
  boolean authorized(SimRequest r) {
    String h = r.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    Token t = tokens.get(h.substring(7).trim());
    return t != null && t.expiresAtMillis() >= System.currentTimeMillis();
  }

  /** @return the client a live token was issued to, or null */
  String clientOf(SimRequest r) {
    String h = r.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    Token t = tokens.get(h.substring(7).trim());
    return t == null || t.expiresAtMillis() < System.currentTimeMillis() ? null : t.clientId();
  }

  /** @return BC online's 401: it names the authority to get a token from */
  SimResponse challenge() {
    return ErpSimulator.error(401, "Authentication_InvalidCredentials", "The server has rejected the client "
        + "credentials.").with("WWW-Authenticate", "Bearer authorization_uri=\"https://login.microsoftonline.com/"
        + tenant + "/oauth2/authorize\", resource_id=\"" + RESOURCE + "\"");
  }

  private static SimResponse entra(int status, String error, String description) {
    return SimResponse.json(status, Map.of("error", error, "error_description", description));
  }
}
