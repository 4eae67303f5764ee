package dev.tandem.sim.crm;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The organization's set-up actions as Dataverse performs them: {@code ImportSolution} with its non-nullable
 * parameters (OverwriteUnmanagedCustomizations, PublishWorkflows, CustomizationFile, ImportJobId), a row in
 * {@code importjobs} to poll and one in {@code solutions}; the solution's security roles, which exist only once it
 * is imported, one copy per business unit ({@code _parentroleid_value}, {@code _businessunitid_value});
 * {@code systemuserroles_association}, which checks the caller's privileges and refuses a duplicate; and, in a
 * fresh organization, application users refused data access until they hold a role. The import turns change
 * tracking on and creates the alternate keys through {@link DataverseMetadata} (Pending, then Active).
 *
 * <p>Sources: ImportSolution Action (Web API reference: the four parameters are not nullable); Associate and
 * disassociate table rows (Web API, {@code $ref}); "Cannot insert duplicate key" (0x80040237) for an existing
 * association; security roles and privileges (prvImportCustomizations held by System Administrator and System
 * Customizer, prvAssignRole by System Administrator); "Principal user ... is missing prvRead... privilege".
 */
final class DataverseSetup {

  /** The solution the simulator knows how to import (Tandem's). */
  static final String SOLUTION = "TandemIntegration";
  /** The roles the solution brings. */
  static final List<String> SOLUTION_ROLES = List.of("Integration Administrator", "Integration User");
  static final String CUSTOMIZER_ROLE = "System Customizer";
  private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}");

  private DataverseSetup() {}

  /** The admin routes: a fresh organization, and administrators with roles. */
  static void register(DataverseSimulator sim, SimulatorServer server) {
    // A fresh organization: no solution, none of its roles, and the integration user holding no role (refused
    // data access until it does). A second business unit makes the per-business-unit copies of roles visible.
    server.adminRoute("POST", "/sim/setup/fresh", (r, p) -> {
      sim.store().write(() -> {
        sim.store().table("solutions").all(null, null).forEach(x -> sim.store().table("solutions")
            .delete(String.valueOf(x.get("solutionid"))));
        sim.store().table("importjobs").all(null, null).forEach(x -> sim.store().table("importjobs")
            .delete(String.valueOf(x.get("importjobid"))));
        sim.store().table("roles").all(x -> SOLUTION_ROLES.contains(x.get("name")), null)
            .forEach(x -> sim.store().table("roles").delete(String.valueOf(x.get("roleid"))));
        sim.store().table("systemuserroles").all(x -> sim.integrationUserId().equals(x.get("systemuserid")), null)
            .forEach(x -> sim.store().table("systemuserroles").delete(String.valueOf(x.get("id"))));
        return null;
      });
      sim.rolesRequired = true;
      // Nor the solution's table definitions: no change tracking on Tandem's tables, no alternate keys.
      sim.metadata().freshOrganization();
      return SimResponse.empty(204);
    });
    // An administrator account (an app registration) holding the given standard roles.
    server.adminRoute("POST", "/sim/setup/admins", (r, p) -> {
      Map<String, Object> b = Json.object(r.bodyText());
      String clientId = (String) b.get("clientId");
      String userId = DataverseAdmin.applicationUser(sim, clientId);
      sim.auth().register(clientId, (String) b.get("clientSecret"), userId);
      for (Object role : (List<?>) b.getOrDefault("roles", List.of())) {
        Map<String, Object> row = role(sim, String.valueOf(role), sim.businessUnitId);
        if (row == null) {
          return DataverseSimulator.error(400, "0x80040203", "no role " + role + " in the root business unit");
        }
        link(sim, userId, String.valueOf(row.get("roleid")));
      }
      return SimResponse.json(200, Map.of("systemuserid", userId));
    });
  }

  /** @return the second business unit's id (a child of the root) */
  static String childBusinessUnit(DataverseSimulator sim) {
    return UUID.nameUUIDFromBytes(("bu:" + sim.businessUnitId).getBytes()).toString();
  }

  private static Map<String, Object> role(DataverseSimulator sim, String name, String businessUnit) {
    return sim.store().read(() -> sim.store().table("roles").all(x -> name.equals(x.get("name"))
        && (businessUnit.equals(x.get("_businessunitid_value")) || x.get("_businessunitid_value") == null
            && businessUnit.equals(sim.businessUnitId)), null).stream().findFirst().orElse(null));
  }

  private static void link(DataverseSimulator sim, String userId, String roleId) {
    sim.store().write(() -> {
      Map<String, Object> link = new LinkedHashMap<>();
      link.put("id", userId + ":" + roleId);
      link.put("systemuserid", userId);
      link.put("roleid", roleId);
      sim.store().table("systemuserroles").put(link);
      return null;
    });
  }

  /** @return the names of the roles a user holds */
  static List<String> roles(DataverseSimulator sim, String userId) {
    return sim.store().read(() -> {
      List<String> out = new ArrayList<>();
      sim.store().table("systemuserroles").all(x -> userId.equals(x.get("systemuserid")), null).forEach(x -> {
        Map<String, Object> role = sim.store().table("roles").get(String.valueOf(x.get("roleid")));
        if (role != null) {
          out.add(String.valueOf(role.get("name")));
        }
      });
      return out;
    });
  }

  private static SimResponse missingPrivilege(String user, String privilege) {
    return DataverseSimulator.error(403, "0x80040220", "Principal user (Id=" + user + ", type=8, roleCount="
        + "0) is missing " + privilege + " privilege.");
  }

  /**
   * In a fresh organization an application user without any role is refused data access, as Dataverse refuses a
   * user without the read privilege of the table.
   *
   * @return the refusal, or null when the call may go on
   */
  static SimResponse dataAccess(DataverseSimulator sim, String user, String set, String method) {
    if (!sim.rolesRequired || user.equals(DataverseAdmin.systemUserId())) {
      return null;
    }
    if (!roles(sim, user).isEmpty()) {
      return null;
    }
    String logical = sim.entity(set).logical();
    String verb = method.equals("GET") ? "Read" : method.equals("DELETE") ? "Delete" : "Write";
    return DataverseSimulator.error(403, "0x80040220", "Principal user (Id=" + user + ", type=8, roleCount=0, "
        + "privilegeCount=0) is missing prv" + verb + Character.toUpperCase(logical.charAt(0)) + logical.substring(1)
        + " privilege (Id=" + UUID.nameUUIDFromBytes(("prv" + verb + logical).getBytes()) + ") on OTC=0 for entity '"
        + logical + "'.");
  }

  /** POST ImportSolution. */
  static SimResponse importSolution(DataverseSimulator sim, SimRequest r, String user) {
    List<String> held = roles(sim, user);
    if (!held.contains(DataverseAdmin.ADMIN_ROLE) && !held.contains(CUSTOMIZER_ROLE)) {
      return missingPrivilege(user, "prvImportCustomizations");
    }
    Map<String, Object> body = Json.object(r.bodyText());
    for (String p : new String[] {"OverwriteUnmanagedCustomizations", "PublishWorkflows", "CustomizationFile",
        "ImportJobId"}) {
      if (body.get(p) == null) {
        return DataverseSimulator.error(400, "0x80040203", "Required parameter '" + p + "' of action "
            + "ImportSolution is missing or null: it is not nullable.");
      }
    }
    if (!(body.get("OverwriteUnmanagedCustomizations") instanceof Boolean)
        || !(body.get("PublishWorkflows") instanceof Boolean)) {
      return DataverseSimulator.error(400, "0x80040203", "OverwriteUnmanagedCustomizations and PublishWorkflows "
          + "are Edm.Boolean.");
    }
    String jobId = String.valueOf(body.get("ImportJobId"));
    if (!GUID.matcher(jobId).matches()) {
      return DataverseSimulator.error(400, "0x80040203", "ImportJobId '" + jobId + "' is not an Edm.Guid.");
    }
    byte[] file;
    try {
      file = Base64.getDecoder().decode(String.valueOf(body.get("CustomizationFile")));
    } catch (IllegalArgumentException e) {
      return DataverseSimulator.error(400, "0x80048d19", "CustomizationFile is not an Edm.Binary (base64).");
    }
    // A real solution file: a zip with solution.xml, customizations.xml and [Content_Types].xml (SolutionFile).
    SolutionFile solution;
    try {
      solution = SolutionFile.read(file);
    } catch (DataverseSimulator.DvError e) {
      return e.response;
    }
    // Checked before anything is written, so a solution that cannot be applied changes nothing.
    DataverseMetadata md = sim.metadata();
    java.util.Set<String> tables = new java.util.LinkedHashSet<>(solution.tracked());
    tables.addAll(solution.keys().keySet());
    tables.addAll(solution.columns().keySet());
    for (String table : tables) {
      DataverseEntities.Entity e = DataverseMetadata.byLogical(table);
      if (e == null) {
        return DataverseSimulator.error(400, SolutionFile.XSD, "The import file is invalid. XSD validation failed "
            + "with the following error: 'customizations.xml: entity " + table + " does not exist in this "
            + "organization'.");
      }
      for (String column : solution.columns().getOrDefault(table, List.of())) {
        // Modelled limit: the simulator can add only the columns whose types it knows (DataverseEntities).
        if (!e.columns().containsKey(column)) {
          return DataverseSimulator.error(400, SolutionFile.XSD, "The import file is invalid. XSD validation failed "
              + "with the following error: 'customizations.xml: attribute " + column + " of entity " + table
              + " is not one the simulator models'.");
        }
      }
      for (var key : solution.keys().getOrDefault(table, Map.of()).entrySet()) {
        for (String column : key.getValue()) {
          if (!e.columns().containsKey(column)) {
            return DataverseSimulator.error(400, SolutionFile.XSD, "The import file is invalid. XSD validation "
                + "failed with the following error: 'customizations.xml: key " + key.getKey() + ": the attribute "
                + column + " does not exist on entity " + table + "'.");
          }
        }
      }
    }
    String[] parts = {solution.uniqueName(), solution.version()};
    String now = Instant.now().toString();
    sim.store().write(() -> {
      if (sim.store().table("importjobs").get(jobId.toLowerCase(Locale.ROOT)) != null) {
        throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x80040237",
            "Cannot insert duplicate key."));
      }
      Map<String, Object> job = new LinkedHashMap<>();
      job.put("solutionname", parts[0]);
      job.put("progress", 100.0);
      job.put("startedon", now);
      job.put("completedon", now);
      job.put("data", "<importexportxml><solutionManifests><solutionManifest><UniqueName>" + parts[0]
          + "</UniqueName><Version>" + parts[1] + "</Version><result result=\"success\"/></solutionManifest>"
          + "</solutionManifests></importexportxml>");
      sim.records().insert(sim.entity("importjobs"), job, user, jobId.toLowerCase(Locale.ROOT));
      Map<String, Object> existing = sim.store().table("solutions").all(x -> parts[0].equals(x.get("uniquename")),
          null).stream().findFirst().orElse(null);
      if (existing == null) {
        sim.records().insert(sim.entity("solutions"), Map.of("uniquename", parts[0], "friendlyname", parts[0],
            "version", parts[1], "ismanaged", solution.managed(), "installedon", now), user, null);
      } else {
        Map<String, Object> updated = new LinkedHashMap<>(existing);
        updated.put("version", parts[1]);
        sim.store().table("solutions").put(updated);
      }
      // The solution's roles: one in the root business unit, and a copy (parent: the root's) in every other one.
      for (String name : solution.roles()) {
        if (role(sim, name, sim.businessUnitId) == null) {
          // The business unit and parent are system-set lookups: written to the row, not through the API.
          Map<String, Object> root = new LinkedHashMap<>(sim.records().insert(sim.entity("roles"), Map.of("name", name), user,
              null));
          root.put("_businessunitid_value", sim.businessUnitId);
          sim.store().table("roles").put(root);
          Map<String, Object> copy = new LinkedHashMap<>(sim.records().insert(sim.entity("roles"), Map.of("name", name), user,
              null));
          copy.put("_businessunitid_value", childBusinessUnit(sim));
          copy.put("_parentroleid_value", root.get("roleid"));
          sim.store().table("roles").put(copy);
        }
      }
      return null;
    });
    // The customizations: change tracking on its tables, and its alternate keys, each Pending until its index job
    // has run (DataverseMetadata); a key already there (a re-import) stays as it is.
    solution.columns().forEach((table, cols) -> cols.forEach(c -> md.addColumn(table, c)));
    solution.tracked().forEach(md::enableChangeTracking);
    solution.keys().forEach((table, keys) -> keys.forEach((name, columns) -> {
      if (md.keys(table).stream().noneMatch(k -> k.schemaName().equalsIgnoreCase(name)
          || k.attributes().equals(columns))) {
        md.createKey(table, name, columns);
      }
    }));
    sim.importedSolutions.add(Map.of("uniquename", parts[0], "version", parts[1]));
    return SimResponse.empty(204);
  }

  /** POST systemusers(id)/systemuserroles_association/$ref with {"@odata.id": ".../roles(id)"}. */
  static SimResponse associate(DataverseSimulator sim, String caller, String userId, SimRequest r) {
    if (!roles(sim, caller).contains(DataverseAdmin.ADMIN_ROLE)) {
      return missingPrivilege(caller, "prvAssignRole");
    }
    Map<String, Object> body = Json.object(r.bodyText());
    String ref = String.valueOf(body.get("@odata.id"));
    int open = ref.lastIndexOf('(');
    String roleId = open < 0 ? "" : ref.substring(open + 1, ref.length() - 1).toLowerCase(Locale.ROOT);
    return sim.store().write(() -> {
      if (userId == null || sim.store().table("systemusers").get(userId) == null) {
        return sim.records().notFound(sim.entity("systemusers"), String.valueOf(userId));
      }
      Map<String, Object> role = sim.store().table("roles").get(roleId);
      if (role == null) {
        return sim.records().notFound(sim.entity("roles"), roleId);
      }
      if (role.get("_businessunitid_value") != null && !sim.businessUnitId.equals(role.get("_businessunitid_value"))) {
        return DataverseSimulator.error(400, "0x80040203", "The role is not from the same business unit as the "
            + "user.");
      }
      if (sim.store().table("systemuserroles").get(userId + ":" + roleId) != null) {
        return DataverseSimulator.error(400, "0x80040237", "Cannot insert duplicate key.");
      }
      link(sim, userId, roleId);
      return SimResponse.empty(204);
    });
  }

  /** GET systemusers(id)/systemuserroles_association: the user's roles. */
  static SimResponse associated(DataverseSimulator sim, String userId) {
    return sim.store().read(() -> {
      if (userId == null || sim.store().table("systemusers").get(userId) == null) {
        return sim.records().notFound(sim.entity("systemusers"), String.valueOf(userId));
      }
      List<Map<String, Object>> out = new ArrayList<>();
      sim.store().table("systemuserroles").all(x -> userId.equals(x.get("systemuserid")), null).forEach(x -> {
        Map<String, Object> role = sim.store().table("roles").get(String.valueOf(x.get("roleid")));
        if (role != null) {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("roleid", role.get("roleid"));
          row.put("name", role.get("name"));
          row.put("_businessunitid_value", role.get("_businessunitid_value"));
          out.add(row);
        }
      });
      return SimResponse.json(200, Map.of("@odata.context", sim.apiUrl() + "/$metadata#roles", "value", out));
    });
  }
}
