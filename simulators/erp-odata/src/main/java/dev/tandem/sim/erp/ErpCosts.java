package dev.tandem.sim.erp;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a request costs on a Business Central server: a network latency (delays the answer, holds no processing
 * slot) and the server time of every operation inside it (delays the answer while holding one of the user's five
 * processing slots). Reads cost per row, and more per row for every FlowField the page calculates (SIFT sums over
 * ledger entries). Profile {@code fast} costs nothing (unit tests); {@code realistic} uses the defaults below.
 * The time scale multiplies every cost, the request-limit window and the timeouts alike, so the ratios stay BC's
 * while a run takes a fraction of the time. docs/simulators.md says where the defaults come from.
 *
 * @param profile "fast" or "realistic"
 * @param timeScale factor on every cost, window and timeout (1 = real time)
 * @param latencyMs network round trip per HTTP request
 * @param requestMs server time per request (authentication, session, page load), also per $batch operation
 * @param insertMs per insert (OnInsert trigger, validation, number series)
 * @param modifyMs per modify
 * @param deleteMs per delete
 * @param readRowMs per row read
 * @param flowFieldMs per FlowField per row read
 */
record ErpCosts(String profile, double timeScale, double latencyMs, double requestMs, double insertMs,
    double modifyMs, double deleteMs, double readRowMs, double flowFieldMs) {

  /** BC cancels an operation after 8 minutes (408). */
  static final double OPERATION_TIMEOUT_MS = 8 * 60_000;
  /** BC's gateway gives up on a request after 10 minutes (504). */
  static final double REQUEST_TIMEOUT_MS = 10 * 60_000;

  /** Operations the model charges. */
  enum Op { INSERT, MODIFY, DELETE }

  ErpCosts {
    if (!(timeScale > 0) || timeScale > 100) {
      throw new IllegalArgumentException("timeScale must be in (0, 100], got " + timeScale);
    }
    if (!profile.equals("fast") && !profile.equals("realistic")) {
      throw new IllegalArgumentException("profile must be fast or realistic, got " + profile);
    }
  }

  /** @return no latency and no modelled server time */
  static ErpCosts fast() {
    return new ErpCosts("fast", 1, 0, 0, 0, 0, 0, 0, 0);
  }

  /** @return the realistic defaults on a time scale */
  static ErpCosts realistic(double timeScale) {
    return new ErpCosts("realistic", timeScale, 40, 10, 30, 25, 20, 0.5, 2);
  }

  /** @return the named profile on the given scale */
  static ErpCosts profile(String name, double timeScale) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fast" -> fast();
      case "realistic" -> realistic(timeScale);
      default -> throw new IllegalArgumentException("profile must be fast or realistic, got " + name);
    };
  }

  /** @return model (unscaled) ms of one write */
  double cost(Op op) {
    return requestMs + switch (op) {
      case INSERT -> insertMs;
      case MODIFY -> modifyMs;
      case DELETE -> deleteMs;
    };
  }

  /** @return model (unscaled) ms of reading rows of a page with that many FlowFields */
  double readCost(int rows, int flowFields) {
    return requestMs + rows * (readRowMs + flowFields * flowFieldMs);
  }

  /** @return a copy with the given fields overridden (admin API) */
  ErpCosts with(Map<String, Object> b) {
    ErpCosts base = b.get("profile") instanceof String p
        ? profile(p, b.get("timeScale") instanceof Number n ? n.doubleValue() : timeScale) : this;
    return new ErpCosts(base.profile, num(b, "timeScale", base.timeScale), num(b, "latencyMs", base.latencyMs),
        num(b, "requestMs", base.requestMs), num(b, "insertMs", base.insertMs), num(b, "modifyMs", base.modifyMs),
        num(b, "deleteMs", base.deleteMs), num(b, "readRowMs", base.readRowMs),
        num(b, "flowFieldMs", base.flowFieldMs));
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
    m.put("insertMs", insertMs);
    m.put("modifyMs", modifyMs);
    m.put("deleteMs", deleteMs);
    m.put("readRowMs", readRowMs);
    m.put("flowFieldMs", flowFieldMs);
    return m;
  }

  /** The server time a request accumulates while it is handled ($batch operations included), in model ms. */
  static final class Meter {
    private static final ThreadLocal<Meter> CURRENT = new ThreadLocal<>();
    private double ms;

    static Meter start() {
      Meter m = new Meter();
      CURRENT.set(m);
      return m;
    }

    static void stop() {
      CURRENT.remove();
    }

    /** @return the meter of the request handled on this thread, or null (seeding, admin) */
    static Meter current() {
      return CURRENT.get();
    }

    void charge(double value) {
      ms += value;
    }

    double ms() {
      return ms;
    }
  }
}
