package dev.tandem.runtime.connectors.crm;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes and reads the multipart/mixed bodies of OData {@code $batch} requests (no change sets: with
 * {@code odata.continue-on-error} every part stands alone, which is what per-record results need).
 */
final class ODataMultipart {

  /** One part of a batch response. */
  record Part(int status, MultiMap headers, String body) {}

  private ODataMultipart() {}

  static String boundary() {
    return "batch_" + UUID.randomUUID();
  }

  static Buffer encode(String boundary, String apiPath, List<BatchOperation> ops) {
    StringBuilder sb = new StringBuilder(ops.size() * 512);
    for (BatchOperation op : ops) {
      sb.append("--").append(boundary).append("\r\n")
          .append("Content-Type: application/http\r\n")
          .append("Content-Transfer-Encoding: binary\r\n\r\n")
          .append(op.method()).append(' ').append(apiPath).append('/').append(op.path()).append(" HTTP/1.1\r\n");
      for (Map.Entry<String, String> h : op.headers().entrySet()) {
        sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      if (op.body() != null) {
        sb.append("Content-Type: application/json\r\n\r\n").append(op.body().encode()).append("\r\n");
      } else {
        sb.append("\r\n");
      }
    }
    sb.append("--").append(boundary).append("--\r\n");
    return Buffer.buffer(sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * @param contentType the response's Content-Type, carrying its boundary
   * @param body the response body
   * @return the parts in order
   */
  static List<Part> decode(String contentType, String body) {
    String boundary = boundaryOf(contentType);
    List<Part> parts = new ArrayList<>();
    String delimiter = "--" + boundary;
    int pos = body.indexOf(delimiter);
    while (pos >= 0) {
      int start = pos + delimiter.length();
      if (body.startsWith("--", start)) {
        break;
      }
      int end = body.indexOf(delimiter, start);
      if (end < 0) {
        break;
      }
      String chunk = body.substring(start, end);
      Part p = parsePart(chunk);
      if (p != null) {
        parts.add(p);
      }
      pos = end;
    }
    return parts;
  }

  private static String boundaryOf(String contentType) {
    if (contentType == null) {
      throw new IllegalArgumentException("batch response has no Content-Type");
    }
    for (String param : contentType.split(";")) {
      String t = param.trim();
      if (t.regionMatches(true, 0, "boundary=", 0, 9)) {
        return t.substring(9).replace("\"", "");
      }
    }
    throw new IllegalArgumentException("batch response Content-Type has no boundary: " + contentType);
  }

  /** A part: MIME headers, blank line, then an HTTP response (status line, headers, blank line, body). */
  private static Part parsePart(String chunk) {
    String c = chunk.replace("\r\n", "\n");
    int mimeEnd = c.indexOf("\n\n");
    if (mimeEnd < 0) {
      return null;
    }
    String http = c.substring(mimeEnd + 2);
    int statusEnd = http.indexOf('\n');
    String statusLine = statusEnd < 0 ? http : http.substring(0, statusEnd);
    String[] sl = statusLine.trim().split(" ", 3);
    if (sl.length < 2 || !sl[0].startsWith("HTTP/")) {
      return null;
    }
    int status = Integer.parseInt(sl[1]);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    String rest = statusEnd < 0 ? "" : http.substring(statusEnd + 1);
    int headersEnd = rest.indexOf("\n\n");
    String headerBlock = headersEnd < 0 ? rest : rest.substring(0, headersEnd);
    for (String line : headerBlock.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    String body = headersEnd < 0 ? "" : rest.substring(headersEnd + 2).trim();
    return new Part(status, headers, body);
  }

  static JsonObject json(String body) {
    return body == null || body.isBlank() || !body.startsWith("{") ? null : new JsonObject(body);
  }
}
