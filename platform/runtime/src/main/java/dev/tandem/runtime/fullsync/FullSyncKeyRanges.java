package dev.tandem.runtime.fullsync;

import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** Where a large ERP-to-CRM line is cut into the key ranges its jobs read, any node claiming any of them. */
final class FullSyncKeyRanges {

  private final ODataErpClient erp;

  /** @param erp the ERP, read on the caller's context */
  FullSyncKeyRanges(ODataErpClient erp) {
    this.erp = erp;
  }

  /**
   * Cuts an ERP entity set into {@code parts} key ranges of about equal size: one key-only pass in key order,
   * keeping only every n-th key, so memory stays flat however large the set.
   */
  Future<List<String>> boundaries(MappingDefinition d, long estimated, int parts) {
    long every = Math.max(1, (estimated + parts - 1) / parts);
    List<String> out = new ArrayList<>();
    long[] seen = {0};
    return erp.read(d.erpEntitySet(), d.erpFilter(), List.of(d.erpKey()), d.erpKey())
        .compose(p -> keys(p, d, every, seen, out, parts)).map(v -> out);
  }

  private Future<Void> keys(Page page, MappingDefinition d, long every, long[] seen, List<String> out, int parts) {
    for (JsonObject row : page.rows()) {
      if (seen[0] > 0 && seen[0] % every == 0 && out.size() < parts - 1) {
        out.add(String.valueOf(row.getValue(d.erpKey())));
      }
      seen[0]++;
    }
    return page.hasNext() && out.size() < parts - 1
        ? erp.follow(page.nextLink()).compose(n -> keys(n, d, every, seen, out, parts)) : Future.succeededFuture();
  }
}
