package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One page of rows an endpoint returned, with the link to the next (server-driven paging).
 *
 * @param rows the rows
 * @param nextLink the next page's link, or null after the last page
 * @param deltaLink with CRM change tracking, on the last page: where the next read of changes starts; else null
 */
public record RecordPage(List<JsonObject> rows, String nextLink, String deltaLink) {

  /** Copies the rows. */
  public RecordPage {
    rows = List.copyOf(rows);
  }

  /**
   * @param rows the rows
   * @param nextLink the next page's link, or null
   */
  public RecordPage(List<JsonObject> rows, String nextLink) {
    this(rows, nextLink, null);
  }

  /**
   * @param row a row of a change-tracking page
   * @return whether it tells a deletion ({@code $deletedEntity}: only the id, in {@code id})
   */
  public static boolean deleted(JsonObject row) {
    String context = row.getString("@odata.context");
    return context != null && context.endsWith("$deletedEntity") || "deleted".equals(row.getString("reason"));
  }

  /** @return whether another page follows */
  public boolean hasNext() {
    return nextLink != null;
  }
}
