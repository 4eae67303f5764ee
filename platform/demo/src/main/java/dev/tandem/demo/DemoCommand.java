package dev.tandem.demo;

import dev.tandem.runtime.Main;
import dev.tandem.runtime.config.ConfigException;
import dev.tandem.runtime.config.TandemConfig;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tandem demo}: finds or starts a database ({@link DemoDatabase}), then runs a node and prints where it is;
 * with the simulators ({@code TANDEM_DEMO_SETUP=1}, set by {@code bin/tandem demo}) it sets the node up through its
 * own setup guide ({@link DemoGuide}) on first start.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run Tandem locally: TANDEM_DB_URL, else PostgreSQL on 127.0.0.1:5432, else an embedded one.")
public final class DemoCommand implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = ".tandem/demo",
      description = "where the embedded PostgreSQL keeps its data (default: ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(names = "--plugins-dir", description = "plugins directory (default: TANDEM_PLUGINS_DIR or plugins)")
  Path pluginsDir;

  @Option(names = "--port", description = "admin API port (default: TANDEM_HTTP_PORT or 8080)")
  Integer port;

  @Option(names = "--banner-file", hidden = true, description = "also write the banner here")
  Path bannerFile;

  @Override
  public Integer call() throws Exception {
    Map<String, String> env = new HashMap<>(System.getenv());
    try (DemoDatabase db = DemoDatabase.resolve(env.get(TandemConfig.ENV_DB_URL), dataDir)) {
      env.put(TandemConfig.ENV_DB_URL, db.url());
      env.putIfAbsent(TandemConfig.ENV_ADMIN_TOKEN, "demo-" + HexFormat.of().formatHex(randomBytes()));
      // The demo is for this machine: its admin API is not reachable from the network unless asked for.
      env.putIfAbsent(TandemConfig.ENV_HTTP_HOST, "127.0.0.1");
      if (pluginsDir != null) {
        env.put(TandemConfig.ENV_PLUGINS_DIR, pluginsDir.toString());
      }
      if (port != null) {
        env.put(TandemConfig.ENV_HTTP_PORT, port.toString());
      }
      // With the simulators, the demo sets its connection up through the setup guide on first start: the
      // launcher's connection settings go to the guide, not to the node's configuration.
      Map<String, String> guideEnv = new HashMap<>();
      if ("1".equals(env.get("TANDEM_DEMO_SETUP"))) {
        for (String name : DemoGuide.SETTINGS) {
          String v = env.remove(name);
          if (v != null) {
            guideEnv.put(name, v);
          }
        }
      }
      if (env.get(dev.tandem.runtime.connection.SecretCipher.ENV_KEY) == null
          && env.get(dev.tandem.runtime.connection.SecretCipher.ENV_KEY_FILE) == null) {
        // The demo's own key, next to its data: the stored connection's secrets are sealed with it.
        Path keyFile = dataDir.resolve("secret.key");
        if (!java.nio.file.Files.exists(keyFile)) {
          java.nio.file.Files.createDirectories(dataDir);
          java.nio.file.Files.writeString(keyFile, dev.tandem.runtime.connection.SecretCipher.generateKey() + "\n");
        }
        env.put(dev.tandem.runtime.connection.SecretCipher.ENV_KEY_FILE, keyFile.toString());
      }
      TandemConfig cfg;
      dev.tandem.runtime.connection.SecretCipher cipher;
      try {
        cfg = TandemConfig.load(null, env);
        cipher = dev.tandem.runtime.connection.SecretCipher.fromEnvironment(env);
      } catch (ConfigException | IllegalArgumentException e) {
        System.err.println(e.getMessage());
        return 2;
      }
      return Main.runUntilStopped(cfg, cipher, rt -> {
        String base = (cfg.http().tls() ? "https" : "http") + "://localhost:" + rt.httpPort();
        String banner = String.join("\n",
            "",
            "Tandem demo is running (database: " + db.description() + ")",
            "  Console   : " + base + "/ (sign in with the token)",
            "  Admin API : " + base + "/api/v1",
            "  Token     : " + cfg.adminToken(),
            "  Health    : " + base + "/health/ready",
            "  Metrics   : " + base + "/metrics",
            "  Try       : curl -H 'Authorization: Bearer " + cfg.adminToken() + "' " + base + "/api/v1/plugins",
            "  Plugins   : " + cfg.pluginsDir().toAbsolutePath() + " (" + rt.plugins().plugins().size() + " loaded)",
            "  ERP sim   : " + System.getenv().getOrDefault("TANDEM_DEMO_ERP_URL", "not started"),
            "  CRM sim   : " + System.getenv().getOrDefault("TANDEM_DEMO_CRM_URL", "not started"),
            "Press Ctrl+C to stop.",
            "");
        System.out.println(banner);
        if (!guideEnv.isEmpty()) {
          Thread guide = new Thread(() -> {
            try {
              if (new DemoGuide(base, cfg.adminToken(), System.out).runIfNeeded(guideEnv)) {
                // Lead-to-cash on top: a few CRM orders submitted, some posted in the ERP.
                new DemoOrders(base, cfg.adminToken(), guideEnv, DemoGuide.ADMIN_ID, DemoGuide.ADMIN_SECRET,
                    System.out).run();
              }
            } catch (Exception e) {
              System.err.println("tandem demo: the setup guide did not finish: " + e.getMessage());
            }
          }, "tandem-demo-guide");
          guide.setDaemon(true);
          guide.start();
        }
        if (bannerFile != null) {
          try {
            java.nio.file.Files.writeString(bannerFile, banner);
          } catch (java.io.IOException e) {
            System.err.println("cannot write " + bannerFile + ": " + e);
          }
        }
      });
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return b;
  }
}
