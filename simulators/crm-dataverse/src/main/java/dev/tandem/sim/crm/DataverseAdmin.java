package dev.tandem.sim.crm;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SeedNames;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.core.StoreAdmin;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The Dataverse simulator's setup and admin API under {@code /__admin/sim/}: reset, counts, seed, rows read-back,
 * service-protection limits, token expiry; plus the setup actions (ImportSolution, role assignment).
 */
final class DataverseAdmin {

  static final String ADMIN_ROLE = "System Administrator";

  private DataverseAdmin() {}

  /** Creates the integration user and the standard roles; returns the integration user's id. */
  static String bootstrap(DataverseSimulator sim) {
    String id = UUID.nameUUIDFromBytes(("integration:" + sim.options().clientId()).getBytes()).toString();
    sim.store().write(() -> {
      Entity users = sim.entity("systemusers");
      Map<String, Object> u = new LinkedHashMap<>();
      u.put("firstname", "# Tandem");
      u.put("lastname", "Integration");
      u.put("domainname", sim.options().clientId() + "@integration");
      u.put("internalemailaddress", "tandem-integration@contoso.example");
      u.put("isdisabled", false);
      u.put("islicensed", false);
      u.put("applicationid", sim.options().clientId());
      u.put("accessmode", 4);
      sim.records().insert(users, u, id, id);
      // Dataverse's own SYSTEM user: seeded rows are created by it, not by the integration user, so Tandem's
      // CRM reads (which leave out the integration user's own changes) see them as people's data.
      String system = systemUserId();
      if (sim.store().table("systemusers").get(system) == null) {
        sim.records().insert(users, Map.of("firstname", "", "lastname", "SYSTEM", "isdisabled", false, "islicensed", false,
            "accessmode", 3), system, system);
      }
      Entity roles = sim.entity("roles");
      for (String name : new String[] {ADMIN_ROLE, "System Customizer", "Integration Administrator",
          "Integration User", "Salesperson"}) {
        // Every role belongs to a business unit: these to the root one (a system-set lookup, written to the row).
        Map<String, Object> role = new LinkedHashMap<>(sim.records().insert(roles, Map.of("name", name), id, null));
        role.put("_businessunitid_value", sim.businessUnitId);
        sim.store().table("roles").put(role);
      }
      return null;
    });
    return id;
  }

