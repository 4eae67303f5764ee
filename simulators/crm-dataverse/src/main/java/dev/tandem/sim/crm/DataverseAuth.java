package dev.tandem.sim.crm;

import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OAuth 2.0 client credentials: {@code POST /{tenant}/oauth2/v2.0/token} issues bearer tokens for registered
 * clients, each mapped to an application user; the Web API refuses missing, unknown and expired tokens.
 */
final class DataverseAuth {

  /** A registered client. */
  record Client(String secret, String userId) {}

  private record Token(String userId, long expiresAtMillis) {}

  private final Map<String, Client> clients = new ConcurrentHashMap<>();
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private volatile long lifetimeSeconds = 3599;

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

  /** Expires every token issued so far (tests of refresh). */
  void expireAll() {
    tokens.replaceAll((k, t) -> new Token(t.userId(), 0));
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
      return SimResponse.json(400, Map.of("error", "unsupported_grant_type", "error_description",
          "AADSTS70003: The app requested an unsupported grant type '" + form.get("grant_type") + "'."));
    }
    Client c = clients.get(form.get("client_id"));
    if (c == null) {
      return SimResponse.json(400, Map.of("error", "unauthorized_client", "error_description",
          "AADSTS700016: Application with identifier '" + form.get("client_id") + "' was not found in the directory."));
    }
    if (!c.secret().equals(form.get("client_secret"))) {
      return SimResponse.json(401, Map.of("error", "invalid_client", "error_description",
          "AADSTS7000215: Invalid client secret provided."));
    }
    byte[] b = new byte[32];
    random.nextBytes(b);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    long lifetime = lifetimeSeconds;
    tokens.put(token, new Token(c.userId(), System.currentTimeMillis() + lifetime * 1000));
    return SimResponse.json(200, Map.of("token_type", "Bearer", "expires_in", lifetime, "ext_expires_in", lifetime,
        "access_token", token));
  }

  /**
   * @param r a Web API request
   * @return the calling user's id, or null when the bearer token is missing, unknown or expired
   */
  String user(SimRequest r) {
    String h = r.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    Token t = tokens.get(h.substring(7).trim());
    return t == null || t.expiresAtMillis() < System.currentTimeMillis() ? null : t.userId();
  }
}
