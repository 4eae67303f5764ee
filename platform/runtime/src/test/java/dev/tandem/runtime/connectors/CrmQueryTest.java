package dev.tandem.runtime.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrmQueryTest {

  @Test
  void optionsAreEncodedAndJoinedInOrder() {
    assertEquals("accounts?$select=accountid%2Cname&$filter=statecode%20eq%200",
        CrmQuery.of("accounts").select(List.of("accountid", "name")).filter("statecode eq 0").toString());
    assertEquals("accounts?$filter=name%20eq%20%27O%27%27Neil%20%26%20Co%27",
        CrmQuery.of("accounts").select(List.of()).filter("name eq 'O''Neil & Co'").toString());
    assertEquals("contacts", CrmQuery.of("contacts").filter(null).filter(" ").toString());
  }

  @Test
  void orderAndTopFollowTheOtherOptions() {
    assertEquals("accounts?$select=modifiedon&$orderby=modifiedon%20desc&$top=1",
        CrmQuery.newest("accounts", "modifiedon").toString());
    assertEquals("accounts?$select=accountid&$filter=accountid%20gt%20x&$orderby=accountid",
        CrmQuery.of("accounts").select(List.of("accountid")).filter("accountid gt x").orderBy("accountid").toString());
  }
}
