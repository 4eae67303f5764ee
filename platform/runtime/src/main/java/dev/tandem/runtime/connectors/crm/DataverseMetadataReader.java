package dev.tandem.runtime.connectors.crm;

import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What Tandem needs to know of the CRM's table definitions ({@code EntityDefinitions}): a table's logical name, its
 * columns, and whether an alternate key on a column is usable (its index {@code Active}). Table names and columns
 * are read once per client; a key is asked about again until it is Active, since a new key's index is built
 * asynchronously (Pending first).
 */
public final class DataverseMetadataReader {

  private final DataverseClient crm;
  private final Map<String, Future<String>> logicalNames = new ConcurrentHashMap<>();
  private final Map<String, Future<Columns>> columns = new ConcurrentHashMap<>();
  private final Set<String> activeKeys = ConcurrentHashMap.newKeySet();

  DataverseMetadataReader(DataverseClient crm) {
    this.crm = crm;
  }

  /**
   * @param entitySet e.g. {@code accounts}
   * @return its logical name ({@code account}); fails when the CRM has no such table
   */
  public Future<String> logicalName(String entitySet) {
    return cached(logicalNames, entitySet, () -> crm.query("EntityDefinitions?$select=LogicalName,EntitySetName"
        + "&$filter=" + ODataLiterals.query("EntitySetName eq " + ODataLiterals.string(entitySet)))
        .compose(p -> p.rows().isEmpty()
            ? Future.failedFuture(new IllegalArgumentException("the CRM has no table with the entity set name "
                + entitySet))
            : Future.succeededFuture(p.rows().get(0).getString("LogicalName"))));
  }

  /**
   * @param entitySet e.g. {@code accounts}
   * @return the logical names of its columns (lookups by their navigation name, e.g. {@code parentcustomerid})
   */
  public Future<Set<String>> columns(String entitySet) {
    return attributes(entitySet).map(Columns::names);
  }

  /**
   * @param entitySet e.g. {@code accounts}
   * @return its columns that are valid neither for create nor for update: the ones Dataverse computes, such as a
   *     money column's {@code _base} value and the row's {@code exchangerate}
   */
  public Future<Set<String>> readOnlyColumns(String entitySet) {
    return attributes(entitySet).map(Columns::readOnly);
  }

  /** A table's column names and the read-only ones among them. */
  private record Columns(Set<String> names, Set<String> readOnly) {}

  private Future<Columns> attributes(String entitySet) {
    return cached(columns, entitySet, () -> logicalName(entitySet).compose(logical -> crm.query(
        "EntityDefinitions(LogicalName=" + ODataLiterals.string(logical) + ")/Attributes?$select=LogicalName,"
            + "IsValidForCreate,IsValidForUpdate"))
        .compose(p -> all(p, new Columns(new HashSet<>(), new HashSet<>()))));
  }

  /**
   * @param entitySet e.g. {@code pricelevels}
   * @param column the key's single column, e.g. {@code name}
   * @return whether an alternate key on exactly that column exists and its index is Active
   */
  public Future<Boolean> keyActive(String entitySet, String column) {
    String id = entitySet + "\u0001" + column;
    if (activeKeys.contains(id)) {
      return Future.succeededFuture(true);
    }
    return logicalName(entitySet).compose(logical -> crm.query("EntityDefinitions(LogicalName="
        + ODataLiterals.string(logical) + ")/Keys?$select=KeyAttributes,EntityKeyIndexStatus")).map(p -> {
          for (JsonObject k : p.rows()) {
            if (List.of(column).equals(k.getJsonArray("KeyAttributes", new io.vertx.core.json.JsonArray()).getList())
                && "Active".equals(k.getString("EntityKeyIndexStatus"))) {
              activeKeys.add(id);
              return true;
            }
          }
          return false;
        });
  }

  private Future<Columns> all(Page p, Columns found) {
    p.rows().forEach(r -> {
      found.names().add(r.getString("LogicalName"));
      if (Boolean.FALSE.equals(r.getBoolean("IsValidForCreate"))
          && Boolean.FALSE.equals(r.getBoolean("IsValidForUpdate"))) {
        found.readOnly().add(r.getString("LogicalName"));
      }
    });
    return p.hasNext() ? crm.follow(p.nextLink()).compose(n -> all(n, found))
        : Future.succeededFuture(new Columns(Set.copyOf(found.names()), Set.copyOf(found.readOnly())));
  }

  private static <T> Future<T> cached(Map<String, Future<T>> cache, String key,
      java.util.function.Supplier<Future<T>> read) {
    Future<T> f = cache.computeIfAbsent(key, k -> read.get());
    // A failed read (the CRM was unreachable) is not kept: the next caller asks again.
    f.onFailure(e -> cache.remove(key, f));
    return f;
  }
}
