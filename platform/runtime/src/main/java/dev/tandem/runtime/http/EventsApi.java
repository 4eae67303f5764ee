package dev.tandem.runtime.http;

import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgRecordErrorStore;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GET /api/v1/events}: one server-sent event stream for the jobs and the errors of every node. Each stream
 * reads PostgreSQL once a second, by primary key only: the jobs created since its last look and the ones that were
 * queued or running then. {@code job} carries a job (as {@code GET /api/v1/jobs/{id}}) each time it is created or
 * changes (status, attempts, checkpoint, counts, message); {@code errors} the open errors per mapping when they
 * changed, looked at when a job ended (the errors are written by jobs). {@code ready} comes first: changes from then
 * on are sent, so a client reads its state again on it.
 */
final class EventsApi {

  private static final long HEARTBEAT_MS = 10_000;
  /** Jobs a stream follows at most (newer ones first). */
  static final int FOLLOWED = 1000;

  private final Vertx vertx;
  private final PgJobQueue queue;
  private final PgRecordErrorStore errors;
  private final long intervalMs;
  private final int maxStreams;
  private final AtomicInteger streams;

  /**
   * @param vertx Vert.x
   * @param queue the job queue
   * @param errors the error log
   * @param intervalMs how often a stream looks for changes
   * @param maxStreams event streams open at once at most, shared with the full synchronization's
   * @param streams the node's count of open event streams
   */
  EventsApi(Vertx vertx, PgJobQueue queue, PgRecordErrorStore errors, long intervalMs, int maxStreams,
      AtomicInteger streams) {
    this.vertx = vertx;
    this.queue = queue;
    this.errors = errors;
    this.intervalMs = intervalMs;
    this.maxStreams = maxStreams;
    this.streams = streams;
  }

  void mount(Router r) {
    r.get("/api/v1/events").handler(this::events);
  }

  /** One stream's view: the largest job id seen, the jobs it follows with what it last sent of each. */
  private final class Stream {
    final HttpServerResponse res;
    long maxId;
    final Map<Long, String> sent = new HashMap<>();
    String openErrors;
    boolean busy;

    Stream(HttpServerResponse res) {
      this.res = res;
    }

    void send(String event, JsonObject data) {
      if (!res.closed()) {
        res.write("event: " + event + "\ndata: " + data.encode() + "\n\n");
      }
    }

    void look() {
      if (busy || res.closed()) {
        return;
      }
      busy = true;
      queue.changes(maxId, sent.keySet(), FOLLOWED).compose(jobs -> {
        boolean ended = false;
        Set<Long> open = new LinkedHashSet<>();
        for (Job j : jobs) {
          JsonObject json = j.toJson();
          String now = json.encode();
          String before = sent.get(j.id());
          if (!now.equals(before)) {
            send("job", json);
            ended |= ended(j.status());
          }
          maxId = Math.max(maxId, j.id());
          if (!ended(j.status())) {
            open.add(j.id());
            sent.put(j.id(), now);
          }
        }
        // Jobs that ended, or were purged, are followed no more.
        sent.keySet().retainAll(open);
        return ended ? errorsChanged() : io.vertx.core.Future.succeededFuture();
      }).onComplete(ar -> busy = false);
    }

    io.vertx.core.Future<Void> errorsChanged() {
      return errors.openPerMapping().map(perMapping -> {
        long total = 0;
        for (String m : perMapping.fieldNames()) {
          total += perMapping.getLong(m);
        }
        JsonObject data = new JsonObject().put("open", total).put("perMapping", perMapping);
        String now = data.encode();
        if (!now.equals(openErrors)) {
          openErrors = now;
          send("errors", data.copy().put("at", Instant.now().toString()));
        }
        return null;
      });
    }
  }

  private static boolean ended(JobStatus s) {
    return s != JobStatus.QUEUED && s != JobStatus.RUNNING;
  }

  private void events(RoutingContext ctx) {
    if (streams.incrementAndGet() > maxStreams) {
      streams.decrementAndGet();
      ctx.response().putHeader("Retry-After", "10");
      ApiError.send(ctx, 503, "unavailable", "too many event streams are open on this node (at most " + maxStreams
          + "); poll GET /api/v1/jobs and GET /api/v1/errors instead, or try again later");
      return;
    }
    HttpServerResponse res = ctx.response();
    Stream s = new Stream(res);
    long[] timers = {-1, -1};
    boolean[] closed = {false};
    res.closeHandler(v -> {
      closed[0] = true;
      streams.decrementAndGet();
      for (long t : timers) {
        if (t >= 0) {
          vertx.cancelTimer(t);
        }
      }
    });
    // Where the stream starts: the newest job and the ones still open (their next change is sent), and the errors now.
    queue.openJobs(FOLLOWED).onSuccess(start -> {
      if (closed[0]) {
        return;
      }
      s.maxId = start.getKey();
      for (Long id : start.getValue()) {
        s.sent.put(id, "");
      }
      res.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache")
          .putHeader("X-Accel-Buffering", "no");
      res.write(": jobs and errors\n\n");
      // From here on every change is sent: a client reads what it shows again now, so nothing falls in between.
      s.send("ready", new JsonObject().put("maxJobId", s.maxId).put("following", s.sent.size()));
      s.errorsChanged().onComplete(ar -> {
        timers[0] = vertx.setPeriodic(intervalMs, id -> s.look());
        timers[1] = vertx.setPeriodic(HEARTBEAT_MS, id -> {
          if (!res.closed()) {
            res.write(":\n\n");
          }
        });
        if (closed[0]) {
          vertx.cancelTimer(timers[0]);
          vertx.cancelTimer(timers[1]);
        }
      });
    }).onFailure(ctx::fail);
  }
}
