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
 * @param sslMode the URL's {@code sslmode} as libpq spells it: disable (the default), allow, prefer, require,
 *     verify-ca or verify-full
 * @param sslRootCert the URL's {@code sslrootcert}: PEM file of the CA that signed the server's certificate
 *     (verify-ca, verify-full), or null
 */
public record DatabaseSettings(String host, int port, String database, String user, String password, String schema,
    int poolSize, String sslMode, String sslRootCert) {

  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final java.util.List<String> SSL_MODES =
      java.util.List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

  /**
   * Settings without TLS.
   *
   * @param host host
   * @param port port
   * @param database database name
   * @param user user
   * @param password password, may be empty
   * @param schema schema for Tandem's tables
   * @param poolSize connections in the pool
   */
  public DatabaseSettings(String host, int port, String database, String user, String password, String schema,
      int poolSize) {
    this(host, port, database, user, password, schema, poolSize, "disable", null);
  }

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
    String sslMode = "disable";
    String sslRootCert = null;
    if (query != null) {
      for (String kv : query.split("&")) {
        String[] p = kv.split("=", 2);
        if (p.length == 2 && p[0].equals("user")) {
          user = p[1];
        } else if (p.length == 2 && p[0].equals("password")) {
          password = p[1];
        } else if (p.length == 2 && p[0].equals("currentSchema") && schema == null) {
          schema = p[1];
        } else if (p.length == 2 && p[0].equals("sslmode")) {
          sslMode = p[1].toLowerCase(java.util.Locale.ROOT);
          if (!SSL_MODES.contains(sslMode)) {
            throw new IllegalArgumentException(setting + " has sslmode=" + p[1] + ": use one of " + SSL_MODES);
          }
        } else if (p.length == 2 && p[0].equals("sslrootcert")) {
          sslRootCert = decode(p[1]);
        }
      }
    }
    String s = schema == null ? "public" : schema;
    if (!IDENTIFIER.matcher(s).matches()) {
      throw new IllegalArgumentException("database schema '" + s
          + "' must be a lower-case SQL identifier (letters, digits, '_')");
    }
    if ((sslMode.equals("verify-ca") || sslMode.equals("verify-full")) && sslRootCert == null) {
      throw new IllegalArgumentException(setting + " has sslmode=" + sslMode
          + " but no sslrootcert=<PEM file of the server certificate's CA>");
    }
    return new DatabaseSettings(host, uri.getPort() > 0 ? uri.getPort() : 5432, path, user, password, s, poolSize,
        sslMode, sslRootCert);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /**
   * @param url a database URL
   * @return the URL with any password (user info or {@code password=} parameter) replaced by {@code ***}, safe to
   *     log
   */
  public static String redact(String url) {
    return url.replaceAll("(://[^:/@]*:)[^@/]*@", "$1***@").replaceAll("(?i)([?&]password=)[^&]*", "$1***");
  }

  /** @return the JDBC URL Flyway uses (with the TLS mode; the password goes separately) */
  public String jdbcUrl() {
    String url = "jdbc:postgresql://" + host + ":" + port + "/" + database + "?sslmode=" + sslMode;
    return sslRootCert == null ? url
        : url + "&sslrootcert=" + java.net.URLEncoder.encode(sslRootCert, StandardCharsets.UTF_8);
  }

  /** @return a copy using another schema */
  public DatabaseSettings withSchema(String other) {
    return new DatabaseSettings(host, port, database, user, password, other, poolSize, sslMode, sslRootCert);
  }

  /** @return a copy pointing at another host and port (tests route through a proxy) */
  public DatabaseSettings withAddress(String otherHost, int otherPort) {
    return new DatabaseSettings(otherHost, otherPort, database, user, password, schema, poolSize, sslMode,
        sslRootCert);
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
        .addProperty("application_name", "tandem")
        .setSslMode(io.vertx.pgclient.SslMode.of(sslMode))
        .setSslOptions(sslOptions());
  }

  /** TLS as libpq's modes mean it: allow, prefer and require encrypt without checking the certificate. */
  private io.vertx.core.net.ClientSSLOptions sslOptions() {
    io.vertx.core.net.ClientSSLOptions o = new io.vertx.core.net.ClientSSLOptions();
    switch (sslMode) {
      case "verify-ca" -> o.setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(sslRootCert))
          .setHostnameVerificationAlgorithm("");
      case "verify-full" -> o.setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(sslRootCert))
          .setHostnameVerificationAlgorithm("HTTPS");
      default -> o.setTrustAll(true).setHostnameVerificationAlgorithm("");
    }
    return o;
  }

  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database + " (schema " + schema
        + (sslMode.equals("disable") ? "" : ", sslmode " + sslMode) + ")";
  }
}
