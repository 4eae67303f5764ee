package dev.tandem.runtime.coupling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tandem.api.MatchField;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MatchIndexTest {

  private static final List<MatchField> FIELDS = List.of(MatchField.of("Name", "name", 1),
      MatchField.of("City", "city", 1), new MatchField("E_Mail", "email", 2, true));

  private static Map<String, MatchIndex.Result> byKey(List<MatchIndex.Result> results) {
    Map<String, MatchIndex.Result> out = new HashMap<>();
    results.forEach(r -> out.put(r.sourceKey(), r));
    return out;
  }

  private static JsonObject erp(String name, String city, String mail) {
    return new JsonObject().put("Name", name).put("City", city).put("E_Mail", mail);
  }

  private static JsonObject crm(String name, String city, String mail) {
    return new JsonObject().put("name", name).put("city", city).put("email", mail);
  }

  @Test
  void priorityOneThenTwoCaseInsensitiveByDefaultEmptyValuesNeverMatch() {
    MatchIndex index = new MatchIndex(FIELDS, true, "CRM accounts records", Set.of());
    index.addCandidate("a1", crm("ACME", "Lyon", "x@acme.example"));
    index.addCandidate("a2", crm("Other", "Paris", "Info@Beta.example"));
    index.addCandidate("a3", crm("", "", "nobody@x.example"));
    index.addCandidate("a4", crm("Gamma", "", null));
    index.match("C1", erp(" acme ", "LYON", null));
    index.match("C2", erp("Beta", "Paris", "Info@Beta.example"));
    index.match("C3", erp("Beta", "Paris", "info@beta.example"));
    index.match("C4", erp("Gamma", "", ""));
    index.match("C5", erp(null, null, null));
    Map<String, MatchIndex.Result> r = byKey(index.resolve());
    assertEquals(new MatchIndex.Result("C1", MatchIndex.Kind.MATCHED, "a1", null), r.get("C1"));
    assertEquals("a2", r.get("C2").targetKey(), "priority 2 when priority 1 finds none");
    assertEquals(MatchIndex.Kind.NO_MATCH, r.get("C3").kind(), "E_Mail is case-sensitive");
    assertEquals("no uncoupled CRM accounts records match on Name+City (priority 1), then E_Mail (priority 2)",
        r.get("C3").reason());
    assertEquals(MatchIndex.Kind.NO_MATCH, r.get("C4").kind(), "an empty city never matches an empty city");
    assertEquals("no match field has a value (Name, City, E_Mail)", r.get("C5").reason());
    assertEquals(4, index.candidates());
  }

  @Test
  void severalCandidatesOrOneCandidateForSeveralRecordsCoupleNothing() {
    MatchIndex index = new MatchIndex(FIELDS, true, "CRM accounts records", Set.of("name"));
    index.addCandidate("a1", crm("Twin", "Oslo", null));
    index.addCandidate("a2", crm("Twin", "Oslo", null));
    index.addCandidate("a3", crm("Solo", "Rome", null));
    index.addCandidate("a4", crm("solo", "Rome", null));
    index.match("C1", erp("Twin", "Oslo", null));
    index.match("C2", erp("Solo", "Rome", null));
    index.match("C3", erp("Solo", "ROME", null));
    Map<String, MatchIndex.Result> r = byKey(index.resolve());
    assertEquals("2 uncoupled CRM accounts records match on Name+City (priority 1): a1, a2", r.get("C1").reason());
    assertEquals(MatchIndex.Kind.AMBIGUOUS, r.get("C2").kind());
    assertEquals("the only match on priority 1, a3, matches 1 other record too: C3", r.get("C2").reason());
    assertEquals(MatchIndex.Kind.AMBIGUOUS, r.get("C3").kind(), "one-to-one both ways");
  }

  @Test
  void drivenByTheCrmReadsTheOtherFieldsAndNeedsMatchFields() {
    MatchIndex index = new MatchIndex(FIELDS, false, "ERP Customer records", Set.of());
    index.addCandidate("C1", erp("Acme", "Lyon", null));
    index.match("a1", crm("ACME", "lyon", null));
    assertEquals(List.of("name", "city", "email"), index.drivingFields());
    assertEquals("C1", index.resolve().get(0).targetKey());
    assertThrows(IllegalArgumentException.class, () -> new MatchIndex(List.of(), true, "x", Set.of()));
  }
}
