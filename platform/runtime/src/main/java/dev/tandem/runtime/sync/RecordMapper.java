package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.OptionMapping;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.api.Transformation;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns a source row into the values its counterpart should hold, for one direction of one mapping: constants,
 * transformations, option mappings, and lookups through the couplings of other mappings (resolved in bulk per
 * page by the caller). Then tells which of those values differ from the counterpart's current row, so only
 * changed fields are written and a row with no change is not written at all.
 *
 * <p>On the CRM side a lookup is written as {@code <field>@odata.bind: "/<set>(<id>)"} and read back as
 * {@code _<field>_value}; on the ERP side it is the referenced record's key.
 */
public final class RecordMapper {

  /** Resolves references through the couplings of another mapping. */
  public interface Lookups {
    /**
     * @param mapping the mapping that owns the referenced records
     * @param flow the direction data flows in
     * @param sourceKey the reference as the source row holds it
     * @return the counterpart's key on the destination side, or null when the reference is not coupled
     */
    String resolve(String mapping, Direction flow, String sourceKey);
  }

  /**
   * The result of mapping one row.
   *
   * @param values destination field to value
   * @param error the first failure (TRANSFORM or LOOKUP), or null
   */
  public record Mapped(Map<String, Object> values, TandemException error) {}

  private final MappingDefinition definition;
  private final Set<String> disabledFields;
  private final Function<String, MappingDefinition> mappings;

  /**
   * @param definition the mapping
   * @param disabledFields fields switched off (ERP or CRM field names), e.g. by an operator or an absent optional
   *     dependency
   * @param mappings finds another mapping's definition by name (for lookups), null when not installed
   */
  public RecordMapper(MappingDefinition definition, Set<String> disabledFields,
      Function<String, MappingDefinition> mappings) {
    this.definition = definition;
    // A HashSet: immutable sets refuse contains(null), and constants have no source field.
    this.disabledFields = new HashSet<>(disabledFields);
    this.mappings = mappings;
  }

  /**
   * @param flow TO_CRM or FROM_CRM
   * @return the enabled field mappings that carry data in that direction
   */
  public List<FieldMapping> fields(Direction flow) {
    List<FieldMapping> out = new ArrayList<>();
    for (FieldMapping f : definition.fields()) {
      if (f.enabled() && f.direction().includes(flow) && !disabledFields.contains(f.erpField())
          && !disabledFields.contains(f.crmField())
          && (f.lookupMapping() == null || mappings.apply(f.lookupMapping()) != null)) {
        out.add(f);
      }
    }
    return out;
  }

  /**
   * The references a page of source rows holds, per lookup mapping, so the caller resolves them in one query each.
   *
   * @param flow direction
   * @param rows the page
   * @return lookup mapping name to the source keys referenced
   */
  public Map<String, Set<String>> references(Direction flow, List<JsonObject> rows) {
    Map<String, Set<String>> out = new HashMap<>();
    for (FieldMapping f : fields(flow)) {
      if (f.lookupMapping() == null) {
        continue;
      }
      for (JsonObject row : rows) {
        Object v;
        try {
          v = transformed(f, f.isConstant() ? f.constant() : sourceValue(f, flow, row));
        } catch (RuntimeException e) {
          continue; // map() reports it for the record
        }
        if (v != null && !"".equals(v)) {
          out.computeIfAbsent(f.lookupMapping(), k -> new HashSet<>()).add(String.valueOf(v));
        }
      }
    }
    return out;
  }

