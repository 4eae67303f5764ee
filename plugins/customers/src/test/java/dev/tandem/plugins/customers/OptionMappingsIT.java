package dev.tandem.plugins.customers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PAYMENT-TERMS, SHIPMENT-METHOD and SHIPPING-AGENT as mappings: each ERP code is coupled with the CRM option of the
 * same label (the CRM's DHL, FedEx and UPS shipping methods), with one an operator coupled by hand, or with an option
 * the run adds through InsertOptionValue; an option left behind by a lost answer is coupled, not added twice. The
 * options no ERP code maps to are listed; CUSTOMER then writes each account's option values through those couplings.
 */
class OptionMappingsIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(Path.of(System.getProperty("tandem.plugin.jar")))
      .configure(c -> c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withConnections(TandemExtension.connections(erp.get(), crm.get())));

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static String call(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 300, method + " " + url + ": " + r.statusCode() + " " + r.body());
    return r.body();
  }

  private static JsonObject sync(String mapping) throws Exception {
    JsonObject job = tandem.sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  /** Adds an option straight in the CRM, as an InsertOptionValue whose answer was lost would have. */
  private static int insertInCrm(String attribute, String label) throws Exception {
    String token = (String) Json.object(call("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id="
        + "tandem-sync&client_secret=tandem-secret&scope=" + URLEncoder.encode(crm.get().scope(),
        StandardCharsets.UTF_8), "Content-Type", "application/x-www-form-urlencoded")).get("access_token");
    String body = new JsonObject().put("EntityLogicalName", "account").put("AttributeLogicalName", attribute)
        .put("Label", new JsonObject().put("LocalizedLabels", new JsonArray().add(new JsonObject().put("Label", label)
            .put("LanguageCode", 1033)))).encode();
    return ((Number) Json.object(call("POST", crm.get().apiUrl() + "/InsertOptionValue", body, "Authorization",
        "Bearer " + token, "Content-Type", "application/json")).get("NewOptionValue")).intValue();
  }

  private static Map<String, Integer> coupled(String mapping) throws Exception {
    Map<String, Integer> out = new HashMap<>();
    tandem.api("GET", "/api/v1/couplings?mapping=" + mapping + "&limit=100", null).json().getJsonArray("couplings")
        .forEach(o -> {
          JsonObject c = (JsonObject) o;
          if (c.getString("crmId") != null) {
            out.put(c.getString("erpId"), Integer.valueOf(c.getString("crmId")));
          }
        });
    return out;
  }

  @Test
  void erpCodesBecomeOptionsAndCustomersUseThem() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":8,\"counts\":{\"SalespersonPurchaser\":0,"
        + "\"Customer\":40}}");
    call("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":8,\"counts\":{\"systemusers\":3}}");
    // An operator says the ERP's 30 DAYS is the CRM's Net 30 (value 1).
    TandemExtension.ApiResponse manual = tandem.api("POST", "/api/v1/couplings", new JsonObject()
        .put("mapping", "PAYMENT-TERMS").put("erpId", "30 DAYS").put("crmId", 1));
    assertEquals(201, manual.status(), manual.body());
    TandemExtension.ApiResponse notAnOption = tandem.api("POST", "/api/v1/couplings", new JsonObject()
        .put("mapping", "PAYMENT-TERMS").put("erpId", "CM").put("crmId", "0f8fad5b-d9cb-469f-a165-70867728950e"));
    assertEquals(400, notAnOption.status(), notAnOption.body());
    // A lost answer left an option labelled COD behind.
    int cod = insertInCrm("paymenttermscode", "COD");

    JsonObject terms = sync("PAYMENT-TERMS");
    assertEquals(2, terms.getInteger("inserted"), "14 DAYS and CM get new options: " + terms.encode());
    assertEquals(2, terms.getInteger("unchanged"), "30 DAYS as coupled, COD to the option it left: " + terms.encode());
    Map<String, Integer> termOptions = coupled("PAYMENT-TERMS");
    assertEquals(1, termOptions.get("30 DAYS"));
    assertEquals(cod, termOptions.get("COD"));
    assertTrue(termOptions.get("14 DAYS") >= 100_000_000 && termOptions.get("CM") >= 100_000_000, termOptions.toString());

    JsonObject agents = sync("SHIPPING-AGENT");
    assertEquals(1, agents.getInteger("inserted"), "OWN LOG. is new; DHL, FEDEX, UPS match by label: " + agents.encode());
    Map<String, Integer> agentOptions = coupled("SHIPPING-AGENT");
    assertEquals(Map.of("DHL", 2, "FEDEX", 3, "UPS", 4), Map.of("DHL", agentOptions.get("DHL"), "FEDEX",
        agentOptions.get("FEDEX"), "UPS", agentOptions.get("UPS")));
    JsonObject methods = sync("SHIPMENT-METHOD");
    assertEquals(4, methods.getInteger("inserted"), methods.encode());

    JsonObject listing = tandem.api("GET", "/api/v1/mappings/PAYMENT-TERMS/options", null).json();
    assertEquals("paymenttermscode", listing.getString("attribute"));
    assertEquals(List.of("2% 10, Net 30", "Net 45", "Net 60"), listing.getJsonArray("unmappedOptions").stream()
        .map(o -> ((JsonObject) o).getString("label")).toList(), listing.encode());
    assertEquals(7, listing.getJsonArray("options").size());
    assertEquals(400, tandem.api("GET", "/api/v1/mappings/CUSTOMER/options", null).status());

    for (String m : List.of("PAYMENT-TERMS", "SHIPPING-AGENT", "SHIPMENT-METHOD")) {
      JsonObject again = sync(m);
      assertEquals(0, again.getInteger("inserted") + again.getInteger("failed"), m + ": " + again.encode());
    }
    int optionsBefore = tandem.api("GET", "/api/v1/mappings/PAYMENT-TERMS/options", null).json()
        .getJsonArray("options").size();
    assertEquals(7, optionsBefore, "second runs add no options");

    sync("SALESPEOPLE");
    JsonObject customers = sync("CUSTOMER");
    assertEquals(0, customers.getInteger("failed"), customers.encode());
    Map<String, Map<String, Object>> erpCustomers = new HashMap<>();
    Json.objects(Json.object(call("GET", erp.get().baseUrl() + "/__admin/sim/rows/Customer?top=100", null))
        .get("rows")).forEach(c -> erpCustomers.put((String) c.get("No"), c));
    Map<String, Integer> methodOptions = coupled("SHIPMENT-METHOD");
    int checked = 0;
    for (Map<String, Object> a : Json.objects(Json.object(call("GET", crm.get().baseUrl()
        + "/__admin/sim/rows/accounts?top=100", null)).get("rows"))) {
      Map<String, Object> c = erpCustomers.get((String) a.get("accountnumber"));
      String what = "account " + a.get("accountnumber");
      assertEquals(termOptions.get((String) c.get("Payment_Terms_Code")), a.get("paymenttermscode"), what);
      assertEquals(methodOptions.get((String) c.get("Shipment_Method_Code")), a.get("address1_freighttermscode"), what);
      Object agent = "".equals(c.get("Shipping_Agent_Code")) ? null : agentOptions.get((String) c.get("Shipping_Agent_Code"));
      assertEquals(agent, a.get("address1_shippingmethodcode"), what);
      checked++;
    }
    assertTrue(checked > 30, checked + " accounts");
  }
}
