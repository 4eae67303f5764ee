package dev.tandem.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TandemConfigTest {

  private static final String TOKEN = "0123456789abcdef0123";

  @Test
  void everyMissingSettingIsReportedAtOnce() {
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, Map.of()));
    assertEquals(2, e.problems().size(), e.getMessage());
    assertTrue(e.problems().get(0).contains("TANDEM_DB_URL"), e.getMessage());
    assertTrue(e.problems().get(1).contains("TANDEM_ADMIN_TOKEN"), e.getMessage());
  }

  @Test
  void malformedValuesNameTheSetting() {
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, Map.of(
        "TANDEM_DB_URL", "mysql://root@localhost/x",
        "TANDEM_HTTP_PORT", "eighty",
        "TANDEM_ADMIN_TOKEN", "short")));
    String all = String.join("\n", e.problems());
    assertTrue(all.contains("TANDEM_DB_URL 'mysql://root@localhost/x' is not a PostgreSQL URL"), all);
    assertTrue(all.contains("TANDEM_HTTP_PORT = 'eighty' is not a whole number"), all);
    assertTrue(all.contains("TANDEM_ADMIN_TOKEN is too short (5 characters): use at least 16"), all);
    assertFalse(all.contains("'short'"), "a secret's value is not shown: " + all);
  }

  @Test
  void theErpConnectionFollowsItsProfile() {
    Map<String, String> base = Map.of("TANDEM_DB_URL", "postgresql://u@h/db", "TANDEM_ADMIN_TOKEN", TOKEN,
        "TANDEM_ERP_COMPANY", "CRONUS International Ltd.");
    java.util.HashMap<String, String> nav = new java.util.HashMap<>(base);
    nav.putAll(Map.of("TANDEM_ERP_URL", "http://erp:7048/BC/ODataV4", "TANDEM_ERP_USER", "TANDEM",
        "TANDEM_ERP_ACCESS_KEY", "key"));
    var n = TandemConfig.load(null, nav).connections().erp();
    assertEquals(dev.tandem.runtime.connectors.erp.ODataErpSettings.Profile.NAV, n.profile());
    assertEquals(null, n.oauth());
    // Business Central's request limits per user: 6,000 per 5 minutes, no execution budget; 8 in flight (BC
    // processes 5 at once and queues the other 3).
    assertEquals(dev.tandem.runtime.connectors.EndpointBudget.Limits.businessCentral().withConcurrency(
        dev.tandem.runtime.connectors.erp.ODataErpSettings.IN_FLIGHT), n.limits());
    assertEquals(8, n.limits().concurrency());

    java.util.HashMap<String, String> online = new java.util.HashMap<>(base);
    online.putAll(Map.of("TANDEM_ERP_TENANT", "contoso.onmicrosoft.com", "TANDEM_ERP_ENVIRONMENT", "Sandbox",
        "TANDEM_ERP_CLIENT_ID", "app", "TANDEM_ERP_CLIENT_SECRET", "secret"));
    var o = TandemConfig.load(null, online).connections().erp();
    assertEquals(dev.tandem.runtime.connectors.erp.ODataErpSettings.Profile.BC_ONLINE, o.profile());
    assertEquals("https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/Sandbox/ODataV4",
        o.serviceRoot());
    assertEquals("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", o.oauth().tokenUrl());
    assertEquals("https://api.businesscentral.dynamics.com/.default", o.oauth().scope());

    java.util.HashMap<String, String> missing = new java.util.HashMap<>(base);
    missing.putAll(Map.of("TANDEM_ERP_PROFILE", "bc-online", "TANDEM_ERP_TENANT", "contoso"));
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, missing));
    assertTrue(e.getMessage().contains("TANDEM_ERP_CLIENT_ID"), e.getMessage());
    java.util.HashMap<String, String> unknown = new java.util.HashMap<>(nav);
    unknown.put("TANDEM_ERP_PROFILE", "ax2012");
    e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, unknown));
    assertTrue(e.getMessage().contains("TANDEM_ERP_PROFILE = 'ax2012' is not an ERP profile: use nav or bc-online"),
        e.getMessage());
  }

  @Test
  void portOutOfRange() {
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, Map.of(
        "TANDEM_DB_URL", "postgresql://u@h/db", "TANDEM_HTTP_PORT", "70000", "TANDEM_ADMIN_TOKEN", TOKEN)));
    assertTrue(e.getMessage().contains("TANDEM_HTTP_PORT = 70000 is out of range [0, 65535]"), e.getMessage());
  }

  @Test
  void passwordsAreNotEchoed() {
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(null, Map.of(
        "TANDEM_DB_URL", "mysql://root:s3cret@localhost/x", "TANDEM_ADMIN_TOKEN", TOKEN)));
    assertTrue(!e.getMessage().contains("s3cret") && e.getMessage().contains("***"), e.getMessage());
  }

  @Test
  void theErpRequestLimitsFollowTheConfigurationAndTheConcurrency(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path file = tmp.resolve("tandem.json");
    Files.writeString(file, """
        {"database": {"url": "postgresql://u@h/db"}, "adminToken": "%s",
         "connections": {"erp": {"url": "http://erp/BC/ODataV4", "company": "C", "user": "U", "accessKey": "K",
           "maxConcurrency": 3, "requestLimits": {"requests": 600, "windowMs": 30000}}}}
        """.formatted(TOKEN));
    var l = TandemConfig.load(file, Map.of()).connections().erp().limits();
    assertEquals(3, l.concurrency(), "the ERP concurrency is the budget's");
    assertEquals(600, l.requests());
    assertEquals(30_000, l.windowMs());
    assertEquals(0, l.executionMs());
  }

  @Test
  void environmentOverridesTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tandem.json");
    Files.writeString(file, """
        {"database": {"url": "postgresql://file@db.example:6543/tandem", "schema": "sync", "poolSize": 4},
         "http": {"port": 9000}, "adminToken": "%s", "pluginsDir": "/opt/tandem/plugins",
         "jobs": {"maxConcurrent": 4, "maxAttempts": 3}, "plugins": {"customers": {"x": 1}}}
        """.formatted(TOKEN));
    TandemConfig c = TandemConfig.load(file, Map.of("TANDEM_HTTP_PORT", "9100", "TANDEM_NODE_ID", "n1"));
    assertEquals(9100, c.httpPort());
    assertEquals("db.example", c.database().host());
    assertEquals(6543, c.database().port());
    assertEquals("tandem", c.database().database());
    assertEquals("file", c.database().user());
    assertEquals("sync", c.database().schema());
    assertEquals(4, c.database().poolSize());
    assertEquals(Path.of("/opt/tandem/plugins"), c.pluginsDir());
    assertEquals("n1", c.nodeId());
    assertEquals(4, c.jobs().maxConcurrent());
    assertEquals(3, c.jobs().maxAttempts());
    assertEquals(1, c.plugins().getJsonObject("customers").getInteger("x"));
  }

  @Test
  void malformedJsonFileIsNamed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\"http\": {\"port\": 80,}");
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(file, Map.of()));
    assertTrue(e.getMessage().contains(file + " is not valid JSON"), e.getMessage());
  }

  @Test
  void wrongTypesInTheFileAreNamed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("t.json");
    Files.writeString(file, """
        {"database": {"url": 5}, "adminToken": "%s", "schedules": {"enabled": "yes"}}
        """.formatted(TOKEN));
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(file, Map.of()));
    String all = String.join("\n", e.problems());
    assertTrue(all.contains("database.url in " + file + " must be a string"), all);
    assertTrue(all.contains("schedules.enabled in " + file + " must be true or false"), all);
  }

  @Test
  void urlForms() {
    DatabaseSettings a = DatabaseSettings.parse("jdbc:postgresql://h:5433/d?user=u&password=p", null, 2, "x");
    assertEquals("u", a.user());
    assertEquals("p", a.password());
    assertEquals(5433, a.port());
    assertEquals("public", a.schema());
    DatabaseSettings b = DatabaseSettings.parse("postgres://us%40r:p%3Ass@h/d", "s1", 2, "x");
    assertEquals("us@r", b.user());
    assertEquals("p:ss", b.password());
    assertEquals(5432, b.port());
    assertThrows(IllegalArgumentException.class, () -> DatabaseSettings.parse("postgresql://h:5432/", null, 2, "x"));
    assertThrows(IllegalArgumentException.class, () -> DatabaseSettings.parse("postgresql://h/d", "Bad-Schema", 2, "x"));
  }

  @Test
  void anUnknownKeyIsRefusedWithTheNearestDeclaredOne(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tandem.json");
    Files.writeString(file, """
        {"database": {"url": "postgresql://u@h/db"}, "adminToken": "%s",
         "jobs": {"maxAtempts": 3}, "schedule": {"enabled": false}, "http": {"tls": "on"},
         "connections": {"crm": {"pagesize": 100}}, "zzzzzz": 1}
        """.formatted(TOKEN));
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(file, Map.of()));
    String all = String.join("\n", e.problems());
    assertTrue(all.contains("unknown key 'jobs.maxAtempts' in " + file + ": did you mean 'jobs.maxAttempts'?"), all);
    assertTrue(all.contains("unknown key 'schedule' in " + file + ": did you mean 'schedules'?"), all);
    assertTrue(all.contains("http.tls in " + file + " must be an object (its keys: http.tls.certFile, "
        + "http.tls.keyFile)"), all);
    assertTrue(all.contains("unknown key 'connections.crm.pagesize' in " + file
        + ": did you mean 'connections.crm.pageSize'?"), all);
    assertTrue(all.contains("unknown key 'zzzzzz' in " + file + ": the keys here are 'database', 'http', 'adminToken',"),
        all);
    assertEquals(5, e.problems().size(), all);
  }

  @Test
  void badValuesNameTheKeyAndTheCause(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tandem.json");
    Files.writeString(file, """
        {"database": {"url": "postgresql://u@h/db", "poolSize": 1.5}, "adminToken": "%s",
         "jobs": {"maxAttempts": 0, "leaseMs": "soon"}, "plugins": []}
        """.formatted(TOKEN));
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(file,
        Map.of("TANDEM_LOG_LEVEL", "loud")));
    String all = String.join("\n", e.problems());
    assertTrue(all.contains("database.poolSize in " + file + " = 1.5 is not a whole number"), all);
    assertTrue(all.contains("jobs.maxAttempts in " + file + " = 0 is out of range [1, 1000]"), all);
    assertTrue(all.contains("jobs.leaseMs in " + file + " = 'soon' is not a whole number"), all);
    assertTrue(all.contains("plugins in " + file + " must be an object, got []"), all);
    assertTrue(all.contains("TANDEM_LOG_LEVEL = 'loud' is not one of TRACE, DEBUG, INFO, WARN, ERROR, OFF"), all);
    assertEquals(5, e.problems().size(), all);
  }

  @Test
  void valuesFromTheEnvironmentAreParsedByTheirType() {
    TandemConfig c = TandemConfig.load(null, Map.of("TANDEM_DB_URL", "postgresql://u@h/db", "TANDEM_ADMIN_TOKEN",
        TOKEN, "TANDEM_HTTP_PORT", " 9200 ", "TANDEM_LOG_LEVEL", "debug"));
    assertEquals(9200, c.httpPort());
    assertEquals(TandemConfig.JobSettings.defaults(), c.jobs(), "every default from the table");
    assertEquals(TandemConfig.ScheduleSettings.defaults(), c.schedules());
    assertEquals(TandemConfig.HttpSettings.defaults(), c.http());
  }
}
