package dev.tandem.runtime.sync;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.api.Direction;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Serves a mapping whose CRM side is a picklist column's option set (PAYMENT-TERMS, SHIPMENT-METHOD,
 * SHIPPING-AGENT): the ERP code table's codes become options, one way, as the reference system's option mappings
 * do. A run reads the ERP codes and the option set's metadata; a code already coupled with an option that still
 * exists is unchanged; an uncoupled code is coupled with the uncoupled option whose label is the code (ignoring
 * case), or else gets a new option through {@code InsertOptionValue}, labelled with the code. A lost answer to
 * InsertOptionValue leaves an option labelled with the code behind, which the next run couples: no second option.
 * Also answers {@link Addresses#optionSet(String)} ({@link dev.tandem.runtime.bus.BusMessages.OptionListing}): the
 * option set with each option's coupled ERP code, so operators see the options no ERP code maps to.
 */
public final class OptionSetSyncVerticle extends VerticleBase {

  private final MappingDefinition def;
  private final Pool pool;
  private final Connections connections;
  private final EndpointMetrics metrics;
  private final SyncMetrics syncMetrics;
  private final PgMappingSettingsStore settings;
  private ODataErpClient erp;
  private DataverseClient crm;

  /**
   * @param def an option-set mapping ({@link MappingDefinition#isOptionSet()})
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param metrics endpoint metrics
   * @param syncMetrics engine metrics
   */
  public OptionSetSyncVerticle(MappingDefinition def, Pool pool, Connections connections, EndpointMetrics metrics,
      SyncMetrics syncMetrics) {
    this.def = def;
    this.pool = pool;
    this.connections = connections;
    this.metrics = metrics;
    this.syncMetrics = syncMetrics;
    this.settings = new PgMappingSettingsStore(pool);
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    crm = new DataverseClient(vertx, connections.crm(), metrics);
    vertx.eventBus().<JsonObject>consumer(Addresses.optionSet(def.name()), msg -> listing()
        .recover(e -> Future.failedFuture(JobFailure.classify(e, Stage.READ)))
        .onComplete(ar -> Bus.reply(msg, ar, e -> BusFailure.UNAVAILABLE)));
    return vertx.eventBus().<JsonObject>consumer(Addresses.sync(def.name()), msg -> {
      JobRequest req = JobRequest.fromJson(msg.body());
      if (req.direction() == Direction.FROM_CRM) {
        JobFailure.fail(msg, TandemException.permanent(Stage.DISPATCH, "mapping " + def.name() + " maps ERP codes "
            + "to CRM options one way (TO_CRM); a FROM_CRM run was asked for"));
        return;
      }
      long t0 = System.nanoTime();
      long throttledBefore = erp.throttledCount() + crm.throttledCount();
      settings.get(def.name()).compose(s -> run(req.jobId(), s.applyTo(def), s.skipAfter()))
          .map(o -> o.withThrottled(erp.throttledCount() + crm.throttledCount() - throttledBefore))
          .onSuccess(o -> {
            syncMetrics.records(def.name(), Direction.TO_CRM, o);
            syncMetrics.duration(def.name(), java.time.Duration.ofNanos(System.nanoTime() - t0));
            msg.reply(o.toJson());
          })
          .onFailure(e -> JobFailure.fail(msg, e));
    }).completion();
  }

  private Future<JobOutcome> run(long jobId, MappingDefinition eff, int skipAfter) {
    String entity = def.optionSetEntity();
    String attribute = def.optionSetAttribute();
    PgCouplingStore couplings = new PgCouplingStore(pool);
    Future<List<String>> codes = codes(eff);
    Future<LinkedHashMap<Integer, String>> options = crm.options(entity, attribute);
    Future<List<Coupling>> coupled = couplings.list(def.name(), null, null, null, 0, 100_000);
    return Future.all(codes, options, coupled).compose(all -> {
      Map<Integer, String> opts = options.result();
      Map<String, Coupling> byCode = new HashMap<>();
      Set<String> takenOptions = new HashSet<>();
      for (Coupling c : coupled.result()) {
        if (c.erpId() != null && c.crmId() != null) {
          byCode.put(c.erpId(), c);
          takenOptions.add(c.crmId());
        }
      }
      List<PgCouplingStore.Outcome> outcomes = new ArrayList<>();
      long[] n = new long[3]; // inserted, unchanged, failed
      Future<Void> chain = Future.succeededFuture();
      for (String code : codes.result()) {
        Coupling c = byCode.get(code);
        if (c != null && opts.containsKey(Integer.valueOf(c.crmId()))) {
          n[1]++;
          outcomes.add(new PgCouplingStore.Outcome(code, c.crmId(), null, null, "unchanged", null));
          continue;
        }
        Integer match = null;
        for (Map.Entry<Integer, String> o : opts.entrySet()) {
          if (o.getValue() != null && o.getValue().trim().equalsIgnoreCase(code)
              && !takenOptions.contains(String.valueOf(o.getKey()))) {
            match = o.getKey();
            break;
          }
        }
        if (c != null) {
          // Its option was deleted in the CRM: the code is coupled again, to a match or a new option.
          Coupling gone = c;
          chain = chain.compose(x -> couplings.remove(gone.id()).mapEmpty());
        }
        if (match != null) {
          takenOptions.add(String.valueOf(match));
          n[1]++;
          outcomes.add(new PgCouplingStore.Outcome(code, String.valueOf(match), null, null, "unchanged", null));
          continue;
        }
        chain = chain.compose(x -> crm.insertOptionValue(entity, attribute, code).map(value -> {
          takenOptions.add(String.valueOf(value));
          n[0]++;
          outcomes.add(new PgCouplingStore.Outcome(code, String.valueOf(value), null, null, "inserted", null));
          return (Void) null;
        }).recover(e -> {
          if (e instanceof TandemException t && t.kind() != ErrorKind.RETRIABLE) {
            n[2]++;
            outcomes.add(new PgCouplingStore.Outcome(code, null, null, null, "failed", "[WRITE] ERP "
                + def.erpEntitySet() + " " + code + ": InsertOptionValue on " + entity + "." + attribute
                + " failed: " + t.getMessage()));
            return Future.succeededFuture();
          }
          return Future.failedFuture(e);
        }));
      }
      // Whatever was inserted before a retriable failure is coupled before the job fails, so a retry does not
      // add those options again.
      return chain.transform(done -> couplings.record(pool, def.name(), Direction.TO_CRM, jobId, skipAfter, outcomes)
          .compose(x -> done.succeeded() ? Future.succeededFuture(new JobOutcome(n[0], 0, 0, n[1], 0, n[2],
              outcomes.stream().filter(o -> o.crmId() != null && !byCode.containsKey(o.erpId())).count(), 0,
              def.name() + " to CRM option set " + entity + "." + attribute + ": " + n[0] + " options added, "
                  + n[1] + " unchanged, " + n[2] + " failed"))
              : Future.failedFuture(done.cause())));
    });
  }

  /** @return every ERP code passing the mapping's filter, page by page */
  private Future<List<String>> codes(MappingDefinition eff) {
    List<String> out = new ArrayList<>();
    return erp.read(eff.erpEntitySet(), eff.erpFilter(), List.of(eff.erpKey()), eff.erpKey())
        .compose(p -> collect(p, out, eff.erpKey()));
  }

  private Future<List<String>> collect(Page p, List<String> out, String key) {
    p.rows().forEach(r -> out.add(String.valueOf(r.getValue(key))));
    return p.hasNext() ? erp.follow(p.nextLink()).compose(q -> collect(q, out, key)) : Future.succeededFuture(out);
  }

  /** The option set now, each option with the ERP code coupled to it, and the codes without an option. */
  private Future<JsonObject> listing() {
    PgCouplingStore couplings = new PgCouplingStore(pool);
    Future<LinkedHashMap<Integer, String>> options = crm.options(def.optionSetEntity(), def.optionSetAttribute());
    Future<List<Coupling>> coupled = couplings.list(def.name(), null, null, null, 0, 100_000);
    return Future.all(options, coupled).map(x -> {
      Map<String, String> codeOf = new HashMap<>();
      Set<String> uncoupledCodes = new java.util.TreeSet<>();
      for (Coupling c : coupled.result()) {
        if (c.crmId() != null && c.erpId() != null) {
          codeOf.put(c.crmId(), c.erpId());
        } else if (c.erpId() != null) {
          uncoupledCodes.add(c.erpId());
        }
      }
      JsonArray all = new JsonArray();
      JsonArray unmapped = new JsonArray();
      options.result().forEach((value, label) -> {
        JsonObject o = new JsonObject().put("value", value).put("label", label)
            .put("erpCode", codeOf.get(String.valueOf(value)));
        all.add(o);
        if (o.getString("erpCode") == null) {
          unmapped.add(o);
        }
      });
      return new JsonObject().put("mapping", def.name()).put("erpEntitySet", def.erpEntitySet())
          .put("entity", def.optionSetEntity()).put("attribute", def.optionSetAttribute()).put("options", all)
          .put("unmappedOptions", unmapped).put("failedCodes", new JsonArray(List.copyOf(uncoupledCodes)));
    });
  }

  @Override
  public Future<?> stop() {
    if (erp != null) {
      erp.close();
    }
    if (crm != null) {
      crm.close();
    }
    return Future.succeededFuture();
  }
}
