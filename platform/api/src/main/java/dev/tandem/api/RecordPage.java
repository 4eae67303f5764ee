package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One page of rows an endpoint returned, with the link to the next (server-driven paging).
 *
 * @param rows the rows
 * @param nextLink the next page's link, or null after the last page
 */
public record RecordPage(List<JsonObject> rows, String nextLink) {

  /** Copies the rows. */
  public RecordPage {
    rows = List.copyOf(rows);
  }

  /** @return whether another page follows */
  public boolean hasNext() {
    return nextLink != null;
  }
}
