package dev.tandem.plugins.items;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.api.CouplingService;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.PluginContext;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Answers a CRM product's availability on {@link Addresses#AVAILABILITY}: the ERP item coupled to it in
 * ITEM-PRODUCT, and that item's inventory, read now from the ERP with the item-availability web-service user
 * ({@code plugins.items.availability.user} / {@code accessKey}, else the connection's item-availability user, else
 * the sync user), as the reference
 * system's CRM reads NAV's item availability service. Failures: 404 when the product is not coupled or the item
 * is gone, 503 when the ERP cannot be read.
 */
final class AvailabilityVerticle extends VerticleBase {

  private final PluginContext context;
  private ErpConnector erp;
  private CouplingService couplings;

  AvailabilityVerticle(PluginContext context) {
    this.context = context;
  }

  @Override
  public Future<?> start() {
    JsonObject settings = context.config().getJsonObject("availability", new JsonObject());
    // A web-service user in the plugin's settings (deployments from files) takes precedence over the connection's.
    erp = (settings.getString("user") != null ? context.erp(settings.getString("user"), settings.getString("accessKey"))
        : context.availabilityErp()).orElse(null);
    couplings = context.couplings().orElse(null);
    if (erp == null || couplings == null) {
      // Nothing to answer with; the admin API then says why no plugin answers.
      context.logger().log(System.Logger.Level.WARNING, "item availability is off: this node has no ERP connection, "
          + "or the connection switches item availability off");
      return Future.succeededFuture();
    }
    return vertx.eventBus().<JsonObject>consumer(Addresses.AVAILABILITY, this::answer).completion();
  }

  private void answer(Message<JsonObject> msg) {
    String productId = msg.body().getString("crmProductId");
    couplings.erpIdOf(ItemMappings.ITEM_PRODUCT, productId).compose(itemNo -> {
      if (itemNo.isEmpty()) {
        BusFailure.NOT_FOUND.fail(msg, "CRM product " + productId + " is not coupled to an ERP item in mapping "
            + ItemMappings.ITEM_PRODUCT + ": couple it, or synchronize " + ItemMappings.ITEM_PRODUCT + " first");
        return Future.succeededFuture();
      }
      return erp.read("Item", "No eq " + ErpConnector.literal(itemNo.get()),
          List.of("No", "Base_Unit_of_Measure", "Inventory"), 1).map(rows -> {
            if (rows.isEmpty()) {
              BusFailure.NOT_FOUND.fail(msg, "ERP item " + itemNo.get() + ", coupled to CRM product " + productId
                  + ", no longer exists in the ERP");
            } else {
              JsonObject item = rows.get(0);
              msg.reply(new JsonObject().put("crmProductId", productId).put("erpItemNo", item.getString("No"))
                  .put("unitOfMeasure", item.getString("Base_Unit_of_Measure"))
                  .put("inventory", item.getValue("Inventory")).put("source", "ERP Item")
                  .put("readAt", Instant.now().toString()));
            }
            return null;
          });
    }).onFailure(e -> BusFailure.UNAVAILABLE.fail(msg, "the ERP's inventory for CRM product " + productId + " could not be read: "
        + e.getMessage()));
  }

  @Override
  public Future<?> stop() {
    if (erp != null) {
      erp.close();
    }
    return Future.succeededFuture();
  }
}
