package dev.tandem.sim.crm;

import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import dev.tandem.sim.crm.DataverseSimulator.DvError;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The product catalog's rules. Products: {@code pricelevelid} is not valid for create, a new product is in Draft
 * (statecode 2, statuscode 0) until it is published ({@code PublishProductHierarchy}, or a SetState to Active
 * through PATCH of statecode 0 / statuscode 1), and an order or invoice line cannot use a product that is not Active.
 * Unit groups: creating one creates its base unit, named {@code baseuomname}, quantity 1. Units: {@code baseuom} is
 * required and {@code isschedulebaseuom} is read-only. Sources: Microsoft, "Product table/entity reference"
 * (defaultuomscheduleid, defaultuomid, quantitydecimal ApplicationRequired; pricelevelid IsValidForCreate False),
 * "Product catalog entities" / "Create a product" (Draft by default, publish), "uomschedule" and "uom" table
 * references; BC's codeunit "CRM Int. Table. Subscriber" (ValidateCRMUoMSchedule expects the one base unit).
 */
final class DataverseProducts {

  static final int DRAFT_STATE = 2;
  static final int DRAFT_STATUS = 0;

  private DataverseProducts() {}

  /** Refusals on create; call inside write(). */
  static void beforeCreate(DataverseSimulator sim, Entity e, Map<String, Object> body) {
    if (e.set().equals("products")) {
      if (body.containsKey("pricelevelid@odata.bind")) {
        throw new DvError(DataverseSimulator.error(400, "0x80048d19", "The attribute pricelevelid of product is not "
            + "valid for create: set the default price list by updating the product."));
      }
      if (body.containsKey("statecode") || body.containsKey("statuscode")) {
        throw new DvError(DataverseSimulator.error(400, "0x80048d19", "statecode and statuscode of product are not "
            + "valid for create: a product is created in Draft and published afterwards."));
      }
    }
    if (e.set().equals("uoms") && body.containsKey("isschedulebaseuom")) {
      throw new DvError(readOnly("isschedulebaseuom", "uom"));
    }
    lineProduct(sim, e, body);
  }

  /** Refusals on update; call inside write(). */
  static void beforeUpdate(DataverseSimulator sim, Entity e, Map<String, Object> current, Map<String, Object> body) {
    if (e.set().equals("uoms") && body.containsKey("isschedulebaseuom")) {
      throw new DvError(readOnly("isschedulebaseuom", "uom"));
    }
    // The state/status pair is checked for every table (DataverseOptionSets.stateAndStatus).
    lineProduct(sim, e, body);
  }

  /** A unit group's base unit comes with it; call inside write(). */
  static void afterCreate(DataverseSimulator sim, Entity e, Map<String, Object> row, String user) {
    if (!e.set().equals("uomschedules")) {
      return;
    }
    Entity uoms = sim.entity("uoms");
    String id = java.util.UUID.randomUUID().toString();
    Map<String, Object> unit = new LinkedHashMap<>();
    unit.put("uomid", id);
    unit.put("name", row.get("baseuomname"));
    unit.put("quantity", 1);
    unit.put("_uomscheduleid_value", row.get("uomscheduleid"));
    // The base unit is its own base; the read-only flag is the server's to set.
    unit.put("_baseuom_value", id);
    unit.put("isschedulebaseuom", true);
    sim.records().insertInternal(uoms, unit, user);
  }

  /** POST products(id)/Microsoft.Dynamics.CRM.PublishProductHierarchy: a Draft product (and its family) becomes Active. */
  static SimResponse publish(DataverseSimulator sim, Entity e, String key, String segment, String user) {
    return sim.store().write(() -> {
      Map<String, Object> current = key == null ? null : sim.store().table(e.set()).get(key);
      if (current == null) {
        return sim.records().notFound(e, key == null ? segment : key);
      }
      if (!Integer.valueOf(DRAFT_STATE).equals(current.get("statecode"))) {
        return DataverseSimulator.error(400, "0x80043b2c", "Only products in Draft state can be published.");
      }
      Map<String, Object> active = new LinkedHashMap<>();
      active.put("statecode", 0);
      active.put("statuscode", 1);
      sim.records().update(e, current, active, user);
      return SimResponse.empty(204);
    });
  }

  private static void lineProduct(DataverseSimulator sim, Entity e, Map<String, Object> body) {
    if (!(e.set().equals("salesorderdetails") || e.set().equals("invoicedetails"))) {
      return;
    }
    Object ref = body.get("productid@odata.bind");
    if (ref == null) {
      return;
    }
    String s = String.valueOf(ref);
    int open = s.lastIndexOf('(');
    String id = open < 0 ? "" : s.substring(open + 1, s.length() - 1).toLowerCase(java.util.Locale.ROOT);
    Map<String, Object> product = sim.store().table("products").get(id);
    if (product != null && !Integer.valueOf(0).equals(product.get("statecode"))) {
      throw new DvError(DataverseSimulator.error(400, "0x80043b1e", "The product " + product.get("name") + " is not "
          + "active: publish it before it is used on an order or invoice line."));
    }
  }

  private static SimResponse readOnly(String column, String table) {
    return DataverseSimulator.error(400, "0x80048d19", "The attribute " + column + " of " + table + " is read-only.");
  }
}
