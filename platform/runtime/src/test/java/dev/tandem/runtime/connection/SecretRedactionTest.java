package dev.tandem.runtime.connection;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.plugins.PluginServices;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** No value that holds a secret shows it in its {@code toString} (which is what ends up in logs and messages). */
class SecretRedactionTest {

  private static final String ERP_KEY = "erp-key-5f1e";
  private static final String ERP_SECRET = "erp-client-secret-77a0";
  private static final String CRM_SECRET = "crm-secret-3b9c";
  private static final String CRM_SECRET_2 = "crm-secret-second-0d12";
  private static final String AVAILABILITY_KEY = "availability-key-9e44";

  private static void redacted(Object value) {
    String text = String.valueOf(value);
    for (String secret : List.of(ERP_KEY, ERP_SECRET, CRM_SECRET, CRM_SECRET_2, AVAILABILITY_KEY)) {
      assertFalse(text.contains(secret), value.getClass().getSimpleName() + " shows a secret: " + text);
    }
  }

  @Test
  void everyValueHoldingASecretRedactsIt() {
    ODataErpSettings nav = ODataErpSettings.of("http://erp/BC/ODataV4", "CRONUS", "TANDEM", ERP_KEY);
    ODataErpSettings online = ODataErpSettings.online("http://erp/v2.0/t/Production/ODataV4", "CRONUS",
        new ODataErpSettings.OAuth("http://login/t/oauth2/v2.0/token", "client", ERP_SECRET, null));
    DataverseSettings crm = DataverseSettings.of("https://org.crm.dynamics.com/api/data/v9.2",
        "http://login/t/oauth2/v2.0/token", "sync", CRM_SECRET, null)
        .withMoreClients(List.of(new DataverseSettings.Credential("sync-2", CRM_SECRET_2)));
    redacted(nav);
    redacted(online);
    redacted(online.oauth());
    redacted(crm);
    crm.clients().forEach(SecretRedactionTest::redacted);
    redacted(crm.clients());
    redacted(new TandemConfig.Connections(nav, crm));
    redacted(new PluginServices.Availability(true, "AVAIL", AVAILABILITY_KEY));
    redacted(PluginServices.NONE.with(nav, new PluginServices.Availability(true, "AVAIL", AVAILABILITY_KEY)));
    redacted(nav.withUser("AVAIL", AVAILABILITY_KEY));
    ConnectionDocument.Parsed parsed = ConnectionDocument.parse(new JsonObject()
        .put("erp", new JsonObject().put("profile", "nav").put("url", "http://erp/BC/ODataV4").put("company", "C")
            .put("user", "TANDEM").put("accessKey", ERP_KEY))
        .put("crm", new JsonObject().put("url", "https://org.crm.dynamics.com/api/data/v9.2")
            .put("tokenUrl", "http://login/token").put("applicationUsers", new JsonArray()
                .add(new JsonObject().put("clientId", "sync").put("clientSecret", CRM_SECRET))))
        .put("availability", new JsonObject().put("enabled", true).put("user", "AVAIL")
            .put("accessKey", AVAILABILITY_KEY)), Set.of());
    redacted(parsed);
    redacted(parsed.settings());
  }
}
