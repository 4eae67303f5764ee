package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Option-set metadata and InsertOptionValue, as Microsoft documents them: "Query table definitions using the Web
 * API" (an attribute's OptionSet is a property of the derived type, so the request casts to
 * Microsoft.Dynamics.CRM.PicklistAttributeMetadata and expands OptionSet; Options carry Value and Label with
 * LocalizedLabels), "InsertOptionValue Action" (unbound; EntityLogicalName and AttributeLogicalName for a local
 * option set, Label required, optional Value; returns InsertOptionValueResponse with NewOptionValue), and the
 * account table reference for the default options of paymenttermscode, address1_freighttermscode and
 * address1_shippingmethodcode. New values start at the publisher's option value prefix (10000 for the default
 * publisher: 100000000).
 */
class DataverseOptionSetsTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String PAYMENT_TERMS = "EntityDefinitions(LogicalName='account')/Attributes(LogicalName="
      + "'paymenttermscode')";

  private static HttpResponse<String> api(String method, String path, String body) throws Exception {
    HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=tandem-sync&client_secret=tandem-secret&scope="
                + URLEncoder.encode(crm.get().scope(), StandardCharsets.UTF_8))).build(),
        HttpResponse.BodyHandlers.ofString());
    String token = (String) Json.object(t.body()).get("access_token");
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(crm.get().apiUrl() + "/" + path.replace(" ", "%20")
        .replace("'", "%27"))).header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  private static Map<Integer, String> options(String attributePath) throws Exception {
    HttpResponse<String> r = api("GET", attributePath + "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
        + "?$select=LogicalName&$expand=OptionSet($select=Options)", null);
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> set = (Map<String, Object>) Json.object(r.body()).get("OptionSet");
    Map<Integer, String> out = new java.util.LinkedHashMap<>();
    for (Map<String, Object> o : Json.objects(set.get("Options"))) {
      Map<String, Object> label = (Map<String, Object>) o.get("Label");
      out.put(((Number) o.get("Value")).intValue(), (String) ((Map<String, Object>) label.get("UserLocalizedLabel"))
          .get("Label"));
    }
    return out;
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("code"));
  }

  private static String insert(String attribute, String label, Integer value) {
    return "{\"EntityLogicalName\":\"account\",\"AttributeLogicalName\":\"" + attribute + "\","
        + (value == null ? "" : "\"Value\":" + value + ",")
        + "\"Label\":{\"@odata.type\":\"Microsoft.Dynamics.CRM.Label\",\"LocalizedLabels\":[{\"@odata.type\":"
        + "\"Microsoft.Dynamics.CRM.LocalizedLabel\",\"Label\":\"" + label + "\",\"LanguageCode\":1033}]}}";
  }

  @BeforeEach
  void reset() throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theAccountsOptionSetsHaveTheirDefaultOptions() throws Exception {
    assertEquals(Map.of(1, "Net 30", 2, "2% 10, Net 30", 3, "Net 45", 4, "Net 60"), options(PAYMENT_TERMS));
    assertEquals(List.of("FOB", "No Charge"), List.copyOf(options("EntityDefinitions(LogicalName='account')"
        + "/Attributes(LogicalName='address1_freighttermscode')").values()));
    assertEquals(7, options("EntityDefinitions(LogicalName='account')/Attributes(LogicalName="
        + "'address1_shippingmethodcode')").size());
  }

  @Test
  void theOptionSetIsAPropertyOfThePicklistTypeOnly() throws Exception {
    HttpResponse<String> base = api("GET", PAYMENT_TERMS + "?$expand=OptionSet", null);
    assertEquals(400, base.statusCode(), base.body());
    assertTrue(base.body().contains("Could not find a property named 'OptionSet' on type "
        + "'Microsoft.Dynamics.CRM.AttributeMetadata'"), base.body());
    HttpResponse<String> plain = api("GET", PAYMENT_TERMS, null);
    assertEquals(200, plain.statusCode(), plain.body());
    assertTrue(!plain.body().contains("Options"), "OptionSet only when expanded: " + plain.body());
    HttpResponse<String> unknown = api("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName="
        + "'nosuchcode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata", null);
    assertEquals(404, unknown.statusCode(), unknown.body());
    HttpResponse<String> noTable = api("GET", "EntityDefinitions(LogicalName='nosuchtable')/Attributes(LogicalName="
        + "'paymenttermscode')", null);
    assertEquals(404, noTable.statusCode(), noTable.body());
    assertEquals("0x80040217", code(noTable));
    // A text column is no picklist: its base metadata, and no cast to PicklistAttributeMetadata.
    HttpResponse<String> text = api("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')",
        null);
    assertEquals(200, text.statusCode(), text.body());
    assertEquals("String", Json.object(text.body()).get("AttributeType"));
    assertEquals(400, api("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')"
        + "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata", null).statusCode());
    // The table's attribute list (the metadata model) names the option-set columns Picklist.
    HttpResponse<String> all = api("GET", "EntityDefinitions(LogicalName='account')/Attributes", null);
    assertEquals(200, all.statusCode(), all.body());
    assertTrue(Json.objects(Json.object(all.body()).get("value")).stream().anyMatch(a -> "paymenttermscode"
        .equals(a.get("LogicalName")) && "Picklist".equals(a.get("AttributeType"))), all.body());
  }

  @Test
  void insertOptionValueAddsAnOptionFromThePublisherPrefix() throws Exception {
    HttpResponse<String> r = api("POST", "InsertOptionValue", insert("paymenttermscode", "COD", null));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(100_000_000, ((Number) Json.object(r.body()).get("NewOptionValue")).intValue());
    HttpResponse<String> next = api("POST", "InsertOptionValue", insert("paymenttermscode", "14 DAYS", null));
    assertEquals(100_000_001, ((Number) Json.object(next.body()).get("NewOptionValue")).intValue());
    assertEquals("COD", options(PAYMENT_TERMS).get(100_000_000));
    HttpResponse<String> chosen = api("POST", "InsertOptionValue", insert("paymenttermscode", "CM", 100_000_010));
    assertEquals(100_000_010, ((Number) Json.object(chosen.body()).get("NewOptionValue")).intValue());
    HttpResponse<String> taken = api("POST", "InsertOptionValue", insert("paymenttermscode", "Again", 1));
    assertEquals(400, taken.statusCode(), taken.body());
    HttpResponse<String> noLabel = api("POST", "InsertOptionValue",
        "{\"EntityLogicalName\":\"account\",\"AttributeLogicalName\":\"paymenttermscode\"}");
    assertEquals(400, noLabel.statusCode(), noLabel.body());
    HttpResponse<String> noAttribute = api("POST", "InsertOptionValue", insert("nosuchcode", "X", null));
    assertEquals(404, noAttribute.statusCode(), noAttribute.body());
    assertEquals("0x80041103", code(noAttribute));
    reset();
    assertEquals(4, options(PAYMENT_TERMS).size(), "a reset brings back the defaults");
  }
}
