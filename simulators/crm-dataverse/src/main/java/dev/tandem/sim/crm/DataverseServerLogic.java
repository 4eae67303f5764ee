package dev.tandem.sim.crm;

import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Business logic an organization runs inside Dataverse on a table's writes — plug-ins, workflows, rollups: each step
 * sets columns of the row a client created or updated, as Dataverse's own user (SYSTEM), so the row's
 * {@code modifiedon}, {@code versionnumber} and {@code _modifiedby_value} move after the client's write. A
 * synchronous step runs in the client's request (its execution time is charged to it, and
 * {@code return=representation} shows its result); an asynchronous one (a background workflow) runs after it, so the
 * client's answer and ETag are those of its own write. Without steps (the default) nothing runs, as on a plain
 * organization. [DV-LIMITS], [DV-OPT]: "plug-ins and workflows … add execution time to the request".
 */
final class DataverseServerLogic {

  /**
   * One step.
   *
   * @param entitySet the table, e.g. {@code accounts}
   * @param messages {@code create}, {@code update}
   * @param set the columns it writes
   * @param synchronous whether it runs inside the client's request
   * @param executionMs the execution time it adds to the request (synchronous steps)
   */
  record Step(String entitySet, Set<String> messages, Map<String, Object> set, boolean synchronous,
      double executionMs) {}

  private final List<Step> steps = new CopyOnWriteArrayList<>();

  void add(Step s) {
    steps.add(s);
  }

  void clear() {
    steps.clear();
  }

  List<Step> steps() {
    return List.copyOf(steps);
  }

  /**
   * Runs the steps registered for a client's write; call inside write(), after the row was stored.
   *
   * @param sim the simulator
   * @param e the table
   * @param written the row as the client's write left it
   * @param message {@code create} or {@code update}
   * @param user who wrote it (a write by SYSTEM itself, seeding or a step, triggers nothing)
   * @return the row the client's answer shows: after the synchronous steps, before the asynchronous ones
   */
  Map<String, Object> after(DataverseSimulator sim, Entity e, Map<String, Object> written, String message,
      String user) {
    if (steps.isEmpty() || DataverseAdmin.systemUserId().equals(user)) {
      return written;
    }
    Map<String, Object> shown = written;
    List<Step> later = new ArrayList<>();
    for (Step s : steps) {
      if (!s.entitySet().equals(e.set()) || !s.messages().contains(message)) {
        continue;
      }
      if (s.synchronous()) {
        DataverseCosts.Meter.charge(s.executionMs());
        shown = sim.records().systemUpdate(e, shown, new LinkedHashMap<>(s.set()), DataverseAdmin.systemUserId());
      } else {
        later.add(s);
      }
    }
    Map<String, Object> current = shown;
    for (Step s : later) {
      current = sim.records().systemUpdate(e, current, new LinkedHashMap<>(s.set()), DataverseAdmin.systemUserId());
    }
    return shown;
  }
}
