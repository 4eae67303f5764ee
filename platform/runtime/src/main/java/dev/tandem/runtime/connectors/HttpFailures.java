package dev.tandem.runtime.connectors;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.MultiMap;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Turns an endpoint's HTTP answer into one of the three error kinds: 429, 408 and 5xx (and I/O failures) are
 * retriable with the endpoint's Retry-After; 401 and 403 are permanent (credentials, roles); other 4xx are
 * per-record data errors when they concern a record, permanent when they concern the request itself.
 */
public final class HttpFailures {

  private HttpFailures() {}

  /**
   * @param endpoint "CRM" or "ERP", for the message
   * @param stage where it happened
   * @param status HTTP status
   * @param headers response headers
   * @param body response body, may be null
   * @param recordLevel whether a 4xx concerns one record (a write) rather than the request (a query)
   * @return the failure
   */
  public static TandemException classify(String endpoint, Stage stage, int status, MultiMap headers, String body,
      boolean recordLevel) {
    String detail = errorMessage(body);
    String message = endpoint + " answered " + status + (detail.isEmpty() ? "" : ": " + detail);
    // 408: Business Central cancels an operation running over 8 minutes; like a 5xx, another attempt may pass.
    if (status == 429 || status == 408 || status >= 500) {
      return TandemException.retriable(stage, message, retryAfter(headers));
    }
    if (status == 401 || status == 403) {
      String resource = status == 401 ? challengeResource(headers) : null;
      return TandemException.permanent(stage, message
          + (status == 401 ? " (check the credentials Tandem uses for the " + endpoint
              + (resource == null ? "" : "; it takes tokens issued for " + resource + ", so the token scope must be "
                  + resource.replaceAll("/+$", "") + "/.default") + ")"
              : " (the integration user lacks a privilege)"));
    }
    return recordLevel ? TandemException.data(stage, message) : TandemException.permanent(stage, message);
  }

  /**
   * @param endpoint "CRM" or "ERP"
   * @param stage where it happened
   * @param cause the I/O failure
   * @return a retriable failure
   */
  public static TandemException io(String endpoint, Stage stage, Throwable cause) {
    return new TandemException(ErrorKind.RETRIABLE, stage, endpoint + " unreachable: " + cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage()), null, cause);
  }

  /**
   * @param headers a 401's headers
   * @return the {@code resource_id} its {@code WWW-Authenticate: Bearer authorization_uri=…, resource_id=…} names
   *     (Dataverse and Business Central name the resource their tokens must be issued for), or null
   */
  static String challengeResource(MultiMap headers) {
    String h = headers == null ? null : headers.get("WWW-Authenticate");
    if (h == null) {
      return null;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("resource_id=\"?([^\",\\s]+)").matcher(h);
    return m.find() ? m.group(1) : null;
  }

  /**
   * @param body an OData error body {@code {"error":{"code","message"}}}, an OAuth error
   *     {@code {"error":"invalid_scope","error_description":"AADSTS1002012: …"}} (Entra ID), or anything else
   * @return "code: message", the raw body cut short, or "" when empty
   */
  public static String errorMessage(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonObject json = new JsonObject(body);
      if (json.getValue("error") instanceof String oauth) {
        // Entra's description holds the AADSTS code, the message and trace ids after "\r\nTrace ID:".
        String d = json.getString("error_description", "");
        int trace = d.indexOf("\r\nTrace ID");
        return oauth + (d.isEmpty() ? "" : ": " + (trace > 0 ? d.substring(0, trace) : d));
      }
      JsonObject error = json.getJsonObject("error");
      if (error != null) {
        String code = error.getString("code");
        String msg = error.getString("message", "");
        return code == null || code.isEmpty() ? msg : code + ": " + msg;
      }
    } catch (DecodeException | ClassCastException notJson) {
      // fall through to the raw text
    }
    return body.length() > 300 ? body.substring(0, 300) + "…" : body;
  }

  /**
   * @param headers response headers
   * @return the Retry-After (seconds or an HTTP date), or null when absent or unreadable
   */
  public static Duration retryAfter(MultiMap headers) {
    String v = headers == null ? null : headers.get("Retry-After");
    if (v == null || v.isBlank()) {
      return null;
    }
    try {
      return Duration.ofMillis((long) (Double.parseDouble(v.trim()) * 1000));
    } catch (NumberFormatException notSeconds) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException notADate) {
        return null;
      }
    }
  }
}
