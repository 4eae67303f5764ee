package dev.tandem.sim.crm;

import dev.tandem.sim.crm.DataverseEntities.Entity;
import dev.tandem.sim.crm.DataverseEntities.Lookup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.DoubleSupplier;

/**
 * The organization's table definitions as far as the protocol depends on them: which tables have change tracking
 * ({@code EntityMetadata.ChangeTrackingEnabled}, which can be turned on but never off again) and which alternate keys
 * exist ({@code EntityKeyMetadata}), with the asynchronous index job that takes a new key from {@code Pending} to
 * {@code Active}. Sources: Microsoft, "Use change tracking to synchronize data with external systems" and "Define
 * alternate keys to reference rows" (the index status, at most 10 keys per table).
 *
 * <p>This is the simulator's Java API for that state (other simulator code and tests call it); the Web API view of it
 * ({@code EntityDefinitions}) is {@link DataverseMetadataApi}. Two starting points: {@link #freshOrganization()} (no
 * change tracking on the tables Tandem uses, no alternate keys: a new environment) and
 * {@link #tandemSolutionImported()} (what importing Tandem's solution sets up: tracking on every table Tandem reads
 * and the keys it addresses rows by, already Active).
 */
public final class DataverseMetadata {

  /** Status of an alternate key's index ({@code EntityKeyIndexStatus}). */
  public enum KeyStatus {
    /** The index job has not finished: the key cannot be used yet. */
    Pending,
    /** The index exists: the key can address rows. */
    Active,
    /** The index job failed (for example the rows hold duplicate values): the key cannot be used. */
    Failed
  }

  /**
   * An alternate key.
   *
   * @param metadataId its MetadataId
   * @param schemaName e.g. {@code tandem_accountnumber}
   * @param attributes the key's columns
   * @param status index status at the time of the call
   */
  public record Key(String metadataId, String schemaName, List<String> attributes, KeyStatus status) {
    /** @return the key's logical name (its schema name in lower case) */
    public String logicalName() {
      return schemaName.toLowerCase(Locale.ROOT);
    }
  }

  /** Dataverse allows at most this many alternate keys on one table. */
  public static final int MAX_KEYS = 10;
  /** Real time the index job of a new key takes by default, before the cost model's time scale. */
  public static final long DEFAULT_KEY_INDEX_DELAY_MS = 60_000;

  /** Tables whose changes Tandem reads with change tracking (deletion sync), and so its solution tracks. */
  static final List<String> TANDEM_TRACKED = List.of("account", "contact", "systemuser", "transactioncurrency",
      "uomschedule", "uom", "product", "pricelevel", "productpricelevel", "salesorder", "salesorderdetail");
  /** Alternate keys Tandem's solution defines: table → column. */
  static final Map<String, String> TANDEM_KEYS = Map.of("account", "accountnumber", "product", "productnumber",
      "transactioncurrency", "isocurrencycode", "uomschedule", "name", "pricelevel", "name");

  /**
   * Columns Tandem's solution adds (its customizations.xml declares them): table → columns. The simulator knows
   * their types (DataverseEntities); they exist in an organization only once the solution is imported.
   */
  static final Map<String, List<String>> TANDEM_COLUMNS = Map.of(
      "account", List.of("tandem_balance", "tandem_outstandingorders", "tandem_shippednotinvoiced",
          "tandem_totalsales", "tandem_overdueamounts"),
      "salesorder", List.of("tandem_erpordernumber", "tandem_erpstatus"));

  private final Set<String> tracked = ConcurrentHashMap.newKeySet();
  private final Map<String, Set<String>> columns = new ConcurrentHashMap<>();
  private final Map<String, List<KeyState>> keys = new ConcurrentHashMap<>();
  private final DoubleSupplier timeScale;
  private volatile long keyIndexDelayMs = DEFAULT_KEY_INDEX_DELAY_MS;
  private volatile boolean tandemState = true;

  private static final class KeyState {
    final String metadataId = UUID.randomUUID().toString();
    final String schemaName;
    final List<String> attributes;
    final long activeAt;
    volatile KeyStatus forced;

    KeyState(String schemaName, List<String> attributes, long activeAt) {
      this.schemaName = schemaName;
      this.attributes = List.copyOf(attributes);
      this.activeAt = activeAt;
    }

    KeyStatus status() {
      KeyStatus f = forced;
      return f != null ? f : System.currentTimeMillis() >= activeAt ? KeyStatus.Active : KeyStatus.Pending;
    }

    Key view() {
      return new Key(metadataId, schemaName, attributes, status());
    }
  }

  /** @param timeScale the cost model's time scale, which shortens the index job like every other cost */
  DataverseMetadata(DoubleSupplier timeScale) {
    this.timeScale = timeScale;
    tandemSolutionImported();
  }

  /** Back to a new environment: no change tracking on the tables Tandem uses, no alternate keys. */
  public synchronized void freshOrganization() {
    tracked.clear();
    keys.clear();
    columns.clear();
    tandemState = false;
  }

