package dev.tandem.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * The runtime's field-mapping engine for one mapping as the operator configured it: field mappings, constants,
 * transformations, option mappings and lookups through other mappings' couplings, the same the generic engine uses.
 */
public interface FieldMapper {

  /**
   * One mapped row.
   *
   * @param values destination field to value (CRM lookups as {@code column@odata.bind}), as far as mapped
   * @param error the first failure (TRANSFORM, or LOOKUP naming the missing coupling and its mapping), or null
   */
  record Mapped(Map<String, Object> values, TandemException error) {
    /** @return whether the row mapped without error */
    public boolean ok() {
      return error == null;
    }
  }

  /**
   * Maps source rows to destination values, resolving every page's lookups with one query per referenced mapping.
   *
   * @param flow {@link Direction#TO_CRM} (ERP rows in) or {@link Direction#FROM_CRM} (CRM rows in)
   * @param rows source rows
   * @return one result per row, in order
   */
  Future<List<Mapped>> map(Direction flow, List<JsonObject> rows);

  /**
   * @param flow the direction
   * @param desired mapped values
   * @param current the destination's current row
   * @return the values that differ from the current row (empty: nothing to write)
   */
  Map<String, Object> changes(Direction flow, Map<String, Object> desired, JsonObject current);
}
