package dev.tandem.runtime;

import dev.tandem.runtime.config.ConfigException;
import dev.tandem.runtime.config.TandemConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import dev.tandem.runtime.cli.AdminCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code tandem} command: {@code run} in production and the operator's commands over a node's admin API
 * ({@link AdminCommands}), with {@code generate-completion} for bash and zsh. {@code tandem demo} (a node on a
 * laptop, with an embedded PostgreSQL when no other is there) is the demo module's ({@code platform/demo}), so the
 * production runtime carries no embedded database.
 */
@Command(name = "tandem", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Keeps an ERP and a CRM in step across lead-to-cash.",
    footer = {"", "bin/tandem demo runs Tandem locally against the simulators (the demo module, platform/demo)."},
    subcommands = {Main.Run.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  /** @param args command line */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** @return the command line with every subcommand */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    for (Class<?> c : AdminCommands.ALL) {
      cl.addSubcommand(c);
    }
    for (Class<?> c : dev.tandem.runtime.cli.ConnectionCommands.ALL) {
      cl.addSubcommand(c);
    }
    cl.addSubcommand("generate-completion", new picocli.AutoComplete.GenerateCompletion());
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code tandem run}: production; needs TANDEM_DB_URL (or database.url) and an admin token. */
  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run a Tandem node. Settings come from --config and the TANDEM_* environment variables.")
  static final class Run implements java.util.concurrent.Callable<Integer> {
    @Option(names = {"-c", "--config"}, description = "JSON configuration file")
    Path config;

    @Option(names = "--bind", description = "admin API bind address (default: TANDEM_HTTP_HOST, http.host or 0.0.0.0)")
    String bind;

    @Override
    public Integer call() throws Exception {
      TandemConfig cfg;
      dev.tandem.runtime.connection.SecretCipher cipher;
      try {
        Map<String, String> env = new HashMap<>(System.getenv());
        if (bind != null) {
          env.put(TandemConfig.ENV_HTTP_HOST, bind);
        }
        cfg = TandemConfig.load(config, env);
        cipher = dev.tandem.runtime.connection.SecretCipher.fromEnvironment(env);
      } catch (ConfigException | IllegalArgumentException e) {
        System.err.println(e.getMessage());
        return 2;
      }
      return runUntilStopped(cfg, cipher, null);
    }
  }

  /**
   * Starts a node and blocks until the JVM is asked to stop (SIGTERM, Ctrl+C), then stops it.
   *
   * @param cfg the configuration
   * @param cipher seals the stored connection's secrets, or null
   * @param onStarted called once the node runs (the demo prints its banner), or null
   * @return the exit status: 0 after a stop, 1 when the node did not start
   * @throws InterruptedException when interrupted while waiting
   */
  public static int runUntilStopped(TandemConfig cfg, dev.tandem.runtime.connection.SecretCipher cipher,
      java.util.function.Consumer<TandemRuntime> onStarted) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    TandemRuntime rt;
    try {
      rt = TandemRuntime.start(cfg, cipher).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    } catch (java.util.concurrent.ExecutionException e) {
      System.err.println("Tandem failed to start: " + e.getCause().getMessage());
      return 1;
    } catch (java.util.concurrent.TimeoutException e) {
      System.err.println("Tandem did not start within 5 minutes");
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        rt.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("stopping Tandem: " + e);
      }
      stopped.countDown();
    }, "tandem-shutdown"));
    if (onStarted != null) {
      onStarted.accept(rt);
    }
    stopped.await();
    return 0;
  }

  /** Reads the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"tandem " + (v == null ? "(development build)" : v)};
    }
  }
}
