package dev.tandem.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An integration table mapping as a plugin declares it: which ERP entity set goes with which CRM entity set,
 * their keys and modified-on fields, the default direction, fields, options, filters, match fields and
 * dependencies. Operators override parts of it (direction, filters, enabled fields, schedule) through the
 * admin API; the runtime keeps those overrides, not the plugin.
 *
 * <p>Build one with {@link #builder(String)}; the builder validates the whole definition and names the
 * mapping and the offending field in its message.
 *
 * @param name unique name, upper case, e.g. {@code CUSTOMER}
 * @param erpEntitySet ERP OData service, e.g. {@code Customer}
 * @param crmEntitySet CRM entity set, e.g. {@code accounts}
 * @param erpKey ERP key field, e.g. {@code SystemId}
 * @param crmKey CRM key column, e.g. {@code accountid}
 * @param erpModifiedOn ERP modified-on field, e.g. {@code SystemModifiedAt}
 * @param crmModifiedOn CRM modified-on column, normally {@code modifiedon}
 * @param direction default direction
 * @param fields field mappings
 * @param options option mappings
 * @param erpFilter OData {@code $filter} applied when reading the ERP side, or {@code null}
 * @param crmFilter OData {@code $filter} applied when reading the CRM side, or {@code null}
 * @param matchFields fields for match-based coupling
 * @param dependencies mappings that must run first
 * @param schedule default interval of the recurring sync job
 * @param crmAlternateKey a CRM alternate key column that one of the TO_CRM field mappings fills (a currency's
 *     {@code isocurrencycode}), or {@code null}: new CRM rows are then upserted by that key, so a row the CRM
 *     already holds with the same key is updated and coupled instead of duplicated
 * @param children the lines of this mapping's records ({@link Builder#child}), written with them; empty for most
 */
public record MappingDefinition(
    String name,
    String erpEntitySet,
    String crmEntitySet,
    String erpKey,
    String crmKey,
    String erpModifiedOn,
    String crmModifiedOn,
    Direction direction,
    List<FieldMapping> fields,
    List<OptionMapping> options,
    String erpFilter,
    String crmFilter,
    List<MatchField> matchFields,
    List<MappingDependency> dependencies,
    Duration schedule,
    String crmAlternateKey,
    List<ChildMapping> children) {

  private static final Pattern NAME = Pattern.compile("[A-Z][A-Z0-9_-]{0,63}");

  /** Copies the lists. Use {@link #builder(String)}, which validates. */
  public MappingDefinition {
    fields = List.copyOf(fields);
    options = List.copyOf(options);
    matchFields = List.copyOf(matchFields);
    dependencies = List.copyOf(dependencies);
    children = List.copyOf(children == null ? List.of() : children);
  }

  /**
   * The definition without lines, as before {@link #children()} existed.
   *
   * @param name see the record
   * @param erpEntitySet see the record
   * @param crmEntitySet see the record
   * @param erpKey see the record
   * @param crmKey see the record
   * @param erpModifiedOn see the record
   * @param crmModifiedOn see the record
   * @param direction see the record
   * @param fields see the record
   * @param options see the record
   * @param erpFilter see the record
   * @param crmFilter see the record
   * @param matchFields see the record
   * @param dependencies see the record
   * @param schedule see the record
   * @param crmAlternateKey see the record
   */
  public MappingDefinition(String name, String erpEntitySet, String crmEntitySet, String erpKey, String crmKey,
      String erpModifiedOn, String crmModifiedOn, Direction direction, List<FieldMapping> fields,
      List<OptionMapping> options, String erpFilter, String crmFilter, List<MatchField> matchFields,
      List<MappingDependency> dependencies, Duration schedule, String crmAlternateKey) {
    this(name, erpEntitySet, crmEntitySet, erpKey, crmKey, erpModifiedOn, crmModifiedOn, direction, fields, options,
        erpFilter, crmFilter, matchFields, dependencies, schedule, crmAlternateKey, List.of());
  }

  /**
   * @return the ERP key's fields in order: one for most pages ({@code No}, {@code SystemId}), several for a
   *     composite key ({@code Document_Type, No}); {@link #erpKey()} holds them joined by commas
   */
  public List<String> erpKeyFields() {
    return List.of(erpKey.split(","));
  }

  /** @return whether the ERP key is made of several fields */
  public boolean compositeErpKey() {
    return erpKey.indexOf(',') >= 0;
  }

  /**
   * @param row an ERP row
   * @return its key
   */
  public ErpKey erpKeyOf(io.vertx.core.json.JsonObject row) {
    return ErpKey.from(erpKeyFields(), row);
  }

  /**
   * @return whether the CRM side is a picklist column's option set ({@link Builder#crmOptionSet}) rather than an
   *     entity set: couplings then pair an ERP code with an option value
   */
  public boolean isOptionSet() {
    return crmEntitySet.indexOf('.') > 0;
  }

  /** @return the table of the option set's column, e.g. {@code account}; only for {@link #isOptionSet()} */
  public String optionSetEntity() {
    return crmEntitySet.substring(0, crmEntitySet.indexOf('.'));
  }

  /** @return the option set's column, e.g. {@code paymenttermscode}; only for {@link #isOptionSet()} */
  public String optionSetAttribute() {
    return crmEntitySet.substring(crmEntitySet.indexOf('.') + 1);
  }

  /**
   * @param name the mapping's unique name, upper case letters, digits, {@code _} and {@code -}
   * @return a builder
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** Builds a {@link MappingDefinition}, checking it as a whole. */
  public static final class Builder {
    private final String name;
    private String erpEntitySet;
    private String crmEntitySet;
    private String erpKey = "SystemId";
    private String crmKey;
    private String erpModifiedOn = "SystemModifiedAt";
    private String crmModifiedOn = "modifiedon";
    private Direction direction = Direction.BIDIRECTIONAL;
    private final List<FieldMapping> fields = new ArrayList<>();
    private final List<OptionMapping> options = new ArrayList<>();
    private String erpFilter;
    private String crmFilter;
    private final List<MatchField> matchFields = new ArrayList<>();
    private final List<MappingDependency> dependencies = new ArrayList<>();
    private Duration schedule = Duration.ofSeconds(30);
    private String crmAlternateKey;
    private final List<ChildMapping> children = new ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    /**
     * @param entitySet ERP OData service name
     * @param key key field (default {@code SystemId})
     * @return this
     */
    public Builder erp(String entitySet, String key) {
      this.erpEntitySet = entitySet;
      this.erpKey = key;
      return this;
    }

    /**
     * An ERP page whose key is made of several fields, in the page's key order: a sales order
     * ({@code "SalesOrder", "Document_Type", "No"}), a sales line ({@code "SalesOrderLine", "Document_Type",
     * "Document_No", "Line_No"}). Couplings store such a key as its segment ({@link ErpKey#toString()}). The
     * generic engine handles single keys only: a mapping with a composite key runs the plugin's {@link SyncTask}.
     *
     * @param entitySet ERP OData service name
     * @param keyFields the key fields, at least one
     * @return this
     */
    public Builder erpKey(String entitySet, String... keyFields) {
      if (keyFields.length == 0) {
        throw new IllegalArgumentException("mapping " + name + ": the ERP key needs at least one field");
      }
      for (String f : keyFields) {
        if (f == null || f.isBlank() || f.contains(",")) {
          throw new IllegalArgumentException("mapping " + name + ": ERP key field '" + f + "' is not a field name");
        }
      }
      return erp(entitySet, String.join(",", keyFields));
    }

    /**
     * Lines of this mapping's records, written with their header in one ERP change set (see {@link ChildMapping}).
     *
     * @param lines the lines' mapping, with a composite ERP key that holds the parent key fields
     * @param parentKey line ERP field to header ERP key field, in the header's key order
     * @param crmParentColumn the lines' CRM lookup column to the header, e.g. {@code salesorderid}
     * @return this
     */
    public Builder child(MappingDefinition lines, java.util.Map<String, String> parentKey, String crmParentColumn) {
      children.add(new ChildMapping(lines, parentKey, crmParentColumn));
      return this;
    }

    /**
     * @param entitySet CRM entity set name
     * @param key key column
     * @return this
     */
    public Builder crm(String entitySet, String key) {
      this.crmEntitySet = entitySet;
      this.crmKey = key;
      return this;
    }

    /**
     * The CRM side is the option set of a picklist column instead of an entity set: an option mapping as a mapping
     * of its own (payment terms, freight terms, shipping methods). Each ERP code (the ERP key) is coupled with the
     * option of the same label, or with one the runtime adds through {@code InsertOptionValue}; other mappings
     * write the option value by looking the code up through this mapping's couplings. Only {@link Direction#TO_CRM}.
     * The CRM entity set reads {@code entity.attribute} (entity sets never hold a dot) and the key {@code Value}.
     *
     * @param entity the table's logical name, e.g. {@code account}
     * @param attribute the picklist column, e.g. {@code paymenttermscode}
     * @return this
     */
    public Builder crmOptionSet(String entity, String attribute) {
      if (entity == null || attribute == null || entity.contains(".") || attribute.contains(".")) {
        throw new IllegalArgumentException("mapping " + name + ": an option set is a table and a column name");
      }
      this.crmEntitySet = entity + "." + attribute;
      this.crmKey = "Value";
      return this;
    }

    /**
     * @param erpField ERP modified-on field (default {@code SystemModifiedAt})
     * @param crmField CRM modified-on column (default {@code modifiedon})
     * @return this
     */
    public Builder modifiedOn(String erpField, String crmField) {
      this.erpModifiedOn = erpField;
      this.crmModifiedOn = crmField;
      return this;
    }

    /**
     * @param value default direction
     * @return this
     */
    public Builder direction(Direction value) {
      this.direction = value;
      return this;
    }

    /**
     * @param field a field mapping
     * @return this
     */
    public Builder field(FieldMapping field) {
      fields.add(field);
      return this;
    }

    /**
     * @param erpField ERP field
     * @param crmField CRM field
     * @param fieldDirection direction of this field
     * @return this
     */
    public Builder field(String erpField, String crmField, Direction fieldDirection) {
      return field(FieldMapping.of(erpField, crmField, fieldDirection));
    }

    /**
     * @param option an option mapping
     * @return this
     */
    public Builder option(OptionMapping option) {
      options.add(option);
      return this;
    }

    /**
     * @param erp OData filter for the ERP side, or null
     * @param crm OData filter for the CRM side, or null
     * @return this
     */
    public Builder filters(String erp, String crm) {
      this.erpFilter = erp;
      this.crmFilter = crm;
      return this;
    }

    /**
     * @param field a match field
     * @return this
     */
    public Builder match(MatchField field) {
      matchFields.add(field);
      return this;
    }

    /**
     * @param dependency a mapping that must run first
     * @return this
     */
    public Builder dependsOn(MappingDependency dependency) {
      dependencies.add(dependency);
      return this;
    }

    /**
     * @param mapping the name of a required dependency
     * @return this
     */
    public Builder dependsOn(String mapping) {
      return dependsOn(MappingDependency.on(mapping));
    }

    /**
     * @param interval default interval of the recurring sync job
     * @return this
     */
    public Builder schedule(Duration interval) {
      this.schedule = interval;
      return this;
    }

    /**
     * New CRM rows are written through this alternate key ({@code PATCH transactioncurrencies(isocurrencycode='EUR')}),
     * which Dataverse treats as an upsert: a row already there with that key is updated and coupled, not duplicated.
     *
     * @param column a CRM alternate key column filled by a TO_CRM field mapping of this mapping
     * @return this
     */
    public Builder crmAlternateKey(String column) {
      this.crmAlternateKey = column;
      return this;
    }

    /**
     * @return the definition
     * @throws IllegalArgumentException naming the mapping and what is wrong with it
     */
    public MappingDefinition build() {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("mapping name '" + name
            + "' must be upper case letters, digits, '_' or '-', starting with a letter, at most 64 characters");
      }
      require(erpEntitySet, "ERP entity set");
      require(crmEntitySet, "CRM entity set");
      require(erpKey, "ERP key field");
      require(crmKey, "CRM key column");
      require(erpModifiedOn, "ERP modified-on field");
      require(crmModifiedOn, "CRM modified-on column");
      Objects.requireNonNull(direction, "direction");
      if (schedule == null || schedule.isNegative() || schedule.isZero()) {
        throw new IllegalArgumentException("mapping " + name + ": schedule must be a positive duration");
      }
      for (FieldMapping f : fields) {
        if (direction != Direction.BIDIRECTIONAL && f.direction() != direction) {
          throw new IllegalArgumentException("mapping " + name + ": field " + f.erpField() + " <-> " + f.crmField()
              + " is " + f.direction() + " but the mapping is " + direction);
        }
      }
      if (crmAlternateKey != null && fields.stream().noneMatch(f -> crmAlternateKey.equals(f.crmField())
          && f.direction().includes(Direction.TO_CRM) && f.lookupMapping() == null)) {
        throw new IllegalArgumentException("mapping " + name + ": CRM alternate key " + crmAlternateKey
            + " is not filled by any TO_CRM field mapping");
      }
      if (crmEntitySet.indexOf('.') > 0 && direction != Direction.TO_CRM) {
        throw new IllegalArgumentException("mapping " + name + ": an option set mapping runs TO_CRM only (the ERP's "
            + "codes become options), not " + direction);
      }
      for (MappingDependency d : dependencies) {
        if (d.mapping().equals(name)) {
          throw new IllegalArgumentException("mapping " + name + " depends on itself");
        }
      }
      for (ChildMapping c : children) {
        if (c.lines().name().equals(name)) {
          throw new IllegalArgumentException("mapping " + name + " cannot be its own lines");
        }
        List<String> headerKey = List.of(erpKey.split(","));
        if (!List.copyOf(c.parentKey().values()).equals(headerKey)) {
          throw new IllegalArgumentException("mapping " + name + ": lines " + c.lines().name() + " name the parent key "
              + c.parentKey().values() + " but the header's ERP key is " + headerKey);
        }
      }
      return new MappingDefinition(name, erpEntitySet, crmEntitySet, erpKey, crmKey, erpModifiedOn, crmModifiedOn,
          direction, fields, options, erpFilter, crmFilter, matchFields, dependencies, schedule, crmAlternateKey,
          children);
    }

    private void require(String value, String what) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("mapping " + name + ": " + what + " is missing");
      }
    }
  }
}
