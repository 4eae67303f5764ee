package dev.tandem.sim.crm;

import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseSimulator.DvError;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Multipart {@code $batch}: single requests and atomic change sets (no GET inside), {@code Content-ID} references
 * ({@code $1}) within a change set, at most 1000 requests; stops at the first failure unless
 * {@code Prefer: odata.continue-on-error}.
 */
final class DataverseBatch {

  private record Part(String method, String url, Map<String, String> headers, String body, String contentId) {}

  private record Item(Part single, List<Part> changeSet) {}

  private DataverseBatch() {}

  static SimResponse handle(DataverseSimulator sim, SimRequest r, String user) {
    String boundary = boundary(r.header("Content-Type"));
    if (boundary == null) {
      return DataverseSimulator.error(400, "0x80048d19", "A $batch request needs Content-Type multipart/mixed with "
          + "a boundary.");
    }
    List<Item> items = new ArrayList<>();
    int requests = 0;
    for (String chunk : split(r.bodyText(), boundary)) {
      int blank = chunk.indexOf("\n\n");
      Map<String, String> mime = headers(blank < 0 ? chunk : chunk.substring(0, blank));
      String content = blank < 0 ? "" : chunk.substring(blank + 2);
      String ct = mime.getOrDefault("content-type", "");
      if (ct.startsWith("multipart/mixed")) {
        List<Part> cs = new ArrayList<>();
        for (String inner : split(content, boundary(ct))) {
          int b = inner.indexOf("\n\n");
          Map<String, String> innerMime = headers(b < 0 ? inner : inner.substring(0, b));
          Part p = request(b < 0 ? "" : inner.substring(b + 2), innerMime.get("content-id"));
          if (p.method().equals("GET")) {
            return DataverseSimulator.error(400, "0x80048d19", "A change set cannot contain GET requests.");
          }
          cs.add(p);
        }
        requests += cs.size();
        items.add(new Item(null, cs));
      } else {
        requests++;
        items.add(new Item(request(content, mime.get("content-id")), null));
      }
    }
    if (requests > 1000) {
      return DataverseSimulator.error(400, "0x80048d19", "The number of requests in the batch (" + requests
          + ") exceeds the limit of 1000.");
    }
    boolean continueOnError = ODataQuery.prefers(r.header("Prefer"), "odata.continue-on-error");
    String outBoundary = "batchresponse_" + UUID.randomUUID();
    StringBuilder out = new StringBuilder();
    for (Item item : items) {
      if (item.single() != null) {
        SimResponse resp = execute(sim, item.single(), user, Map.of());
        out.append("--").append(outBoundary).append("\r\n");
        appendHttp(out, resp, null);
        if (resp.status() >= 400 && !continueOnError) {
          return stopped(out, outBoundary);
        }
      } else {
        String csBoundary = "changesetresponse_" + UUID.randomUUID();
        List<SimResponse> responses = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        SimResponse failed = null;
        try {
          sim.store().write(() -> {
            Map<String, String> refs = new LinkedHashMap<>();
            for (Part p : item.changeSet()) {
              SimResponse resp = execute(sim, p, user, refs);
              if (resp.status() >= 400) {
                throw new DvError(resp);
              }
              if (p.contentId() != null && resp.headers().get("OData-EntityId") != null) {
                refs.put("$" + p.contentId(), resp.headers().get("OData-EntityId"));
              }
              responses.add(resp);
              ids.add(p.contentId());
            }
            return null;
          });
        } catch (DvError e) {
          failed = e.response();
        }
        if (failed != null) {
          out.append("--").append(outBoundary).append("\r\n");
          appendHttp(out, failed, null);
          if (!continueOnError) {
            return stopped(out, outBoundary);
          }
          continue;
        }
        out.append("--").append(outBoundary).append("\r\n")
            .append("Content-Type: multipart/mixed; boundary=").append(csBoundary).append("\r\n\r\n");
        for (int i = 0; i < responses.size(); i++) {
          out.append("--").append(csBoundary).append("\r\n");
          appendHttp(out, responses.get(i), ids.get(i));
        }
        out.append("--").append(csBoundary).append("--\r\n");
      }
    }
    out.append("--").append(outBoundary).append("--\r\n");
    SimResponse resp = SimResponse.text(200, "multipart/mixed; boundary=" + outBoundary, out.toString());
    return continueOnError ? resp.with("Preference-Applied", "odata.continue-on-error") : resp;
  }

