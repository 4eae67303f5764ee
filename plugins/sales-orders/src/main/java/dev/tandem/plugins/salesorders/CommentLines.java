package dev.tandem.plugins.salesorders;

import dev.tandem.api.ErpKey;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CRM line description longer than the ERP's Description (Text[100]) as the reference writes it: the line keeps
 * the first 100 characters and the rest follows in comment lines (Type ' ') of 100 characters each, attached to the
 * line ("Attached to Line No."), as codeunit "CRM Sales Order to Sales Order" does in CreateExtendedDescriptionOrder
 * Lines. The comment lines are numbered right after their line (its Line No. + 1, + 2, …), between it and the next
 * CRM line (10000 further), so they are found again by key when a change set's answer was lost.
 */
final class CommentLines {

  /** Sales Line Description is Text[100]. */
  static final int DESCRIPTION = 100;
  /** At most this many comment lines per line: 99 × 100 characters beyond the first 100 (the CRM allows 500). */
  static final int MAX = 99;

  private CommentLines() {}

  /**
   * @param lineKey the line's ERP key ({@code Document_Type, Document_No, Line_No})
   * @param crmLine the CRM order product
   * @return the comment lines its description needs beyond the first 100 characters, empty when it fits
   */
  static List<JsonObject> of(ErpKey lineKey, JsonObject crmLine) {
    String text = crmLine.getString("productdescription");
    List<JsonObject> out = new ArrayList<>();
    if (text == null || text.length() <= DESCRIPTION) {
      return out;
    }
    long lineNo = ((Number) lineKey.values().get("Line_No")).longValue();
    for (int from = DESCRIPTION, n = 1; from < text.length() && n <= MAX; from += DESCRIPTION, n++) {
      Map<String, Object> body = new LinkedHashMap<>(lineKey.values());
      body.put("Line_No", lineNo + n);
      body.put("Type", " ");
      body.put("Description", text.substring(from, Math.min(text.length(), from + DESCRIPTION)));
      body.put("Attached_to_Line_No", lineNo);
      out.add(new JsonObject(body));
    }
    return out;
  }

  /**
   * @param erpLine an ERP line no CRM line is coupled to
   * @return the key of the line it is a comment of, or null for a line Tandem did not write (a person's line: kept)
   */
  static ErpKey parentOf(JsonObject erpLine) {
    if (!" ".equals(erpLine.getString("Type")) && !"".equals(erpLine.getString("Type"))) {
      return null;
    }
    Object parent = erpLine.getValue("Attached_to_Line_No");
    Object no = erpLine.getValue("Line_No");
    if (!(parent instanceof Number p) || !(no instanceof Number n) || p.longValue() == 0
        || n.longValue() <= p.longValue() || n.longValue() > p.longValue() + MAX) {
      return null;
    }
    Map<String, Object> key = new LinkedHashMap<>();
    key.put("Document_Type", erpLine.getString("Document_Type"));
    key.put("Document_No", erpLine.getString("Document_No"));
    key.put("Line_No", p.longValue());
    return ErpKey.of(key);
  }
}
