package dev.tandem.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** What the benchmarks share: the built jars, free ports, simulators as child JVMs, plain HTTP calls. */
final class BenchSupport {

  private BenchSupport() {}

  /**
   * @param dir a module's target folder, relative to the repository root
   * @param prefix the jar's name before its version
   * @param suffix how its name ends: {@code .jar} for the plain jar, {@code -standalone.jar} for a standalone one
   * @return the built jar
   */
  static Path jar(String dir, String prefix, String suffix) {
    File[] found = new File(dir).listFiles((d, n) -> n.startsWith(prefix) && n.endsWith(suffix)
        && !n.endsWith("-sources.jar") && !n.endsWith("-tests.jar") && (suffix.length() > 4
        || !n.endsWith("-standalone.jar")));
    if (found == null || found.length == 0) {
      throw new IllegalStateException("no " + prefix + "*.jar in " + dir + ": build first (mvn -B -q -DskipTests "
          + "package) and run from the repository root");
    }
    return found[0].toPath();
  }

  /** @return a port nothing listens on now */
  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Starts a simulator's standalone jar as a child JVM and waits until it says it listens.
   *
   * @param children where the child is kept, to be stopped at the end
   * @param name how its output is labelled
   * @param xmx its heap, e.g. {@code 1024m}
   * @param echo whether its output until then is printed
   * @param jar the jar
   * @param args its arguments
   */
  static void startChild(List<Process> children, String name, String xmx, boolean echo, Path jar, String... args)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + xmx, "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    children.add(p);
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        String line;
        while ((line = out.readLine()) != null) {
          if (echo && !ready.isDone()) {
            System.out.println("  [" + name + "] " + line);
          }
          if (line.contains("listening")) {
            ready.complete(null);
          }
        }
      } catch (Exception ignored) {
        // the child ended
      }
      ready.completeExceptionally(new IllegalStateException(name + " simulator ended before it listened"));
    }, name + "-simulator-output");
    t.setDaemon(true);
    t.start();
    ready.get(120, TimeUnit.SECONDS);
  }

  /**
   * @param http the client
   * @param method the HTTP method
   * @param url the URL
   * @param body the body, or null
   * @param headers name, value, name, value, ...
   * @return the answer's body; a status of 300 or more throws, naming it
   */
  static String send(HttpClient http, String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 503) {
      throw new Unavailable(method + " " + url + " answered 503: "
          + r.body().substring(0, Math.min(300, r.body().length())),
          r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L));
    }
    if (r.statusCode() >= 300) {
      throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": "
          + r.body().substring(0, Math.min(300, r.body().length())));
    }
    return r.body();
  }

  /** A 503: the node could not serve the request now (PostgreSQL busy or away) and says when to ask again. */
  static final class Unavailable extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    final long retryAfterSeconds;

    Unavailable(String message, long retryAfterSeconds) {
      super(message);
      this.retryAfterSeconds = retryAfterSeconds;
    }
  }
}
