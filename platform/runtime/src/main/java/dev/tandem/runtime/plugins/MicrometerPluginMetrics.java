package dev.tandem.runtime.plugins;

import dev.tandem.api.PluginMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;

/** {@link PluginMetrics} on Micrometer: names get the {@code tandem.plugin.} prefix and a {@code plugin} tag. */
final class MicrometerPluginMetrics implements PluginMetrics {

  private final MeterRegistry registry;
  private final String pluginId;

  MicrometerPluginMetrics(MeterRegistry registry, String pluginId) {
    this.registry = registry;
    this.pluginId = pluginId;
  }

  @Override
  public void count(String name, double amount, String... tags) {
    registry.counter("tandem.plugin." + name, Tags.of(tags).and("plugin", pluginId)).increment(amount);
  }

  @Override
  public void time(String name, Duration duration, String... tags) {
    registry.timer("tandem.plugin." + name, Tags.of(tags).and("plugin", pluginId)).record(duration);
  }
}
