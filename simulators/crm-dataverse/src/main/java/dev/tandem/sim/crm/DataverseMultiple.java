package dev.tandem.sim.crm;

import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import dev.tandem.sim.crm.DataverseSimulator.DvError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code CreateMultiple}, {@code UpdateMultiple} and {@code UpsertMultiple}: one transaction for all targets; on a
 * standard table any error rolls the whole call back.
 */
final class DataverseMultiple {

  private DataverseMultiple() {}

  static SimResponse handle(DataverseSimulator sim, Entity e, String action, Map<String, Object> body, String user) {
    if (e.set().equals("uoms")) {
      // The uom table lists Create, Retrieve, Update and Delete only: no *Multiple message is bound to it.
      return DataverseSimulator.error(404, "0x80060888", "Resource not found for the segment 'Microsoft.Dynamics.CRM."
          + action + "'.");
    }
    if (!(body.get("Targets") instanceof List<?> targets)) {
      return DataverseSimulator.error(400, "0x80048d19", action + " needs a 'Targets' array.");
    }
    // "You must specify the @odata.type annotation with every item in the Targets parameter" (UpsertMultiple,
    // CreateMultiple, UpdateMultiple action references). The error's code is modelled, not documented.
    String type = "Microsoft.Dynamics.CRM." + e.logical();
    for (int i = 0; i < targets.size(); i++) {
      Object t = targets.get(i);
      Object given = t instanceof Map<?, ?> m ? m.get("@odata.type") : null;
      if (!type.equals(given)) {
        return DataverseSimulator.error(400, "0x80048d19", action + ": item " + i + " of Targets must carry "
            + "\"@odata.type\": \"" + type + "\"" + (given == null ? "" : ", not \"" + given + "\"") + ".");
      }
    }
    if (targets.size() > 1000) {
      return DataverseSimulator.error(400, "0x80048d19", action + " accepts at most 1000 targets, got "
          + targets.size() + ".");
    }
    List<String> ids = new ArrayList<>();
    DataverseCosts.Meter.multiple(true);
    try {
      sim.store().write(() -> {
        for (int i = 0; i < targets.size(); i++) {
          @SuppressWarnings("unchecked")
          Map<String, Object> t = new LinkedHashMap<>((Map<String, Object>) targets.get(i));
          String ref = (String) t.remove("@odata.id");
          String key = ref != null ? keyOf(sim, e, ref)
              : t.get(e.key()) != null ? String.valueOf(t.get(e.key())).toLowerCase(java.util.Locale.ROOT) : null;
          Map<String, Object> current = key == null ? null : sim.store().table(e.set()).get(key);
          sim.charge(action.equals("CreateMultiple") ? DataverseCosts.Op.CREATE
              : action.equals("UpdateMultiple") ? DataverseCosts.Op.UPDATE : DataverseCosts.Op.UPSERT, null);
          switch (action) {
            case "CreateMultiple" -> ids.add((String) sim.records().insert(e, t, user, null).get(e.key()));
            case "UpdateMultiple" -> {
              if (current == null) {
                throw new DvError(sim.records().notFound(e, key == null ? String.valueOf(ref) : key));
              }
              ids.add((String) sim.records().update(e, current, t, user).get(e.key()));
            }
            case "UpsertMultiple" -> {
              if (current != null) {
                ids.add((String) sim.records().update(e, current, t, user).get(e.key()));
              } else {
                if (ref != null && key == null) {
                  addAlternateKey(ref, t);
                }
                ids.add((String) sim.records().insert(e, t, user, key).get(e.key()));
              }
            }
            default -> throw new DvError(DataverseSimulator.error(404, "0x80060888",
                "Resource not found for the segment 'Microsoft.Dynamics.CRM." + action + "'."));
          }
        }
        return null;
      });
    } catch (DvError err) {
      return err.response();
    } finally {
      DataverseCosts.Meter.multiple(false);
    }
    if (action.equals("CreateMultiple")) {
      return SimResponse.json(200, Map.of("@odata.context", sim.apiUrl()
          + "/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse", "Ids", ids));
    }
    return SimResponse.empty(204);
  }

  /** The key of {@code accounts(<guid>)} or {@code accounts(accountnumber='C1')}, null when no such row. */
  private static String keyOf(DataverseSimulator sim, Entity e, String ref) {
    String r = ref.substring(ref.lastIndexOf('/') + 1);
    int open = r.indexOf('(');
    if (open < 0 || !r.endsWith(")")) {
      throw new DvError(DataverseSimulator.error(400, "0x80048d19", "'" + ref + "' is not an entity reference."));
    }
    return sim.resolveKey(e, r.substring(open + 1, r.length() - 1));
  }

  private static void addAlternateKey(String ref, Map<String, Object> t) {
    String seg = ref.substring(ref.indexOf('(') + 1, ref.length() - 1);
    int eq = seg.indexOf('=');
    if (eq > 0) {
      String v = seg.substring(eq + 1).trim();
      t.putIfAbsent(seg.substring(0, eq).trim(), v.startsWith("'") ? v.substring(1, v.length() - 1).replace("''", "'") : v);
    }
  }
}
