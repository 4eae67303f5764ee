package dev.tandem.api;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * The extension point every Tandem entity plugin implements (annotate the implementation with
 * {@code @org.pf4j.Extension}).
 *
 * <p>The runtime calls {@link #configure(JsonObject)}, then {@link #mappings()} once at start, checks the dependency graph across all installed
 * plugins, then calls {@link #verticles(PluginContext)} and deploys what it returns with the plugin's class
 * loader. New hooks are added as default methods, so a plugin built against an older SPI keeps working.
 */
public interface EntityPlugin extends ExtensionPoint {

  /**
   * Hands the plugin its settings (the object under {@code plugins.<pluginId>} of the runtime configuration)
   * before {@link #mappings()} is called, so mappings can depend on them (the prices plugin's local currency).
   * Throw {@link IllegalArgumentException} naming the setting when one is invalid: the plugin is then marked
   * failed with that message.
   *
   * <p>When an ERP connection is configured and the plugin's settings do not say otherwise, the runtime adds
   * {@code erpProfile}: {@code nav} (NAV / BC on premises) or {@code bc-online}, so a plugin can declare the
   * mappings that fit the ERP's generation (legacy sales prices or price lists).
   *
   * @param settings the plugin's settings, empty when none were given
   */
  default void configure(JsonObject settings) {}

  /**
   * The settings this plugin understands under {@code plugins.<pluginId>}, declared once with type, default,
   * documentation and validation ({@link Setting}). When the list is not empty the runtime checks the plugin's
   * settings against it before {@link #configure(JsonObject)}: an unknown key is refused with the nearest declared
   * one ("unknown key 'plugins.prices.localCurency': did you mean 'plugins.prices.localCurrencyCode'?"), a bad
   * value with its key and cause, and the plugin is then marked failed with those messages. {@code erpProfile}
   * (which the runtime adds) is always accepted.
   *
   * <p>Empty (the default) means not declared: the settings are handed over unchecked, as to plugins built before
   * this hook.
   *
   * @return the declared settings, empty by default
   */
  default List<Setting> settings() {
    return List.of();
  }

  /**
   * The integration table mappings this plugin provides, e.g. CUSTOMER (ERP Customer to CRM account).
   * Mapping names are global: two plugins may not declare the same name.
   *
   * @return the mapping definitions, never {@code null}
   */
  List<MappingDefinition> mappings();

  /**
   * The verticles this plugin contributes: a sync or coupling verticle per mapping where the runtime's generic
   * ones are not enough (a sales order with its lines, say). Each verticle consumes the job address of its
   * mapping ({@link Addresses#sync(String)} or {@link Addresses#coupling(String)}) and replies to each
   * {@link JobRequest} with a {@link JobOutcome}, or fails it through {@link JobFailure}.
   *
   * <p>Only called when every required dependency of the plugin's mappings is present; verticles of a mapping
   * the runtime disabled are not deployed.
   *
   * @param context what the runtime offers the plugin
   * @return the contributions, empty by default
   */
  default List<VerticleContribution> verticles(PluginContext context) {
    return List.of();
  }

  /**
   * The sync task of one of this plugin's mappings, where the generic engine is not enough (a header with its
   * lines, a composite key). The runtime calls this once per serving verticle and runs the mapping's sync jobs with
   * it, with the same leases, fencing, error model and metrics as the generic engine. {@code null} (the default)
   * means the generic engine, which is itself a {@link SyncTask} with nothing overridden.
   *
   * @param mapping one of the mappings this plugin declared, as declared
   * @return a new task, or null for the generic engine
   */
  default SyncTask syncTask(MappingDefinition mapping) {
    return null;
  }

  /**
   * Jobs that follow an ERP ledger and push a FlowField to coupled CRM records (the Item Availability job), run by
   * the runtime. Each names one of this plugin's mappings.
   *
   * @return the definitions, empty by default
   */
  default List<LedgerJobDefinition> ledgerJobs() {
    return List.of();
  }
}
