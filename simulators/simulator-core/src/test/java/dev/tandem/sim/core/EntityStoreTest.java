package dev.tandem.sim.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EntityStoreTest {

  private static Map<String, Object> row(String id, String number) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("id", id);
    r.put("number", number);
    return r;
  }

  @Test
  void aFailedTransactionUndoesEverything() {
    EntityStore store = new EntityStore();
    EntityStore.Table t = store.define("accounts", "id", List.of("number"));
    store.write(() -> t.put(row("a", "N1")));
    long seq = store.sequence();
    assertThrows(IllegalStateException.class, () -> store.write(() -> {
      t.put(row("b", "N2"));
      t.put(row("a", "N1-changed"));
      t.delete("a");
      throw new IllegalStateException("bad part");
    }));
    assertEquals(1, store.read(t::size));
    assertEquals("N1", store.read(() -> t.get("a").get("number")));
    assertEquals("a", store.read(() -> t.byUnique("number", "n1").get("id")));
    assertNull(store.read(() -> t.byUnique("number", "N2")));
    assertEquals(List.of(), store.read(() -> t.deletedSince(seq)));
  }

  @Test
  void rowsByAnIndexedValueAreWhatAScanFinds() {
    EntityStore store = new EntityStore();
    EntityStore.Table t = store.define("lines", "id", List.of());
    assertNull(t.withValue("number", "H1"), "no index, no answer: the caller scans");
    t.sortedIndex("number", v -> true);
    store.write(() -> {
      t.put(row("c", "H1"));
      t.put(row("a", "H1"));
      t.put(row("b", "H2"));
      t.put(row("d", null));
      return null;
    });
    for (String v : List.of("H1", "H2", "H3")) {
      assertEquals(store.read(() -> t.all(r -> v.equals(r.get("number")), null)),
          store.read(() -> t.withValue("number", v)), v);
    }
    store.write(() -> {
      t.delete("a");
      t.put(row("b", "H1"));
      return null;
    });
    assertEquals(List.of("b", "c"), store.read(() -> t.withValue("number", "H1").stream().map(r -> r.get("id"))
        .toList()), "moved and deleted rows follow");
    assertEquals(List.of(), store.read(() -> t.withValue("number", "H2")));
  }

  @Test
  void uniqueIndexesAndChangeLog() {
    EntityStore store = new EntityStore();
    EntityStore.Table t = store.define("accounts", "id", List.of("number"));
    store.write(() -> {
      t.put(row("a", "N1"));
      t.put(row("b", "N2"));
      return null;
    });
    assertThrows(EntityStore.DuplicateKeyException.class, () -> store.write(() -> t.put(row("c", "n2"))));
    long mark = store.sequence();
    store.write(() -> {
      t.put(row("a", "N1b"));
      t.delete("b");
      return null;
    });
    assertEquals(List.of("a"), store.read(() -> t.changedSince(mark)));
    assertEquals("b", store.read(() -> t.deletedSince(mark).get(0).key()));
    assertEquals(List.of("a"), store.read(() -> t.scan(null, null, 10).stream().map(r -> r.get("id")).toList()));
  }

  /**
   * A sorted index gives the order of a stable sort of the key-ordered rows (ties in key order, also descending,
   * values missing lowest), follows changes and rolled-back transactions, and counts key ranges by rank.
   */
  @Test
  void aSortedIndexOrdersAsTheStableSortAndCountsByRank() {
    EntityStore store = new EntityStore();
    EntityStore.Table t = store.define("rows", "id", List.of());
    t.sortedIndex("at", v -> v.length() == 2);
    java.util.Random random = new java.util.Random(7);
    store.write(() -> {
      for (int i = 0; i < 300; i++) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", String.format("k%03d", random.nextInt(1000)));
        r.put("at", random.nextInt(10) == 0 ? null : "t" + random.nextInt(9));
        t.put(r);
      }
      t.delete(String.valueOf(store.read(() -> t.all(null, null).get(5).get("id"))));
      return null;
    });
    assertThrows(IllegalStateException.class, () -> store.write(() -> {
      t.put(Map.of("id", "k500", "at", "t0"));
      t.delete(String.valueOf(t.all(null, null).get(0).get("id")));
      throw new IllegalStateException("rolled back");
    }));
    java.util.Comparator<Map<String, Object>> byAt = java.util.Comparator.comparing(
        r -> (String) r.get("at"), java.util.Comparator.nullsFirst(java.util.Comparator.naturalOrder()));
    store.read(() -> {
      List<Map<String, Object>> asc = new java.util.ArrayList<>();
      t.ordered("at", false, null).forEach(asc::add);
      assertEquals(t.all(null, byAt), asc);
      List<Map<String, Object>> desc = new java.util.ArrayList<>();
      t.ordered("at", true, null).forEach(desc::add);
      assertEquals(t.all(null, byAt.reversed()), desc);
      List<Map<String, Object>> from = new java.util.ArrayList<>();
      t.ordered("at", false, "t5").forEach(from::add);
      assertEquals(t.all(r -> r.get("at") != null && ((String) r.get("at")).compareTo("t5") >= 0, byAt), from);
      assertEquals(true, t.wellFormed("at"));
      for (String[] b : List.of(new String[] {"k100", "k700"}, new String[] {null, "k300"},
          new String[] {"k250", null}, new String[] {"k900", "k100"})) {
        for (boolean inclusive : List.of(true, false)) {
          int expected = t.all(r -> {
            String k = (String) r.get("id");
            return (b[0] == null || (inclusive ? k.compareTo(b[0]) >= 0 : k.compareTo(b[0]) > 0))
                && (b[1] == null || (inclusive ? k.compareTo(b[1]) <= 0 : k.compareTo(b[1]) < 0));
          }, null).size();
          assertEquals(expected, t.countKeys(b[0], inclusive, b[1], inclusive), java.util.Arrays.toString(b));
          int withValue = t.all(r -> "t3".equals(r.get("at")) && (b[0] == null || k(r).compareTo(b[0]) >= 0)
              && (b[1] == null || k(r).compareTo(b[1]) < 0), null).size();
          assertEquals(withValue, t.countKeys("at", "t3", b[0], true, b[1], false));
        }
      }
      return null;
    });
  }

  private static String k(Map<String, Object> r) {
    return (String) r.get("id");
  }
}