  /**
   * @param flow direction
   * @param source the source row
   * @param lookups resolves references
   * @return the values for the destination, or the first error naming the record, field and missing reference
   */
  public Mapped map(Direction flow, JsonObject source, Lookups lookups) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (FieldMapping f : fields(flow)) {
      String dest = flow == Direction.TO_CRM ? f.crmField() : f.erpField();
      if (dest == null) {
        continue;
      }
      Object v = f.isConstant() ? f.constant() : sourceValue(f, flow, source);
      try {
        v = transformed(f, v);
      } catch (RuntimeException e) {
        return new Mapped(values, TandemException.data(Stage.TRANSFORM, describe(flow, source) + ": transformation of "
            + fieldName(f, flow) + " failed: " + e.getMessage()));
      }
      // A constant reference (the price list's local currency) resolves like a source value.
      if (f.lookupMapping() != null) {
        if (v == null || "".equals(v)) {
          values.put(lookupTarget(f, flow), null);
          continue;
        }
        if (optionLookup(f)) {
          // Through an option-set mapping: the CRM column holds the option's value itself, not a reference.
          String target = lookups.resolve(f.lookupMapping(), flow, String.valueOf(v));
          if (target == null && !f.clearOnFailedLookup()) {
            return new Mapped(values, TandemException.data(Stage.LOOKUP, describe(flow, source) + ": "
                + fieldName(f, flow) + " '" + v + "' has no option in " + f.crmField() + ": synchronize "
                + f.lookupMapping() + " first, which adds it"));
          }
          values.put(flow == Direction.TO_CRM ? f.crmField() : f.erpField(),
              target == null ? null : flow == Direction.TO_CRM ? Integer.valueOf(target) : target);
          continue;
        }
        String target = lookups.resolve(f.lookupMapping(), flow, String.valueOf(v));
        if (target == null) {
          if (f.clearOnFailedLookup()) {
            values.put(lookupTarget(f, flow), null);
            continue;
          }
          return new Mapped(values, TandemException.data(Stage.LOOKUP, describe(flow, source) + ": "
              + fieldName(f, flow) + " refers to " + v + ", which is not coupled in mapping " + f.lookupMapping()
              + ": couple or synchronize " + f.lookupMapping() + " first"));
        }
        values.put(lookupTarget(f, flow), flow == Direction.TO_CRM ? "/" + targetSet(f) + "(" + target + ")" : target);
        continue;
      }
      values.put(dest, v);
    }
    for (OptionMapping o : definition.options()) {
      if (o.direction() != flow || disabledFields.contains(o.erpField()) || disabledFields.contains(o.crmField())) {
        continue;
      }
      if (flow == Direction.TO_CRM) {
        Object code = source.getValue(o.erpField());
        if (code == null || "".equals(code)) {
          values.put(o.crmField(), null);
          continue;
        }
        Integer option = o.values().get(String.valueOf(code));
        if (option == null) {
          return new Mapped(values, TandemException.data(Stage.TRANSFORM, describe(flow, source) + ": "
              + o.erpField() + " '" + code + "' has no option mapping to " + o.crmField() + " (known: "
              + o.values().keySet() + ")"));
        }
        values.put(o.crmField(), option);
      } else {
        Object option = source.getValue(o.crmField());
        String code = null;
        for (Map.Entry<String, Integer> e : o.values().entrySet()) {
          if (option != null && e.getValue().equals(((Number) option).intValue())) {
            code = e.getKey();
          }
        }
        if (option != null && code == null) {
          return new Mapped(values, TandemException.data(Stage.TRANSFORM, describe(flow, source) + ": "
              + o.crmField() + " " + option + " has no option mapping to " + o.erpField()));
        }
        values.put(o.erpField(), code == null ? "" : code);
      }
    }
    return new Mapped(values, null);
  }

  /**
   * The values that differ from the counterpart's current row; lookups compare by id.
   *
   * @param flow direction
   * @param desired from {@link #map}
   * @param current the destination row as read, or null for a new record
   * @return only what must be written; empty when nothing changed
   */
  public static Map<String, Object> changes(Direction flow, Map<String, Object> desired, JsonObject current) {
    if (current == null) {
      return desired;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : desired.entrySet()) {
      String field = e.getKey();
      Object want = e.getValue();
      Object have;
      if (field.endsWith("@odata.bind")) {
        have = current.getValue(valueColumn(field.substring(0, field.length() - "@odata.bind".length())));
        want = want == null ? null : idOf((String) want);
      } else {
        have = current.getValue(field);
      }
      if (!same(want, have)) {
        out.put(field, e.getValue());
      }
    }
    return out;
  }

  /** Null and empty text are the same value (the ERP has no null text); numbers compare by value. */
  static boolean same(Object a, Object b) {
    Object x = "".equals(a) ? null : a;
    Object y = "".equals(b) ? null : b;
    if (x == null || y == null) {
      return x == y;
    }
    if (x instanceof Number || y instanceof Number) {
      try {
        return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString())) == 0;
      } catch (NumberFormatException notANumber) {
        return false;
      }
    }
    if (x instanceof String s && y instanceof String t && s.length() == 36 && t.length() == 36) {
      return s.equalsIgnoreCase(t);
    }
    return Objects.equals(x, y);
  }

  /**
   * @param navigation a lookup's navigation property, e.g. {@code ownerid} or the polymorphic
   *     {@code parentcustomerid_account}
   * @return the column it reads back as, e.g. {@code _parentcustomerid_value}
   */
  public static String valueColumn(String navigation) {
    int underscore = navigation.indexOf('_');
    return "_" + (underscore > 0 ? navigation.substring(0, underscore) : navigation) + "_value";
  }

  private static String idOf(String bind) {
    int open = bind.lastIndexOf('(');
    return open < 0 ? bind : bind.substring(open + 1, bind.length() - 1);
  }

  private static Object transformed(FieldMapping f, Object value) {
    Object v = value;
    for (Transformation t : f.transformations()) {
      v = t.apply(v);
    }
    return v;
  }

  private Object sourceValue(FieldMapping f, Direction flow, JsonObject row) {
    if (flow == Direction.TO_CRM) {
      return row.getValue(f.erpField());
    }
    return f.lookupMapping() != null && !optionLookup(f) ? row.getValue(valueColumn(f.crmField()))
        : row.getValue(f.crmField());
  }

  /** @return whether the field looks its value up through a mapping whose CRM side is an option set */
  private boolean optionLookup(FieldMapping f) {
    MappingDefinition m = f.lookupMapping() == null ? null : mappings.apply(f.lookupMapping());
    return m != null && m.isOptionSet();
  }

  private String lookupTarget(FieldMapping f, Direction flow) {
    if (flow == Direction.TO_CRM) {
      return optionLookup(f) ? f.crmField() : f.crmField() + "@odata.bind";
    }
    return f.erpField();
  }

  private String targetSet(FieldMapping f) {
    return mappings.apply(f.lookupMapping()).crmEntitySet();
  }

  private static String fieldName(FieldMapping f, Direction flow) {
    String name = flow == Direction.TO_CRM ? f.erpField() : f.crmField();
    if (name == null) {
      return "the constant of " + (flow == Direction.TO_CRM ? f.crmField() : f.erpField());
    }
    return name;
  }

  private String describe(Direction flow, JsonObject source) {
    return flow == Direction.TO_CRM
        ? "ERP " + definition.erpEntitySet() + " " + source.getValue(definition.erpKey())
        : "CRM " + definition.crmEntitySet() + " " + source.getValue(definition.crmKey());
  }
}
