package dev.tandem.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CrmEnvelopeTest {

  /** The benchmark's line for 98,020 customers on the realistic profile (5 ms request, 40 ms per upsert, 0.2 ms/row). */
  private static List<CrmEnvelope.Phase> line(long n, double scale) {
    List<Double> marks = new ArrayList<>(CrmEnvelope.pages(1, 1, 5, 0.2, scale));
    marks.addAll(CrmEnvelope.pages(1, 1, 5, 0.2, scale));
    List<Double> tracking = new ArrayList<>(CrmEnvelope.pages(1, 1, 5, 0.2, scale));
    tracking.addAll(CrmEnvelope.pages(n, 5000, 5, 0.2, scale));
    return List.of(new CrmEnvelope.Phase("marks", marks, false),
        new CrmEnvelope.Phase("writes", CrmEnvelope.pages(n, 1000, 5, 40, scale), false),
        new CrmEnvelope.Phase("tracking", tracking, true));
  }

  private static CrmEnvelope.Limits limits(double scale, int users) {
    return new CrmEnvelope.Limits(1_200_000 * scale * users, 300_000 * scale, 52 * users, 6000 * users, 50 * scale);
  }

  @Test
  void oneUsersLineFinishesAtEveryTimeScaleInsteadOfStallingOnRounding() {
    // The benchmark hung here (15 minutes after a 1-user line): a charge whose end + window was the wake-up time
    // did not leave the window at that time because "now - window" rounded the other way.
    for (double scale : new double[] {1, 0.5, 0.25, 0.1}) {
      CrmEnvelope.Result r = assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> CrmEnvelope.schedule(line(98_020, scale), limits(scale, 1)));
      // Worked by hand at scale 1: the marks end at 55.2 ms; 52 batches of 40,005 ms start then and are charged at
      // 40,060.2 ms (2,080 s, over the budget); the other 47 start when those charges leave (340,060.2 ms) and the
      // last is answered at 380,115.2 ms; the id read (a 5.2 ms read, 19 pages of 1,005 ms and one of 609 ms (3,020 rows), each
      // answered 50 ms later) starts when the window is under the budget again, at 680,065.2 ms.
      assertEquals(380.1152 * scale, r.phaseEndSeconds().get(1), 1e-6 * scale, "writes at scale " + scale);
      assertEquals((680_065.2 + 5.2 + 50 + 19 * 1055 + 609 + 50) / 1000 * scale, r.seconds(), 1e-6 * scale,
          "line at scale " + scale);
      assertEquals(122, r.requests());
    }
  }

  @Test
  void fourUsersRunEveryBatchAtOnce() {
    CrmEnvelope.Result r = CrmEnvelope.schedule(line(98_020, 1), limits(1, 4));
    assertEquals(40.1102, r.phaseEndSeconds().get(1), 1e-6);
  }

  @Test
  void aRequestLargerThanTheBudgetStillRunsAloneInAnEmptyWindow() {
    CrmEnvelope.Result r = CrmEnvelope.schedule(List.of(new CrmEnvelope.Phase("big", List.of(150.0, 150.0), false)),
        new CrmEnvelope.Limits(100, 1000, 52, 6000, 0));
    // Both are admitted at 0 (the window is empty), both charged at 150 ms.
    assertEquals(0.15, r.seconds(), 1e-9);
    r = CrmEnvelope.schedule(List.of(new CrmEnvelope.Phase("big", List.of(150.0, 150.0), true)),
        new CrmEnvelope.Limits(100, 1000, 52, 6000, 0));
    // Chained: the second waits until the first's charge leaves the window (150 + 1000), ends 150 ms later.
    assertEquals(1.3, r.seconds(), 1e-9);
  }
}
