package dev.tandem.runtime.cli;

import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connection.SecretCipher;
import dev.tandem.runtime.store.PgConnectionStore;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tandem connection show|test} over a node's admin API, and {@code tandem secrets generate-key|rotate-key},
 * which work on the database directly (rotation re-seals every stored secret in one transaction).
 */
public final class ConnectionCommands {

  private ConnectionCommands() {}

  /** The commands, for the launcher. */
  public static final Class<?>[] ALL = {Connection.class, Secrets.class};

  /** {@code tandem connection}. */
  @Command(name = "connection", mixinStandardHelpOptions = true, description = "The stored connection.",
      subcommands = {Show.class, Test.class})
  public static final class Connection implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  /** {@code tandem connection show}. */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "The connection (secrets show as set or not, never their value).")
  public static final class Show extends AdminCommands.Base {
    @Override
    int run(AdminClient api) {
      print(api.get("/api/v1/connection"));
      return 0;
    }
  }

  /** {@code tandem connection test}. */
  @Command(name = "test", mixinStandardHelpOptions = true,
      description = "Runs every connection check and prints each by name, with what to do when it fails. "
          + "Exit 1 when a check fails.")
  public static final class Test extends AdminCommands.Base {
    @Override
    int run(AdminClient api) {
      JsonObject answer = api.post("/api/v1/connection/test", new JsonObject());
      if (node.json) {
        print(answer);
      } else {
        List<List<Object>> rows = new java.util.ArrayList<>();
        for (Object o : answer.getJsonArray("checks")) {
          JsonObject c = (JsonObject) o;
          rows.add(List.of(c.getString("name"), c.getString("state", c.getBoolean("ok") ? "ok" : "failed"),
              c.getString("message") + (c.getString("remedy") == null || c.getBoolean("ok") ? ""
                  : " → " + c.getString("remedy"))));
        }
        out().print(AdminCommands.table(List.of("CHECK", "STATE", "RESULT"), rows));
        out().flush();
      }
      return answer.getBoolean("ok") ? 0 : AdminClient.FAILED;
    }
  }

  /** {@code tandem secrets}. */
  @Command(name = "secrets", mixinStandardHelpOptions = true,
      description = "The key that seals the stored connection's secrets.",
      subcommands = {GenerateKey.class, RotateKey.class})
  public static final class Secrets implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  /** {@code tandem secrets generate-key}. */
  @Command(name = "generate-key", mixinStandardHelpOptions = true,
      description = "Prints a new random key (base64) for TANDEM_SECRET_KEY, or writes it to a file readable only "
          + "by its owner.")
  public static final class GenerateKey implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--file", description = "write the key to this file (mode 600) instead of printing it")
    Path file;

    @Override
    public Integer call() throws Exception {
      String key = SecretCipher.generateKey();
      if (file == null) {
        spec.commandLine().getOut().println(key);
      } else {
        Files.writeString(file, key + "\n");
        try {
          Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: the operator protects the file
        }
        spec.commandLine().getOut().println("key " + new SecretCipher(java.util.Base64.getDecoder().decode(key))
            .keyId() + " written to " + file);
      }
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** {@code tandem secrets rotate-key}. */
  @Command(name = "rotate-key", mixinStandardHelpOptions = true,
      description = "Re-seals every stored secret with a new key, in one transaction. The old key comes from "
          + "TANDEM_SECRET_KEY_PREVIOUS (or _FILE) when set, else TANDEM_SECRET_KEY (or _FILE); the database from "
          + "TANDEM_DB_URL (and TANDEM_DB_SCHEMA). Without downtime: first restart every node with the new key in "
          + "TANDEM_SECRET_KEY and the old one in TANDEM_SECRET_KEY_PREVIOUS, then run this, then drop the previous "
          + "key at the nodes' next restart.")
  public static final class RotateKey implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--new-key-file", required = true, description = "file holding the new key (base64)")
    Path newKeyFile;

    @Override
    public Integer call() {
      java.util.Map<String, String> env = System.getenv();
      try {
        SecretCipher ring = SecretCipher.fromEnvironment(env);
        if (ring == null) {
          throw new IllegalArgumentException("the current key is needed: set " + SecretCipher.ENV_KEY + " or "
              + SecretCipher.ENV_KEY_FILE);
        }
        // Mid-rotation the environment holds the new key and the previous one: the secrets are sealed with the latter.
        SecretCipher old = ring.previousKeyId() == null ? ring : ring.forKey(ring.previousKeyId());
        SecretCipher next = SecretCipher.fromFile(newKeyFile, newKeyFile.toString());
        String url = env.get(TandemConfig.ENV_DB_URL);
        if (url == null || url.isBlank()) {
          throw new IllegalArgumentException("set " + TandemConfig.ENV_DB_URL + " to the database");
        }
        int n = rotate(DatabaseSettings.parse(url, env.get(TandemConfig.ENV_DB_SCHEMA), 1, TandemConfig.ENV_DB_URL),
            old, next);
        spec.commandLine().getOut().println(n + " secret(s) re-sealed with key " + next.keyId() + " (was "
            + old.keyId() + "); nodes started with the new key (and the old one in " + SecretCipher.ENV_PREVIOUS_KEY
            + ") go on; drop the previous key at their next restart");
        spec.commandLine().getOut().flush();
        return 0;
      } catch (IllegalArgumentException | IllegalStateException | java.sql.SQLException e) {
        spec.commandLine().getErr().println("tandem: " + DatabaseSettings.redact(String.valueOf(e.getMessage())));
        spec.commandLine().getErr().flush();
        return AdminClient.FAILED;
      }
    }

    /**
     * @param db the database
     * @param old the current key
     * @param next the new key
     * @return how many secrets were re-sealed
     * @throws java.sql.SQLException on a database failure (nothing changed)
     */
    public static int rotate(DatabaseSettings db, SecretCipher old, SecretCipher next) throws java.sql.SQLException {
      java.util.Properties p = new java.util.Properties();
      p.setProperty("user", db.user());
      if (db.password() != null) {
        p.setProperty("password", db.password());
      }
      try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl() + "&currentSchema="
          + java.net.URLEncoder.encode(db.schema(), java.nio.charset.StandardCharsets.UTF_8), p)) {
        return PgConnectionStore.rotate(c, (name, sealed) -> next.seal(name, old.open(name, sealed)), next.keyId());
      }
    }
  }
}
