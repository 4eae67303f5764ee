package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The engine's metrics: {@code tandem_sync_records_total{mapping,direction,result}} and
 * {@code tandem_sync_duration_seconds{mapping}} (a histogram).
 */
public final class SyncMetrics {

  private final MeterRegistry registry;

  /** @param registry where the meters go */
  public SyncMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * @param mapping mapping
   * @param flow TO_CRM or FROM_CRM
   * @param o the run's counts
   */
  public void records(String mapping, Direction flow, JobOutcome o) {
    add(mapping, flow, "inserted", o.inserted());
    add(mapping, flow, "modified", o.modified());
    add(mapping, flow, "deleted", o.deleted());
    add(mapping, flow, "unchanged", o.unchanged());
    add(mapping, flow, "skipped", o.skipped());
    add(mapping, flow, "failed", o.failed());
    add(mapping, flow, "coupled", o.coupled());
    add(mapping, flow, "uncoupled", o.uncoupled());
  }

  /**
   * @param mapping mapping
   * @param took how long a sync job of it ran
   */
  public void duration(String mapping, Duration took) {
    Timer.builder("tandem.sync.duration").description("How long sync jobs ran, per mapping")
        .tag("mapping", mapping).publishPercentileHistogram().register(registry).record(took);
  }

  private void add(String mapping, Direction flow, String result, long n) {
    Counter.builder("tandem.sync.records").description("Records handled by sync runs, by result")
        .tag("mapping", mapping).tag("direction", flow.name()).tag("result", result).register(registry)
        .increment(n);
  }
}
