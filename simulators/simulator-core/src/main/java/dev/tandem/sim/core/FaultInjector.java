package dev.tandem.sim.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Faults injected into matching requests: added latency, an error status (429 with Retry-After, 500, 503), a
 * dropped connection, or a request processed whose answer is then lost (the connection closes after the server
 * did the work, as when a proxy or the network drops a response), at a rate (seeded, so runs repeat) or on the
 * n-th matching request.
 */
public final class FaultInjector {

  /** What a rule does. */
  public enum Kind {
    /** Delays the answer by {@code latencyMs}. */
    LATENCY,
    /** Answers {@code status} (with Retry-After for 429 and 503 when {@code retryAfterSeconds} is set). */
    STATUS,
    /** Resets the connection without an answer; the request is not processed. */
    DROP,
    /**
     * Processes the request, then resets the connection without an answer: the client cannot tell whether the
     * request took effect.
     */
    DROP_RESPONSE
  }

  /**
   * A rule.
   *
   * @param id id, for removal
   * @param pathPattern regular expression the path must match (find, not whole match)
   * @param method method, or null for any
   * @param kind what it does
   * @param status status for STATUS
   * @param retryAfterSeconds Retry-After for STATUS, or 0 for none
   * @param latencyMs delay for LATENCY
   * @param rate probability 0..1 per matching request, used when nth is 0
   * @param nth fire on the n-th matching request (1-based); with every, on every n-th
   * @param every repeat every nth
   * @param times fire at most this many times, 0 for no limit
   */
  public record Rule(long id, String pathPattern, String method, Kind kind, int status, int retryAfterSeconds,
      long latencyMs, double rate, long nth, boolean every, long times) {}

  /** A fault to apply to one request. */
  public record Fault(Kind kind, int status, int retryAfterSeconds, long latencyMs) {}

  private final List<Active> rules = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong();
  private final SplittableRandom seedSource;

  private static final class Active {
    final Rule rule;
    final Pattern pattern;
    final AtomicLong matched = new AtomicLong();
    final AtomicLong fired = new AtomicLong();
    final SplittableRandom random;

    Active(Rule rule, SplittableRandom random) {
      this.rule = rule;
      this.pattern = Pattern.compile(rule.pathPattern());
      this.random = random;
    }
  }

  /** @param seed seeds the random choices of rate-based rules */
  public FaultInjector(long seed) {
    this.seedSource = new SplittableRandom(seed);
  }

  /**
   * Adds a rule from its JSON form.
   *
   * @param json {@code {"pathPattern","method","kind","status","retryAfterSeconds","latencyMs","rate"|"nth","every","times"}}
   * @return the rule as stored
   * @throws IllegalArgumentException naming the bad field
   */
  public Rule add(Map<String, Object> json) {
    String pattern = (String) json.getOrDefault("pathPattern", ".*");
    Kind kind;
    try {
      kind = Kind.valueOf(String.valueOf(json.get("kind")).toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("kind must be LATENCY, STATUS, DROP or DROP_RESPONSE, got " + json.get("kind"));
    }
    int status = number(json, "status", kind == Kind.STATUS ? 503 : 0).intValue();
    if (kind == Kind.STATUS && (status < 400 || status > 599)) {
      throw new IllegalArgumentException("status must be 400..599, got " + status);
    }
    double rate = number(json, "rate", 0).doubleValue();
    long nth = number(json, "nth", 0).longValue();
    if (nth == 0 && (rate <= 0 || rate > 1)) {
      throw new IllegalArgumentException("give nth (>= 1) or rate (0 < rate <= 1)");
    }
    Pattern.compile(pattern);
    Rule r = new Rule(ids.incrementAndGet(), pattern, (String) json.get("method"), kind, status,
        number(json, "retryAfterSeconds", 0).intValue(), number(json, "latencyMs", 0).longValue(), rate, nth,
        Boolean.TRUE.equals(json.get("every")), number(json, "times", 0).longValue());
    synchronized (seedSource) {
      rules.add(new Active(r, seedSource.split()));
    }
    return r;
  }

  private static Number number(Map<String, Object> json, String key, Number fallback) {
    Object v = json.get(key);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException(key + " must be a number, got " + v);
    }
    return n;
  }

  /** Removes every rule. */
  public void clear() {
    rules.clear();
  }

  /** @return the rules with how often each matched and fired */
  public List<Map<String, Object>> list() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Active a : rules) {
      Map<String, Object> m = new LinkedHashMap<>(Json.MAPPER.convertValue(a.rule, Map.class));
      m.put("matched", a.matched.get());
      m.put("fired", a.fired.get());
      out.add(m);
    }
    return out;
  }

  /**
   * @param method request method
   * @param path request path
   * @return the fault to apply, or null
   */
  public Fault match(String method, String path) {
    for (Active a : rules) {
      Rule r = a.rule;
      if (r.method() != null && !r.method().equalsIgnoreCase(method)) {
        continue;
      }
      if (!a.pattern.matcher(path).find()) {
        continue;
      }
      long n = a.matched.incrementAndGet();
      boolean fire;
      if (r.nth() > 0) {
        fire = r.every() ? n % r.nth() == 0 : n == r.nth();
      } else {
        synchronized (a.random) {
          fire = a.random.nextDouble() < r.rate();
        }
      }
      if (fire && (r.times() == 0 || a.fired.incrementAndGet() <= r.times())) {
        if (r.times() == 0) {
          a.fired.incrementAndGet();
        }
        return new Fault(r.kind(), r.status(), r.retryAfterSeconds(), r.latencyMs());
      }
    }
    return null;
  }
}
