package dev.tandem.api;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * What the runtime gives a {@link SyncTask} for one job. Everything here is fenced by the job's lease: once another
 * node took the job over, writes to PostgreSQL fail and {@link #cancelled()} turns true.
 */
public interface TaskContext {

  /** @return the runtime's Vert.x instance */
  Vertx vertx();

  /** @return the job: id, kind, direction asked for, attempt, checkpoint, parameters */
  JobRequest job();

  /**
   * @return the mapping as the operator configured it: the plugin's definition with the overrides applied
   *     (direction, filters, disabled fields, schedule), its lines ({@link MappingDefinition#children()}) with it
   */
  MappingDefinition mapping();

  /** @return the direction this job runs: the job's, else the effective mapping's */
  Direction direction();

  /** @return the ERP connection, writable and paging */
  ErpConnector erp();

  /** @return the CRM connection */
  CrmConnector crm();

  /** @return the couplings, writable */
  CouplingWriter couplings();

  /** @return the mapping's watermarks and the job's checkpoint */
  MappingState state();

  /** @return the job's record error log */
  RecordErrors errors();

  /**
   * @param mapping this task's mapping or one of its lines ({@link ChildMapping#lines()})
   * @return the field-mapping engine for it, with the operator's disabled fields
   */
  FieldMapper mapper(MappingDefinition mapping);

  /** @return the generic engine, for the parts the task leaves to it */
  SyncEngine engine();

  /**
   * @return true once the job should stop: its lease was lost (another node took it over) or it was cancelled.
   *     A task checks between pages and ends early; what it committed stays.
   */
  boolean cancelled();

  /**
   * Reports how far the job got, for the job log, the console and the {@code tandem.events.*} stream.
   *
   * @param soFar the counts so far
   * @param message a short line, e.g. {@code "page 3: 150 orders"}, or null
   */
  void progress(JobOutcome soFar, String message);

  /**
   * @return the plugin's settings under {@code plugins.<pluginId>}, checked against
   *     {@link EntityPlugin#settings()} when it declares them
   */
  JsonObject settings();

  /**
   * @param mapping another mapping's name
   * @return its definition, as its plugin declared it, if it is enabled
   */
  Optional<MappingDefinition> other(String mapping);

  /** @return a logger named after the plugin */
  System.Logger logger();
}
