package dev.tandem.plugins.salesorders;

import dev.tandem.api.CouplingWriter;
import dev.tandem.api.CrmConnector;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.FieldMapper;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingState;
import dev.tandem.api.RecordErrors;
import dev.tandem.api.SyncEngine;
import dev.tandem.api.TaskContext;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Optional;

/** The job's context as the runtime gave it, with the orders' own field mapper for header and lines. */
final class OrderTaskContext implements TaskContext {

  private final TaskContext inner;
  private final String writeInItem;
  private final String localCurrency;

  OrderTaskContext(TaskContext inner, String writeInItem, String localCurrency) {
    this.inner = inner;
    this.writeInItem = writeInItem;
    this.localCurrency = localCurrency;
  }

  @Override
  public FieldMapper mapper(MappingDefinition mapping) {
    boolean header = mapping.name().equals(inner.mapping().name());
    return new OrderFieldMapper(inner, inner.mapper(mapping), header, writeInItem, localCurrency);
  }

  @Override
  public Vertx vertx() {
    return inner.vertx();
  }

  @Override
  public JobRequest job() {
    return inner.job();
  }

  @Override
  public MappingDefinition mapping() {
    return inner.mapping();
  }

  @Override
  public Direction direction() {
    return inner.direction();
  }

  @Override
  public ErpConnector erp() {
    return inner.erp();
  }

  @Override
  public CrmConnector crm() {
    return inner.crm();
  }

  @Override
  public CouplingWriter couplings() {
    return inner.couplings();
  }

  @Override
  public MappingState state() {
    return inner.state();
  }

  @Override
  public RecordErrors errors() {
    return inner.errors();
  }

  @Override
  public SyncEngine engine() {
    return inner.engine();
  }

  @Override
  public boolean cancelled() {
    return inner.cancelled();
  }

  @Override
  public void progress(JobOutcome soFar, String message) {
    inner.progress(soFar, message);
  }

  @Override
  public JsonObject settings() {
    return inner.settings();
  }

  @Override
  public Optional<MappingDefinition> other(String mapping) {
    return inner.other(mapping);
  }

  @Override
  public System.Logger logger() {
    return inner.logger();
  }
}
