package dev.tandem.runtime.connectors;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One page of rows read from an endpoint.
 *
 * @param rows the rows, as the endpoint returned them
 * @param nextLink where the next page is, or null on the last page
 * @param deltaLink the change-tracking link to follow next time (last page of a tracked read), or null
 */
public record Page(List<JsonObject> rows, String nextLink, String deltaLink) {

  /** @return true when more pages follow */
  public boolean hasNext() {
    return nextLink != null;
  }
}
