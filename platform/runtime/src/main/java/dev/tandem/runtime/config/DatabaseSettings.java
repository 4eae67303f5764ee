package dev.tandem.runtime.config;

import io.vertx.pgclient.PgConnectOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Where the PostgreSQL database is. Accepts {@code postgresql://user:password@host:port/database} (also
 * {@code postgres://} and {@code jdbc:postgresql://}); the schema holds every Tandem table.
 *
 * @param host host
 * @param port port
 * @param database database name
 * @param user user
 * @param password password, may be empty
 * @param schema schema for Tandem's tables
 * @param poolSize connections in the pool
 */
public record DatabaseSettings(String host, int port, String database, String user, String password, String schema,
    int poolSize) {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /**
   * @param url the URL
   * @param schema the schema, {@code public} if null
   * @param poolSize pool size
   * @param setting the name of the setting the URL came from, for messages
   * @return the settings
   * @throws IllegalArgumentException naming the setting and what is wrong
   */
  public static DatabaseSettings parse(String url, String schema, int poolSize, String setting) {
    String u = url.trim();
    if (u.startsWith("jdbc:")) {
      u = u.substring(5);
    }
    if (u.startsWith("postgres://")) {
      u = "postgresql://" + u.substring("postgres://".length());
    }
    if (!u.startsWith("postgresql://")) {
      throw new IllegalArgumentException(setting + " '" + redact(url)
          + "' is not a PostgreSQL URL: expected postgresql://user:password@host:5432/database");
    }
    URI uri;
    try {
      uri = new URI(u);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(setting + " '" + redact(url) + "' is malformed: " + e.getReason());
    }
    String host = uri.getHost();
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException(setting + " '" + redact(url) + "' has no host");
    }
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    if (path.isBlank()) {
      throw new IllegalArgumentException(setting + " '" + redact(url) + "' names no database (…/database)");
    }
    String user = "postgres";
    String password = "";
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : "";
    }
    String query = uri.getQuery();
    if (query != null) {
      for (String kv : query.split("&")) {
        String[] p = kv.split("=", 2);
        if (p.length == 2 && p[0].equals("user")) {
          user = p[1];
        } else if (p.length == 2 && p[0].equals("password")) {
          password = p[1];
        } else if (p.length == 2 && p[0].equals("currentSchema") && schema == null) {
          schema = p[1];
        }
      }
    }
    String s = schema == null ? "public" : schema;
    if (!IDENTIFIER.matcher(s).matches()) {
      throw new IllegalArgumentException("database schema '" + s
          + "' must be a lower-case SQL identifier (letters, digits, '_')");
    }
    return new DatabaseSettings(host, uri.getPort() > 0 ? uri.getPort() : 5432, path, user, password, s, poolSize);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** @return the URL with any password replaced by {@code ***}, safe to log */
  static String redact(String url) {
    return url.replaceAll("(://[^:/@]+:)[^@]*@", "$1***@");
  }

  /** @return the JDBC URL Flyway uses */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  /** @return a copy using another schema */
  public DatabaseSettings withSchema(String other) {
    return new DatabaseSettings(host, port, database, user, password, other, poolSize);
  }

  /** @return a copy pointing at another host and port (tests route through a proxy) */
  public DatabaseSettings withAddress(String otherHost, int otherPort) {
    return new DatabaseSettings(otherHost, otherPort, database, user, password, schema, poolSize);
  }

  /** @return options for the Vert.x pool, with the schema on the search path */
  public PgConnectOptions connectOptions() {
    return new PgConnectOptions()
        .setHost(host)
        .setPort(port)
        .setDatabase(database)
        .setUser(user)
        .setPassword(password)
        .setPipeliningLimit(256)
        .setCachePreparedStatements(true)
        .addProperty("search_path", schema)
        .addProperty("application_name", "tandem");
  }

  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database + " (schema " + schema + ")";
  }
}
