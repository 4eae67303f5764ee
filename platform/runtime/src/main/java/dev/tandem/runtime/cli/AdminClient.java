package dev.tandem.runtime.cli;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BiPredicate;

/** The command line's view of a node's admin API: JSON calls with the bearer token, and the event stream. */
final class AdminClient {

  /** Exit status: the API refused the call or the job failed. */
  static final int FAILED = 1;
  /** Exit status: the node could not be reached. */
  static final int UNREACHABLE = 3;
  /** Exit status: the token is missing or wrong. */
  static final int UNAUTHORIZED = 4;

  /** A failure with the exit status it stands for. */
  static final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int exitCode;

    CliException(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }
  }

  /**
   * An answer.
   *
   * @param status HTTP status
   * @param body JSON body (an empty object when there was none)
   */
  record Answer(int status, JsonObject body) {}

  private final String base;
  private final String token;
  private final HttpClient http;

  AdminClient(String url, String token) {
    this.base = url.replaceAll("/+$", "");
    this.token = token;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** GET and expect 2xx. */
  JsonObject get(String path) {
    return ok(call("GET", path, null), path);
  }

  /** POST a JSON body and expect 2xx. */
  JsonObject post(String path, JsonObject body) {
    return ok(call("POST", path, body), path);
  }

  Answer call(String method, String path, JsonObject body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new CliException(UNREACHABLE, "cannot reach the Tandem node at " + base + ": " + e.getMessage()
          + " (set --url or TANDEM_URL)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(FAILED, "interrupted");
    }
    JsonObject json;
    try {
      json = r.body().isBlank() ? new JsonObject() : new JsonObject(r.body());
    } catch (RuntimeException e) {
      json = new JsonObject().put("text", r.body());
    }
    return new Answer(r.statusCode(), json);
  }

  private JsonObject ok(Answer a, String path) {
    if (a.status() / 100 == 2) {
      return a.body();
    }
    JsonObject error = a.body().getJsonObject("error");
    String message = error == null ? a.body().encode() : error.getString("message");
    if (a.status() == 401) {
      throw new CliException(UNAUTHORIZED, "the node refused the token (" + message + "): set --token or TANDEM_TOKEN"
          + " to the node's admin token");
    }
    if (a.status() == 404 && error != null && message != null && message.startsWith("no such resource")) {
      throw new CliException(FAILED, "this node has no " + path + " (" + message + "): is it an older Tandem?");
    }
    throw new CliException(FAILED, a.status() + " " + (error == null ? "" : error.getString("code") + ": ")
        + message);
  }

  /**
   * Reads a server-sent event stream until {@code onEvent} returns false or the stream ends.
   *
   * @param path the stream's path
   * @param onEvent gets the event name and its data; false stops
   */
  void events(String path, BiPredicate<String, String> onEvent) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Accept", "text/event-stream");
    if (token != null && !token.isBlank()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<InputStream> r;
    try {
      r = http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new CliException(UNREACHABLE, "cannot reach the Tandem node at " + base + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(FAILED, "interrupted");
    }
    try (InputStream in = r.body();
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      if (r.statusCode() != 200) {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        ok(new Answer(r.statusCode(), text.isBlank() ? new JsonObject() : new JsonObject(text)), path);
        return;
      }
      String event = "message";
      StringBuilder data = new StringBuilder();
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.isEmpty()) {
          if (data.length() > 0 && !onEvent.test(event, data.toString())) {
            return;
          }
          event = "message";
          data.setLength(0);
        } else if (line.startsWith("event:")) {
          event = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        }
      }
    } catch (IOException e) {
      throw new CliException(UNREACHABLE, "the event stream broke off: " + e.getMessage());
    }
  }

  private URI uri(String path) {
    try {
      return URI.create(base + path);
    } catch (IllegalArgumentException e) {
      throw new CliException(2, "bad node URL '" + base + "': " + e.getMessage());
    }
  }
}
