package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class KeysetPagingTest {

  private final KeysetPaging paging = new KeysetPaging("modifiedon", "salesorderid");

  @Test
  void ordersByModifiedOnThenTheKey() {
    assertEquals("modifiedon asc,salesorderid asc", paging.orderBy());
  }

  @Test
  void thePageAfterStartsAfterTheLastRowsStampAndKey() {
    JsonObject last = new JsonObject().put("modifiedon", "2026-12-07T23:05:09Z")
        .put("salesorderid", "0A1B2C3D-0000-4000-8000-00000000000F");
    assertEquals("(modifiedon gt 2026-12-07T23:05:09Z or (modifiedon eq 2026-12-07T23:05:09Z and salesorderid gt "
        + "0a1b2c3d-0000-4000-8000-00000000000f))", paging.after(last));
    assertEquals("(statecode eq 1) and " + paging.after(last), paging.filter("statecode eq 1", last));
    assertEquals("statecode eq 1", paging.filter("statecode eq 1", null));
    assertEquals(paging.after(last), paging.filter(null, last));
    assertEquals(null, paging.filter(" ", null));
  }

  @Test
  void aRowWithoutItsColumnsOrAKeyThatIsNoGuidIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> paging.after(new JsonObject().put("modifiedon",
        "2026-12-07T23:05:09Z")));
    assertThrows(IllegalArgumentException.class, () -> paging.after(new JsonObject().put("modifiedon",
        "2026-12-07T23:05:09Z").put("salesorderid", "x' or 1 eq 1")));
    assertThrows(IllegalArgumentException.class, () -> new KeysetPaging("modifiedon", " "));
  }
}
