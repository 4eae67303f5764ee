package dev.tandem.plugins.salesorders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tandem.api.ErpKey;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A long description's comment lines, and which ERP lines are Tandem's comment lines. */
class CommentLinesTest {

  private static ErpKey line(long no) {
    Map<String, Object> k = new LinkedHashMap<>();
    k.put("Document_Type", "Order");
    k.put("Document_No", "SO1");
    k.put("Line_No", no);
    return ErpKey.of(k);
  }

  @Test
  void theRestOfALongDescriptionFollowsInPiecesOfAHundred() {
    String text = "a".repeat(100) + "b".repeat(100) + "c".repeat(1);
    List<JsonObject> lines = CommentLines.of(line(20000), new JsonObject().put("productdescription", text));
    assertEquals(2, lines.size());
    assertEquals(20001L, lines.get(0).getLong("Line_No"));
    assertEquals("b".repeat(100), lines.get(0).getString("Description"));
    assertEquals("c", lines.get(1).getString("Description"));
    assertEquals(" ", lines.get(1).getString("Type"));
    assertEquals(20000L, lines.get(1).getLong("Attached_to_Line_No"));
    assertEquals(List.of(), CommentLines.of(line(10000), new JsonObject().put("productdescription", "a".repeat(100))));
    assertEquals(List.of(), CommentLines.of(line(10000), new JsonObject()));
  }

  @Test
  void onlyCommentLinesRightAfterTheirLineAreTandems() {
    JsonObject comment = new JsonObject().put("Document_Type", "Order").put("Document_No", "SO1").put("Line_No", 20002)
        .put("Type", " ").put("Attached_to_Line_No", 20000);
    assertEquals(line(20000), CommentLines.parentOf(comment));
    assertNull(CommentLines.parentOf(comment.copy().put("Line_No", 25000)), "a person's line between two lines");
    assertNull(CommentLines.parentOf(comment.copy().put("Attached_to_Line_No", 0)), "not attached");
    assertNull(CommentLines.parentOf(comment.copy().put("Type", "Item")), "an item line");
  }
}
