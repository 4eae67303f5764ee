package dev.tandem.api;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * What the runtime offers a plugin. Plugins reach infrastructure only through this: never PostgreSQL,
 * Micrometer or the HTTP clients directly. New capabilities are added as default methods.
 */
public interface PluginContext {

  /** @return the runtime's Vert.x instance */
  Vertx vertx();

  /** @return the id of the plugin this context belongs to */
  String pluginId();

  /**
   * The plugin's own settings: the object under {@code plugins.<pluginId>} of the runtime configuration.
   *
   * @return the settings, empty when none were given
   */
  JsonObject config();

  /** @return a logger named after the plugin; messages go to the runtime's log */
  System.Logger logger();

  /** @return counters and timers that end up in the runtime's metrics, tagged with the plugin id */
  PluginMetrics metrics();

  /**
   * @param mapping a mapping name
   * @return the definition of that mapping if some started plugin provides it and it is enabled
   */
  Optional<MappingDefinition> mapping(String mapping);

  /**
   * The ERP connection with the runtime's sync user, or with another web-service user (item availability reads
   * the ERP with its own OData user and access key).
   *
   * @param user a web-service user, or null for the connection's own
   * @param accessKey that user's web service access key, or null for the connection's own
   * @return a new connector, or empty when this node has no ERP connection
   */
  default Optional<ErpConnector> erp(String user, String accessKey) {
    return Optional.empty();
  }

  /** @return the ERP connection with the runtime's sync user, or empty when this node has none */
  default Optional<ErpConnector> erp() {
    return erp(null, null);
  }

  /**
   * The ERP connection for item availability reads, as the connection's item-availability settings give it: with
   * its OData web-service user and access key (NAV and Business Central on premises; online every request goes
   * with the application's token), or with the sync user when the connection names none. When the connection
   * changes, the runtime restarts the plugins, so a verticle may take this once at its start.
   *
   * @return a new connector; empty when this node has no ERP connection or the connection switches item
   *     availability off
   */
  default Optional<ErpConnector> availabilityErp() {
    return erp();
  }

  /**
   * The CRM connection with Tandem's application user, for a verticle that reads or writes the CRM itself. A
   * {@link SyncTask} gets its own from {@link TaskContext#crm()}.
   *
   * @return a new connector, or empty when this node has no CRM connection
   */
  default Optional<CrmConnector> crm() {
    return Optional.empty();
  }

  /** @return the couplings, or empty when this runtime offers none to plugins */
  default Optional<CouplingService> couplings() {
    return Optional.empty();
  }
}
