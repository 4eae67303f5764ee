package dev.tandem.sim.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The in-memory store of a simulator: tables of rows ({@code Map<String,Object>}) ordered by key, with unique
 * secondary indexes (alternate keys), a change sequence for change tracking, and atomic transactions that roll
 * back on an exception (change sets, *Multiple calls). One read-write lock guards the whole store: reads run in
 * parallel, writes one at a time.
 */
public final class EntityStore {

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, Table> tables = new LinkedHashMap<>();
  private long sequence;
  private final ThreadLocal<Deque<Runnable>> undo = new ThreadLocal<>();

  /** Thrown when a unique index already holds the value. */
  public static final class DuplicateKeyException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final Object value;

    DuplicateKeyException(String table, String field, Object value) {
      super("a row of " + table + " with " + field + " = '" + value + "' already exists");
      this.field = field;
      this.value = value;
    }

    /** @return the unique field */
    public String field() {
      return field;
    }

    /** @return the duplicated value */
    public Object value() {
      return value;
    }
  }

  /** A deletion in the change log. */
  public record Deletion(long sequence, String key) {}

  /** One table. Use it only inside {@link #read} or {@link #write}. */
  public final class Table {
    private final String name;
    private final String keyField;
    private final List<String> uniqueFields;
    private final TreeMap<String, Map<String, Object>> rows = new TreeMap<>();
    private final Map<String, Map<Object, String>> unique = new HashMap<>();
    private final Map<String, Long> versions = new HashMap<>();
    private final TreeMap<Long, String> changed = new TreeMap<>();
    private final TreeMap<Long, Deletion> deletions = new TreeMap<>();

    Table(String name, String keyField, List<String> uniqueFields) {
      this.name = name;
      this.keyField = keyField;
      this.uniqueFields = List.copyOf(uniqueFields);
      for (String f : uniqueFields) {
        unique.put(f, new HashMap<>());
      }
    }

    /** @return the table name */
    public String name() {
      return name;
    }

    /** @return the key field */
    public String keyField() {
      return keyField;
    }

    /**
     * @param key key
     * @return the row (the stored instance: copy before changing it), or null
     */
    public Map<String, Object> get(String key) {
      return rows.get(key);
    }

    /**
     * @param field a unique field
     * @param value its value
     * @return the row holding it, or null
     */
    public Map<String, Object> byUnique(String field, Object value) {
      Map<Object, String> idx = unique.get(field);
      if (idx == null) {
        throw new IllegalArgumentException(name + " has no unique index on " + field);
      }
      String key = idx.get(normalize(value));
      return key == null ? null : rows.get(key);
    }

    /**
     * Inserts or replaces a row (by its key field) and records the change.
     *
     * @param row the full row
     * @return the sequence number of the change
     * @throws DuplicateKeyException when a unique field's value belongs to another row
     */
    public long put(Map<String, Object> row) {
      requireWrite();
      String key = String.valueOf(row.get(keyField));
      Map<String, Object> old = rows.get(key);
      for (String f : uniqueFields) {
        Object v = row.get(f);
        if (v != null) {
          String holder = unique.get(f).get(normalize(v));
          if (holder != null && !holder.equals(key)) {
            throw new DuplicateKeyException(name, f, v);
          }
        }
      }
      unindex(key, old);
      for (String f : uniqueFields) {
        Object v = row.get(f);
        if (v != null) {
          unique.get(f).put(normalize(v), key);
        }
      }
      rows.put(key, row);
      long seq = ++sequence;
      Long prev = versions.put(key, seq);
      if (prev != null) {
        changed.remove(prev);
      }
      changed.put(seq, key);
      Deque<Runnable> u = undo.get();
      if (u != null) {
        u.push(() -> restore(key, old, prev));
      }
      return seq;
    }

    /**
     * @param key key
     * @return the removed row, or null when absent
     */
    public Map<String, Object> delete(String key) {
      requireWrite();
      Map<String, Object> old = rows.remove(key);
      if (old == null) {
        return null;
      }
      unindex(key, old);
      Long prev = versions.remove(key);
      if (prev != null) {
        changed.remove(prev);
      }
      long seq = ++sequence;
      deletions.put(seq, new Deletion(seq, key));
      Deque<Runnable> u = undo.get();
      if (u != null) {
        u.push(() -> {
          deletions.remove(seq);
          restore(key, old, prev);
        });
      }
      return old;
    }

    private void restore(String key, Map<String, Object> old, Long prevVersion) {
      Map<String, Object> current = rows.get(key);
      unindex(key, current);
      Long cur = versions.remove(key);
      if (cur != null) {
        changed.remove(cur);
      }
      if (old != null) {
        rows.put(key, old);
        for (String f : uniqueFields) {
          Object v = old.get(f);
          if (v != null) {
            unique.get(f).put(normalize(v), key);
          }
        }
        if (prevVersion != null) {
          versions.put(key, prevVersion);
          changed.put(prevVersion, key);
        }
      } else {
        rows.remove(key);
      }
    }

    private void unindex(String key, Map<String, Object> row) {
      if (row == null) {
        return;
      }
      for (String f : uniqueFields) {
        Object v = row.get(f);
        if (v != null && key.equals(unique.get(f).get(normalize(v)))) {
          unique.get(f).remove(normalize(v));
        }
      }
    }

    /** @return number of rows */
    public int size() {
      return rows.size();
    }

    /**
     * Rows in key order after a key, passing a predicate.
     *
     * @param afterKey exclusive lower bound, or null from the start
     * @param filter predicate, or null
     * @param limit at most this many
     * @return the rows (stored instances)
     */
    public List<Map<String, Object>> scan(String afterKey, Predicate<Map<String, Object>> filter, int limit) {
      NavigableMap<String, Map<String, Object>> tail = afterKey == null ? rows : rows.tailMap(afterKey, false);
      List<Map<String, Object>> out = new ArrayList<>(Math.min(limit, 1024));
      for (Map<String, Object> r : tail.values()) {
        if (filter == null || filter.test(r)) {
          out.add(r);
          if (out.size() >= limit) {
            break;
          }
        }
      }
      return out;
    }

    /**
     * All rows passing a predicate, sorted.
     *
     * @param filter predicate, or null
     * @param order comparator, or null for key order
     * @return the rows
     */
    public List<Map<String, Object>> all(Predicate<Map<String, Object>> filter, Comparator<Map<String, Object>> order) {
      List<Map<String, Object>> out = new ArrayList<>();
      for (Map<String, Object> r : rows.values()) {
        if (filter == null || filter.test(r)) {
          out.add(r);
        }
      }
      if (order != null) {
        out.sort(order);
      }
      return out;
    }

    /**
     * @param since a sequence number
     * @return keys of rows changed after it, in change order
     */
    public List<String> changedSince(long since) {
      return new ArrayList<>(changed.tailMap(since, false).values());
    }

    /**
     * One page of the change log: rows changed and rows deleted after {@code since} up to {@code upto}, in change
     * order. A row changed again after {@code upto} is left out (its change is after the range).
     *
     * @param since exclusive lower bound
     * @param upto inclusive upper bound
     * @param limit most entries to return
     * @return sequence → changed row key (String) or {@link Deletion}
     */
    public List<Map.Entry<Long, Object>> changes(long since, long upto, int limit) {
      List<Map.Entry<Long, Object>> out = new ArrayList<>();
      var c = changed.subMap(since, false, upto, true).entrySet().iterator();
      var d = deletions.subMap(since, false, upto, true).entrySet().iterator();
      Map.Entry<Long, String> nc = c.hasNext() ? c.next() : null;
      Map.Entry<Long, Deletion> nd = d.hasNext() ? d.next() : null;
      while (out.size() < limit && (nc != null || nd != null)) {
        if (nd == null || nc != null && nc.getKey() < nd.getKey()) {
          out.add(Map.entry(nc.getKey(), nc.getValue()));
          nc = c.hasNext() ? c.next() : null;
        } else {
          out.add(Map.entry(nd.getKey(), nd.getValue()));
          nd = d.hasNext() ? d.next() : null;
        }
      }
      return out;
    }

    /**
     * @param since a sequence number
     * @return deletions after it
     */
    public List<Deletion> deletedSince(long since) {
      return new ArrayList<>(deletions.tailMap(since, false).values());
    }

    /** Removes every row and the change log. */
    public void clear() {
      requireWrite();
      rows.clear();
      unique.values().forEach(Map::clear);
      versions.clear();
      changed.clear();
      deletions.clear();
    }
  }

  private static Object normalize(Object v) {
    return v instanceof String s ? s.toLowerCase(java.util.Locale.ROOT) : v;
  }

  private void requireWrite() {
    if (!lock.isWriteLockedByCurrentThread()) {
      throw new IllegalStateException("change the store inside write()");
    }
  }

  /**
   * Adds a table; call before serving.
   *
   * @param name name
   * @param keyField the key field
   * @param uniqueFields alternate keys (compared case-insensitively, as Dataverse does)
   * @return the table
   */
  public synchronized Table define(String name, String keyField, List<String> uniqueFields) {
    Table t = new Table(name, keyField, uniqueFields);
    tables.put(name, t);
    return t;
  }

  /**
   * @param name a table name
   * @return the table, or null
   */
  public Table table(String name) {
    return tables.get(name);
  }

  /** @return every table */
  public List<Table> tables() {
    return List.copyOf(tables.values());
  }

  /** @return the last change's sequence number */
  public long sequence() {
    lock.readLock().lock();
    try {
      return sequence;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Runs a read under the read lock.
   *
   * @param body the read
   * @param <T> result
   * @return its result
   */
  public <T> T read(Supplier<T> body) {
    lock.readLock().lock();
    try {
      return body.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Runs changes atomically: when {@code body} throws, every change it made is undone and the exception
   * rethrown. Nested calls join the outer transaction.
   *
   * @param body the changes
   * @param <T> result
   * @return its result
   */
  public <T> T write(Supplier<T> body) {
    lock.writeLock().lock();
    boolean outer = undo.get() == null;
    if (outer) {
      undo.set(new ArrayDeque<>());
    }
    try {
      return body.get();
    } catch (RuntimeException | Error e) {
      if (outer) {
        Deque<Runnable> u = undo.get();
        while (!u.isEmpty()) {
          u.pop().run();
        }
      }
      throw e;
    } finally {
      if (outer) {
        undo.remove();
      }
      lock.writeLock().unlock();
    }
  }

  /** Empties every table. */
  public void reset() {
    write(() -> {
      tables.values().forEach(Table::clear);
      return null;
    });
  }

  /** @return rows per table */
  public Map<String, Integer> counts() {
    return read(() -> {
      Map<String, Integer> m = new LinkedHashMap<>();
      tables.values().forEach(t -> m.put(t.name(), t.size()));
      return m;
    });
  }
}
