package dev.tandem.runtime.http;

import dev.tandem.api.Addresses;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code POST /erp/notifications}: where Business Central online sends webhook notifications. Not under
 * {@code /api/v1} and without the admin token (BC cannot send one): the validation handshake
 * ({@code ?validationToken=…}) is answered with the token as plain text, and every notification is authenticated by
 * the clientState of a subscription Tandem made. Answers 202 when a notification counted, 401 when none did (BC then
 * drops that subscription: it was not Tandem's), 503 when this node cannot take it now (BC retries).
 */
final class ErpNotificationsApi {

  /** The event bus's own default send timeout, as before the typed request. */
  private static final long DEFAULT_TIMEOUT = 30_000;

  /** The route. */
  static final String PATH = "/erp/notifications";
  private static final int BODY_LIMIT = 4 * 1024 * 1024;

  private ErpNotificationsApi() {}

  static void mount(Router r, Vertx vertx) {
    r.post(PATH).handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT)).handler(ctx -> handle(ctx, vertx));
  }

  private static void handle(RoutingContext ctx, Vertx vertx) {
    String token = ctx.queryParams().get("validationToken");
    if (token != null) {
      if (token.length() > 1024 || !token.chars().allMatch(c -> c > 32 && c < 127)) {
        ApiError.send(ctx, 400, "bad_request", "validationToken must be up to 1024 printable characters");
        return;
      }
      ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").setStatusCode(200).end(token);
      return;
    }
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null || body.getJsonArray("value") == null) {
      ApiError.send(ctx, 400, "bad_request", "a notification body is {\"value\": [ … ]}");
      return;
    }
    Bus.request(vertx, new BusMessages.ErpNotification(body), DEFAULT_TIMEOUT).onSuccess(taken -> {
      if (taken.accepted() == 0) {
        ApiError.send(ctx, 401, "unauthorized", "no notification matched a subscription's clientState");
      } else {
        ctx.response().setStatusCode(202).end();
      }
    }).onFailure(e -> {
      boolean none = BusError.of(Addresses.ERP_NOTIFICATIONS, e).noConsumer();
      // No webhooks on this node: 404 makes BC drop the subscription; anything passing is retried by BC on 503.
      ApiError.send(ctx, none ? 404 : 503, none ? "not_found" : "unavailable", none
          ? "this node takes no ERP notifications (connections.erp.notificationUrl is not set)"
          : "the notification could not be taken now: " + e.getMessage());
    });
  }
}
