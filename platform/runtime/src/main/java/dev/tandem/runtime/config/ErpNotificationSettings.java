package dev.tandem.runtime.config;

/**
 * Business Central online webhooks: where BC sends its notifications (Tandem's {@code /erp/notifications} route as
 * BC reaches it from the internet) and when subscriptions are renewed.
 *
 * @param notificationUrl the public URL of this node's (or the load balancer's) {@code /erp/notifications}, or
 *     null: no subscriptions, polling only
 * @param renewBeforeMs a subscription is renewed once it expires within this time (BC's last three days)
 * @param checkMs how often subscriptions are checked, created and renewed
 */
public record ErpNotificationSettings(String notificationUrl, long renewBeforeMs, long checkMs) {

  /** No webhooks. */
  public static final ErpNotificationSettings NONE = new ErpNotificationSettings(null, 86_400_000, 3_600_000);

  /** @return whether subscriptions are to be made */
  public boolean enabled() {
    return notificationUrl != null && !notificationUrl.isBlank();
  }
}
