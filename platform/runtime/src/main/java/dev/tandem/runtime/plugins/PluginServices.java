package dev.tandem.runtime.plugins;

import dev.tandem.api.CouplingService;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;

/**
 * What the runtime lends plugins through their context besides Vert.x, settings and metrics.
 *
 * @param erp the ERP connection's settings, or null when the node has none
 * @param metrics where the connectors' requests are counted
 * @param couplings the coupling service, or null
 */
public record PluginServices(ODataErpSettings erp, EndpointMetrics metrics, CouplingService couplings) {

  /** Nothing lent: plugins get empty connectors and couplings. */
  public static final PluginServices NONE = new PluginServices(null, EndpointMetrics.NONE, null);
}
