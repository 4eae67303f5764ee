package dev.tandem.runtime.cli;

import dev.tandem.runtime.cli.AdminClient.CliException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The operator's commands over a node's admin API ({@code bin/tandem status}, {@code mappings}, {@code sync},
 * {@code jobs}, {@code errors}, {@code couple-by-match}, {@code full-sync start|watch}). Exit status: 0 done, 1 the
 * API refused or the job failed, 2 bad usage, 3 the node is unreachable, 4 the token was refused.
 */
public final class AdminCommands {

  private AdminCommands() {}

  /** The commands, for the launcher's subcommand list. */
  public static final Class<?>[] ALL = {Status.class, Mappings.class, Sync.class, Jobs.class, Errors.class,
      CoupleByMatch.class, FullSync.class};

  /** URL, token and output format, from flags or the environment. */
  static final class Node {
    @Option(names = "--url", defaultValue = "${env:TANDEM_URL:-http://localhost:8080}",
        description = "the node's admin API (default: TANDEM_URL or ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--token", defaultValue = "${env:TANDEM_TOKEN}",
        description = "the admin token (default: TANDEM_TOKEN)")
    String token;

    @Option(names = "--json", description = "print the API's JSON instead of a table")
    boolean json;

    AdminClient client() {
      return new AdminClient(url, token);
    }
  }

  /** Runs a command body, turning failures into messages and exit codes. */
  abstract static class Base implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    Node node;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    @Override
    public Integer call() {
      try {
        return run(node.client());
      } catch (CliException e) {
        spec.commandLine().getErr().println("tandem: " + e.getMessage());
        spec.commandLine().getErr().flush();
        return e.exitCode;
      }
    }

    abstract int run(AdminClient api);

    void print(JsonObject json) {
      out().println(json.encodePrettily());
      out().flush();
    }

    /**
     * Prints a listing: the answer as it came with --json, else a table with a row per item of its array.
     *
     * @return the exit code: 0
     */
    int listing(JsonObject answer, String array, List<String> header,
        java.util.function.Function<JsonObject, List<Object>> row) {
      if (node.json) {
        print(answer);
        return 0;
      }
      List<List<Object>> rows = new ArrayList<>();
      for (Object o : answer.getJsonArray(array)) {
        rows.add(row.apply((JsonObject) o));
      }
      out().print(table(header, rows));
      out().flush();
      return 0;
    }

