package dev.tandem.runtime.plugins;

import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the dependency graph of every loaded mapping, across plugins. A mapping whose required dependency no
 * plugin provides, or whose dependency is itself disabled, is disabled with a reason naming both; mappings on
 * a cycle are disabled with the cycle spelled out. An absent optional dependency only adds a note.
 */
public final class MappingGraph {

  private MappingGraph() {}

  /**
   * @param mappings every loaded mapping by name; disabled ones stay disabled
   */
  public static void check(Map<String, MappingStatus> mappings) {
    // Cycles first: a cycle's members would otherwise be reported as "depends on a disabled mapping".
    for (List<String> cycle : cycles(mappings)) {
      String path = String.join(" -> ", cycle) + " -> " + cycle.get(0);
      for (String name : cycle) {
        mappings.get(name).disable("dependency cycle: " + path);
      }
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (MappingStatus m : mappings.values()) {
        if (!m.enabled()) {
          continue;
        }
        for (MappingDependency d : m.definition().dependencies()) {
          MappingStatus dep = mappings.get(d.mapping());
          if (dep == null && !d.optional()) {
            m.disable("mapping " + m.name() + " depends on mapping " + d.mapping()
                + ", which no installed plugin provides: install the plugin that provides " + d.mapping());
            changed = true;
          } else if (dep != null && !dep.enabled() && !d.optional()) {
            m.disable("mapping " + m.name() + " depends on mapping " + d.mapping() + ", which is disabled: "
                + dep.disabledReason());
            changed = true;
          }
        }
      }
    }
    for (MappingStatus m : mappings.values()) {
      for (MappingDependency d : m.definition().dependencies()) {
        MappingStatus dep = mappings.get(d.mapping());
        if (d.optional() && (dep == null || !dep.enabled())) {
          m.note("optional dependency " + d.mapping() + " is " + (dep == null ? "not provided by any installed plugin"
              : "disabled") + ": the field mappings that look up through it are disabled");
        }
      }
    }
  }

  /**
   * Orders definitions so that each comes after the ones it depends on (dependencies outside the given ones are
   * ignored), keeping the given order otherwise. The graph was checked for cycles at start; members of a cycle
   * nonetheless are left out rather than looping.
   *
   * @param defs the definitions, e.g. the enabled mappings with their overrides applied
   * @return them in dependency order, dependencies first
   */
  public static List<MappingDefinition> inDependencyOrder(java.util.Collection<MappingDefinition> defs) {
    java.util.Set<String> names = new java.util.HashSet<>();
    defs.forEach(d -> names.add(d.name()));
    List<MappingDefinition> ordered = new ArrayList<>();
    java.util.Set<String> placed = new java.util.HashSet<>();
    // A repeated pass: stable, and the graphs are small.
    while (ordered.size() < defs.size()) {
      int before = ordered.size();
      for (MappingDefinition d : defs) {
        if (!placed.contains(d.name()) && d.dependencies().stream()
            .allMatch(dep -> placed.contains(dep.mapping()) || !names.contains(dep.mapping()))) {
          ordered.add(d);
          placed.add(d.name());
        }
      }
      if (ordered.size() == before) {
        break;
      }
    }
    return ordered;
  }

  /** Tarjan's strongly connected components; returns those with more than one member, in dependency order. */
  static List<List<String>> cycles(Map<String, MappingStatus> mappings) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Map<String, Boolean> onStack = new HashMap<>();
    List<List<String>> out = new ArrayList<>();
    int[] counter = {0};
    for (String v : new LinkedHashMap<>(mappings).keySet()) {
      if (!index.containsKey(v)) {
        strongConnect(v, mappings, index, low, stack, onStack, out, counter);
      }
    }
    return out;
  }

  private static void strongConnect(String v, Map<String, MappingStatus> g, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, Map<String, Boolean> onStack, List<List<String>> out,
      int[] counter) {
    index.put(v, counter[0]);
    low.put(v, counter[0]);
    counter[0]++;
    stack.push(v);
    onStack.put(v, true);
    for (MappingDependency d : g.get(v).definition().dependencies()) {
      String w = d.mapping();
      if (!g.containsKey(w)) {
        continue;
      }
      if (!index.containsKey(w)) {
        strongConnect(w, g, index, low, stack, onStack, out, counter);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.getOrDefault(w, false)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      List<String> component = new ArrayList<>();
      String w;
      do {
        w = stack.pop();
        onStack.put(w, false);
        component.add(0, w);
      } while (!w.equals(v));
      if (component.size() > 1) {
        out.add(orderAlongEdges(component, g));
      }
    }
  }

  /** Orders a cycle's members so each depends on the next: A -> B -> C reads as the dependency path. */
  private static List<String> orderAlongEdges(List<String> component, Map<String, MappingStatus> g) {
    List<String> sorted = new ArrayList<>(component);
    sorted.sort(String::compareTo);
    List<String> path = new ArrayList<>();
    String cur = sorted.get(0);
    while (!path.contains(cur)) {
      path.add(cur);
      String next = null;
      for (MappingDependency d : g.get(cur).definition().dependencies()) {
        if (component.contains(d.mapping()) && !path.contains(d.mapping())) {
          next = d.mapping();
          break;
        }
      }
      if (next == null) {
        break;
      }
      cur = next;
    }
    for (String s : sorted) {
      if (!path.contains(s)) {
        path.add(s);
      }
    }
    return path;
  }
}
