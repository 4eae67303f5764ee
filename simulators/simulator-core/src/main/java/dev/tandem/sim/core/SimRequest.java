package dev.tandem.sim.core;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A request as a simulator sees it.
 *
 * @param method HTTP method, upper case
 * @param path the decoded path, without the query
 * @param rawQuery the query string as sent, or empty
 * @param query decoded query parameters (first value of each)
 * @param headers headers, case-insensitive keys
 * @param body the body, possibly empty
 */
public record SimRequest(String method, String path, String rawQuery, Map<String, String> query,
    Map<String, String> headers, byte[] body) {

  /**
   * @param method method
   * @param url path and query as sent
   * @param headers headers
   * @param body body
   * @return the request with its path decoded and query parsed
   */
  public static SimRequest of(String method, String url, Map<String, String> headers, byte[] body) {
    int q = url.indexOf('?');
    String rawPath = q < 0 ? url : url.substring(0, q);
    String rawQuery = q < 0 ? "" : url.substring(q + 1);
    Map<String, String> query = new LinkedHashMap<>();
    for (String kv : rawQuery.split("&")) {
      if (kv.isEmpty()) {
        continue;
      }
      int eq = kv.indexOf('=');
      String k = decode(eq < 0 ? kv : kv.substring(0, eq));
      String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
      query.putIfAbsent(k, v);
    }
    Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    h.putAll(headers);
    return new SimRequest(method.toUpperCase(java.util.Locale.ROOT), decodePath(rawPath), rawQuery, query, h,
        body == null ? new byte[0] : body);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String decodePath(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * @param name header name, any case
   * @return its value, or null
   */
  public String header(String name) {
    return headers.get(name);
  }

  /** @return the body as UTF-8 text */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
