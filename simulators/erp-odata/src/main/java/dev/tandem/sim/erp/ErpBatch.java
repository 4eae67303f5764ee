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
 * the OData root ({@code Company('…')/Customer}) or absolute. With the header {@code Isolation: snapshot} the whole
 * batch is one transaction (BC 17.1 and later, "Using OData transactional $batch requests"): every part still gets
 * its answer, and when one fails, none of the changes stays.
 */
final class ErpBatch {

  private ErpBatch() {}

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
      String[] answer = new String[1];
      sim.sales().beginTransaction();
      try {
        sim.store().write(() -> {
          boolean[] failed = {false};
          answer[0] = run(sim, batch, requests, failed);
          if (failed[0]) {
            throw new RolledBack();
          }
          return null;
        });
      } catch (RolledBack e) {
        // the store undid every change of the batch
      } finally {
        sim.sales().endTransaction();
      }
      return SimResponse.json(200, answer[0]);
    }
    return SimResponse.json(200, run(sim, batch, requests, new boolean[1]));
  }

  /** Signals that a transactional batch had a failing part, so the store rolls it back. */
  private static final class RolledBack extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RolledBack() {
      super(null, null, false, false);
    }
  }

  private static String run(ErpSimulator sim, SimRequest batch, List<?> requests, boolean[] failed) {
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
      failed[0] |= r.status() >= 400;
      out.append(first ? "" : ",").append("{\"id\":").append(Json.write(String.valueOf(req.get("id"))))
          .append(",\"status\":").append(r.status()).append(",\"headers\":").append(Json.write(r.headers()));
      if (r.body().length > 0) {
        out.append(",\"body\":").append(r.bodyText());
      }
      out.append('}');
      first = false;
    }
    return out.append("]}").toString();
  }
}
