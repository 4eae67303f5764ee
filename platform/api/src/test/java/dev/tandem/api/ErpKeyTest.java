package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErpKeyTest {

  private static ErpKey line(String doc, long no) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Document_Type", "Order");
    m.put("Document_No", doc);
    m.put("Line_No", no);
    return ErpKey.of(m);
  }

  @Test
  void aOneFieldKeyKeepsTheBareValueCouplingsAlwaysStored() {
    ErpKey k = ErpKey.of("No", "10000");
    assertEquals("10000", k.toString());
    assertEquals("'10000'", k.segment());
    assertEquals(k, ErpKey.parse(List.of("No"), "10000"));
    assertFalse(k.composite());
  }

  @Test
  void aCompositeKeyIsItsSegmentWithQuotesDoubledAndNumbersBare() {
    ErpKey k = line("O'NEIL & CO #7", 10000);
    assertEquals("Document_Type='Order',Document_No='O''NEIL & CO #7',Line_No=10000", k.segment());
    assertEquals(k.segment(), k.toString());
    assertEquals("Document_Type eq 'Order' and Document_No eq 'O''NEIL & CO #7' and Line_No eq 10000", k.filter());
    assertTrue(k.composite());
  }

  @Test
  void theCanonicalFormReadsBack() {
    List<String> fields = List.of("Document_Type", "Document_No", "Line_No");
    for (String doc : List.of("1001", "O'NEIL", "a,b=c", "''", "x'", ",")) {
      ErpKey k = line(doc, 20000);
      assertEquals(k, ErpKey.parse(fields, k.toString()), doc);
      assertEquals(doc, ErpKey.parse(fields, k.toString()).get("Document_No"));
    }
  }

  @Test
  void parsingRefusesOtherFieldsOrBadQuotes() {
    List<String> fields = List.of("Document_Type", "No");
    assertThrows(IllegalArgumentException.class, () -> ErpKey.parse(fields, "Document_Type='Order'"));
    assertThrows(IllegalArgumentException.class, () -> ErpKey.parse(fields, "No='1',Document_Type='Order'"));
    assertThrows(IllegalArgumentException.class, () -> ErpKey.parse(fields, "Document_Type='Order,No='1'"));
    assertThrows(IllegalArgumentException.class, () -> ErpKey.parse(fields, "Document_Type=Order,No='1'"));
  }

  @Test
  void aKeyFromARowTakesItsFieldsInOrder() {
    JsonObject row = new JsonObject().put("Line_No", 10000).put("Document_No", "SO1").put("Document_Type", "Order")
        .put("Description", "ignored");
    ErpKey k = ErpKey.from(List.of("Document_Type", "Document_No", "Line_No"), row);
    assertEquals(line("SO1", 10000), k, "an integer from JSON equals the long the key was built with");
    assertThrows(IllegalArgumentException.class, () -> ErpKey.from(List.of("No"), row));
  }

  @Test
  void valuesAreTextOrWholeNumbers() {
    assertThrows(IllegalArgumentException.class, () -> ErpKey.of(Map.of("Amount", 1.5)));
    assertThrows(IllegalArgumentException.class, () -> ErpKey.of(Map.of()));
  }

  @Test
  void manyKeysAreFewFiltersWithOrOnOneFieldOnly() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("Document_Type", "Order");
    a.put("No", "O'1");
    Map<String, Object> b = new LinkedHashMap<>(a);
    b.put("No", "2");
    Map<String, Object> c = new LinkedHashMap<>(a);
    c.put("Document_Type", "Quote");
    assertEquals(List.of("Document_Type eq 'Order' and (No eq 'O''1' or No eq '2')",
        "Document_Type eq 'Quote' and No eq 'O''1'"),
        ErpKey.filters(List.of(ErpKey.of(a), ErpKey.of(b), ErpKey.of(c), ErpKey.of(a))),
        "grouped by every field but the last; a key asked twice is one term");
    assertEquals(List.of("(No eq 'A' or No eq 'B')"),
        ErpKey.filters(List.of(ErpKey.of("No", "A"), ErpKey.of("No", "B"))));
    assertEquals(List.of(), ErpKey.filters(List.of()));
    assertThrows(IllegalArgumentException.class, () -> ErpKey.filters(List.of(ErpKey.of("No", "A"), ErpKey.of(a))));
  }
}
