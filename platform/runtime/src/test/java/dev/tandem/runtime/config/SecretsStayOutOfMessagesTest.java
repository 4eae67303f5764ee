package dev.tandem.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import io.vertx.pgclient.SslMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration problems, logs and toString() never carry a secret; the database URL's sslmode is honoured. */
class SecretsStayOutOfMessagesTest {

  private static final String TOKEN = "0123456789abcdef0123";

  @Test
  void aMistypedSecretIsNotEchoed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tandem.json");
    Files.writeString(file, "{\"adminToken\": 98765432109876543, \"connections\": {\"crm\": {\"url\": \"http://crm\","
        + " \"tokenUrl\": \"http://crm/token\", \"clientId\": \"c\", \"clientSecret\": 55501234567}}}");
    ConfigException e = assertThrows(ConfigException.class, () -> TandemConfig.load(file,
        Map.of("TANDEM_DB_URL", "postgresql://u:hunter2secret@h/db")));
    String all = String.join("\n", e.problems());
    assertFalse(all.contains("98765432109876543"), all);
    assertFalse(all.contains("55501234567"), all);
    assertTrue(all.contains("adminToken in " + file + " must be a string, got a number"), all);
  }

  @Test
  void aPasswordInTheDatabaseUrlIsRedacted() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DatabaseSettings.parse("postgresql://tandem:hunter2secret@/nohost", null, 4, "TANDEM_DB_URL"));
    assertFalse(e.getMessage().contains("hunter2secret"), e.getMessage());
    assertFalse(DatabaseSettings.redact("postgresql://h/db?user=u&password=hunter2secret").contains("hunter2"));
    assertFalse(DatabaseSettings.redact("postgresql://u:hunter2secret@h/db").contains("hunter2"));
    DatabaseSettings ok = DatabaseSettings.parse("postgresql://tandem:hunter2secret@db:5432/tandem", null, 4, "x");
    assertFalse(ok.toString().contains("hunter2secret"), ok.toString());
    TandemConfig cfg = TandemConfig.load(null, Map.of("TANDEM_DB_URL", "postgresql://tandem:hunter2secret@db/tandem",
        "TANDEM_ADMIN_TOKEN", TOKEN, "TANDEM_ERP_URL", "http://erp/BC/ODataV4", "TANDEM_ERP_COMPANY", "C",
        "TANDEM_ERP_USER", "U", "TANDEM_ERP_ACCESS_KEY", "erp-key-secret-value",
        "TANDEM_CRM_URL", "http://crm/api/data/v9.2", "TANDEM_CRM_TOKEN_URL", "http://crm/token",
        "TANDEM_CRM_CLIENT_ID", "id", "TANDEM_CRM_CLIENT_SECRET", "crm-client-secret-value"));
    String shown = cfg.toString();
    for (String secret : new String[] {"hunter2secret", TOKEN, "erp-key-secret-value", "crm-client-secret-value"}) {
      assertFalse(shown.contains(secret), shown);
    }
    assertFalse(cfg.connections().erp().toString().contains("erp-key-secret-value"));
    assertFalse(cfg.connections().crm().toString().contains("crm-client-secret-value"));
    assertFalse(DataverseSettings.of("a", "b", "c", "s3cr3t-value", null).toString().contains("s3cr3t-value"));
    assertFalse(ODataErpSettings.of("a", "b", "c", "k3y-value").toString().contains("k3y-value"));
  }

  @Test
  void sslmodeFromTheUrlReachesTheClient() {
    assertEquals(SslMode.DISABLE, DatabaseSettings.parse("postgresql://u@h/db", null, 1, "x").connectOptions()
        .getSslMode());
    assertEquals(SslMode.REQUIRE, DatabaseSettings.parse("postgresql://u@h/db?sslmode=require", null, 1, "x")
        .connectOptions().getSslMode());
    assertEquals(SslMode.PREFER, DatabaseSettings.parse("postgresql://u@h/db?sslmode=prefer", null, 1, "x")
        .connectOptions().getSslMode());
    DatabaseSettings full = DatabaseSettings.parse("postgresql://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        null, 1, "x");
    assertEquals(SslMode.VERIFY_FULL, full.connectOptions().getSslMode());
    assertEquals("HTTPS", full.connectOptions().getSslOptions().getHostnameVerificationAlgorithm());
    assertTrue(full.jdbcUrl().contains("sslmode=verify-full"), full.jdbcUrl());
    assertThrows(IllegalArgumentException.class,
        () -> DatabaseSettings.parse("postgresql://u@h/db?sslmode=verify-ca", null, 1, "x"));
    assertThrows(IllegalArgumentException.class,
        () -> DatabaseSettings.parse("postgresql://u@h/db?sslmode=sometimes", null, 1, "x"));
  }
}