  /** Creates (or finds) the application user of an OAuth client; returns its id. */
  static String applicationUser(DataverseSimulator sim, String clientId) {
    String id = UUID.nameUUIDFromBytes(("integration:" + clientId).getBytes()).toString();
    sim.store().write(() -> {
      if (sim.store().table("systemusers").get(id) == null) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("firstname", "# " + clientId);
        u.put("lastname", "Application");
        u.put("domainname", clientId + "@integration");
        u.put("isdisabled", false);
        u.put("islicensed", false);
        u.put("applicationid", clientId);
        u.put("accessmode", 4);
        sim.records().insert(sim.entity("systemusers"), u, id, id);
      }
      return null;
    });
    return id;
  }

  /** @return the id of the SYSTEM user that creates seeded rows */
  static String systemUserId() {
    return UUID.nameUUIDFromBytes("dataverse:SYSTEM".getBytes()).toString();
  }

  static void register(DataverseSimulator sim, SimulatorServer server) {
    StoreAdmin.register(server, sim.store(), () -> {
      sim.store().reset();
      sim.protection().reset();
      sim.changeTracking().reset();
      sim.optionSets().reset();
      sim.serverLogic().clear();
      sim.metadata().reset(sim.metadata().tandemState());
      sim.clockOffsetMs(0);
      sim.rolesRequired = false;
      bootstrap(sim);
      sim.auth().registered().forEach((client, userId) -> {
        if (userId.equals(UUID.nameUUIDFromBytes(("integration:" + client).getBytes()).toString())
            && !userId.equals(sim.integrationUserId())) {
          applicationUser(sim, client);
        }
      });
    }, (seed, counts) -> seed(sim, seed, counts), sim.options().seed(), row -> row);
    server.adminRoute("GET", "/sim/limits", (r, p) -> SimResponse.json(200, sim.protection().limits()));
    // Every 429 of late (at most 200): when, for whom, which request, which code, and the user's window then.
    server.adminRoute("GET", "/sim/throttling", (r, p) -> SimResponse.json(200, Map.of("refusals",
        sim.protection().refusals())));
    // What each user has used since the reset: admitted and refused requests, execution charged (a benchmark's
    // account of where a run's time went).
    server.adminRoute("GET", "/sim/usage", (r, p) -> SimResponse.json(200, Map.of("users",
        sim.protection().usage())));
    server.adminRoute("POST", "/sim/limits", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      ServiceProtection.Limits d = sim.protection().limits();
      ServiceProtection.Limits l = new ServiceProtection.Limits(
          ((Number) b.getOrDefault("requests", d.requests())).intValue(),
          ((Number) b.getOrDefault("executionMs", d.executionMs())).longValue(),
          ((Number) b.getOrDefault("concurrent", d.concurrent())).intValue(),
          ((Number) b.getOrDefault("windowMs", d.windowMs())).longValue(),
          ((Number) b.getOrDefault("dopHint", d.dopHint())).intValue());
      sim.protection().limits(l);
      sim.protection().reset();
      return SimResponse.json(200, l);
    });
    // Given rows, created by SYSTEM like seeded ones (so Tandem's reads see them as people's data).
    server.adminRoute("POST", "/sim/rows/{entitySet}", (r, p) -> {
      List<Map<String, Object>> rows = Json.objects(Json.object(r.bodyText()).get("rows"));
      try {
        Entity e = sim.entity(p.get("entitySet"));
        return sim.store().write(() -> {
          List<Object> ids = new ArrayList<>();
          rows.forEach(row -> ids.add(sim.records().insert(e, row, systemUserId(), null).get(e.key())));
          return SimResponse.json(200, Map.of("inserted", rows.size(), "ids", ids));
        });
      } catch (DataverseSimulator.DvError e) {
        return e.response;
      }
    });
    server.adminRoute("GET", "/sim/costs", (r, p) -> SimResponse.json(200, sim.costs().describe()));
    server.adminRoute("POST", "/sim/costs", (r, p) -> {
      try {
        sim.costs(sim.costs().with(Json.object(r.bodyText())));
        return SimResponse.json(200, sim.costs().describe());
      } catch (IllegalArgumentException | ClassCastException e) {
        return DataverseSimulator.error(400, "bad_costs", e.getMessage());
      }
    });
    server.adminRoute("POST", "/sim/tokens/expire", (r, p) -> {
      sim.auth().expireAll();
      return SimResponse.empty(204);
    });
    // Change-tracking retention (Organization.ExpireChangeTrackingInDays) and a forced expiry of every delta token.
    server.adminRoute("GET", "/sim/change-tracking", (r, p) -> SimResponse.json(200,
        Map.of("retentionSeconds", sim.changeTracking().retentionMs() / 1000)));
    server.adminRoute("POST", "/sim/change-tracking", (r, p) -> {
      Object seconds = Json.object(r.bodyText()).get("retentionSeconds");
      if (!(seconds instanceof Number n) || n.longValue() < 1) {
        return DataverseSimulator.error(400, "0x80040203", "retentionSeconds must be a positive number");
      }
      sim.changeTracking().retentionMs(n.longValue() * 1000);
      return SimResponse.empty(204);
    });
    server.adminRoute("POST", "/sim/change-tracking/expire", (r, p) -> {
      sim.changeTracking().expireAll();
      return SimResponse.empty(204);
    });
    // The organization's clock against the machine's (negative: behind); new modifiedon stamps follow it.
    server.adminRoute("GET", "/sim/clock", (r, p) -> SimResponse.json(200, Map.of("offsetMs", sim.clockOffsetMs())));
    server.adminRoute("POST", "/sim/clock", (r, p) -> {
      Object offset = Json.object(r.bodyText()).get("offsetMs");
      if (!(offset instanceof Number n)) {
        return DataverseSimulator.error(400, "0x80040203", "offsetMs must be a number of milliseconds");
      }
      sim.clockOffsetMs(n.longValue());
      return SimResponse.empty(204);
    });
    // The organization's table definitions: a fresh environment or the state after Tandem's solution is imported
    // (what a reset restores), and how long a new alternate key's index job takes.
    server.adminRoute("GET", "/sim/organization", (r, p) -> SimResponse.json(200, Map.of("state",
        sim.metadata().tandemState() ? "tandem-solution" : "fresh", "keyIndexDelayMs",
        sim.metadata().keyIndexDelayMs())));
    server.adminRoute("POST", "/sim/organization", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      Object state = b.get("state");
      if (state != null && !"fresh".equals(state) && !"tandem-solution".equals(state)) {
        return DataverseSimulator.error(400, "0x80040203", "state must be fresh or tandem-solution");
      }
      if (b.containsKey("keyIndexDelayMs") && !(b.get("keyIndexDelayMs") instanceof Number n && n.longValue() >= 0)) {
        return DataverseSimulator.error(400, "0x80040203", "keyIndexDelayMs must be a number >= 0");
      }
      if (state != null) {
        sim.metadata().reset("tandem-solution".equals(state));
      }
      if (b.get("keyIndexDelayMs") instanceof Number n) {
        sim.metadata().keyIndexDelayMs(n.longValue());
      }
      return SimResponse.empty(204);
    });
    // Another organization (environment) of the same tenant: Entra issues tokens for its scope, this organization
    // refuses them (401), as a connection pointed at the wrong environment meets it.
    server.adminRoute("POST", "/sim/tenant/organizations", (r, p) -> {
      Object url = Json.object(r.bodyText()).get("url");
      if (!(url instanceof String u) || !(u.startsWith("https://") || u.startsWith("http://"))) {
        return DataverseSimulator.error(400, "0x80040203", "url must be the organization's URL, e.g. "
            + "https://contoso-test.crm4.dynamics.com");
      }
      sim.otherOrganizationInTenant(u);
      return SimResponse.empty(204);
    });
    // Plug-ins and workflows on a table's writes (DataverseServerLogic): they move modifiedon and the modifier after
    // a client's write, as in an organization with business logic.
    server.adminRoute("GET", "/sim/server-logic", (r, p) -> SimResponse.json(200, Map.of("steps",
        sim.serverLogic().steps().stream().map(s -> Map.of("entitySet", s.entitySet(), "on",
            List.copyOf(s.messages()), "set", s.set(), "mode", s.synchronous() ? "sync" : "async",
            "executionMs", s.executionMs())).toList())));
    server.adminRoute("POST", "/sim/server-logic", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      Object set = b.get("entitySet");
      Object columns = b.get("set");
      if (!(set instanceof String es) || !sim.sets().contains(es)) {
        return DataverseSimulator.error(400, "0x80040203", "entitySet must name a table, e.g. accounts");
      }
      if (!(columns instanceof Map<?, ?> cols) || cols.isEmpty()) {
        return DataverseSimulator.error(400, "0x80040203", "set must be an object of the columns the step writes");
      }
      Object on = b.getOrDefault("on", List.of("create", "update"));
      if (!(on instanceof List<?> msgs) || msgs.isEmpty()
          || !msgs.stream().allMatch(m -> "create".equals(m) || "update".equals(m))) {
        return DataverseSimulator.error(400, "0x80040203", "on must list create and/or update");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> written = new java.util.LinkedHashMap<>((Map<String, Object>) cols);
      sim.serverLogic().add(new DataverseServerLogic.Step(es, java.util.Set.copyOf(msgs.stream()
          .map(String::valueOf).toList()), written, !"async".equals(b.get("mode")),
          b.get("executionMs") instanceof Number n ? n.doubleValue() : 0));
      return SimResponse.empty(204);
    });
    server.adminRoute("DELETE", "/sim/server-logic", (r, p) -> {
      sim.serverLogic().clear();
      return SimResponse.empty(204);
    });
    server.adminRoute("POST", "/sim/clients", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      String clientId = (String) b.get("clientId");
      // "applicationUser": true gives the client an application user (and a service-protection budget) of its own.
      String userId = b.get("userId") != null ? (String) b.get("userId")
          : Boolean.TRUE.equals(b.get("applicationUser")) ? applicationUser(sim, clientId) : sim.integrationUserId();
      sim.auth().register(clientId, (String) b.get("clientSecret"), userId);
      if (b.get("tokenLifetimeSeconds") instanceof Number n) {
        sim.auth().lifetime(n.longValue());
      }
      return SimResponse.empty(204);
    });
  }

  static boolean hasRole(DataverseSimulator sim, String userId, String roleName) {
    return sim.store().read(() -> {
      Map<String, Object> role = sim.store().table("roles").all(r -> roleName.equals(r.get("name")), null)
          .stream().findFirst().orElse(null);
      return role != null && sim.store().table("systemuserroles").get(userId + ":" + role.get("roleid")) != null;
    });
  }

  /** Deterministic sample data; references (owners, currencies, unit groups) point at seeded rows. */
  static void seed(DataverseSimulator sim, long seed, Map<String, Integer> counts) {
    SeedNames names = new SeedNames(seed);
    String user = systemUserId();
    sim.store().write(() -> {
      List<String> users = new ArrayList<>();
      for (int i = 1; i <= counts.getOrDefault("systemusers", 0); i++) {
        String first = names.firstName();
        String last = names.lastName();
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("firstname", first);
        u.put("lastname", last);
        u.put("internalemailaddress", names.email(first, last + i, "contoso.example"));
        u.put("domainname", names.email(first, last + i, "contoso.example"));
        u.put("mobilephone", names.phone());
        u.put("isdisabled", false);
        u.put("islicensed", true);
        users.add((String) sim.records().insert(sim.entity("systemusers"), u, user, null).get("systemuserid"));
      }
      Map<String, String> currencies = new LinkedHashMap<>();
      for (String[] c : new String[][] {{"EUR", "Euro", "€"}, {"USD", "US Dollar", "$"}, {"GBP", "Pound", "£"}}) {
        Map<String, Object> row = sim.store().table("transactioncurrencies").byUnique("isocurrencycode", c[0]);
        if (row == null && counts.getOrDefault("transactioncurrencies", 1) > 0) {
          row = sim.records().insert(sim.entity("transactioncurrencies"), Map.of("isocurrencycode", c[0], "currencyname", c[1],
              "currencysymbol", c[2], "exchangerate", 1.0, "currencyprecision", 2), user, null);
        }
        if (row != null) {
          currencies.put(c[0], (String) row.get("transactioncurrencyid"));
        }
      }
      for (int i = 1; i <= counts.getOrDefault("accounts", 0); i++) {
        int place = names.place();
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("name", SeedNames.fit(names.company(i), 160));
        a.put("accountnumber", "A" + (50000 + i));
        a.put("address1_line1", names.street());
        a.put("address1_city", names.city(place));
        a.put("address1_postalcode", names.postCode());
        a.put("address1_country", names.country(place));
        a.put("telephone1", names.phone());
        a.put("emailaddress1", "office" + i + "@account" + i + ".example");
        a.put("customertypecode", 3);
        if (!users.isEmpty()) {
          a.put("ownerid@odata.bind", "/systemusers(" + users.get(names.nextInt(users.size())) + ")");
        }
        if (!currencies.isEmpty() && names.nextInt(2) == 0) {
          a.put("transactioncurrencyid@odata.bind", "/transactioncurrencies(" + currencies.values().iterator().next() + ")");
        }
        sim.records().insert(sim.entity("accounts"), a, user, null);
      }
      List<String> accounts = new ArrayList<>(sim.store().table("accounts").all(null, null).stream()
          .map(r -> (String) r.get("accountid")).toList());
      for (int i = 1; i <= counts.getOrDefault("contacts", 0); i++) {
        String first = names.firstName();
        String last = names.lastName();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("firstname", first);
        c.put("lastname", last);
        c.put("emailaddress1", names.email(first, last + i, "people.example"));
        c.put("telephone1", names.phone());
        if (!accounts.isEmpty()) {
          c.put("parentcustomerid_account@odata.bind", "/accounts(" + accounts.get(names.nextInt(accounts.size())) + ")");
        }
        sim.records().insert(sim.entity("contacts"), c, user, null);
      }
      if (counts.getOrDefault("products", 0) > 0) {
        // Products need a unit group and a default unit: the organization's "Default Unit" group, whose base
        // unit ("Primary Unit") Dataverse creates with it. Seeded products are published (Active).
        Map<String, Object> group = sim.store().table("uomschedules").byUnique("name", "Default Unit");
        if (group == null) {
          group = sim.records().insert(sim.entity("uomschedules"), Map.of("name", "Default Unit", "baseuomname",
              "Primary Unit"), user, null);
        }
        String groupId = (String) group.get("uomscheduleid");
        String unitId = (String) sim.store().table("uoms").all(u -> groupId.equals(u.get("_uomscheduleid_value"))
            && Boolean.TRUE.equals(u.get("isschedulebaseuom")), null).get(0).get("uomid");
        for (int i = 1; i <= counts.getOrDefault("products", 0); i++) {
          Map<String, Object> p = new LinkedHashMap<>();
          p.put("name", SeedNames.fit(names.company(i) + " kit", 100));
          p.put("productnumber", "P" + (7000 + i));
          p.put("price", names.amount(100_000));
          p.put("quantityonhand", names.nextInt(500));
          p.put("quantitydecimal", 0);
          p.put("defaultuomscheduleid@odata.bind", "/uomschedules(" + groupId + ")");
          p.put("defaultuomid@odata.bind", "/uoms(" + unitId + ")");
          Map<String, Object> row = sim.records().insert(sim.entity("products"), p, user, null);
          sim.records().update(sim.entity("products"), row, Map.of("statecode", 0, "statuscode", 1), user);
        }
      }
      return null;
    });
  }
}
