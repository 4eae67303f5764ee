package dev.tandem.testpg;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * One embedded PostgreSQL per Maven run, shared by every test JVM the run forks.
 *
 * <p>The first test JVM that needs it (under an exclusive lock on {@code target/test-postgres/lock} of the build's
 * root) starts this class's {@link #main server} as a separate process, detached from its own lifetime. The server
 * starts PostgreSQL in a temporary data directory, writes {@code <owner>.properties} (URL, its pid, the data
 * directory) and then watches its owner, the Maven JVM of the run (the nearest ancestor process that is a Maven
 * launcher; the test JVM itself when there is none, as in an IDE). Later JVMs of the same run find the file, see the
 * server alive and answering, and use it. When the owner exits the server stops PostgreSQL and deletes its data
 * directory and file; a server or PostgreSQL left behind by a run that was killed is stopped and removed the next
 * time one starts.
 */
public final class SharedEmbeddedPostgres {

  private static final long START_TIMEOUT_MS = 180_000;

  private SharedEmbeddedPostgres() {}

  /**
   * Returns the URL of this run's shared embedded PostgreSQL, starting it when it is not running.
   *
   * @param stateDir where the lock, state files and server logs live (the root's {@code target/test-postgres})
   * @return e.g. {@code postgresql://postgres@127.0.0.1:41234/postgres}
   */
  public static String acquire(Path stateDir) {
    return acquire(stateDir, ownerPid());
  }

  static synchronized String acquire(Path stateDir, long owner) {
    try {
      Files.createDirectories(stateDir);
      Path state = stateDir.resolve(owner + ".properties");
      try (FileChannel ch = FileChannel.open(stateDir.resolve("lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
        Optional<String> running = live(state);
        if (running.isPresent()) {
          return running.get();
        }
        removeStale(stateDir);
        return start(stateDir, state, owner);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the embedded test PostgreSQL in " + stateDir, e);
    }
  }

  /** @return the URL in {@code state} when its server is alive and its port answers */
  static Optional<String> live(Path state) throws IOException {
    if (!Files.isRegularFile(state)) {
      return Optional.empty();
    }
    Properties p = read(state);
    long pid = Long.parseLong(p.getProperty("pid", "-1"));
    int port = Integer.parseInt(p.getProperty("port", "-1"));
    if (!alive(pid) || !answers(port)) {
      return Optional.empty();
    }
    return Optional.of(p.getProperty("url"));
  }

  private static boolean answers(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String start(Path stateDir, Path state, long owner) throws IOException {
    if (Files.isRegularFile(state)) {
      remove(state, read(state)); // this run's server died or hangs
    }
    Path log = stateDir.resolve(owner + ".log");
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb = new ProcessBuilder(java.toString(), "-Xmx256m", "-cp", classpath,
        SharedEmbeddedPostgres.class.getName(), state.toAbsolutePath().toString(), Long.toString(owner));
    // No pipes to this JVM: the server outlives it, and Surefire must not wait for its output.
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null").exists() ? new File("/dev/null")
        : log.toFile()));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    Process server = pb.start();
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      Optional<String> url = live(state);
      if (url.isPresent()) {
        return url.get();
      }
      if (!server.isAlive()) {
        throw new IOException("the embedded test PostgreSQL server exited with " + server.exitValue()
            + "; its log " + log + ":\n" + tail(log));
      }
      sleep(100);
    }
    server.destroy();
    throw new IOException("the embedded test PostgreSQL did not start within " + START_TIMEOUT_MS / 1000
        + " s; its log " + log + ":\n" + tail(log));
  }

  /** Stops and removes what runs whose owner is gone left behind (a run killed before its server noticed). */
  static void removeStale(Path stateDir) throws IOException {
    List<Path> states = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir, "*.properties")) {
      ds.forEach(states::add);
    }
    for (Path s : states) {
      Properties p = read(s);
      if (!alive(Long.parseLong(p.getProperty("owner", "-1")))) {
        remove(s, p);
      }
    }
  }

  private static void remove(Path state, Properties p) throws IOException {
    long pid = Long.parseLong(p.getProperty("pid", "-1"));
    if (pid > 0) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
    }
    String data = p.getProperty("data");
    if (data != null) {
      stopPostmaster(Path.of(data));
      deleteTree(Path.of(data));
    }
    Files.deleteIfExists(state);
  }

  private static boolean alive(long pid) {
    return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static void stopPostmaster(Path dataDir) {
    Path pidFile = dataDir.resolve("postmaster.pid");
    try {
      if (Files.isRegularFile(pidFile)) {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        ProcessHandle.of(pid).filter(h -> pid > 0).ifPresent(ProcessHandle::destroy); // SIGTERM: PostgreSQL's smart shutdown
      }
    } catch (IOException | RuntimeException e) {
      // nothing left to stop
    }
  }

  /**
   * The owner of this run: the nearest process from this one up that is a Maven JVM, else this JVM.
   *
   * @return its pid
   */
  static long ownerPid() {
    String configured = System.getProperty("tandem.test.db.owner");
    if (configured != null && !configured.isBlank()) {
      return Long.parseLong(configured);
    }
    for (Optional<ProcessHandle> h = Optional.of(ProcessHandle.current()); h.isPresent();
        h = h.get().parent()) {
      String cmd = h.get().info().commandLine().orElse("");
      if (cmd.contains("org.codehaus.plexus.classworlds.launcher.Launcher")
          || cmd.contains("plexus-classworlds") || cmd.contains("org.mvndaemon.mvnd")) {
        return h.get().pid();
      }
    }
    return ProcessHandle.current().pid();
  }

  /**
   * The server process: starts PostgreSQL, publishes its URL in the state file and stops it when the owner exits.
   *
   * @param args the state file and the owner's pid
   * @throws Exception when PostgreSQL does not start
   */
  public static void main(String[] args) throws Exception {
    Path state = Path.of(args[0]);
    ProcessHandle owner = ProcessHandle.of(Long.parseLong(args[1])).orElse(null);
    if (owner == null || !owner.isAlive()) {
      return;
    }
    Path data = Files.createTempDirectory("tandem-test-postgres-");
    EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setDataDirectory(data)
        .setCleanDataDirectory(true)
        .setServerConfig("max_connections", "300")
        .setServerConfig("fsync", "off")
        .setServerConfig("synchronous_commit", "off")
        .setServerConfig("full_page_writes", "off")
        .start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        Files.deleteIfExists(state);
      } catch (IOException e) {
        // the build's target directory is gone already
      }
    }));
    Properties p = new Properties();
    p.setProperty("url", "postgresql://postgres@127.0.0.1:" + pg.getPort() + "/postgres");
    p.setProperty("port", Integer.toString(pg.getPort()));
    p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
    p.setProperty("owner", Long.toString(owner.pid()));
    p.setProperty("data", data.toString());
    Path tmp = state.resolveSibling(state.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      p.store(out, "the embedded PostgreSQL of the Maven run " + owner.pid());
    }
    Files.move(tmp, state, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.out.println("embedded test PostgreSQL on port " + pg.getPort() + " for the run " + owner.pid()
        + " (data " + data + ")");
    while (owner.isAlive()) {
      sleep(200);
    }
    System.out.println("the run " + owner.pid() + " ended; stopping PostgreSQL");
    Files.deleteIfExists(state);
    pg.close(); // stops PostgreSQL and deletes the data directory
    deleteTree(data);
  }

  private static Properties read(Path file) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (java.nio.file.NoSuchFileException e) {
      // removed in between: an empty state is a dead server
    }
    return p;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: the next run removes what is left
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
