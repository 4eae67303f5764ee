package dev.tandem.runtime.plugins;

import dev.tandem.api.CouplingService;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.PluginContext;
import dev.tandem.api.PluginMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpConnector;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Optional;

/** The runtime's {@link PluginContext}. */
final class DefaultPluginContext implements PluginContext {

  private final Vertx vertx;
  private final String pluginId;
  private final JsonObject config;
  private final PluginMetrics metrics;
  private final Map<String, MappingStatus> mappings;
  private final PluginServices services;

  DefaultPluginContext(Vertx vertx, String pluginId, JsonObject config, PluginMetrics metrics,
      Map<String, MappingStatus> mappings, PluginServices services) {
    this.services = services;
    this.vertx = vertx;
    this.pluginId = pluginId;
    this.config = config;
    this.metrics = metrics;
    this.mappings = mappings;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public String pluginId() {
    return pluginId;
  }

  @Override
  public JsonObject config() {
    return config.copy();
  }

  @Override
  public System.Logger logger() {
    return System.getLogger("tandem.plugin." + pluginId);
  }

  @Override
  public PluginMetrics metrics() {
    return metrics;
  }

  @Override
  public Optional<MappingDefinition> mapping(String mapping) {
    MappingStatus m = mappings.get(mapping);
    return m != null && m.enabled() ? Optional.of(m.definition()) : Optional.empty();
  }

  @Override
  public Optional<ErpConnector> erp(String user, String accessKey) {
    ODataErpSettings base = services.erp();
    if (base == null) {
      return Optional.empty();
    }
    ODataErpSettings s = user == null ? base : base.withUser(user, accessKey);
    return Optional.of(new ODataErpConnector(new ODataErpClient(vertx, s, services.metrics())));
  }

  @Override
  public Optional<ErpConnector> availabilityErp() {
    PluginServices.Availability av = services.availability();
    if (av != null && !av.enabled()) {
      return Optional.empty();
    }
    return av == null || av.user() == null ? erp() : erp(av.user(), av.accessKey());
  }

  @Override
  public Optional<CouplingService> couplings() {
    return Optional.ofNullable(services.couplings());
  }
}
