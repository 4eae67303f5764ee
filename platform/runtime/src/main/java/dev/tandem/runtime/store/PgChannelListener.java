package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * LISTEN on one of the schema's channels (jobs, connection): calls its handler on every NOTIFY. It reconnects every
 * second for as long as the node runs; whoever listens also polls, so a gap loses nothing.
 */
public final class PgChannelListener {

  private final PgSubscriber subscriber;

  /**
   * @param vertx the node's Vert.x
   * @param options how to connect (a connection of its own, outside the pool)
   * @param channel the channel
   * @param onNotify called on each notification (the payload is not used)
   */
  public PgChannelListener(Vertx vertx, PgConnectOptions options, String channel, Runnable onNotify) {
    this.subscriber = PgSubscriber.subscriber(vertx, options).reconnectPolicy(attempt -> 1_000L);
    subscriber.channel(channel).handler(payload -> onNotify.run());
  }

  /** @return connected and listening */
  public Future<Void> connect() {
    return subscriber.connect();
  }

  /** @return closed */
  public Future<Void> close() {
    return subscriber.close();
  }
}
