package dev.tandem.runtime.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class HttpFailuresTest {

  private static MultiMap headers(String k, String v) {
    return MultiMap.caseInsensitiveMultiMap().add(k, v);
  }

  @Test
  void throttlingAndServerErrorsAreRetriableWithTheirRetryAfter() {
    TandemException e = HttpFailures.classify("CRM", Stage.WRITE, 429, headers("Retry-After", "7"),
        "{\"error\":{\"code\":\"0x80072322\",\"message\":\"Number of requests exceeded the limit of 6000\"}}", true);
    assertEquals(ErrorKind.RETRIABLE, e.kind());
    assertEquals(Stage.WRITE, e.stage());
    assertEquals(Duration.ofSeconds(7), e.retryAfter());
    assertEquals("CRM answered 429: 0x80072322: Number of requests exceeded the limit of 6000", e.getMessage());
    assertEquals(ErrorKind.RETRIABLE, HttpFailures.classify("ERP", Stage.READ, 503, null, "", false).kind());
  }

  @Test
  void authenticationIsPermanentAndRecordErrorsAreData() {
    TandemException auth = HttpFailures.classify("ERP", Stage.READ, 401, null,
        "{\"error\":{\"code\":\"Authentication_InvalidCredentials\",\"message\":\"The server has rejected the client credentials.\"}}",
        false);
    assertEquals(ErrorKind.PERMANENT, auth.kind());
    assertTrue(auth.getMessage().contains("check the credentials Tandem uses for the ERP"), auth.getMessage());
    assertEquals(ErrorKind.DATA, HttpFailures.classify("CRM", Stage.WRITE, 400, null, "{}", true).kind());
    assertEquals(ErrorKind.PERMANENT, HttpFailures.classify("CRM", Stage.READ, 400, null, "bad filter", false).kind());
  }

  @Test
  void retryAfterAsSecondsOrDate() {
    assertEquals(Duration.ofMillis(1500), HttpFailures.retryAfter(headers("Retry-After", "1.5")));
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(30));
    Duration d = HttpFailures.retryAfter(headers("Retry-After", date));
    assertTrue(d.getSeconds() >= 28 && d.getSeconds() <= 30, String.valueOf(d));
    assertNull(HttpFailures.retryAfter(headers("Retry-After", "soon")));
    assertNull(HttpFailures.retryAfter(MultiMap.caseInsensitiveMultiMap()));
  }
}
