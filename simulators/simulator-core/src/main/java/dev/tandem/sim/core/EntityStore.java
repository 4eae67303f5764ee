package dev.tandem.sim.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.TreeSet;
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
    private final Map<String, SortedIndex> sorted = new HashMap<>();
    /** The keys in order, for counting a key range by rank; rebuilt after a row was added or removed. */
    private volatile String[] keyArray;

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
      index(key, row);
      if (old == null) {
        keyArray = null;
      }
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
      keyArray = null;
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
      keyArray = null;
      Long cur = versions.remove(key);
      if (cur != null) {
        changed.remove(cur);
      }
      if (old != null) {
        rows.put(key, old);
        index(key, old);
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

    private void index(String key, Map<String, Object> row) {
      for (SortedIndex i : sorted.values()) {
        i.add(key, row.get(i.field));
      }
    }

    private void unindex(String key, Map<String, Object> row) {
      if (row == null) {
        return;
      }
      for (SortedIndex i : sorted.values()) {
        i.remove(key, row.get(i.field));
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
     * Rows in key order between two keys, passing a predicate, visiting only that key range (a range seek on the
     * primary key).
     *
     * @param from lower bound, or null from the start
     * @param fromInclusive whether the lower bound itself is in the range
     * @param to upper bound, or null to the end
     * @param toInclusive whether the upper bound itself is in the range
     * @param filter predicate, or null
     * @param limit at most this many
     * @return the rows (stored instances)
     */
    public List<Map<String, Object>> scanRange(String from, boolean fromInclusive, String to, boolean toInclusive,
        Predicate<Map<String, Object>> filter, int limit) {
      if (from != null && to != null && from.compareTo(to) > 0) {
        return new ArrayList<>();
      }
      NavigableMap<String, Map<String, Object>> range = from == null && to == null ? rows
          : from == null ? rows.headMap(to, toInclusive) : to == null ? rows.tailMap(from, fromInclusive)
          : rows.subMap(from, fromInclusive, to, toInclusive);
      List<Map<String, Object>> out = new ArrayList<>(Math.min(limit, 1024));
      for (Map<String, Object> r : range.values()) {
        if (out.size() >= limit) {
          break;
        }
        if (filter == null || filter.test(r)) {
          out.add(r);
        }
      }
      return out;
    }

    /**
     * Counts the rows between two keys that pass a predicate, visiting only that key range (an index range scan, as
     * a database counts within a range of its clustered key).
     *
     * @param fromKey inclusive lower bound, or null from the start
     * @param toKey inclusive upper bound, or null to the end
     * @param filter predicate, or null
     * @return how many
     */
    public int countRange(String fromKey, String toKey, Predicate<Map<String, Object>> filter) {
      NavigableMap<String, Map<String, Object>> range = fromKey == null && toKey == null ? rows
          : fromKey == null ? rows.headMap(toKey, true) : toKey == null ? rows.tailMap(fromKey, true)
          : fromKey.compareTo(toKey) > 0 ? java.util.Collections.emptyNavigableMap()
          : rows.subMap(fromKey, true, toKey, true);
      int n = 0;
      for (Map<String, Object> r : range.values()) {
        if (filter == null || filter.test(r)) {
          n++;
        }
      }
      return n;
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
      sorted.values().forEach(SortedIndex::clear);
      keyArray = null;
    }

    /**
     * Adds a sorted (non-unique) index on a field holding text, as a database keeps a secondary key: reads ordered
     * or bounded by the field then visit only the rows they need instead of sorting the table. Call before rows are
     * added (at definition).
     *
     * @param field the field
     * @param wellFormed values whose text order is the order of what they mean (e.g. timestamps in one fixed
     *     format); a read may start at a bound only while every value passes
     */
    public void sortedIndex(String field, Predicate<String> wellFormed) {
      if (!rows.isEmpty()) {
        throw new IllegalStateException("define the index of " + name + "." + field + " before adding rows");
      }
      sorted.put(field, new SortedIndex(field, wellFormed));
    }

    /**
     * Rows in the order of an indexed field, as a stable sort of the key-ordered rows by that field would give them:
     * by value (nulls lowest), rows with equal values in key order (also when descending).
     *
     * @param field an indexed field
     * @param descending highest value first
     * @param from null for every row, else only rows whose value is at least this (text order)
     * @return the rows (stored instances), or null when the field has no index or holds a value that is not text
     */
    public Iterable<Map<String, Object>> ordered(String field, boolean descending, String from) {
      SortedIndex i = sorted.get(field);
      if (i == null || i.foreign > 0) {
        return null;
      }
      NavigableMap<String, Object> range = from == null ? i.values : i.values.tailMap(from, true);
      if (descending) {
        range = range.descendingMap();
      }
      List<Iterable<String>> parts = new ArrayList<>(2);
      if (from == null && !descending) {
        parts.add(i.nulls);
      }
      NavigableMap<String, Object> r = range;
      Iterable<String> values = () -> flatten(new Iterator<Iterable<String>>() {
        private final Iterator<Object> it = r.values().iterator();

        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        @SuppressWarnings("unchecked")
        public Iterable<String> next() {
          Object k = it.next();
          return k instanceof String one ? List.of(one) : (TreeSet<String>) k;
        }
      });
      parts.add(values);
      if (from == null && descending) {
        parts.add(i.nulls);
      }
      return () -> {
        Iterator<String> keys = flatten(parts.iterator());
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return keys.hasNext();
          }

          @Override
          public Map<String, Object> next() {
            return rows.get(keys.next());
          }
        };
      };
    }

    /**
     * The rows holding a value in an indexed field, in key order: what {@code all(r -> value.equals(r.get(field)),
     * null)} gives, without reading the other rows.
     *
     * @param field an indexed field
     * @param value the value (text)
     * @return the rows (stored instances), or null when the field has no index or holds a value that is not text
     */
    public List<Map<String, Object>> withValue(String field, String value) {
      SortedIndex i = sorted.get(field);
      if (i == null || i.foreign > 0) {
        return null;
      }
      Object held = i.values.get(value);
      List<Map<String, Object>> out = new ArrayList<>();
      if (held instanceof String one) {
        out.add(rows.get(one));
      } else if (held instanceof TreeSet<?> keys) {
        for (Object k : keys) {
          out.add(rows.get((String) k));
        }
      }
      return out;
    }

    /**
     * @param field an indexed field
     * @return whether every value of the field passes the index's well-formedness test (so a bound may be used)
     */
    public boolean wellFormed(String field) {
      SortedIndex i = sorted.get(field);
      return i != null && i.foreign == 0 && i.malformed == 0;
    }

    /**
     * Counts the rows whose key lies between two bounds, by rank in the sorted keys (a count on the clustered key
     * that reads no rows).
     *
     * @param from lower bound, or null
     * @param fromInclusive whether the lower bound counts
     * @param to upper bound, or null
     * @param toInclusive whether the upper bound counts
     * @return how many
     */
    public int countKeys(String from, boolean fromInclusive, String to, boolean toInclusive) {
      String[] keys = keyArray;
      if (keys == null) {
        keys = rows.keySet().toArray(new String[0]);
        keyArray = keys;
      }
      int lo = from == null ? 0 : rank(keys, from, !fromInclusive);
      int hi = to == null ? keys.length : rank(keys, to, toInclusive);
      return Math.max(0, hi - lo);
    }

    /**
     * Counts the rows holding a value in an indexed field whose key lies between two bounds, by rank in that value's
     * sorted keys (a count on a secondary key that ends with the primary key, reading no rows).
     *
     * @param field an indexed field
     * @param value the value (text)
     * @param from lower bound, or null
     * @param fromInclusive whether the lower bound counts
     * @param to upper bound, or null
     * @param toInclusive whether the upper bound counts
     * @return how many, or -1 when the field has no index or holds a value that is not text
     */
    public int countKeys(String field, String value, String from, boolean fromInclusive, String to,
        boolean toInclusive) {
      SortedIndex i = sorted.get(field);
      if (i == null || i.foreign > 0) {
        return -1;
      }
      String[] keys = i.keysOf(value);
      int lo = from == null ? 0 : rank(keys, from, !fromInclusive);
      int hi = to == null ? keys.length : rank(keys, to, toInclusive);
      return Math.max(0, hi - lo);
    }

    /** @return how many keys are below the value (or at most it, when {@code orEqual}) */
    private static int rank(String[] keys, String value, boolean orEqual) {
      int i = Arrays.binarySearch(keys, value);
      return i >= 0 ? (orEqual ? i + 1 : i) : -i - 1;
    }
  }

  private static <T> Iterator<T> flatten(Iterator<? extends Iterable<T>> outer) {
    return new Iterator<>() {
      private Iterator<T> inner = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!inner.hasNext() && outer.hasNext()) {
          inner = outer.next().iterator();
        }
        return inner.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return inner.next();
      }
    };
  }

  /**
   * A sorted index on one field: value → the key holding it, or the keys (a TreeSet, in key order) when several
   * rows share it; rows without a value apart.
   */
  private static final class SortedIndex {
    private final String field;
    private final Predicate<String> wellFormed;
    private final TreeMap<String, Object> values = new TreeMap<>();
    private final TreeSet<String> nulls = new TreeSet<>();
    private int foreign;
    private int malformed;
    /** Each value's keys as a sorted array, built when counted and dropped when the value's rows change. */
    private final Map<String, String[]> arrays = new java.util.concurrent.ConcurrentHashMap<>();

    SortedIndex(String field, Predicate<String> wellFormed) {
      this.field = field;
      this.wellFormed = wellFormed;
    }

    String[] keysOf(String value) {
      return arrays.computeIfAbsent(value, v -> {
        Object held = values.get(v);
        return held == null ? new String[0] : held instanceof String one ? new String[] {one}
            : ((TreeSet<?>) held).toArray(new String[0]);
      });
    }

    void add(String key, Object v) {
      if (v instanceof String s) {
        arrays.remove(s);
      }
      if (v == null) {
        nulls.add(key);
      } else if (v instanceof String s) {
        Object held = values.putIfAbsent(s, key);
        if (held instanceof String other && !other.equals(key)) {
          TreeSet<String> keys = new TreeSet<>();
          keys.add(other);
          keys.add(key);
          values.put(s, keys);
        } else if (held instanceof TreeSet<?> keys) {
          @SuppressWarnings("unchecked")
          TreeSet<String> k = (TreeSet<String>) keys;
          k.add(key);
        }
        if (!wellFormed.test(s)) {
          malformed++;
        }
      } else {
        foreign++;
      }
    }

    void remove(String key, Object v) {
      if (v instanceof String s) {
        arrays.remove(s);
      }
      if (v == null) {
        nulls.remove(key);
      } else if (v instanceof String s) {
        Object held = values.get(s);
        boolean removed = false;
        if (key.equals(held)) {
          values.remove(s);
          removed = true;
        } else if (held instanceof TreeSet<?> keys && keys.remove(key)) {
          removed = true;
          if (keys.size() == 1) {
            values.put(s, keys.first());
          }
        }
        if (removed && !wellFormed.test(s)) {
          malformed--;
        }
      } else {
        foreign--;
      }
    }

    void clear() {
      arrays.clear();
      values.clear();
      nulls.clear();
      foreign = 0;
      malformed = 0;
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
