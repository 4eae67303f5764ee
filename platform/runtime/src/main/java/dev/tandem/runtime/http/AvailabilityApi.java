package dev.tandem.runtime.http;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/availability/{crmProductId}}: a CRM product's availability, answered by whichever plugin
 * consumes {@link Addresses#AVAILABILITY} (the items plugin). The runtime knows nothing of items itself.
 */
final class AvailabilityApi {

  private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}");
  private static final DeliveryOptions TIMEOUT = new DeliveryOptions().setSendTimeout(30_000);
  private final Vertx vertx;
  private final java.util.function.Supplier<dev.tandem.runtime.connection.ConnectionService> connection;

  AvailabilityApi(Vertx vertx, java.util.function.Supplier<dev.tandem.runtime.connection.ConnectionService> connection) {
    this.vertx = vertx;
    this.connection = connection;
  }

  /** @return whether the stored connection switches item availability off */
  private boolean switchedOff() {
    dev.tandem.runtime.connection.ConnectionService c = connection.get();
    JsonObject av = c == null ? null : c.storedSettings().getJsonObject("availability");
    return av != null && Boolean.FALSE.equals(av.getBoolean("enabled"));
  }

  void mount(Router r) {
    r.get("/api/v1/availability/:id").handler(ctx -> {
      String id = ctx.pathParam("id");
      if (!GUID.matcher(id).matches()) {
        ApiError.send(ctx, 400, "bad_request", "'" + id + "' is not a CRM product id (a GUID)");
        return;
      }
      Bus.request(vertx, new BusMessages.Availability(id), TIMEOUT)
          .onSuccess(body -> ctx.response().putHeader("Content-Type", "application/json").end(body.encode()))
          .onFailure(failure -> {
            BusError e = BusError.of(Addresses.AVAILABILITY, failure);
            if (e.noConsumer() && switchedOff()) {
              ApiError.send(ctx, 409, "availability_off", "item availability is switched off in the connection: "
                  + "switch it on with PATCH /api/v1/connection {\"availability\": {\"enabled\": true, \"user\": "
                  + "\"…\", \"accessKey\": \"…\"}} (or the setup guide's synchronize step)");
            } else if (e.noConsumer()) {
              ApiError.send(ctx, 503, "unavailable", "no installed plugin answers item availability: install the "
                  + "items plugin, with the ERP connection configured");
            } else if (e.is(BusFailure.NOT_FOUND)) {
              ApiError.send(ctx, 404, "not_found", e.getMessage());
            } else {
              ApiError.send(ctx, 503, "unavailable", "availability of CRM product " + id + " could not be read: "
                  + e.getMessage());
            }
          });
    });
  }
}
