package dev.tandem.runtime.connectors.crm;

import dev.tandem.runtime.connectors.ODataLiterals;
import java.util.Collection;

/**
 * A Dataverse query of one entity set, built by its options instead of by hand: {@code $select} and {@code $filter}
 * percent-encoded, options joined in order. {@link DataverseClient#query} reads its {@link #toString()}.
 */
public final class CrmQuery {

  private final StringBuilder text;
  private char sep = '?';

  private CrmQuery(String entitySet) {
    this.text = new StringBuilder(entitySet);
  }

  /**
   * @param entitySet e.g. {@code accounts}
   * @return a query of all its rows and columns
   */
  public static CrmQuery of(String entitySet) {
    return new CrmQuery(entitySet);
  }

  /**
   * @param columns the columns to read; none leaves every column
   * @return this
   */
  public CrmQuery select(Collection<String> columns) {
    return columns.isEmpty() ? this : option("$select", String.join(",", columns));
  }

  /**
   * @param filter an OData filter; {@code null} or blank reads every row
   * @return this
   */
  public CrmQuery filter(String filter) {
    return filter == null || filter.isBlank() ? this : option("$filter", filter);
  }

  /**
   * @param orderBy an OData {@code $orderby}, e.g. {@code accountid} or {@code modifiedon asc,accountid asc}
   * @return this
   */
  public CrmQuery orderBy(String orderBy) {
    return option("$orderby", orderBy);
  }

  /**
   * @param rows the most rows to read
   * @return this
   */
  public CrmQuery top(int rows) {
    return option("$top", Integer.toString(rows));
  }

  /**
   * The newest row by a timestamp column, reading that column only.
   *
   * @param entitySet e.g. {@code accounts}
   * @param modifiedOn the timestamp column
   * @return the query
   */
  public static CrmQuery newest(String entitySet, String modifiedOn) {
    return of(entitySet).select(java.util.List.of(modifiedOn)).orderBy(modifiedOn + " desc").top(1);
  }

  private CrmQuery option(String name, String value) {
    text.append(sep).append(name).append('=').append(ODataLiterals.query(value));
    sep = '&';
    return this;
  }

  /** @return the entity set and its query, as {@link DataverseClient#query} takes it */
  @Override
  public String toString() {
    return text.toString();
  }
}
