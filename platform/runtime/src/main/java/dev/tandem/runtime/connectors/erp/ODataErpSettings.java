package dev.tandem.runtime.connectors.erp;

import java.util.Objects;

/**
 * Where and how to reach the ERP's OData v4 page web services.
 *
 * @param serviceRoot the OData root, e.g. {@code https://erp:7048/BC/ODataV4}
 * @param company the company name, e.g. {@code CRONUS International Ltd.}
 * @param user web-service user name
 * @param accessKey the user's web service access key (Basic authentication password)
 * @param pageSize rows per page ({@code odata.maxpagesize})
 * @param batchSize operations per JSON {@code $batch} (Business Central online allows 100)
 * @param maxConcurrency requests in flight at most
 * @param maxRetries retries of one request on 429, 5xx and I/O failures
 * @param timeoutMs per-request timeout
 */
public record ODataErpSettings(String serviceRoot, String company, String user, String accessKey, int pageSize,
    int batchSize, int maxConcurrency, int maxRetries, long timeoutMs) {

  /** Validates. */
  public ODataErpSettings {
    Objects.requireNonNull(serviceRoot, "serviceRoot");
    Objects.requireNonNull(company, "company");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(accessKey, "accessKey");
    serviceRoot = serviceRoot.replaceAll("/+$", "");
    if (pageSize < 1) {
      throw new IllegalArgumentException("ERP page size must be positive, got " + pageSize);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("ERP batch size must be positive, got " + batchSize);
    }
  }

  /**
   * @param serviceRoot OData root
   * @param company company name
   * @param user user
   * @param accessKey access key
   * @return settings with pages of 1000, batches of 100, 5 requests in flight (Business Central's per-user
   *     limit), 5 retries, 2 minute timeout
   */
  public static ODataErpSettings of(String serviceRoot, String company, String user, String accessKey) {
    return new ODataErpSettings(serviceRoot, company, user, accessKey, 1000, 100, 5, 5, 120_000);
  }

  /** The access key stays out of logs and messages. */
  @Override
  public String toString() {
    return "ODataErpSettings[serviceRoot=" + serviceRoot + ", company=" + company + ", user=" + user
        + ", accessKey=***, pageSize=" + pageSize + ", batchSize=" + batchSize + ", maxConcurrency="
        + maxConcurrency + ", maxRetries=" + maxRetries + ", timeoutMs=" + timeoutMs + "]";
  }
}
