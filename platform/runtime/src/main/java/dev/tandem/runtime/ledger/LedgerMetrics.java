package dev.tandem.runtime.ledger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The ledger jobs' metrics: {@code tandem_ledger_entries_total{job}} (ledger entries read),
 * {@code tandem_ledger_records_total{job,result}} (CRM records {@code updated}, ERP records {@code not_coupled},
 * writes {@code failed}) and {@code tandem_ledger_duration_seconds{job}}.
 */
public final class LedgerMetrics {

  private final MeterRegistry registry;

  /** @param registry where the meters go */
  public LedgerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void entries(String job, long n) {
    Counter.builder("tandem.ledger.entries").description("Ledger entries read by ledger jobs").tag("job", job)
        .register(registry).increment(n);
  }

  void records(String job, String result, long n) {
    Counter.builder("tandem.ledger.records").description("Records handled by ledger jobs, by result")
        .tag("job", job).tag("result", result).register(registry).increment(n);
  }

  void duration(String job, Duration took) {
    Timer.builder("tandem.ledger.duration").description("How long ledger jobs ran").tag("job", job)
        .publishPercentileHistogram().register(registry).record(took);
  }
}
