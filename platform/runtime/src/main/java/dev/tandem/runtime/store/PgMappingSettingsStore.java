package dev.tandem.runtime.store;

import dev.tandem.api.Direction;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Set;

/** Operators' overrides of mappings, one row per mapping. */
public final class PgMappingSettingsStore {

  private final Pool pool;

  /** @param pool the pool */
  public PgMappingSettingsStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * @param mapping mapping name
   * @return its overrides, {@link MappingSettings#NONE} when it has none
   */
  public Future<MappingSettings> get(String mapping) {
    return pool.preparedQuery("SELECT direction, erp_filter, crm_filter, disabled_fields, conflict_policy, schedule_ms, "
            + "skip_after_repeats, deletion_policy, sync_only_coupled, watermark_overlap_seconds, mass_deletion_share, "
            + "mass_deletion_min, max_failed_share, min_failed_records FROM mapping_settings WHERE mapping = $1").execute(Tuple.of(mapping))
        .map(rows -> rows.rowCount() == 0 ? MappingSettings.NONE : from(rows.iterator().next()));
  }

  /**
   * @param mapping mapping name
   * @param s the overrides to store (replacing the previous ones)
   * @return nothing
   */
  public Future<Void> put(String mapping, MappingSettings s) {
    return pool.preparedQuery("INSERT INTO mapping_settings (mapping, direction, erp_filter, crm_filter, disabled_fields, "
            + "conflict_policy, schedule_ms, skip_after_repeats, deletion_policy, sync_only_coupled, "
            + "watermark_overlap_seconds, mass_deletion_share, mass_deletion_min, max_failed_share, "
            + "min_failed_records) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
            + "ON CONFLICT (mapping) DO UPDATE SET direction = EXCLUDED.direction, erp_filter = EXCLUDED.erp_filter, "
            + "crm_filter = EXCLUDED.crm_filter, disabled_fields = EXCLUDED.disabled_fields, "
            + "conflict_policy = EXCLUDED.conflict_policy, schedule_ms = EXCLUDED.schedule_ms, "
            + "skip_after_repeats = EXCLUDED.skip_after_repeats, deletion_policy = EXCLUDED.deletion_policy, "
            + "sync_only_coupled = EXCLUDED.sync_only_coupled, "
            + "watermark_overlap_seconds = EXCLUDED.watermark_overlap_seconds, "
            + "mass_deletion_share = EXCLUDED.mass_deletion_share, mass_deletion_min = EXCLUDED.mass_deletion_min, "
            + "max_failed_share = EXCLUDED.max_failed_share, min_failed_records = EXCLUDED.min_failed_records, "
            + "updated_at = now()")
        .execute(Tuple.tuple().addValue(mapping)
            .addValue(s.direction() == null ? null : s.direction().name())
            .addValue(s.erpFilter()).addValue(s.crmFilter())
            .addValue(s.disabledFields().toArray(new String[0]))
            .addValue(s.conflictPolicy() == null ? null : s.conflictPolicy().name())
            .addValue(s.schedule() == null ? null : s.schedule().toMillis())
            .addValue(s.skipAfterRepeats())
            .addValue(s.deletionPolicy() == null ? null : s.deletionPolicy().name())
            .addValue(s.syncOnlyCoupled())
            .addValue(s.watermarkOverlapSeconds())
            .addValue(s.massDeletionShare())
            .addValue(s.massDeletionMin())
            .addValue(s.maxFailedShare())
            .addValue(s.minFailedRecords()))
        .mapEmpty();
  }

  /** @return every mapping's overrides, by mapping name */
  public Future<java.util.Map<String, MappingSettings>> all() {
    return pool.query("SELECT mapping, direction, erp_filter, crm_filter, disabled_fields, conflict_policy, schedule_ms, "
        + "skip_after_repeats, deletion_policy, sync_only_coupled, watermark_overlap_seconds, mass_deletion_share, "
        + "mass_deletion_min, max_failed_share, min_failed_records FROM mapping_settings").execute().map(rows -> {
          java.util.Map<String, MappingSettings> out = new java.util.HashMap<>();
          rows.forEach(r -> out.put(r.getString("mapping"), from(r)));
          return out;
        });
  }

  private static MappingSettings from(Row r) {
    String dir = r.getString("direction");
    String policy = r.getString("conflict_policy");
    Long schedule = r.getLong("schedule_ms");
    String[] disabled = r.getArrayOfStrings("disabled_fields");
    String deletion = r.getString("deletion_policy");
    return new MappingSettings(dir == null ? null : Direction.valueOf(dir), r.getString("erp_filter"),
        r.getString("crm_filter"), disabled == null ? Set.of() : Set.of(disabled),
        policy == null ? null : ConflictPolicy.valueOf(policy), schedule == null ? null : Duration.ofMillis(schedule),
        r.getInteger("skip_after_repeats"),
        deletion == null ? null : MappingSettings.DeletionPolicy.valueOf(deletion), r.getBoolean("sync_only_coupled"),
        r.getInteger("watermark_overlap_seconds"), r.getDouble("mass_deletion_share"), r.getInteger("mass_deletion_min"),
        r.getDouble("max_failed_share"), r.getInteger("min_failed_records"));
  }
}
