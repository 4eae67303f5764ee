package dev.tandem.runtime.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every OData literal and key of both connectors comes from one encoder; crafted values cannot change a query. */
class ODataLiteralsTest {

  private static final String ID = "5d4e7c1a-0000-4000-8000-00000000000a";

  @Test
  void stringLiteralsDoubleTheirQuotes() {
    assertEquals("'O''Brien'", ODataLiterals.string("O'Brien"));
    // An attempt to close the literal and add a condition stays inside the literal.
    assertEquals("'x'' or Name ne ''y'", ODataLiterals.string("x' or Name ne 'y"));
    assertEquals("(No eq 'C1' or No eq 'x'') or (No ne ''')", ODataLiterals.anyOf("No", List.of("C1",
        "x') or (No ne '"), false));
  }

  @Test
  void guidsAreCheckedAndNothingElsePasses() {
    assertEquals(ID, ODataLiterals.guid(ID.toUpperCase()));
    for (String crafted : List.of(ID + " or accountid ne null", ID + ")", "1 eq 1", "", ID + "%20or%20name",
        "5d4e7c1a-0000-4000-8000-00000000000g")) {
      assertFalse(ODataLiterals.isGuid(crafted), crafted);
      assertThrows(IllegalArgumentException.class, () -> ODataLiterals.guid(crafted), crafted);
    }
    assertThrows(IllegalArgumentException.class, () -> ODataLiterals.anyOf("accountid", List.of(ID,
        ID + " or statecode eq 1"), true));
    assertEquals("(accountid eq " + ID + ")", ODataLiterals.anyOf("accountid", List.of(ID), true));
  }

  @Test
  void keysNumbersAndDatesAreEncoded() {
    assertEquals("'A%2F100'", ODataLiterals.key("'A/100'"));
    assertEquals("'R%26D'", ODataLiterals.key("'R&D'"));
    assertEquals("'70000%2B1'", ODataLiterals.key("'70000+1'"));
    assertEquals("'a%20b%3Fc%23d%25'", ODataLiterals.key("'a b?c#d%'"));
    assertEquals("isocurrencycode='EUR'", ODataLiterals.alternateKey("isocurrencycode", "EUR"));
    assertEquals("accountnumber='O''Hara%2F1'", ODataLiterals.alternateKey("accountnumber", "O'Hara/1"));
    assertEquals("code=42", ODataLiterals.alternateKey("code", 42));
    assertEquals("true", ODataLiterals.value(true));
    assertEquals("1.5", ODataLiterals.value(1.5));
    assertEquals("'1.5'", ODataLiterals.value("1.5"));
    assertEquals("2024-08-18T20:05:51.603Z", ODataLiterals.dateTime(Instant.parse("2024-08-18T20:05:51.603917Z")));
    assertEquals("name%20eq%20%27a%26b%27", ODataLiterals.query("name eq 'a&b'"));
    assertTrue(ODataLiterals.query("$filter=x").startsWith("%24"));
  }
}
