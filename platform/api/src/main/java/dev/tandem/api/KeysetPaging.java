package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Keyset paging of a CRM read ordered by a modified-on column and the primary key: each page is its own query, after
 * the previous page's last row, instead of the next link of the first query.
 *
 * <p>The order is {@code <modifiedon> asc,<key> asc} ({@link #orderBy()}): {@code modifiedon} has whole seconds in
 * Dataverse, so only the primary key makes the order unique. The page after a page adds {@link #after(JsonObject)},
 * {@code (<modifiedon> gt X or (<modifiedon> eq X and <key> gt Y))} with X and Y the last row's values, to the read's
 * own filter. A row changed while the read is under way gets a later {@code modifiedon}, so it moves behind the last
 * row and comes once more in a later page (handle it once); no other row moves across a page boundary, and none is
 * skipped. An offset into the sorted rows (a counted page) would skip as many rows as moved behind it meanwhile. A
 * change within the same second as the last row read may keep the row before it: an incremental reader takes it in
 * its next read, which starts at its watermark less an overlap.
 *
 * @param modifiedOn the modified-on column, e.g. {@code modifiedon}
 * @param key the primary key column (a GUID), e.g. {@code salesorderid}
 */
public record KeysetPaging(String modifiedOn, String key) {

  private static final Pattern GUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  /**
   * @param modifiedOn the modified-on column
   * @param key the primary key column
   * @throws IllegalArgumentException when a column is blank
   */
  public KeysetPaging {
    if (modifiedOn == null || modifiedOn.isBlank() || key == null || key.isBlank()) {
      throw new IllegalArgumentException("keyset paging needs a modified-on column and a key column");
    }
  }

  /** @return the {@code $orderby} value, {@code <modifiedon> asc,<key> asc} (not encoded) */
  public String orderBy() {
    return modifiedOn + " asc," + key + " asc";
  }

  /**
   * The condition of the page after a page, from that page's last row.
   *
   * @param last the last row of the page read (holding both columns)
   * @return {@code (<modifiedon> gt X or (<modifiedon> eq X and <key> gt Y))} (not encoded)
   * @throws IllegalArgumentException when the row lacks a column, or its values are not a date-time and a GUID
   */
  public String after(JsonObject last) {
    String at = last.getString(modifiedOn);
    String id = last.getString(key);
    if (at == null || id == null) {
      throw new IllegalArgumentException("the last row of a page has no " + (at == null ? modifiedOn : key)
          + ": keyset paging needs both columns selected");
    }
    return after(OffsetDateTime.parse(at), id);
  }

  /**
   * @param at the last row's modified-on
   * @param id the last row's key
   * @return {@code (<modifiedon> gt X or (<modifiedon> eq X and <key> gt Y))} (not encoded)
   * @throws IllegalArgumentException when the key is not a GUID
   */
  public String after(OffsetDateTime at, String id) {
    if (!GUID.matcher(id).matches()) {
      throw new IllegalArgumentException("'" + id + "' is not a GUID");
    }
    String x = at.toInstant().truncatedTo(ChronoUnit.MILLIS).toString();
    return "(" + modifiedOn + " gt " + x + " or (" + modifiedOn + " eq " + x + " and " + key + " gt "
        + id.toLowerCase(Locale.ROOT) + "))";
  }

  /**
   * @param filter the read's own filter, or null
   * @param last the last row of the page before, or null for the first page
   * @return the filter of the page: the read's own and, after a page, {@link #after(JsonObject)}; null when neither
   */
  public String filter(String filter, JsonObject last) {
    String own = filter == null || filter.isBlank() ? null : filter;
    if (last == null) {
      return own;
    }
    return own == null ? after(last) : "(" + own + ") and " + after(last);
  }
}
