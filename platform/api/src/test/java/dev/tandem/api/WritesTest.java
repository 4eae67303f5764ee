package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class WritesTest {

  @Test
  void updatesAndDeletesNeedAKeyAndAnEtag() {
    assertThrows(IllegalArgumentException.class, () -> new ErpWrite("PATCH", "SalesOrder", null, "*", null));
    assertThrows(IllegalArgumentException.class,
        () -> ErpWrite.delete("SalesOrder", ErpKey.of("No", "1"), null));
    assertThrows(IllegalArgumentException.class, () -> new ErpWrite("PUT", "SalesOrder", null, null, null));
    assertEquals("POST", ErpWrite.create("SalesOrder", new JsonObject()).method());
  }

  @Test
  void crmWritesAddressTheRecord() {
    assertEquals("salesorders(abc)", CrmWrite.update("salesorders", "abc", new JsonObject()).path());
    assertEquals("DELETE", CrmWrite.delete("salesorderdetails", "abc").method());
    assertThrows(IllegalArgumentException.class, () -> new CrmWrite("GET", "x", null));
  }

  @Test
  void aDeletionOnAChangeTrackingPageIsTold() {
    assertTrue(RecordPage.deleted(new JsonObject()
        .put("@odata.context", "https://org/api/data/v9.2/$metadata#salesorderdetails/$deletedEntity").put("id", "1")));
    assertFalse(RecordPage.deleted(new JsonObject().put("salesorderdetailid", "1")));
  }

  @Test
  void aRecordErrorNamesARecord() {
    assertThrows(IllegalArgumentException.class,
        () -> new RecordError(Direction.FROM_CRM, null, null, ErrorKind.DATA, Stage.WRITE, "x"));
    RecordError e = RecordError.of(Direction.FROM_CRM, null, "id", TandemException.data(Stage.LOOKUP, "no coupling"));
    assertEquals(Stage.LOOKUP, e.stage());
    assertEquals(ErrorKind.DATA, e.kind());
  }

  @Test
  void crmLiteralsAreEscapedForAQuery() {
    assertEquals("'O''NEIL %26 CO %237'", CrmConnector.literal("O'NEIL & CO #7"));
  }
}
