package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sign-in limiter on a clock of its own: the window slides, a success clears, addresses count alone. */
class SignInLimiterTest {

  private final AtomicLong now = new AtomicLong(1_000_000);
  private final SignInLimiter limiter = new SignInLimiter(now::get);

  @Test
  void fiveWrongTokensLockTheAddressUntilTheOldestLeavesTheWindow() {
    for (int i = 0; i < SignInLimiter.MAX_FAILURES; i++) {
      assertEquals(0, limiter.retryAfterSeconds("10.0.0.1"));
      limiter.failed("10.0.0.1");
      now.addAndGet(1_000);
    }
    // The first failure was 5 s ago: 55 s to go.
    assertEquals(55, limiter.retryAfterSeconds("10.0.0.1"));
    assertEquals(0, limiter.retryAfterSeconds("10.0.0.2"), "another address is not locked out");
    now.addAndGet(55_000);
    assertEquals(0, limiter.retryAfterSeconds("10.0.0.1"), "the oldest failure left the window");
    limiter.failed("10.0.0.1");
    assertTrue(limiter.retryAfterSeconds("10.0.0.1") > 0, "four failures still in the window, and a fifth");
  }

  @Test
  void aSuccessClearsTheFailures() {
    for (int i = 0; i < SignInLimiter.MAX_FAILURES - 1; i++) {
      limiter.failed("10.0.0.1");
    }
    limiter.succeeded("10.0.0.1");
    limiter.failed("10.0.0.1");
    assertEquals(0, limiter.retryAfterSeconds("10.0.0.1"));
    assertEquals(1, limiter.size());
  }

  @Test
  void theMemoryIsBounded() {
    for (int i = 0; i < SignInLimiter.MAX_ADDRESSES + 500; i++) {
      limiter.failed("a" + i);
    }
    assertEquals(SignInLimiter.MAX_ADDRESSES, limiter.size());
    now.addAndGet(SignInLimiter.WINDOW_MS);
    limiter.failed("fresh");
    assertEquals(1, limiter.size(), "expired addresses are forgotten first");
  }
}
