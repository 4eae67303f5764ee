package dev.tandem.runtime.plugins;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MappingGraphTest {

  private static MappingStatus mapping(String name, MappingDependency... deps) {
    MappingDefinition.Builder b = MappingDefinition.builder(name).erp("E" + name, "No").crm("c" + name, "id");
    for (MappingDependency d : deps) {
      b.dependsOn(d);
    }
    return new MappingStatus(b.build(), "p");
  }

  private static Map<String, MappingStatus> graph(MappingStatus... ms) {
    Map<String, MappingStatus> g = new LinkedHashMap<>();
    for (MappingStatus m : ms) {
      g.put(m.name(), m);
    }
    return g;
  }

  @Test
  void missingDependencyDisablesTheMappingAndItsDependents() {
    Map<String, MappingStatus> g = graph(
        mapping("SALESPEOPLE"),
        mapping("CUSTOMER", MappingDependency.on("SALESPEOPLE"), MappingDependency.on("PAYMENTS")),
        mapping("CONTACT", MappingDependency.on("CUSTOMER")));
    MappingGraph.check(g);
    assertTrue(g.get("SALESPEOPLE").enabled());
    assertEquals("mapping CUSTOMER depends on mapping PAYMENTS, which no installed plugin provides: "
        + "install the plugin that provides PAYMENTS", g.get("CUSTOMER").disabledReason());
    assertTrue(g.get("CONTACT").disabledReason().startsWith(
        "mapping CONTACT depends on mapping CUSTOMER, which is disabled: mapping CUSTOMER depends on mapping PAYMENTS"),
        g.get("CONTACT").disabledReason());
  }

  @Test
  void cycleIsSpelledOut() {
    Map<String, MappingStatus> g = graph(
        mapping("A", MappingDependency.on("B")),
        mapping("B", MappingDependency.on("C")),
        mapping("C", MappingDependency.on("A")),
        mapping("D", MappingDependency.on("A")),
        mapping("E"));
    MappingGraph.check(g);
    for (String n : new String[] {"A", "B", "C"}) {
      assertEquals("dependency cycle: A -> B -> C -> A", g.get(n).disabledReason());
    }
    assertTrue(g.get("D").disabledReason().contains("depends on mapping A, which is disabled: dependency cycle"));
    assertTrue(g.get("E").enabled());
  }

  @Test
  void absentOptionalDependencyOnlyAddsANote() {
    Map<String, MappingStatus> g = graph(mapping("CUSTOMER", MappingDependency.optional("CURRENCY")));
    MappingGraph.check(g);
    assertTrue(g.get("CUSTOMER").enabled());
    assertNull(g.get("CUSTOMER").disabledReason());
    assertEquals(1, g.get("CUSTOMER").notes().size());
    assertTrue(g.get("CUSTOMER").notes().get(0).contains("optional dependency CURRENCY is not provided"));
  }

  @Test
  void presentDependenciesPass() {
    Map<String, MappingStatus> g = graph(mapping("A"), mapping("B", MappingDependency.on("A")),
        mapping("C", MappingDependency.on("A"), MappingDependency.on("B")));
    MappingGraph.check(g);
    g.values().forEach(m -> assertTrue(m.enabled(), m.name()));
    assertFalse(g.values().stream().anyMatch(m -> !m.notes().isEmpty()));
  }

  @Test
  void dependencyOrderPutsDependenciesFirstAndKeepsTheGivenOrderOtherwise() {
    java.util.List<MappingDefinition> defs = java.util.List.of(
        mapping("CONTACT", MappingDependency.on("CUSTOMER")).definition(),
        mapping("CUSTOMER", MappingDependency.on("SALESPEOPLE"), MappingDependency.on("NOT-IN-THE-SET")).definition(),
        mapping("SALESPEOPLE").definition(),
        mapping("CURRENCY").definition());
    assertEquals(java.util.List.of("SALESPEOPLE", "CURRENCY", "CUSTOMER", "CONTACT"),
        MappingGraph.inDependencyOrder(defs).stream().map(MappingDefinition::name).toList());
    // A cycle (refused at start) cannot be ordered: its members are left out instead of looping.
    assertEquals(java.util.List.of("C"), MappingGraph.inDependencyOrder(java.util.List.of(
        mapping("A", MappingDependency.on("B")).definition(), mapping("B", MappingDependency.on("A")).definition(),
        mapping("C").definition())).stream().map(MappingDefinition::name).toList());
  }
}
