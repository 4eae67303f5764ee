package dev.tandem.runtime.plugins;

import dev.tandem.api.CouplingService;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;

/**
 * What the runtime lends plugins through their context besides Vert.x, settings and metrics. Two values are equal
 * when plugins would be configured alike: the runtime restarts the plugins when the connection changes them.
 *
 * @param erp the ERP connection's settings, or null when the node has none
 * @param availability the connection's item-availability settings, or null when it has none (deployments from
 *     files: the plugins' own settings apply)
 * @param metrics where the connectors' requests are counted
 * @param couplings the coupling service, or null
 */
public record PluginServices(ODataErpSettings erp, Availability availability, EndpointMetrics metrics,
    CouplingService couplings) {

  /** Nothing lent: plugins get empty connectors and couplings. */
  public static final PluginServices NONE = new PluginServices(null, null, EndpointMetrics.NONE, null);

  /**
   * Item availability as the connection sets it up (the guide's "choose what to synchronize" step).
   *
   * @param enabled whether availability reads are on
   * @param user the OData web-service user they read with, or null for the sync user
   * @param accessKey that user's web service access key
   */
  public record Availability(boolean enabled, String user, String accessKey) {

    @Override
    public String toString() {
      return "Availability[enabled=" + enabled + ", user=" + user + ", accessKey=" + (accessKey == null ? "not set"
          : "***") + "]";
    }
  }

  /**
   * @param value the ERP settings
   * @param av the availability settings
   * @return these services with another connection
   */
  public PluginServices with(ODataErpSettings value, Availability av) {
    return new PluginServices(value, av, metrics, couplings);
  }
}
