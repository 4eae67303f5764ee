package dev.tandem.runtime.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The web console's signed session cookies. A session is {@code v1.<id>.<expiresAtMillis>.<HMAC-SHA256>}; the HMAC
 * key is derived from the admin token, which every node of an installation shares, so a cookie issued by one node is
 * good on any other, and changing the admin token ends every session. Nothing is stored: a session ends when it
 * expires or when the browser drops the cookie (sign-out clears it).
 *
 * <p>The anti-CSRF token of a session is the HMAC of its id under the same key: any node can check it without state,
 * and a page of another origin can neither read it nor compute it.
 */
final class ConsoleSessions {

  /** The session cookie. */
  static final String COOKIE = "tandem_session";
  /** The header that carries the anti-CSRF token on writes made with the cookie. */
  static final String CSRF_HEADER = "X-Tandem-CSRF";
  /** How long a session lasts: 8 hours. */
  static final long TTL_MS = 8 * 60 * 60 * 1000L;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final SecretKeySpec key;

  /** A valid session. */
  record Session(String id, long expiresAt, String csrf) {}

  /** @param adminToken the node's admin token (the key is derived from it, never the token itself) */
  ConsoleSessions(byte[] adminToken) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("tandem console session key v1\0".getBytes(StandardCharsets.UTF_8));
      key = new SecretKeySpec(sha.digest(adminToken), "HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /**
   * @param now the time
   * @return the cookie value of a new session
   */
  String issue(long now) {
    byte[] id = new byte[18];
    RANDOM.nextBytes(id);
    String payload = "v1." + B64.encodeToString(id) + "." + (now + TTL_MS);
    return payload + "." + mac(payload);
  }

  /**
   * @param cookie a cookie value, possibly null
   * @param now the time
   * @return the session, or null when the value is missing, malformed, tampered with or expired
   */
  Session verify(String cookie, long now) {
    if (cookie == null || cookie.length() > 200) {
      return null;
    }
    String[] parts = cookie.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals("v1")) {
      return null;
    }
    String payload = parts[0] + "." + parts[1] + "." + parts[2];
    // Constant-time comparison: the signature must not leak through response timing.
    if (!MessageDigest.isEqual(mac(payload).getBytes(StandardCharsets.US_ASCII),
        parts[3].getBytes(StandardCharsets.US_ASCII))) {
      return null;
    }
    long expiresAt;
    try {
      expiresAt = Long.parseLong(parts[2]);
    } catch (NumberFormatException e) {
      return null;
    }
    return expiresAt <= now ? null : new Session(parts[1], expiresAt, mac("csrf." + parts[1]));
  }

  /**
   * @param session a valid session
   * @param header the anti-CSRF header's value, possibly null
   * @return whether it is the session's token
   */
  static boolean csrfMatches(Session session, String header) {
    return header != null && MessageDigest.isEqual(session.csrf().getBytes(StandardCharsets.US_ASCII),
        header.trim().getBytes(StandardCharsets.US_ASCII));
  }

  private String mac(String text) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return B64.encodeToString(m.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }
}