  /**
   * Without continue-on-error the batch stops at the first failure and answers 400 with a multipart body holding the
   * parts answered so far and the failing part (Microsoft, "Execute batch operations using the Web API").
   */
  private static SimResponse stopped(StringBuilder out, String outBoundary) {
    out.append("--").append(outBoundary).append("--\r\n");
    return SimResponse.text(400, "multipart/mixed; boundary=" + outBoundary, out.toString());
  }

  private static SimResponse execute(DataverseSimulator sim, Part p, String user, Map<String, String> refs) {
    String url = p.url();
    String body = p.body();
    for (Map.Entry<String, String> ref : refs.entrySet()) {
      if (url.startsWith(ref.getKey())) {
        url = ref.getValue() + url.substring(ref.getKey().length());
      }
      body = body.replace("\"" + ref.getKey() + "\"", "\"" + ref.getValue() + "\"");
    }
    int api = url.indexOf(DataverseSimulator.API);
    String rest = api >= 0 ? url.substring(api + DataverseSimulator.API.length()) : url.replaceFirst("^/", "");
    SimRequest inner = SimRequest.of(p.method(), "/" + DataverseSimulator.API.substring(1) + rest, p.headers(),
        body.getBytes(StandardCharsets.UTF_8));
    String path = inner.path().substring(DataverseSimulator.API.length());
    // Each part runs through the request pipeline on its own: $batch saves round trips, not server time.
    DataverseCosts.Meter.charge(sim.costs().requestMs());
    try {
      return sim.route(inner, path, user);
    } catch (DvError e) {
      return e.response();
    } catch (RuntimeException e) {
      return DataverseSimulator.error(400, "0x80048d19", String.valueOf(e.getMessage()));
    }
  }

  private static void appendHttp(StringBuilder out, SimResponse resp, String contentId) {
    out.append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if (contentId != null) {
      out.append("Content-ID: ").append(contentId).append("\r\n");
    }
    out.append("\r\nHTTP/1.1 ").append(resp.status()).append(' ').append(reason(resp.status())).append("\r\n");
    resp.headers().forEach((k, v) -> out.append(k).append(": ").append(v).append("\r\n"));
    out.append("\r\n");
    if (resp.body().length > 0) {
      out.append(resp.bodyText()).append("\r\n");
    }
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 201 -> "Created";
      case 204 -> "No Content";
      case 304 -> "Not Modified";
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 412 -> "Precondition Failed";
      case 429 -> "Too Many Requests";
      default -> "Status";
    };
  }

  static String boundary(String contentType) {
    if (contentType == null || !contentType.startsWith("multipart/mixed")) {
      return null;
    }
    for (String p : contentType.split(";")) {
      String t = p.trim();
      if (t.regionMatches(true, 0, "boundary=", 0, 9)) {
        return t.substring(9).replace("\"", "");
      }
    }
    return null;
  }

  private static List<String> split(String body, String boundary) {
    String text = body.replace("\r\n", "\n");
    List<String> parts = new ArrayList<>();
    String delimiter = "--" + boundary;
    int pos = text.indexOf(delimiter);
    while (pos >= 0) {
      int start = pos + delimiter.length();
      if (text.startsWith("--", start)) {
        break;
      }
      int end = text.indexOf(delimiter, start);
      if (end < 0) {
        throw new DvError(DataverseSimulator.error(400, "0x80048d19", "The batch body does not end with --"
            + boundary + "--."));
      }
      parts.add(text.substring(start, end).replaceFirst("^\n", ""));
      pos = end;
    }
    return parts;
  }

  private static Map<String, String> headers(String block) {
    Map<String, String> h = new LinkedHashMap<>();
    for (String line : block.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        h.put(line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), line.substring(colon + 1).trim());
      }
    }
    return h;
  }

  /** The inner request: request line, headers, blank line, body. */
  private static Part request(String content, String contentId) {
    String c = content.stripLeading();
    int lineEnd = c.indexOf('\n');
    String[] line = (lineEnd < 0 ? c : c.substring(0, lineEnd)).trim().split(" ");
    if (line.length < 2) {
      throw new DvError(DataverseSimulator.error(400, "0x80048d19", "A batch part has no request line."));
    }
    String rest = lineEnd < 0 ? "" : c.substring(lineEnd + 1);
    int blank = rest.indexOf("\n\n");
    Map<String, String> headers = new LinkedHashMap<>();
    String headerBlock = blank < 0 ? rest : rest.substring(0, blank);
    for (String h : headerBlock.split("\n")) {
      int colon = h.indexOf(':');
      if (colon > 0) {
        headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
      }
    }
    String body = blank < 0 ? "" : rest.substring(blank + 2).trim();
    return new Part(line[0].toUpperCase(java.util.Locale.ROOT), line[1], headers, body, contentId);
  }
}