    int waitFor(AdminClient api, long jobId) {
      while (true) {
        JsonObject job = api.get("/api/v1/jobs/" + jobId);
        String status = job.getString("status");
        if ("SUCCEEDED".equals(status) || "FAILED".equals(status) || "CANCELLED".equals(status)) {
          if (node.json) {
            print(job);
          } else {
            out().println("job " + jobId + " " + status + (job.getString("message") == null ? ""
                : ": " + job.getString("message")));
            out().flush();
          }
          return "SUCCEEDED".equals(status) ? 0 : AdminClient.FAILED;
        }
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return AdminClient.FAILED;
        }
      }
    }

    int accepted(AdminClient api, JsonObject answer, boolean wait) {
      long id = answer.getLong("jobId");
      if (wait) {
        return waitFor(api, id);
      }
      if (node.json) {
        print(answer);
      } else {
        out().println("job " + id + " queued (" + answer.getString("job") + ")");
        out().flush();
      }
      return 0;
    }
  }

  static String table(List<String> header, List<List<Object>> rows) {
    int[] width = new int[header.size()];
    for (int i = 0; i < header.size(); i++) {
      width[i] = header.get(i).length();
    }
    for (List<Object> r : rows) {
      for (int i = 0; i < r.size(); i++) {
        width[i] = Math.max(width[i], String.valueOf(r.get(i)).length());
      }
    }
    StringBuilder b = new StringBuilder();
    List<List<Object>> all = new ArrayList<>();
    all.add(new ArrayList<>(header));
    all.addAll(rows);
    for (List<Object> r : all) {
      for (int i = 0; i < r.size(); i++) {
        String cell = String.valueOf(r.get(i));
        b.append(i == r.size() - 1 ? cell : String.format(Locale.ROOT, "%-" + (width[i] + 2) + "s", cell));
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** {@code tandem status}. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Readiness, plugins, mappings and the job queue of a node. Exit 1 when it is not ready.")
  public static final class Status extends Base {
    @Override
    int run(AdminClient api) {
      AdminClient.Answer ready = api.call("GET", "/health/ready", null);
      JsonObject plugins = api.get("/api/v1/plugins");
      JsonObject mappings = api.get("/api/v1/mappings");
      int queued = api.get("/api/v1/jobs?status=queued&limit=1000").getJsonArray("jobs").size();
      int running = api.get("/api/v1/jobs?status=running&limit=1000").getJsonArray("jobs").size();
      boolean up = ready.status() == 200;
      JsonObject status = new JsonObject().put("ready", up).put("health", ready.body())
          .put("plugins", plugins.getJsonArray("plugins").size())
          .put("mappings", mappings.getJsonArray("mappings").size())
          .put("mappingsDisabled", mappings.getJsonArray("mappings").stream()
              .filter(m -> !"ENABLED".equals(((JsonObject) m).getString("state"))).count())
          .put("jobsQueued", queued).put("jobsRunning", running);
      if (node.json) {
        print(status);
      } else {
        out().printf("node      %s: %s%n", node.url, up ? "ready" : "NOT READY " + ready.body().encode());
        out().printf("plugins   %d%n", status.getInteger("plugins"));
        out().printf("mappings  %d (%d disabled)%n", status.getInteger("mappings"), status.getLong("mappingsDisabled"));
        out().printf("jobs      %d queued, %d running%s%n", queued, running, queued >= 1000 ? " (1000 or more)" : "");
        out().flush();
      }
      return up ? 0 : AdminClient.FAILED;
    }
  }

  /** {@code tandem mappings}. */
  @Command(name = "mappings", mixinStandardHelpOptions = true, description = "The node's effective mappings.")
  public static final class Mappings extends Base {
    @Override
    int run(AdminClient api) {
      return listing(api.get("/api/v1/mappings"), "mappings",
          List.of("MAPPING", "PLUGIN", "DIRECTION", "STATE", "SCHEDULE", "REASON"), m -> {
            JsonObject eff = m.getJsonObject("effective", new JsonObject());
            return List.of(m.getString("name"), m.getString("plugin"),
                eff.getString("direction", m.getString("direction")), m.getString("state"),
                eff.getValue("scheduleSeconds", "") + "s", m.getString("reason") == null ? "" : m.getString("reason"));
          });
    }
  }

  /** {@code tandem sync MAPPING}. */
  @Command(name = "sync", mixinStandardHelpOptions = true, description = "Run a mapping's synchronization now.")
  public static final class Sync extends Base {
    @Parameters(index = "0", description = "the mapping, e.g. CUSTOMER")
    String mapping;

    @Option(names = "--direction", description = "TO_CRM or FROM_CRM (a bidirectional mapping runs both)")
    String direction;

    @Option(names = "--record", description = "only these source keys (repeat; 1 to 1000)")
    List<String> records;

    @Option(names = "--wait", description = "wait for the job; exit 1 when it fails")
    boolean wait;

    @Override
    int run(AdminClient api) {
      JsonObject body = new JsonObject();
      if (direction != null) {
        body.put("direction", direction.toUpperCase(Locale.ROOT));
      }
      if (records != null) {
        body.put("records", new JsonArray(new ArrayList<>(records)));
      }
      return accepted(api, api.post("/api/v1/mappings/" + AdminClient.q(mapping) + "/sync", body), wait);
    }
  }

  /** {@code tandem jobs}. */
  @Command(name = "jobs", mixinStandardHelpOptions = true, description = "Jobs, newest first.")
  public static final class Jobs extends Base {
    @Option(names = "--status", description = "queued, running, succeeded, failed or cancelled")
    String status;

    @Option(names = "--mapping", description = "only this mapping's")
    String mapping;

    @Option(names = "--limit", defaultValue = "20", description = "how many (default ${DEFAULT-VALUE})")
    int limit;

    @Override
    int run(AdminClient api) {
      StringBuilder path = new StringBuilder("/api/v1/jobs?limit=" + limit);
      if (status != null) {
        path.append("&status=").append(AdminClient.q(status));
      }
      if (mapping != null) {
        path.append("&mapping=").append(AdminClient.q(mapping));
      }
      return listing(api.get(path.toString()), "jobs",
          List.of("ID", "KIND", "MAPPING", "STATUS", "DURATION", "MESSAGE"),
          j -> List.of(j.getLong("id"), j.getString("kind"), String.valueOf(j.getString("mapping")),
              j.getString("status"), j.getValue("durationMs") == null ? "" : j.getValue("durationMs") + " ms",
              j.getString("message") == null ? "" : j.getString("message")));
    }
  }

  /** {@code tandem errors}. */
  @Command(name = "errors", mixinStandardHelpOptions = true,
      description = "Open per-record errors; --retry retries every failed or skipped record.")
  public static final class Errors extends Base {
    @Option(names = "--mapping", description = "only this mapping's")
    String mapping;

    @Option(names = "--retry", description = "retry the records (all mappings, or --mapping's)")
    boolean retry;

    @Option(names = "--limit", defaultValue = "50", description = "how many (default ${DEFAULT-VALUE})")
    int limit;

    @Override
    int run(AdminClient api) {
      if (retry) {
        JsonObject r = api.post("/api/v1/errors/retry-all" + (mapping == null ? "" : "?mapping="
            + AdminClient.q(mapping)), null);
        if (node.json) {
          print(r);
        } else {
          out().println(r.getInteger("retried") + " records to retry in " + r.getJsonArray("jobs").size() + " jobs");
          out().flush();
        }
        return 0;
      }
      return listing(api.get("/api/v1/errors?limit=" + limit + (mapping == null ? "" : "&mapping="
          + AdminClient.q(mapping))), "errors", List.of("ID", "MAPPING", "DIRECTION", "ERP", "CRM", "MESSAGE"),
          e -> List.of(e.getLong("id"), e.getString("mapping"), String.valueOf(e.getString("direction")),
              String.valueOf(e.getString("erpId")), String.valueOf(e.getString("crmId")),
              String.valueOf(e.getString("message"))));
    }
  }

  /** {@code tandem couple-by-match MAPPING}. */
  @Command(name = "couple-by-match", mixinStandardHelpOptions = true,
      description = "Couple a mapping's records by its match fields.")
  public static final class CoupleByMatch extends Base {
    @Parameters(index = "0", description = "the mapping")
    String mapping;

    @Option(names = "--side", description = "ERP (match ERP records to CRM ones, the default) or CRM")
    String side;

    @Option(names = "--create-if-no-match", description = "create the counterpart when nothing matches")
    boolean create;

    @Option(names = "--sync-after", description = "synchronize the newly coupled records")
    boolean syncAfter;

    @Option(names = "--wait", description = "wait for the job; exit 1 when it fails")
    boolean wait;

    @Override
    int run(AdminClient api) {
      JsonObject body = new JsonObject();
      if (side != null) {
        body.put("side", side.toUpperCase(Locale.ROOT));
      }
      if (create) {
        body.put("createIfNoMatch", true);
      }
      if (syncAfter) {
        body.put("syncAfter", true);
      }
      return accepted(api, api.post("/api/v1/mappings/" + AdminClient.q(mapping) + "/couple-by-match", body), wait);
    }
  }

  /** {@code tandem full-sync start|watch}. */
  @Command(name = "full-sync", mixinStandardHelpOptions = true,
      description = "Start the full synchronization, or watch its progress live.",
      subcommands = {FullSync.Start.class, FullSync.Watch.class})
  public static final class FullSync implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "say start or watch");
    }

    /** {@code tandem full-sync start}. */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start the full synchronization.")
    public static final class Start extends Base {
      @Option(names = "--parts", description = "key ranges a large ERP-to-CRM line is cut into (1 to 64)")
      Integer parts;

      @Option(names = "--mapping", description = "only these mappings (repeat)")
      List<String> mappings;

      @Option(names = "--watch", description = "then watch it until it ends")
      boolean watch;

      @Override
      int run(AdminClient api) {
        JsonObject body = new JsonObject();
        if (parts != null) {
          body.put("parts", parts);
        }
        if (mappings != null) {
          body.put("mappings", new JsonArray(new ArrayList<>(mappings)));
        }
        JsonObject started = api.post("/api/v1/full-sync/start", body);
        if (!watch) {
          if (node.json) {
            print(started);
          } else {
            JsonObject run = started.getJsonObject("run", new JsonObject());
            out().println("full synchronization " + run.getValue("id", "") + " started; watch it with "
                + "tandem full-sync watch");
            out().flush();
          }
          return 0;
        }
        return Watch.watch(this, api);
      }
    }

    /** {@code tandem full-sync watch}. */
    @Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Live progress of the running full synchronization, until it ends. Exit 1 when it failed.")
    public static final class Watch extends Base {
      @Override
      int run(AdminClient api) {
        return watch(this, api);
      }

      static int watch(Base cmd, AdminClient api) {
        int[] exit = {0};
        boolean[] seen = {false};
        api.events("/api/v1/full-sync/events", (event, data) -> {
          if (!"progress".equals(event)) {
            return true;
          }
          JsonObject p = new JsonObject(data);
          JsonObject run = p.getJsonObject("run");
          if (cmd.node.json) {
            cmd.out().println(p.encode());
          } else {
            cmd.out().print("\r" + bar(p));
          }
          cmd.out().flush();
          seen[0] = true;
          String status = run == null ? "NONE" : run.getString("status");
          if (!"RUNNING".equals(status)) {
            if (!cmd.node.json) {
              cmd.out().println();
              cmd.out().println("full synchronization " + (run == null ? "has never run" : status.toLowerCase(
                  Locale.ROOT) + (run.getString("message") == null ? "" : ": " + run.getString("message"))));
              cmd.out().flush();
            }
            exit[0] = run == null || "SUCCEEDED".equals(status) ? 0 : AdminClient.FAILED;
            return false;
          }
          return true;
        });
        return seen[0] ? exit[0] : AdminClient.FAILED;
      }

      /** {@code [#########...........]  45%  4500/10000 rows  CUSTOMER 12/s} */
      static String bar(JsonObject progress) {
        long done = 0;
        long estimated = 0;
        List<String> active = new ArrayList<>();
        for (Object o : progress.getJsonArray("lines", new JsonArray())) {
          JsonObject line = (JsonObject) o;
          for (String dir : new String[] {"toCrm", "fromCrm"}) {
            JsonObject s = line.getJsonObject(dir, new JsonObject());
            done += s.getLong("done", 0L);
            estimated += s.getValue("estimated") instanceof Number n ? n.longValue() : 0;
            if ("IN_PROCESS".equals(s.getString("status"))) {
              active.add(line.getString("mapping") + (s.containsKey("ratePerSecond")
                  ? " " + s.getValue("ratePerSecond") + "/s" : ""));
            }
          }
        }
        double ratio = estimated > 0 ? Math.min(1.0, done / (double) estimated) : 0;
        int filled = (int) Math.round(ratio * 30);
        return "[" + "#".repeat(filled) + ".".repeat(30 - filled) + "] "
            + String.format(Locale.ROOT, "%3d%%  %d/%d rows  %s", Math.round(ratio * 100), done, estimated,
                String.join(", ", active)) + "   ";
      }
    }
  }
}
