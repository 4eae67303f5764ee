package dev.tandem.sim.erp;

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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The bc-online profile: OAuth client credentials, the online URL, the company list, no SalesPrice. */
class ErpOnlineProfileTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> tokenCall(String url, String form) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type",
        "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String form(String clientId, String secret, String scope) {
    StringBuilder sb = new StringBuilder("grant_type=client_credentials&client_id=").append(enc(clientId))
        .append("&client_secret=").append(enc(secret));
    if (scope != null) {
      sb.append("&scope=").append(enc(scope));
    }
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String token() throws Exception {
    ErpSimulator.Options o = erp.get().options();
    HttpResponse<String> r = tokenCall(erp.get().tokenUrl(), form(o.clientId(), o.clientSecret(),
        ErpSimulator.scope()));
    assertEquals(200, r.statusCode(), r.body());
    return (String) Json.object(r.body()).get("access_token");
  }

  private static HttpResponse<String> get(String url, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String entraError(HttpResponse<String> r) {
    return (String) Json.object(r.body()).get("error");
  }

  private static String errorCode(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("code"));
  }

  @BeforeEach
  void reset() throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theOnlineUrlCarriesTenantAndEnvironment() {
    assertEquals(erp.get().baseUrl() + "/v2.0/tandem-tenant/Production/ODataV4", erp.get().serviceRoot());
    assertEquals(erp.get().baseUrl() + "/tandem-tenant/oauth2/v2.0/token", erp.get().tokenUrl());
  }

  @Test
  void theTokenEndpointChecksGrantTenantClientSecretAndScope() throws Exception {
    ErpSimulator.Options o = erp.get().options();
    HttpResponse<String> noScope = tokenCall(erp.get().tokenUrl(), form(o.clientId(), o.clientSecret(), null));
    assertEquals(400, noScope.statusCode());
    assertTrue(noScope.body().contains("AADSTS900144: The request body must contain the following parameter: 'scope'"), noScope.body());
    HttpResponse<String> notDefault = tokenCall(erp.get().tokenUrl(), form(o.clientId(), o.clientSecret(),
        "https://api.businesscentral.dynamics.com/Financials.ReadWrite.All"));
    assertEquals(400, notDefault.statusCode());
    assertEquals("invalid_scope", entraError(notDefault));
    HttpResponse<String> otherResource = tokenCall(erp.get().tokenUrl(), form(o.clientId(), o.clientSecret(),
        "https://contoso.crm.dynamics.com/.default"));
    assertEquals(400, otherResource.statusCode());
    assertEquals("invalid_resource", entraError(otherResource));
    HttpResponse<String> unknownClient = tokenCall(erp.get().tokenUrl(), form("nobody", o.clientSecret(),
        ErpSimulator.scope()));
    assertEquals(400, unknownClient.statusCode());
    assertTrue(unknownClient.body().contains("AADSTS700016"), unknownClient.body());
    HttpResponse<String> badSecret = tokenCall(erp.get().tokenUrl(), form(o.clientId(), "wrong",
        ErpSimulator.scope()));
    assertEquals(401, badSecret.statusCode());
    assertEquals("invalid_client", entraError(badSecret));
    HttpResponse<String> otherTenant = tokenCall(erp.get().baseUrl() + "/other-tenant/oauth2/v2.0/token",
        form(o.clientId(), o.clientSecret(), ErpSimulator.scope()));
    assertEquals(400, otherTenant.statusCode());
    assertTrue(otherTenant.body().contains("AADSTS90002"), otherTenant.body());
    HttpResponse<String> ok = tokenCall(erp.get().tokenUrl(), form(o.clientId(), o.clientSecret(),
        ErpSimulator.scope()));
    assertEquals(200, ok.statusCode(), ok.body());
    Map<String, Object> t = Json.object(ok.body());
    assertEquals("Bearer", t.get("token_type"));
    assertTrue(((Number) t.get("expires_in")).longValue() > 0);
  }

  @Test
  void webServiceAccessKeysAreRefusedAndBearerTokensAccepted() throws Exception {
    ErpSimulator.Options o = erp.get().options();
    String customers = erp.get().companyUrl() + "/Customer";
    HttpResponse<String> basic = get(customers, "Basic " + Base64.getEncoder().encodeToString(
        (o.user() + ":" + o.accessKey()).getBytes(StandardCharsets.UTF_8)));
    assertEquals(401, basic.statusCode());
    assertEquals("Authentication_InvalidCredentials", errorCode(basic));
    assertTrue(basic.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer authorization_uri="),
        basic.headers().map().toString());
    assertEquals(401, get(customers, null).statusCode());
    assertEquals(401, get(customers, "Bearer made-up").statusCode());
    assertEquals(200, get(customers, "Bearer " + token()).statusCode());
  }

  @Test
  void anExpiredTokenIsRefused() throws Exception {
    String t = token();
    String customers = erp.get().companyUrl() + "/Customer";
    assertEquals(200, get(customers, "Bearer " + t).statusCode());
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/tokens/expire"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, get(customers, "Bearer " + t).statusCode());
    assertEquals(200, get(customers, "Bearer " + token()).statusCode());
  }

  @Test
  void companyListsTheCompaniesAndAWrongNameIsRefused() throws Exception {
    String bearer = "Bearer " + token();
    HttpResponse<String> list = get(erp.get().serviceRoot() + "/Company", bearer);
    assertEquals(200, list.statusCode(), list.body());
    List<Map<String, Object>> companies = Json.objects(Json.object(list.body()).get("value"));
    assertEquals(1, companies.size());
    assertEquals("CRONUS International Ltd.", companies.get(0).get("Name"));
    assertTrue(String.valueOf(companies.get(0).get("Id")).matches("[0-9a-f-]{36}"));
    HttpResponse<String> wrong = get(erp.get().serviceRoot() + "/Company('CRONUS%20Ltd.')/Customer", bearer);
    assertEquals(400, wrong.statusCode());
    assertEquals("Internal_CompanyNotFound", errorCode(wrong));
  }

  @Test
  void salesPriceIsNotPublishedOnline() throws Exception {
    String bearer = "Bearer " + token();
    HttpResponse<String> r = get(erp.get().companyUrl() + "/SalesPrice", bearer);
    assertEquals(404, r.statusCode(), r.body());
    assertEquals("BadRequest_NotFound", errorCode(r));
    // Seeding items brings no legacy sales prices either.
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{\"Item\":30}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(30, Json.objects(Json.object(get(erp.get().companyUrl() + "/Item", bearer).body()).get("value"))
        .size());
    assertEquals(0, erp.get().store().table("SalesPrice").size());
  }

  @Test
  void metadataDescribesThePublishedPages() throws Exception {
    HttpResponse<String> r = get(erp.get().serviceRoot() + "/$metadata", "Bearer " + token());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("<EntityType Name=\"Customer\">"), r.body());
    assertTrue(r.body().contains("<Property Name=\"Salesperson_Code\" Type=\"Edm.String\" MaxLength=\"20\"/>"));
    assertTrue(r.body().contains("<EntitySet Name=\"Item\" EntityType=\"NAV.Item\"/>"));
    assertTrue(!r.body().contains("SalesPrice"), "not published online");
  }

  @Test
  void theOnPremisesPathIsNotServedOnline() throws Exception {
    HttpResponse<String> r = get(erp.get().baseUrl() + "/BC/ODataV4/Company", "Bearer " + token());
    assertEquals(404, r.statusCode(), r.body());
  }
}
