package dev.tandem.sim.crm;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a request costs on a Dataverse web server: a network latency (delays the answer, not charged) and the
 * server execution time of every operation inside it (delays the answer and is charged against the user's
 * 1,200,000 ms budget). A {@code $batch} or {@code *Multiple} call is one request that charges every operation
 * it carries. Profile {@code fast} costs nothing (unit tests); {@code realistic} uses the defaults below. The
 * time scale multiplies every cost and every service-protection window alike, so the ratios stay those of
 * Dataverse while a run takes a fraction of the time. docs/simulators.md lists where each default comes from.
 *
 * @param profile "fast" or "realistic"
 * @param timeScale factor on every cost and window (1 = real time)
 * @param latencyMs network round trip per HTTP request
 * @param requestMs execution per request (authentication, pipeline), also per $batch part
 * @param createMs execution per create
 * @param updateMs execution per update
 * @param upsertMs execution per upsert (a retrieve plus a create or update)
 * @param deleteMs execution per delete
 * @param retrieveMs execution per single-row read
 * @param readRowMs execution per row of a collection page
 * @param representationMs extra execution per write answered with {@code return=representation} (a retrieve)
 * @param multipleFactor share of the per-operation cost inside *Multiple messages (bulk messages run cheaper
 *     than the same operations in a $batch)
 */
record DataverseCosts(String profile, double timeScale, double latencyMs, double requestMs, double createMs,
    double updateMs, double upsertMs, double deleteMs, double retrieveMs, double readRowMs, double representationMs,
    double multipleFactor) {

  /** Operations the model charges. */
  enum Op { CREATE, UPDATE, UPSERT, DELETE, RETRIEVE }

  DataverseCosts {
    if (!(timeScale > 0) || timeScale > 100) {
      throw new IllegalArgumentException("timeScale must be in (0, 100], got " + timeScale);
    }
    if (!profile.equals("fast") && !profile.equals("realistic")) {
      throw new IllegalArgumentException("profile must be fast or realistic, got " + profile);
    }
  }

  /** @return today's behaviour: no latency, no modelled execution (the handling time itself is charged) */
  static DataverseCosts fast() {
    return new DataverseCosts("fast", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
  }

  /** @return the realistic defaults (see docs/simulators.md for their sources) */
  static DataverseCosts realistic(double timeScale) {
    return new DataverseCosts("realistic", timeScale, 50, 5, 20, 20, 30, 15, 5, 0.2, 5, 0.5);
  }

  /** @return the named profile on the given scale */
  static DataverseCosts profile(String name, double timeScale) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fast" -> fast();
      case "realistic" -> realistic(timeScale);
      default -> throw new IllegalArgumentException("profile must be fast or realistic, got " + name);
    };
  }

  /** @return true when the model charges execution time (else the handling time is charged) */
  boolean modelled() {
    return profile.equals("realistic");
  }

  /** @return model (unscaled) execution ms of one operation */
  double cost(Op op, boolean representation, boolean multiple) {
    double c = switch (op) {
      case CREATE -> createMs;
      case UPDATE -> updateMs;
      case UPSERT -> upsertMs;
      case DELETE -> deleteMs;
      case RETRIEVE -> retrieveMs;
    };
    return (multiple ? c * multipleFactor : c) + (representation ? representationMs : 0);
  }

  /** @return a copy with the given fields overridden (admin API) */
  DataverseCosts with(Map<String, Object> b) {
    DataverseCosts base = b.get("profile") instanceof String p
        ? profile(p, b.get("timeScale") instanceof Number n ? n.doubleValue() : timeScale) : this;
    return new DataverseCosts(base.profile,
        num(b, "timeScale", base.timeScale), num(b, "latencyMs", base.latencyMs), num(b, "requestMs", base.requestMs),
        num(b, "createMs", base.createMs), num(b, "updateMs", base.updateMs), num(b, "upsertMs", base.upsertMs),
        num(b, "deleteMs", base.deleteMs), num(b, "retrieveMs", base.retrieveMs), num(b, "readRowMs", base.readRowMs),
        num(b, "representationMs", base.representationMs), num(b, "multipleFactor", base.multipleFactor));
  }

  private static double num(Map<String, Object> b, String name, double d) {
    Object v = b.get(name);
    if (v == null) {
      return d;
    }
    if (!(v instanceof Number n) || n.doubleValue() < 0) {
      throw new IllegalArgumentException(name + " must be a number >= 0, got " + v);
    }
    return n.doubleValue();
  }

  Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("profile", profile);
    m.put("timeScale", timeScale);
    m.put("latencyMs", latencyMs);
    m.put("requestMs", requestMs);
    m.put("createMs", createMs);
    m.put("updateMs", updateMs);
    m.put("upsertMs", upsertMs);
    m.put("deleteMs", deleteMs);
    m.put("retrieveMs", retrieveMs);
    m.put("readRowMs", readRowMs);
    m.put("representationMs", representationMs);
    m.put("multipleFactor", multipleFactor);
    return m;
  }

  /**
   * The execution a request accumulates while it is handled (its $batch parts and *Multiple targets included),
   * in model ms; one per handling thread.
   */
  static final class Meter {
    private static final ThreadLocal<Meter> CURRENT = new ThreadLocal<>();
    private double ms;
    private int multipleDepth;

    static Meter start() {
      Meter m = new Meter();
      CURRENT.set(m);
      return m;
    }

    static void stop() {
      CURRENT.remove();
    }

    /** Charges model ms to the request being handled on this thread, if any. */
    static void charge(double ms) {
      Meter m = CURRENT.get();
      if (m != null) {
        m.ms += ms;
      }
    }

    /** @return true inside a *Multiple call (its targets run at the bulk rate) */
    static boolean inMultiple() {
      Meter m = CURRENT.get();
      return m != null && m.multipleDepth > 0;
    }

    static void multiple(boolean enter) {
      Meter m = CURRENT.get();
      if (m != null) {
        m.multipleDepth += enter ? 1 : -1;
      }
    }

    double ms() {
      return ms;
    }
  }
}
