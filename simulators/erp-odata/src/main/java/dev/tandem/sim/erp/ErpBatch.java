package dev.tandem.sim.erp;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON {@code $batch}: {@code {"requests":[{"id","method","url","headers","body"}]}} answered by
 * {@code {"responses":[{"id","status","headers","body"}]}}. Each request runs on its own; urls are relative to
 * the OData root ({@code Company('…')/Customer}) or absolute.
 *
 * <p>With the header {@code Isolation: snapshot} the batch is transactional (Business Central 17.1 and later,
 * "Using OData transactional $batch requests", learn.microsoft.com/dynamics365/business-central/dev-itpro/
 * webservices/use-odata-batch): the requests run in one transaction, the first failing one stops the batch and
 * every change made before it is reverted "as if the batch request never happened". The answer is still 200 and
 * lists the responses up to the failing one, the earlier ones with the statuses they had before the rollback.
 */
final class ErpBatch {

  private ErpBatch() {}

  /** Carries a transactional batch's responses out of the store transaction it rolls back. */
  private static final class RolledBack extends RuntimeException {
    private final String responses;

    RolledBack(String responses) {
      super(null, null, false, false);
      this.responses = responses;
    }
  }

  static SimResponse handle(ErpSimulator sim, SimRequest batch) {
    Map<String, Object> body;
    try {
      body = Json.object(batch.bodyText());
    } catch (IllegalArgumentException e) {
      return ErpSimulator.error(400, "BadRequest_InvalidRequestBody", "The batch request body is not valid JSON.");
    }
    if (!(body.get("requests") instanceof List<?> requests)) {
      return ErpSimulator.error(400, "BadRequest", "The batch request must have a 'requests' array.");
    }
    if (requests.size() > sim.options().batchLimit()) {
      return ErpSimulator.error(400, "BadRequest", "The batch request contains " + requests.size()
          + " operations; the maximum is " + sim.options().batchLimit() + ".");
    }
    if ("snapshot".equalsIgnoreCase(batch.header("Isolation"))) {
      // A transaction holds the header locks its line writes take until it ends (ErpSalesDocuments).
      sim.sales().beginTransaction();
      try {
        return sim.store().write(() -> {
          String[] out = new String[1];
          if (!run(sim, batch, requests, true, out)) {
            throw new RolledBack(out[0]);
          }
          return SimResponse.json(200, out[0]);
        });
      } catch (RolledBack e) {
        return SimResponse.json(200, e.responses);
      } finally {
        sim.sales().endTransaction();
      }
    }
    String[] out = new String[1];
    run(sim, batch, requests, false, out);
    return SimResponse.json(200, out[0]);
  }

  /** Runs the requests; with {@code stopOnError}, up to the first that fails. @return whether none failed */
  private static boolean run(ErpSimulator sim, SimRequest batch, List<?> requests, boolean stopOnError,
      String[] result) {
    boolean allOk = true;
    String root = sim.root();
    // Written by hand so each inner response body goes in as it is, not parsed and written again.
    StringBuilder out = new StringBuilder(requests.size() * 600).append("{\"responses\":[");
    boolean first = true;
    for (Object o : requests) {
      @SuppressWarnings("unchecked")
      Map<String, Object> req = (Map<String, Object>) o;
      String url = String.valueOf(req.get("url"));
      int scheme = url.indexOf("://");
      if (scheme > 0) {
        url = url.substring(url.indexOf('/', scheme + 3));
      } else if (!url.startsWith("/")) {
        url = root + url;
      }
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Authorization", batch.header("Authorization"));
      if (req.get("headers") instanceof Map<?, ?> h) {
        h.forEach((k, v) -> headers.put(String.valueOf(k), String.valueOf(v)));
      }
      byte[] inner = req.get("body") == null ? new byte[0] : Json.write(req.get("body")).getBytes(StandardCharsets.UTF_8);
      SimResponse r = sim.handle(SimRequest.of(String.valueOf(req.get("method")), url, headers, inner));
      out.append(first ? "" : ",").append("{\"id\":").append(Json.write(String.valueOf(req.get("id"))))
          .append(",\"status\":").append(r.status()).append(",\"headers\":").append(Json.write(r.headers()));
      if (r.body().length > 0) {
        out.append(",\"body\":").append(r.bodyText());
      }
      out.append('}');
      first = false;
      if (r.status() / 100 != 2) {
        allOk = false;
        if (stopOnError) {
          break;
        }
      }
    }
    result[0] = out.append("]}").toString();
    return allOk;
  }
}
