package dev.tandem.runtime.store;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An operator's overrides of a mapping; null means "as the plugin defines it".
 *
 * @param direction direction, or null
 * @param erpFilter ERP filter, or null
 * @param crmFilter CRM filter, or null
 * @param disabledFields ERP or CRM field names switched off
 * @param conflictPolicy what happens when both sides changed, or null for NONE
 * @param schedule interval of the recurring sync, or null
 * @param skipAfterRepeats identical errors in a row before a record is skipped, or null for 2
 * @param deletionPolicy what a deleted coupled record leads to, or null for NONE
 * @param syncOnlyCoupled when true, uncoupled records are not created on the other side (null: false)
 * @param watermarkOverlapSeconds how far before the watermark each incremental read starts, or null for
 *     {@link #DEFAULT_OVERLAP}
 * @param massDeletionShare the share of the mapping's couplings reported deleted at once from which the deletions
 *     are held instead of applied, or null for {@link #DEFAULT_MASS_DELETION_SHARE}
 * @param massDeletionMin the least number of deletions ever held as a mass deletion, or null for
 *     {@link #DEFAULT_MASS_DELETION_MIN}
 * @param maxFailedShare the error tolerance: the share of a job's records that may fail (waiting for a reference
 *     does not count) before the job ends as failed and its schedule pauses, or null for
 *     {@link #DEFAULT_MAX_FAILED_SHARE}
 * @param minFailedRecords the least number of failed records that ever fails a job, or null for
 *     {@link #DEFAULT_MIN_FAILED_RECORDS}
 */
public record MappingSettings(Direction direction, String erpFilter, String crmFilter, Set<String> disabledFields,
    ConflictPolicy conflictPolicy, Duration schedule, Integer skipAfterRepeats, DeletionPolicy deletionPolicy,
    Boolean syncOnlyCoupled, Integer watermarkOverlapSeconds, Double massDeletionShare, Integer massDeletionMin,
    Double maxFailedShare, Integer minFailedRecords) {

  /**
   * The default overlap of incremental reads: rows stamped up to five minutes before the watermark are read again,
   * so a transaction that commits late (its stamp is older than rows already read) and an endpoint clock a few
   * minutes off lose nothing; rows read again are recognized as unchanged from their couplings.
   */
  public static final Duration DEFAULT_OVERLAP = Duration.ofMinutes(5);
  /** Deletions of half of a mapping's couplings at once are held by default. */
  public static final double DEFAULT_MASS_DELETION_SHARE = 0.5;
  /** ... when they are at least this many. */
  public static final int DEFAULT_MASS_DELETION_MIN = 10;
  /**
   * A job in which more than half of the records failed ends as failed, as Kafka Connect's error tolerance would
   * have it, instead of "succeeded" with every record in the error log...
   */
  public static final double DEFAULT_MAX_FAILED_SHARE = 0.5;
  /** ... when they are at least this many (one bad record of two does not stop a schedule). */
  public static final int DEFAULT_MIN_FAILED_RECORDS = 10;

  /** Settings without the error tolerance (its defaults apply). */
  public MappingSettings(Direction direction, String erpFilter, String crmFilter, Set<String> disabledFields,
      ConflictPolicy conflictPolicy, Duration schedule, Integer skipAfterRepeats, DeletionPolicy deletionPolicy,
      Boolean syncOnlyCoupled, Integer watermarkOverlapSeconds, Double massDeletionShare, Integer massDeletionMin) {
    this(direction, erpFilter, crmFilter, disabledFields, conflictPolicy, schedule, skipAfterRepeats, deletionPolicy,
        syncOnlyCoupled, watermarkOverlapSeconds, massDeletionShare, massDeletionMin, null, null);
  }

  /** Settings without the read and deletion limits (their defaults apply). */
  public MappingSettings(Direction direction, String erpFilter, String crmFilter, Set<String> disabledFields,
      ConflictPolicy conflictPolicy, Duration schedule, Integer skipAfterRepeats, DeletionPolicy deletionPolicy,
      Boolean syncOnlyCoupled) {
    this(direction, erpFilter, crmFilter, disabledFields, conflictPolicy, schedule, skipAfterRepeats, deletionPolicy,
        syncOnlyCoupled, null, null, null, null, null);
  }

  /** @return the overlap of incremental reads in force */
  public Duration overlap() {
    return watermarkOverlapSeconds == null ? DEFAULT_OVERLAP : Duration.ofSeconds(watermarkOverlapSeconds);
  }

  /**
   * @param deleted couplings reported deleted at once
   * @param couplings the mapping's couplings
   * @return true when that many deletions are a mass deletion, to be held
   */
  public boolean massDeletion(long deleted, long couplings) {
    int min = massDeletionMin == null ? DEFAULT_MASS_DELETION_MIN : massDeletionMin;
    double share = massDeletionShare == null ? DEFAULT_MASS_DELETION_SHARE : massDeletionShare;
    return deleted >= min && couplings > 0 && deleted >= share * couplings;
  }

  /**
   * @param failed records of a job that failed (not counting those waiting for a reference)
   * @param processed records the job read and decided on
   * @return true when that is beyond the error tolerance: the job ends as failed
   */
  public boolean beyondTolerance(long failed, long processed) {
    int min = minFailedRecords == null ? DEFAULT_MIN_FAILED_RECORDS : minFailedRecords;
    double share = maxFailedShare == null ? DEFAULT_MAX_FAILED_SHARE : maxFailedShare;
    return failed >= min && processed > 0 && failed > share * processed;
  }

  /** @return the share of failed records tolerated in force */
  public double failedShareTolerated() {
    return maxFailedShare == null ? DEFAULT_MAX_FAILED_SHARE : maxFailedShare;
  }

  /** @return the least number of failed records that fails a job, in force */
  public int failedRecordsTolerated() {
    return minFailedRecords == null ? DEFAULT_MIN_FAILED_RECORDS : minFailedRecords;
  }

  /** What happens when a coupled record is deleted on one side. */
  public enum DeletionPolicy {
    /** Nothing is changed; the deletion goes to the error log. */
    NONE,
    /** The deleted record is created again from its counterpart on the next run. */
    RESTORE,
    /** The coupling is removed; the counterpart stays. */
    REMOVE_COUPLING,
    /** The counterpart is deleted too, and the coupling removed. */
    DELETE_COUNTERPART
  }

  /** What happens when both sides of a coupled record changed since the last synchronization. */
  public enum ConflictPolicy {
    /** The record fails with a message naming both changes; nothing is written. */
    NONE,
    /** The ERP's values are sent to the CRM. */
    ERP_WINS,
    /** The CRM's values are taken into the ERP. */
    CRM_WINS,
    /**
     * Each side's changes go to the other when the two changed different fields; when they changed the same field
     * the record fails as under {@link #NONE}, naming those fields.
     */
    MERGE
  }

  /** No overrides. */
  public static final MappingSettings NONE = new MappingSettings(null, null, null, Set.of(), null, null, null, null,
      null);

  /** Copies the set. */
  public MappingSettings {
    disabledFields = Set.copyOf(disabledFields == null ? Set.of() : disabledFields);
  }

  /** @return the conflict policy in force */
  public ConflictPolicy policy() {
    return conflictPolicy == null ? ConflictPolicy.NONE : conflictPolicy;
  }

  /** @return the deletion policy in force */
  public DeletionPolicy deletions() {
    return deletionPolicy == null ? DeletionPolicy.NONE : deletionPolicy;
  }

  /** @return whether only coupled records are synchronized */
  public boolean onlyCoupled() {
    return Boolean.TRUE.equals(syncOnlyCoupled);
  }

  /** @return identical errors before a record is skipped */
  public int skipAfter() {
    return skipAfterRepeats == null ? 2 : skipAfterRepeats;
  }

  /**
   * @param def the plugin's definition
   * @return the definition with these overrides applied (direction, filters, disabled fields, schedule)
   */
  public MappingDefinition applyTo(MappingDefinition def) {
    Direction dir = direction == null ? def.direction() : direction;
    List<FieldMapping> fields = new ArrayList<>();
    for (FieldMapping f : def.fields()) {
      boolean off = (f.erpField() != null && disabledFields.contains(f.erpField()))
          || (f.crmField() != null && disabledFields.contains(f.crmField()));
      boolean allowed = dir == Direction.BIDIRECTIONAL || f.direction() == dir || f.direction() == Direction.BIDIRECTIONAL;
      FieldMapping g = off ? f.withEnabled(false) : f;
      if (allowed) {
        // A bidirectional field of a mapping narrowed to one way flows that way only.
        fields.add(dir != Direction.BIDIRECTIONAL && g.direction() == Direction.BIDIRECTIONAL
            ? new FieldMapping(g.erpField(), g.crmField(), dir, g.constant(), g.transformations(), g.lookupMapping(),
                g.enabled(), g.clearOnFailedLookup())
            : g);
      }
    }
    return new MappingDefinition(def.name(), def.erpEntitySet(), def.crmEntitySet(), def.erpKey(), def.crmKey(),
        def.erpModifiedOn(), def.crmModifiedOn(), dir, fields, def.options().stream()
            .filter(o -> dir == Direction.BIDIRECTIONAL || o.direction() == dir).toList(),
        erpFilter == null ? def.erpFilter() : erpFilter, crmFilter == null ? def.crmFilter() : crmFilter,
        def.matchFields(), def.dependencies(), schedule == null ? def.schedule() : schedule,
        def.crmAlternateKey(), def.children());
  }

  /** @return the admin API's view of the overrides */
  public JsonObject toJson() {
    return new JsonObject()
        .put("direction", direction == null ? null : direction.name())
        .put("erpFilter", erpFilter)
        .put("crmFilter", crmFilter)
        .put("disabledFields", new JsonArray(List.copyOf(disabledFields)))
        .put("conflictPolicy", conflictPolicy == null ? null : conflictPolicy.name())
        .put("scheduleSeconds", schedule == null ? null : schedule.toSeconds())
        .put("skipAfterRepeats", skipAfterRepeats)
        .put("deletionPolicy", deletionPolicy == null ? null : deletionPolicy.name())
        .put("syncOnlyCoupled", syncOnlyCoupled)
        .put("watermarkOverlapSeconds", watermarkOverlapSeconds)
        .put("massDeletionShare", massDeletionShare)
        .put("massDeletionMin", massDeletionMin)
        .put("maxFailedShare", maxFailedShare)
        .put("minFailedRecords", minFailedRecords);
  }
}
