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
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The token endpoint answers client credentials as Entra ID does, and the Web API accepts only live tokens issued for
 * this organization. Sources: "Acquire tokens to call a web API using a daemon application"
 * (learn.microsoft.com/entra/identity-platform/scenario-daemon-acquire-token: scope = the resource's application ID
 * URI + "/.default"); Entra's error codes (learn.microsoft.com/entra/identity-platform/reference-error-codes,
 * login.microsoftonline.com/error?code=…): AADSTS900144, AADSTS1002012, AADSTS500011; "Use OAuth authentication with
 * Microsoft Dataverse" (learn.microsoft.com/power-apps/developer/data-platform/authenticate-oauth): a 401 carries
 * {@code WWW-Authenticate: Bearer authorization_uri=…, resource_id=…}.
 */
class DataverseAuthTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> token(String form) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> withScope(String scope) throws Exception {
    return token("grant_type=client_credentials&client_id=tandem-sync&client_secret=tandem-secret"
        + (scope == null ? "" : "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8)));
  }

  private static HttpResponse<String> whoAmI(String token) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().apiUrl() + "/WhoAmI"))
        .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertEntra(HttpResponse<String> r, int status, String error, String aadsts) {
    assertEquals(status, r.statusCode(), r.body());
    Map<String, Object> b = Json.object(r.body());
    assertEquals(error, b.get("error"), r.body());
    assertTrue(String.valueOf(b.get("error_description")).startsWith(aadsts + ": "), r.body());
  }

  @AfterEach
  void back() {
    crm.get().profile("fast", 1);
    crm.get().auth().lifetime(3599);
  }

  @Test
  void theScopeOfThisOrganizationGetsAToken() throws Exception {
    assertEquals(crm.get().organizationUrl() + "/.default", crm.get().scope());
    HttpResponse<String> r = withScope(crm.get().scope());
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> b = Json.object(r.body());
    assertEquals("Bearer", b.get("token_type"));
    assertEquals(3599, ((Number) b.get("expires_in")).intValue());
    assertEquals(200, whoAmI((String) b.get("access_token")).statusCode());
    // Entra compares the resource identifier without its trailing slash: "https://org.crm.dynamics.com//.default"
    // and "https://org.crm.dynamics.com/.default" name the same resource.
    assertEquals(200, withScope(crm.get().organizationUrl() + "//.default").statusCode());
  }

  @Test
  void aMissingScopeIsInvalidRequest900144() throws Exception {
    HttpResponse<String> r = withScope(null);
    assertEntra(r, 400, "invalid_request", "AADSTS900144");
    assertTrue(r.body().contains("The request body must contain the following parameter: 'scope'."), r.body());
    assertEntra(withScope(""), 400, "invalid_request", "AADSTS900144");
  }

  @Test
  void aScopeWithoutDotDefaultIsInvalidScope1002012() throws Exception {
    HttpResponse<String> r = withScope(crm.get().organizationUrl() + "/user_impersonation");
    assertEntra(r, 400, "invalid_scope", "AADSTS1002012");
    assertTrue(r.body().contains("Client credential flows must have a scope value with /.default suffixed to the "
        + "resource identifier (application ID URI)."), r.body());
    assertEntra(withScope(crm.get().organizationUrl()), 400, "invalid_scope", "AADSTS1002012");
  }

  @Test
  void aScopeNamingAnotherResourceIsInvalidResource500011() throws Exception {
    HttpResponse<String> r = withScope("https://org.crm.dynamics.com/.default");
    assertEntra(r, 400, "invalid_resource", "AADSTS500011");
    assertTrue(r.body().contains("The resource principal named https://org.crm.dynamics.com was not found in the "
        + "tenant named tandem-tenant."), r.body());
    assertEntra(withScope("https://api.businesscentral.dynamics.com/.default"), 400, "invalid_resource",
        "AADSTS500011");
  }

  @Test
  void clientChecksStillAnswerAsEntra() throws Exception {
    String scope = "&scope=" + URLEncoder.encode(crm.get().scope(), StandardCharsets.UTF_8);
    assertEntra(token("grant_type=client_credentials&client_id=nobody&client_secret=x" + scope), 400,
        "unauthorized_client", "AADSTS700016");
    assertEntra(token("grant_type=client_credentials&client_id=tandem-sync&client_secret=wrong" + scope), 401,
        "invalid_client", "AADSTS7000215");
    assertEntra(token("grant_type=password&client_id=tandem-sync&client_secret=tandem-secret" + scope), 400,
        "unsupported_grant_type", "AADSTS70003");
  }

  @Test
  void aTokenForAnotherOrganizationOfTheTenantIsRefused401() throws Exception {
    crm.get().otherOrganizationInTenant("https://contoso-test.crm4.dynamics.com");
    HttpResponse<String> r = withScope("https://contoso-test.crm4.dynamics.com/.default");
    assertEquals(200, r.statusCode(), "Entra issues it: the resource exists in the tenant: " + r.body());
    HttpResponse<String> refused = whoAmI((String) Json.object(r.body()).get("access_token"));
    assertEquals(401, refused.statusCode(), refused.body());
    assertChallenge(refused);
  }

  @Test
  void anotherOrganizationOfTheTenantCanBeDeclaredThroughTheAdminApi() throws Exception {
    HttpResponse<String> before = withScope("https://contoso-uat.crm4.dynamics.com/.default");
    assertEquals(400, before.statusCode(), "no such resource in the tenant yet: " + before.body());
    HttpResponse<String> bad = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
        + "/__admin/sim/tenant/organizations")).POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"contoso\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, bad.statusCode(), bad.body());
    HttpResponse<String> added = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
        + "/__admin/sim/tenant/organizations")).POST(HttpRequest.BodyPublishers.ofString(
        "{\"url\":\"https://contoso-uat.crm4.dynamics.com\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(204, added.statusCode(), added.body());
    HttpResponse<String> r = withScope("https://contoso-uat.crm4.dynamics.com/.default");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(401, whoAmI((String) Json.object(r.body()).get("access_token")).statusCode());
  }

  @Test
  void every401NamesTheAuthorityAndThisOrganization() throws Exception {
    HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().apiUrl() + "/accounts"))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(401, none.statusCode());
    assertChallenge(none);
    HttpResponse<String> made = whoAmI("made-up");
    assertEquals(401, made.statusCode());
    assertChallenge(made);
  }

  private static void assertChallenge(HttpResponse<String> r) {
    assertEquals("Bearer authorization_uri=" + crm.get().organizationUrl() + "/tandem-tenant/oauth2/authorize, "
        + "resource_id=" + crm.get().organizationUrl() + "/", r.headers().firstValue("WWW-Authenticate").orElse(""));
  }

  @Test
  void tokensExpireAfterTheirLifetimeScaledWithTheTimeScale() throws Exception {
    crm.get().auth().lifetime(100);
    crm.get().profile("realistic", 0.02);
    HttpResponse<String> r = withScope(crm.get().scope());
    Map<String, Object> b = Json.object(r.body());
    assertEquals(2, ((Number) b.get("expires_in")).intValue(), "100 s at time scale 0.02: " + r.body());
    String token = (String) b.get("access_token");
    assertEquals(200, whoAmI(token).statusCode());
    Thread.sleep(2300);
    HttpResponse<String> expired = whoAmI(token);
    assertEquals(401, expired.statusCode(), "expired after expires_in");
    assertChallenge(expired);
  }
}
