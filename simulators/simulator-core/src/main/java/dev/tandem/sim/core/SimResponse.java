package dev.tandem.sim.core;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A simulator's answer.
 *
 * @param status HTTP status
 * @param headers response headers
 * @param body body bytes, possibly empty
 * @param drop when true the connection is reset instead of answering
 */
public record SimResponse(int status, Map<String, String> headers, byte[] body, boolean drop) {

  /**
   * @param status status
   * @param json a JSON text
   * @return a JSON response
   */
  public static SimResponse json(int status, String json) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8");
    return new SimResponse(status, h, json.getBytes(StandardCharsets.UTF_8), false);
  }

  /**
   * @param status status
   * @param value any value Jackson writes
   * @return a JSON response
   */
  public static SimResponse json(int status, Object value) {
    return json(status, Json.write(value));
  }

  /**
   * @param status status
   * @param contentType content type
   * @param text body
   * @return a text response
   */
  public static SimResponse text(int status, String contentType, String text) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Content-Type", contentType);
    return new SimResponse(status, h, text.getBytes(StandardCharsets.UTF_8), false);
  }

  /**
   * @param status status
   * @return a response without body
   */
  public static SimResponse empty(int status) {
    return new SimResponse(status, new LinkedHashMap<>(), new byte[0], false);
  }

  /** @return a dropped connection */
  public static SimResponse dropped() {
    return new SimResponse(0, Map.of(), new byte[0], true);
  }

  /**
   * @param name header
   * @param value value
   * @return this response with the header added
   */
  public SimResponse with(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new SimResponse(status, h, body, drop);
  }

  /** @return the body as text */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
