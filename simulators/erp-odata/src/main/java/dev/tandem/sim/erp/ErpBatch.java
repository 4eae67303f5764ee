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
    }
    return SimResponse.json(200, out.append("]}").toString());
  }
}
