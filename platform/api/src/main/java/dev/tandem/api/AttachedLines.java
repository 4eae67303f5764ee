package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The writes of a header's attached lines ({@link HeaderLinesTask#attachedLines}): ERP lines without a CRM row of
 * their own that follow a mapped line (BC's comment lines carrying the rest of a long description). Kept apart from
 * the task's own line writes so that a task that attaches nothing writes exactly what it wrote before.
 */
final class AttachedLines {

  private AttachedLines() {}

  /**
   * @param task the task (its {@link HeaderLinesTask#attachedLines} and {@link HeaderLinesTask#attachedTo})
   * @param child the lines
   * @param crmLines the header's CRM lines
   * @param mapped their mapped values, in the same order
   * @param lineKeys their ERP keys, in the same order
   * @param current the ERP's lines of the header by key
   * @param coupled ERP keys of the lines coupled to CRM lines, before and after this write
   * @param removed ERP keys of coupled lines this change set deletes
   * @return creates of the attached lines missing, updates of those that differ, deletes of those no longer wanted
   */
  static List<ErpWrite> writes(HeaderLinesTask task, ChildMapping child, List<JsonObject> crmLines,
      List<FieldMapper.Mapped> mapped, List<ErpKey> lineKeys, Map<ErpKey, JsonObject> current, Set<ErpKey> coupled,
      List<ErpKey> removed) {
    MappingDefinition lines = child.lines();
    Map<ErpKey, JsonObject> wanted = new LinkedHashMap<>();
    for (int i = 0; i < crmLines.size(); i++) {
      for (JsonObject body : task.attachedLines(child, lineKeys.get(i), crmLines.get(i), mapped.get(i).values())) {
        wanted.put(lines.erpKeyOf(body), body);
      }
    }
    List<ErpWrite> out = new ArrayList<>();
    Set<ErpKey> gone = new HashSet<>(removed);
    for (Map.Entry<ErpKey, JsonObject> e : current.entrySet()) {
      if (wanted.containsKey(e.getKey()) || coupled.contains(e.getKey())) {
        continue;
      }
      ErpKey parent = task.attachedTo(child, e.getValue());
      // A line deleted in this change set takes its attached lines with it (BC's Sales Line OnDelete).
      if (parent != null && !(gone.contains(parent) && current.containsKey(parent))) {
        out.add(ErpWrite.delete(lines.erpEntitySet(), e.getKey(), e.getValue().getString("@odata.etag")));
      }
    }
    for (Map.Entry<ErpKey, JsonObject> e : wanted.entrySet()) {
      JsonObject cur = current.get(e.getKey());
      if (cur == null) {
        out.add(ErpWrite.create(lines.erpEntitySet(), e.getValue()));
        continue;
      }
      JsonObject changes = new JsonObject();
      for (String f : e.getValue().fieldNames()) {
        if (!e.getKey().fields().contains(f) && !same(e.getValue().getValue(f), cur.getValue(f))) {
          changes.put(f, e.getValue().getValue(f));
        }
      }
      if (!changes.isEmpty()) {
        out.add(ErpWrite.update(lines.erpEntitySet(), e.getKey(), cur.getString("@odata.etag"), changes));
      }
    }
    return out;
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString())) == 0;
    }
    return Objects.equals(a == null ? "" : a.toString(), b == null ? "" : b.toString());
  }
}
