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
}
