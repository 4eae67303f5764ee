package dev.tandem.runtime.plugins;

/** A plugin's state as the admin API reports it. */
public enum PluginState {
  /** Loaded, started, all its mappings enabled and its verticles deployed. */
  STARTED,
  /** Started, but some of its mappings are disabled (see their reasons). */
  DEGRADED,
  /** Failed to load, start or deploy, or none of its mappings can run. */
  FAILED,
  /** Disabled by configuration. */
  DISABLED
}
