package dev.tandem.runtime.bus;

import dev.tandem.api.Addresses;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import io.vertx.core.json.JsonObject;

/**
 * Every request/reply message of the runtime's event bus, each a record with its address and its JSON on the wire
 * (docs/architecture.md, "Event bus"). A consumer reads its request with the record's {@code from(JsonObject)}, a
 * sender sends it with {@link Bus#request}; failures are a {@link dev.tandem.api.BusFailure} read back as a
 * {@link BusError}. The published events ({@link Addresses#JOB_EVENTS}, {@link Addresses#FULL_SYNC_EVENTS},
 * {@link Addresses#PROGRESS_EVENTS}) are one-way and have no reply.
 */
public final class BusMessages {

  private BusMessages() {}

  /**
   * A job of a mapping or a ledger job, sent by the dispatcher to {@link Addresses#sync}, {@link Addresses#coupling}
   * or {@link Addresses#ledger}; replied with its {@link JobOutcome}, failed with {@code RETRIABLE} or
   * {@code PERMANENT} ({@link dev.tandem.api.JobFailure}).
   *
   * @param address the job's address
   * @param job the job
   */
  public record Job(String address, JobRequest job) implements BusRequest<JobOutcome> {
    @Override
    public JsonObject toJson() {
      return job.toJson();
    }

    @Override
    public JobOutcome reply(JsonObject body) {
      return JobOutcome.fromJson(body);
    }
  }

  /**
   * The full-synchronization review ({@link Addresses#FULL_SYNC_REVIEW}), replied with its lines as the admin API
   * shows them.
   *
   * @param counts whether to ask both endpoints for their counts and recommend (slower), or the lines only
   */
  public record FullSyncReview(boolean counts) implements BusRequest<JsonObject> {
    /**
     * @param body a request's body, {@code {"counts"}} (counts by default)
     * @return the request
     */
    public static FullSyncReview from(JsonObject body) {
      return new FullSyncReview(body == null || body.getBoolean("counts", true));
    }

    @Override
    public String address() {
      return Addresses.FULL_SYNC_REVIEW;
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("counts", counts);
    }

    @Override
    public JsonObject reply(JsonObject body) {
      return body;
    }
  }

  /** The review's lines without endpoint counts ({@link Addresses#FULL_SYNC_PROGRESS}), for the event stream. */
  public record FullSyncProgress() implements BusRequest<JsonObject> {
    @Override
    public String address() {
      return Addresses.FULL_SYNC_PROGRESS;
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject();
    }

    @Override
    public JsonObject reply(JsonObject body) {
      return body;
    }
  }

  /**
   * Start a full synchronization ({@link Addresses#FULL_SYNC_START}), replied with the run; failed with
   * {@code CONFLICT} when one runs already and {@code BAD_REQUEST} for a refused body.
   *
   * @param options the start body as the admin API took it ({@code parts}, {@code mappings}, …), checked by the
   *     coordinator
   */
  public record FullSyncStart(JsonObject options) implements BusRequest<JsonObject> {
    /**
     * @param body a request's body
     * @return the request
     */
    public static FullSyncStart from(JsonObject body) {
      return new FullSyncStart(body == null ? new JsonObject() : body);
    }

    @Override
    public String address() {
      return Addresses.FULL_SYNC_START;
    }

    @Override
    public JsonObject toJson() {
      return options;
    }

    @Override
    public JsonObject reply(JsonObject body) {
      return body;
    }
  }

  /**
   * An option-set mapping's CRM options with their coupled ERP codes ({@link Addresses#optionSet}).
   *
   * @param mapping the option-set mapping
   */
  public record OptionListing(String mapping) implements BusRequest<JsonObject> {
    @Override
    public String address() {
      return Addresses.optionSet(mapping);
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject();
    }

    @Override
    public JsonObject reply(JsonObject body) {
      return body;
    }
  }

  /**
   * A Business Central webhook notification ({@link Addresses#ERP_NOTIFICATIONS}), replied with how many of its
   * entries matched a subscription; failed with {@code UNAVAILABLE} when it cannot be taken now.
   *
   * @param notification the webhook's body, {@code {"value": [ … ]}}
   */
  public record ErpNotification(JsonObject notification) implements BusRequest<ErpNotificationsTaken> {
    @Override
    public String address() {
      return Addresses.ERP_NOTIFICATIONS;
    }

    @Override
    public JsonObject toJson() {
      return notification;
    }

    @Override
    public ErpNotificationsTaken reply(JsonObject body) {
      return ErpNotificationsTaken.from(body);
    }
  }

  /**
   * The reply to an {@link ErpNotification}.
   *
   * @param accepted entries that matched a subscription's client state
   * @param rejected entries that did not
   */
  public record ErpNotificationsTaken(int accepted, int rejected) {
    /**
     * @param body the reply's body
     * @return the reply
     */
    public static ErpNotificationsTaken from(JsonObject body) {
      return new ErpNotificationsTaken(body.getInteger("accepted", 0), body.getInteger("rejected", 0));
    }

    /** @return the body on the wire */
    public JsonObject toJson() {
      return new JsonObject().put("accepted", accepted).put("rejected", rejected);
    }
  }

  /**
   * A CRM product's availability ({@link Addresses#AVAILABILITY}), answered by a plugin (the items plugin) with the
   * ERP's figure; failed with {@code NOT_FOUND} (not coupled) or {@code UNAVAILABLE} (the ERP cannot be asked).
   *
   * @param crmProductId the CRM product's id
   */
  public record Availability(String crmProductId) implements BusRequest<JsonObject> {
    @Override
    public String address() {
      return Addresses.AVAILABILITY;
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("crmProductId", crmProductId);
    }

    @Override
    public JsonObject reply(JsonObject body) {
      return body;
    }
  }
}
