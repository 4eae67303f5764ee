package dev.tandem.runtime.coupling;

import dev.tandem.api.MatchField;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Match-based coupling in memory: the uncoupled rows of one side (the candidates) are indexed once per match
 * priority by the values of that priority's fields; each row of the other side (the driving side) then looks its
 * candidates up by priority, 1 first. The first priority that finds any candidate decides: exactly one is a match,
 * several are ambiguous; a priority whose fields are not all filled on a row is not used for it (empty values never
 * match). When every driving row has been looked at, {@link #resolve()} keeps it one-to-one both ways: a candidate
 * matched by two driving rows couples neither.
 *
 * <p>Memory is the candidates' match values and ids, plus one entry per matched driving row: a 50,000-row side is
 * a few megabytes.
 */
public final class MatchIndex {

  /** What became of a driving row. */
  public enum Kind {
    /** Exactly one candidate, matched by no other driving row. */
    MATCHED,
    /** No candidate on any priority. */
    NO_MATCH,
    /** Several candidates, or a candidate that other driving rows match as well. */
    AMBIGUOUS
  }

  /**
   * A driving row's result.
   *
   * @param sourceKey the driving row's key
   * @param kind what became of it
   * @param targetKey the candidate's key when matched, else null
   * @param reason why it was not coupled, for the job's record log; null when matched
   * @param candidates when ambiguous, the other side's keys a person may pick from (at most
   *     {@link #MAX_CANDIDATES}); else empty
   */
  public record Result(String sourceKey, Kind kind, String targetKey, String reason, List<String> candidates) {

    /** A result without candidates. */
    public Result(String sourceKey, Kind kind, String targetKey, String reason) {
      this(sourceKey, kind, targetKey, reason, List.of());
    }
  }

  /** Candidates kept per ambiguous result. */
  public static final int MAX_CANDIDATES = 20;

  private record Level(int priority, List<MatchField> fields) {}

  private final List<Level> levels = new ArrayList<>();
  private final boolean drivenByErp;
  private final String candidates;
  private final Set<String> caseSensitive;
  private final List<Map<String, List<String>>> index = new ArrayList<>();
  /** Tentative matches: driving key to candidate key, in the order seen. */
  private final Map<String, String> tentative = new LinkedHashMap<>();
  private final Map<String, Integer> tentativeLevel = new HashMap<>();
  /** How many driving rows matched each candidate. */
  private final Map<String, List<String>> claims = new HashMap<>();
  private final List<Result> unmatched = new ArrayList<>();
  private int indexed;

  /**
   * @param fields the mapping's match fields
   * @param drivenByErp true when ERP rows are matched against CRM candidates; false for the other way round
   * @param candidates how the candidates are called in reasons, e.g. {@code CRM accounts records}
   * @param caseSensitive field names (ERP or CRM) compared exactly, on top of the fields that say so themselves
   */
  public MatchIndex(List<MatchField> fields, boolean drivenByErp, String candidates, Set<String> caseSensitive) {
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("no match fields: match-based coupling needs at least one");
    }
    this.drivenByErp = drivenByErp;
    this.candidates = candidates;
    this.caseSensitive = Set.copyOf(caseSensitive);
    Map<Integer, List<MatchField>> byPriority = new TreeMap<>();
    fields.forEach(f -> byPriority.computeIfAbsent(f.priority(), p -> new ArrayList<>()).add(f));
    byPriority.forEach((p, fs) -> {
      levels.add(new Level(p, List.copyOf(fs)));
      index.add(new HashMap<>());
    });
  }

  /** @return the fields the driving side's rows must carry */
  public List<String> drivingFields() {
    return levels.stream().flatMap(l -> l.fields().stream()).map(f -> drivenByErp ? f.erpField() : f.crmField())
        .distinct().toList();
  }

  /** @return the fields the candidates' rows must carry */
  public List<String> candidateFields() {
    return levels.stream().flatMap(l -> l.fields().stream()).map(f -> drivenByErp ? f.crmField() : f.erpField())
        .distinct().toList();
  }

  /**
   * Indexes an uncoupled candidate.
   *
   * @param key its key
   * @param row its row (the match fields at least)
   */
  public void addCandidate(String key, JsonObject row) {
    indexed++;
    for (int i = 0; i < levels.size(); i++) {
      String k = key(levels.get(i), row, false);
      if (k != null) {
        index.get(i).computeIfAbsent(k, x -> new ArrayList<>(1)).add(key);
      }
    }
  }

  /** @return how many candidates were indexed */
  public int candidates() {
    return indexed;
  }

  /**
   * Looks an uncoupled driving row's candidates up, priority after priority.
   *
   * @param key its key
   * @param row its row
   */
  public void match(String key, JsonObject row) {
    boolean anyValue = false;
    for (int i = 0; i < levels.size(); i++) {
      Level level = levels.get(i);
      String k = key(level, row, true);
      if (k == null) {
        continue;
      }
      anyValue = true;
      List<String> found = index.get(i).get(k);
      if (found == null) {
        continue;
      }
      if (found.size() == 1) {
        tentative.put(key, found.get(0));
        tentativeLevel.put(key, level.priority());
        claims.computeIfAbsent(found.get(0), x -> new ArrayList<>(1)).add(key);
      } else {
        unmatched.add(new Result(key, Kind.AMBIGUOUS, null, found.size() + " uncoupled " + candidates + " match on "
            + describe(level) + ": " + sample(found), List.copyOf(found.subList(0, Math.min(found.size(),
            MAX_CANDIDATES)))));
      }
      return;
    }
    unmatched.add(new Result(key, Kind.NO_MATCH, null, anyValue
        ? "no uncoupled " + candidates + " match on " + levels.stream().map(this::describe)
            .reduce((a, b) -> a + ", then " + b).orElse("")
        : "no match field has a value (" + String.join(", ", drivingFields()) + ")"));
  }

  /**
   * @return every driving row's result: the unique one-to-one matches, then the rows that were not coupled with
   *     their reason
   */
  public List<Result> resolve() {
    List<Result> out = new ArrayList<>(tentative.size() + unmatched.size());
    List<Result> contested = new ArrayList<>();
    tentative.forEach((source, target) -> {
      List<String> by = claims.get(target);
      if (by.size() == 1) {
        out.add(new Result(source, Kind.MATCHED, target, null));
      } else {
        List<String> others = new ArrayList<>(by);
        others.remove(source);
        contested.add(new Result(source, Kind.AMBIGUOUS, null, "the only match on priority "
            + tentativeLevel.get(source) + ", " + target + ", matches " + others.size() + " other record"
            + (others.size() == 1 ? "" : "s") + " too: " + sample(others), List.of(target)));
      }
    });
    out.addAll(contested);
    out.addAll(unmatched);
    return out;
  }

  private String describe(Level level) {
    return level.fields().stream().map(f -> drivenByErp ? f.erpField() : f.crmField())
        .reduce((a, b) -> a + "+" + b).orElse("") + " (priority " + level.priority() + ")";
  }

  private static String sample(List<String> keys) {
    return keys.size() <= 5 ? String.join(", ", keys)
        : String.join(", ", keys.subList(0, 5)) + " and " + (keys.size() - 5) + " more";
  }

  /** The level's values of a row joined, normalized per field; null when one of them is empty. */
  private String key(Level level, JsonObject row, boolean driving) {
    StringBuilder sb = new StringBuilder();
    for (MatchField f : level.fields()) {
      String field = driving == drivenByErp ? f.erpField() : f.crmField();
      Object v = row.getValue(field);
      String s = v == null ? "" : String.valueOf(v).trim();
      if (s.isEmpty()) {
        return null;
      }
      boolean exact = f.caseSensitive() || caseSensitive.contains(f.erpField()) || caseSensitive.contains(f.crmField());
      sb.append(exact ? s : s.toLowerCase(Locale.ROOT)).append('\u0000');
    }
    return sb.toString();
  }
}
