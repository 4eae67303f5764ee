package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.VertxException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class JobFailureTest {

  @Test
  void aTandemExceptionKeepsItsKindAndStage() {
    TandemException e = TandemException.data(Stage.LOOKUP, "customer 10000: salesperson PS not coupled");
    assertSame(e, JobFailure.classify(e, Stage.WRITE));
    assertSame(e, JobFailure.classify(new CompletionException(e), Stage.WRITE));
  }

  @Test
  void ioFailuresAreRetriableAtTheGivenStage() {
    for (Throwable t : new Throwable[] {new IOException("reset"), new ConnectException("refused"),
        new TimeoutException("slow"), new VertxException("Connection was closed")}) {
      TandemException e = JobFailure.classify(t, Stage.READ);
      assertEquals(ErrorKind.RETRIABLE, e.kind(), t.toString());
      assertEquals(Stage.READ, e.stage(), t.toString());
    }
  }

  @Test
  void anUnexpectedExceptionIsAPermanentBugNamingItsClassAndWhereItWasThrown() {
    NullPointerException npe = new NullPointerException("Cannot invoke \"String.trim()\" because \"name\" is null");
    npe.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("com.partner.CustomSync", "map", "CustomSync.java", 42)});
    TandemException e = JobFailure.classify(npe, Stage.TRANSFORM);
    assertEquals(ErrorKind.PERMANENT, e.kind());
    assertEquals(Stage.TRANSFORM, e.stage());
    assertTrue(e.getMessage().startsWith("unexpected java.lang.NullPointerException: Cannot invoke"), e.getMessage());
    assertTrue(e.getMessage().contains("at com.partner.CustomSync.map(CustomSync.java:42)"), e.getMessage());
    assertEquals(ErrorKind.PERMANENT, JobFailure.classify(new IllegalStateException(), Stage.WRITE).kind());
  }
}
