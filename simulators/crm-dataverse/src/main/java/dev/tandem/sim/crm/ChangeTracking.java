package dev.tandem.sim.crm;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How long delta tokens stay valid, as Dataverse keeps change-tracking data: an organization setting
 * ({@code Organization.ExpireChangeTrackingInDays}, 7 days by default). A token older than that, or issued before
 * an expiry forced through the admin API, is refused with 0x80044352 "Version stamp associated with the client has
 * expired. Please perform a full sync." — so is a token this store never issued (one from before a reset).
 */
final class ChangeTracking {

  static final String EXPIRED_CODE = "0x80044352";
  static final String EXPIRED_MESSAGE = "Version stamp associated with the client has expired. Please perform a "
      + "full sync.";

  /** Per store sequence a delta token was issued for: when, and in which generation of {@link #expireAll}. */
  private final Map<Long, long[]> issued = new ConcurrentHashMap<>();
  private volatile long retentionMs = Duration.ofDays(7).toMillis();
  private volatile long generation;

  /** Notes that a delta token for this store sequence is handed out; an expired one is issued anew. */
  void issued(long sequence) {
    issued.compute(sequence, (k, v) -> v == null || expired(v) ? new long[] {System.currentTimeMillis(), generation}
        : v);
  }

  /** @return true when a delta token for this sequence may no longer be used */
  boolean expired(long sequence) {
    long[] at = issued.get(sequence);
    return at == null || expired(at);
  }

  private boolean expired(long[] at) {
    return at[1] < generation || System.currentTimeMillis() - at[0] > retentionMs;
  }

  /** Expires every token handed out so far (as if the retention had passed for them). */
  void expireAll() {
    generation++;
  }

  long retentionMs() {
    return retentionMs;
  }

  void retentionMs(long ms) {
    this.retentionMs = ms;
  }

  /** Back to the defaults, no token known. */
  void reset() {
    issued.clear();
    generation = 0;
    retentionMs = Duration.ofDays(7).toMillis();
  }
}