  /**
   * The state after Tandem's solution is imported: change tracking on every table Tandem tracks, and its alternate
   * keys with their indexes built (Active).
   */
  public synchronized void tandemSolutionImported() {
    freshOrganization();
    tracked.addAll(TANDEM_TRACKED);
    TANDEM_COLUMNS.forEach((table, cols) -> columns.computeIfAbsent(table, t -> ConcurrentHashMap.newKeySet())
        .addAll(cols));
    TANDEM_KEYS.forEach((table, column) -> keys.computeIfAbsent(table, t -> new CopyOnWriteArrayList<>())
        .add(new KeyState("tandem_" + column, List.of(column), 0)));
    tandemState = true;
  }

  /** Back to the state this simulator started in (what an admin reset restores). */
  synchronized void reset(boolean tandem) {
    if (tandem) {
      tandemSolutionImported();
    } else {
      freshOrganization();
    }
  }

  /** @return whether the current starting point was {@link #tandemSolutionImported()} */
  boolean tandemState() {
    return tandemState;
  }

  /**
   * @param logicalName a table, e.g. {@code account}
   * @param column one of its columns
   * @return false for a column a solution adds (Tandem's) that this organization does not have yet
   */
  public boolean hasColumn(String logicalName, String column) {
    List<String> added = TANDEM_COLUMNS.get(logicalName);
    return added == null || !added.contains(column)
        || columns.getOrDefault(logicalName, Set.of()).contains(column);
  }

  /** @param logicalName a table @return the solution-added columns it has, sorted */
  public List<String> addedColumns(String logicalName) {
    return columns.getOrDefault(logicalName, Set.of()).stream().sorted().toList();
  }

  /**
   * Adds a column a solution declares (an attribute in its customizations.xml).
   *
   * @param logicalName the table
   * @param column the column
   */
  void addColumn(String logicalName, String column) {
    requireTable(logicalName);
    columns.computeIfAbsent(logicalName, t -> ConcurrentHashMap.newKeySet()).add(column);
  }

  /** @param logicalName e.g. {@code account} @return whether change tracking is on for the table */
  public boolean changeTrackingEnabled(String logicalName) {
    return tracked.contains(logicalName);
  }

  /**
   * Turns change tracking on for a table (it cannot be turned off again).
   *
   * @param logicalName e.g. {@code account}
   */
  public void enableChangeTracking(String logicalName) {
    requireTable(logicalName);
    tracked.add(logicalName);
  }

  /**
   * Creates an alternate key, as {@code CreateEntityKey} or a POST to {@code EntityDefinitions(…)/Keys} does: its
   * index is Pending until the index job finishes after {@link #keyIndexDelayMs()} (scaled like every cost).
   *
   * @param logicalName table, e.g. {@code account}
   * @param schemaName key schema name
   * @param attributes key columns
   * @return the new key
   * @throws IllegalArgumentException for an unknown table or column, a duplicate, or an 11th key
   */
  public synchronized Key createKey(String logicalName, String schemaName, List<String> attributes) {
    Entity e = requireTable(logicalName);
    if (schemaName == null || schemaName.isBlank() || attributes == null || attributes.isEmpty()) {
      throw new IllegalArgumentException("An entity key needs a SchemaName and at least one KeyAttributes column.");
    }
    for (String a : attributes) {
      if (!e.columns().containsKey(a)) {
        throw new IllegalArgumentException("The attribute " + a + " does not exist on entity " + logicalName
            + " or cannot be part of a key.");
      }
    }
    List<KeyState> list = keys.computeIfAbsent(logicalName, t -> new CopyOnWriteArrayList<>());
    for (KeyState k : list) {
      if (k.schemaName.equalsIgnoreCase(schemaName) || k.attributes.equals(attributes)) {
        throw new IllegalArgumentException("An entity key with the name " + schemaName + " or the same attributes "
            + attributes + " already exists on entity " + logicalName + ".");
      }
    }
    if (list.size() >= MAX_KEYS) {
      throw new IllegalArgumentException("The entity " + logicalName + " already has the maximum of " + MAX_KEYS
          + " entity keys.");
    }
    long delay = Math.round(keyIndexDelayMs * timeScale.getAsDouble());
    KeyState k = new KeyState(schemaName, attributes, System.currentTimeMillis() + delay);
    list.add(k);
    return k.view();
  }

  /** @param logicalName table @return its alternate keys with their current index status */
  public List<Key> keys(String logicalName) {
    List<Key> out = new ArrayList<>();
    for (KeyState k : keys.getOrDefault(logicalName, List.of())) {
      out.add(k.view());
    }
    return out;
  }

  /** @return the key of this table made of exactly this column, or null when there is none */
  public Key key(String logicalName, String column) {
    for (KeyState k : keys.getOrDefault(logicalName, List.of())) {
      if (k.attributes.equals(List.of(column))) {
        return k.view();
      }
    }
    return null;
  }

