package dev.tandem.runtime.bus;

import io.vertx.core.json.JsonObject;

/**
 * A typed request on the event bus: where it goes, its body, and how its reply reads. The requests are the records
 * of {@link BusMessages}; {@link Bus#request} sends one.
 *
 * @param <R> the reply
 */
public interface BusRequest<R> {

  /** @return the address, one of {@link dev.tandem.api.Addresses} */
  String address();

  /** @return the body on the wire */
  JsonObject toJson();

  /**
   * @param body the reply's body
   * @return the reply
   */
  R reply(JsonObject body);
}
