package dev.tandem.sim.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ODataFilterTest {

  private static final Map<String, Object> ROW = Map.of("Name", "O'Brien Ltd.", "City", "Dublin", "Credit", 1500,
      "Blocked", false, "Id", "6f9619ff-8b86-d011-b42d-00c04fc964ff",
      "Modified", "2024-08-18T20:05:51.603Z");

  private static boolean test(String f) {
    return ODataFilter.parse(f, false).test(ROW);
  }

  @Test
  void comparisonsLogicAndFunctions() {
    assertTrue(test("Name eq 'O''Brien Ltd.'"));
    assertFalse(test("Name eq 'o''brien ltd.'"));
    assertTrue(ODataFilter.parse("Name eq 'o''brien ltd.'", true).test(ROW));
    assertTrue(test("Credit gt 1000 and Credit le 1500"));
    assertTrue(test("Credit lt 10 or City eq 'Dublin'"));
    assertTrue(test("not (City eq 'Cork')"));
    assertTrue(test("startswith(Name,'O''B') and endswith(City,'lin') and contains(Name,'Brien')"));
    assertTrue(test("contains(Name,'Brien') eq true"));
    assertTrue(test("Blocked eq false"));
    assertTrue(test("Id eq 6F9619FF-8B86-D011-B42D-00C04FC964FF"));
    assertTrue(test("Modified gt 2024-08-18T20:05:51.602Z"));
    assertFalse(test("Modified gt 2024-08-18T20:05:51.603Z"));
    assertTrue(test("Missing eq null"));
    assertTrue(test("1000 lt Credit"));
  }

  @Test
  void theTreeNamesTheFieldsOfAnOr() {
    ODataFilter f = ODataFilter.parse("No eq 'A' or City eq 'B'", false);
    assertEquals(Set.of("No", "City"), f.root().fields());
    assertTrue(f.root() instanceof ODataFilter.Or);
  }

  @Test
  void badFiltersSayWhere() {
    assertTrue(assertThrows(ODataQueryException.class, () -> ODataFilter.parse("Name eq", false)).getMessage()
        .contains("ends too early"));
    assertTrue(assertThrows(ODataQueryException.class, () -> ODataFilter.parse("Name is 'x'", false)).getMessage()
        .contains("expected a comparison"));
    assertTrue(assertThrows(ODataQueryException.class, () -> ODataFilter.parse("Name eq 'x", false)).getMessage()
        .contains("unterminated string"));
    assertThrows(ODataQueryException.class, () -> ODataFilter.parse("(Name eq 'x'", false));
  }

  @Test
  void inIsTheOrOfEqualsWhereTheServerAcceptsIt() {
    ODataFilter f = ODataFilter.parse("No in ('X', 'C1','o''b')", false, true);
    assertTrue(f.root() instanceof ODataFilter.Or, "parsed as the or of eqs");
    assertEquals(java.util.Set.of("No"), f.root().fields());
    assertEquals(ODataFilter.parse("No eq 'X' or No eq 'C1' or No eq 'o''b'", false).root(), f.root());
    assertTrue(ODataFilter.parse("No in (3, 4) and Name eq 'x'", false, true).root() instanceof ODataFilter.And);
    org.junit.jupiter.api.Assertions.assertThrows(ODataQueryException.class,
        () -> ODataFilter.parse("No in ('X')", false));
    org.junit.jupiter.api.Assertions.assertThrows(ODataQueryException.class,
        () -> ODataFilter.parse("No in ()", false, true));
  }
}