  /** Marks a key's index job as failed (as when the table holds duplicate values), or clears that. */
  public void failKey(String logicalName, String schemaName, boolean failed) {
    for (KeyState k : keys.getOrDefault(logicalName, List.of())) {
      if (k.schemaName.equalsIgnoreCase(schemaName)) {
        k.forced = failed ? KeyStatus.Failed : null;
        return;
      }
    }
    throw new IllegalArgumentException("No entity key " + schemaName + " on " + logicalName);
  }

  /** @return real time a new key's index job takes, before the time scale */
  public long keyIndexDelayMs() {
    return keyIndexDelayMs;
  }

  /** @param ms real time a new key's index job takes from now on, before the time scale */
  public void keyIndexDelayMs(long ms) {
    if (ms < 0) {
      throw new IllegalArgumentException("keyIndexDelayMs must not be negative");
    }
    this.keyIndexDelayMs = ms;
  }

  /**
   * The table's columns as {@code AttributeMetadata}: name, type, maximum length, required level and whether a
   * create or an update may set it.
   */
  static List<Map<String, Object>> attributes(Entity e) {
    List<Map<String, Object>> out = new ArrayList<>();
    out.add(attribute(e, e.key(), "Uniqueidentifier", null, "SystemRequired", true, false));
    e.columns().forEach((name, len) -> out.add(attribute(e, name, len > 0 ? "String"
        : DataverseOptionSets.isPicklistColumn(e.logical(), name) ? "Picklist"
        : DataverseMoney.isMoney(e, name) ? "Money" : null,
        len > 0 ? len : null, e.required().contains(name) ? "ApplicationRequired" : "None", true, true)));
    // Every money column's base-currency value and the record's exchange rate: computed, read-only.
    for (String money : DataverseMoney.money(e)) {
      Map<String, Object> base = attribute(e, money + DataverseMoney.BASE, "Money", null, "None", false, false);
      base.put("IsBaseCurrency", true);
      out.add(base);
    }
    if (!DataverseMoney.money(e).isEmpty()) {
      out.add(attribute(e, DataverseMoney.EXCHANGE_RATE, "Decimal", null, "None", false, false));
    }
    Set<String> seen = new java.util.HashSet<>();
    for (Lookup l : e.lookups().values()) {
      if (seen.add(l.navigation())) {
        String type = l.navigation().equals("ownerid") ? "Owner" : l.targets().size() > 1 ? "Customer" : "Lookup";
        Map<String, Object> a = attribute(e, l.navigation(), type, null,
            e.required().contains(l.navigation()) ? "ApplicationRequired" : "None", true, true);
        List<String> targets = new ArrayList<>();
        for (String set : l.targets()) {
          Entity t = DataverseEntities.BY_SET.get(set);
          targets.add(t == null ? set : t.logical());
        }
        a.put("Targets", targets);
        out.add(a);
      }
    }
    if (e.hasState()) {
      out.add(attribute(e, "statecode", "State", null, "SystemRequired", false, true));
      out.add(attribute(e, "statuscode", "Status", null, "None", true, true));
    }
    for (String system : List.of("createdon", "modifiedon")) {
      out.add(attribute(e, system, "DateTime", null, "None", false, false));
    }
    out.add(attribute(e, "versionnumber", "BigInt", null, "None", false, false));
    return out;
  }

  private static Map<String, Object> attribute(Entity e, String name, String type, Integer maxLength, String required,
      boolean create, boolean update) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("@odata.type", "#Microsoft.Dynamics.CRM." + ("String".equals(type) ? "StringAttributeMetadata"
        : "Picklist".equals(type) ? "PicklistAttributeMetadata" : "Money".equals(type) ? "MoneyAttributeMetadata"
        : "Decimal".equals(type) ? "DecimalAttributeMetadata" : "AttributeMetadata"));
    a.put("MetadataId", UUID.nameUUIDFromBytes((e.logical() + "." + name).getBytes()).toString());
    a.put("LogicalName", name);
    a.put("SchemaName", name);
    a.put("EntityLogicalName", e.logical());
    if (type != null) {
      // The simulator knows the type of its text, choice, money, key, lookup, state and system columns only.
      a.put("AttributeType", type);
    }
    a.put("IsPrimaryId", name.equals(e.key()));
    if (maxLength != null) {
      a.put("MaxLength", maxLength);
    }
    a.put("RequiredLevel", Map.of("Value", required, "CanBeChanged", !required.equals("SystemRequired"),
        "ManagedPropertyLogicalName", "canmodifyrequirementlevelsettings"));
    a.put("IsValidForCreate", create);
    a.put("IsValidForUpdate", update);
    a.put("IsValidForRead", true);
    if ("Money".equals(type)) {
      a.put("IsBaseCurrency", false);
    }
    return a;
  }

  static Entity byLogical(String logicalName) {
    for (Entity e : DataverseEntities.BY_SET.values()) {
      if (e.logical().equals(logicalName)) {
        return e;
      }
    }
    return null;
  }

  private static Entity requireTable(String logicalName) {
    Entity e = byLogical(logicalName);
    if (e == null) {
      throw new IllegalArgumentException("Could not find an entity with the logical name " + logicalName + ".");
    }
    return e;
  }
}
