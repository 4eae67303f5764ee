package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Bidirectional conflicts: both sides of a coupled record changed since the last synchronization and a
 * bidirectional field differs. Changes to one-way fields are never conflicts.
 */
final class Conflicts {

  private Conflicts() {}

  /**
   * @param def the effective mapping
   * @param flow the direction being written
   * @param changes the destination fields that would change
   * @return the destination names of the bidirectional fields among them
   */
  static List<String> bidirectional(MappingDefinition def, Direction flow, Map<String, Object> changes) {
    List<String> out = new ArrayList<>();
    for (String field : changes.keySet()) {
      String name = field.endsWith("@odata.bind") ? field.substring(0, field.length() - "@odata.bind".length()) : field;
      for (FieldMapping f : def.fields()) {
        String dest = flow == Direction.TO_CRM ? f.crmField() : f.erpField();
        if (name.equals(dest) && f.direction() == Direction.BIDIRECTIONAL) {
          out.add(field);
        }
      }
    }
    return out;
  }

  static String message(MappingDefinition def, String erpKey, String crmKey, List<String> fields) {
    return "[WRITE] conflict: ERP " + def.erpEntitySet() + " " + erpKey + " and CRM " + def.crmEntitySet() + " " + crmKey
        + " both changed since the last synchronization and differ in " + String.join(", ", fields)
        + "; mapping " + def.name() + " has conflict policy NONE: set ERP_WINS or CRM_WINS "
        + "(PATCH /api/v1/mappings/" + def.name() + ") or make the two sides agree";
  }
}
