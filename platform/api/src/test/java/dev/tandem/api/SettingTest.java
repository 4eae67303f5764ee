package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Declared settings: types, validation, unknown keys with the nearest declared one, secrets kept out of messages. */
class SettingTest {

  private static final Setting USER = Setting.string("availability.user").doc("web-service user");
  private static final Setting KEY = Setting.string("availability.accessKey").asSecret().doc("its key");
  private static final Setting SIZE = Setting.integer("pageSize").defaultValue(100).range(1, 500).doc("rows");
  private static final Setting ON = Setting.bool("enabled").defaultValue(true).doc("on");
  private static final List<Setting> ALL = List.of(USER, KEY, SIZE, ON);

  @Test
  void valuesAreConvertedByTheirTypeAndChecked() {
    assertEquals(42, SIZE.parse(" 42 ", "PAGE"));
    assertEquals(42, SIZE.parse(42L, "pageSize"));
    assertEquals(false, ON.parse("FALSE", "ENABLED"));
    assertEquals("pageSize = 0 is out of range [1, 500]",
        assertThrows(Setting.InvalidSettingException.class, () -> SIZE.parse(0, "pageSize")).getMessage());
    assertEquals("PAGE = 'ten' is not a whole number",
        assertThrows(IllegalArgumentException.class, () -> SIZE.parse("ten", "PAGE")).getMessage());
    assertEquals("pageSize = 2.5 is not a whole number",
        assertThrows(IllegalArgumentException.class, () -> SIZE.parse(2.5, "pageSize")).getMessage());
    assertEquals("enabled must be true or false, got 'yes'",
        assertThrows(IllegalArgumentException.class, () -> ON.parse("yes", "enabled")).getMessage());
    assertEquals("x = 'b' is not one of a, c",
        assertThrows(IllegalArgumentException.class, () -> Setting.string("x").oneOf("a", "c").parse("b", "x"))
            .getMessage());
  }

  @Test
  void aSecretIsDescribedNeverEchoed() {
    String m = assertThrows(IllegalArgumentException.class, () -> KEY.parse(123456789, "k")).getMessage();
    assertEquals("k must be a string, got a number", m);
    String shortOne = assertThrows(IllegalArgumentException.class,
        () -> Setting.string("t").asSecret().minLength(16).parse("hunter2", "t")).getMessage();
    assertFalse(shortOne.contains("hunter2"), shortOne);
    assertEquals("t is too short (7 characters): use at least 16", shortOne);
  }

  @Test
  void unknownKeysAreNamedWithTheNearestDeclaredOne() {
    JsonObject given = new JsonObject().put("pagesize", 5).put("availability", new JsonObject().put("usr", "U"))
        .put("enabled", "maybe").put("totallyDifferent", 1);
    List<String> problems = Setting.problems(ALL, given, "plugins.items", "tandem.json");
    assertEquals(List.of(
        "unknown key 'plugins.items.pagesize' in tandem.json: did you mean 'plugins.items.pageSize'?",
        "unknown key 'plugins.items.availability.usr' in tandem.json: did you mean 'plugins.items.availability.user'?",
        "unknown key 'plugins.items.totallyDifferent' in tandem.json: the keys here are 'plugins.items.availability', "
            + "'plugins.items.pageSize', 'plugins.items.enabled'",
        "plugins.items.enabled in tandem.json must be true or false, got 'maybe'"), problems);
    assertEquals(List.of("plugins.items.availability must be an object (its keys: availability.user, "
        + "availability.accessKey)"), Setting.problems(ALL, new JsonObject().put("availability", "U"), "plugins.items",
        null));
    assertTrue(Setting.problems(ALL, new JsonObject().put("availability", new JsonObject().put("user", "U")
        .put("accessKey", "K")).put("pageSize", 20), "", null).isEmpty());
  }

  @Test
  void nearestIsATypoOrTheSameNameInAnotherSection() {
    assertEquals("jobs.maxAttempts", Setting.nearest("jobs.maxAtempts", List.of("jobs.maxAttempts", "jobs.leaseMs")));
    assertEquals("jobs.maxAttempts", Setting.nearest("maxAttempts", List.of("jobs.maxAttempts", "jobs.leaseMs")));
    assertNull(Setting.nearest("colour", List.of("jobs.maxAttempts", "jobs.leaseMs")));
  }

  @Test
  void readGivesTheValueOrTheDefault() {
    assertEquals(100, SIZE.read(new JsonObject()));
    assertEquals(7, SIZE.read(new JsonObject().put("pageSize", 7)));
    assertEquals("U", USER.read(new JsonObject().put("availability", new JsonObject().put("user", "U"))));
    assertEquals("| key | type | default | valid values | meaning |\n|---|---|---|---|---|\n"
        + "| `p.pageSize` | int | 100 | 1 … 500 | rows |\n", Setting.markdown(List.of(SIZE), "p"));
  }
}
