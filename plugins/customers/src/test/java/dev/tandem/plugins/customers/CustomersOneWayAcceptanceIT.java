package dev.tandem.plugins.customers;

import io.vertx.core.json.JsonObject;

/** CUSTOMER, set to synchronize ERP to CRM only, passes the acceptance suite's one-way tests too. */
class CustomersOneWayAcceptanceIT extends CustomersAcceptanceIT {

  @Override
  protected JsonObject overrides() {
    return new JsonObject().put("direction", "TO_CRM");
  }
}
