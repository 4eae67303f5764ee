package dev.tandem.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The shortest time the CRM simulator's service protection allows for a workload: the requests it needs, each with
 * the execution the simulator's cost profile charges for it, scheduled as early as the simulator's rules let them
 * start. The rules are the simulator's ({@code ServiceProtection}, after Dataverse's "Service protection API
 * limits"): a request is admitted while the user's execution charged in the sliding window is under the budget and
 * fewer than the concurrency limit run, and fewer than the request limit started in the window; its execution is
 * charged when it ends; the answer comes after its execution plus the network latency (not charged). Several
 * application users are pooled: their budgets, request limits and concurrency add up.
 *
 * <p>A workload is a list of phases run one after the other (a full synchronization's writes, then its tracking
 * job's read); inside a phase the requests are independent (run side by side) or a chain (each one after the
 * previous one's answer, like the pages of a read that follow next links).
 */
final class CrmEnvelope {

  /**
   * Requests of one phase.
   *
   * @param name what they are, for the description
   * @param executionMs each request's charged execution, in ms (already on the time scale)
   * @param chain whether each request waits for the previous one's answer
   */
  record Phase(String name, List<Double> executionMs, boolean chain) {}

  /**
   * The limits, on the time scale.
   *
   * @param budgetMs execution per window
   * @param windowMs the sliding window
   * @param concurrency requests at once
   * @param requests requests started per window
   * @param latencyMs network latency per request
   */
  record Limits(double budgetMs, double windowMs, int concurrency, int requests, double latencyMs) {}

  /** The schedule's result. */
  record Result(double seconds, List<Double> phaseEndSeconds, double executionMs, int requests) {}

  private CrmEnvelope() {}

  /**
   * @param phases the workload
   * @param l the limits
   * @return when its last request is answered, with the end of every phase, from time 0
   */
  static Result schedule(List<Phase> phases, Limits l) {
    // Charges in the window, oldest first: {end ms, charged ms}; starts in the window; requests running: end times.
    Deque<double[]> charges = new ArrayDeque<>();
    Deque<Double> starts = new ArrayDeque<>();
    PriorityQueue<double[]> running = new PriorityQueue<>((a, b) -> Double.compare(a[0], b[0]));
    double[] inWindow = {0};
    double now = 0;
    double total = 0;
    int count = 0;
    List<Double> ends = new ArrayList<>();
    for (Phase p : phases) {
      double phaseEnd = now;
      for (double ms : p.executionMs()) {
        total += ms;
        count++;
        while (true) {
          // Requests that have ended by now are charged; charges and starts older than the window leave it.
          while (!running.isEmpty() && running.peek()[0] <= now) {
            double[] r = running.poll();
            charges.addLast(new double[] {r[0], r[1]});
            inWindow[0] += r[1];
          }
          // The same expression as the wake-up time below (end + window <= now): "now - window" rounds differently
          // in floating point, and a charge that the wake-up says has left but the test says has not stalls the
          // schedule at the same instant for ever (the benchmark hung there after a 1-user line at every scale).
          while (!charges.isEmpty() && charges.peekFirst()[0] + l.windowMs() <= now) {
            inWindow[0] -= charges.pollFirst()[1];
          }
          if (charges.isEmpty()) {
            inWindow[0] = 0; // no rounding residue of the additions and subtractions
          }
          while (!starts.isEmpty() && starts.peekFirst() + l.windowMs() <= now) {
            starts.pollFirst();
          }
          if (running.size() < l.concurrency() && inWindow[0] < l.budgetMs() && starts.size() < l.requests()) {
            break;
          }
          // The next moment something can change: a request ends, a charge or a start leaves the window.
          double next = Double.MAX_VALUE;
          if (!running.isEmpty()) {
            next = running.peek()[0];
          }
          if (!charges.isEmpty() && inWindow[0] >= l.budgetMs()) {
            next = Math.min(next, charges.peekFirst()[0] + l.windowMs());
          }
          if (!starts.isEmpty() && starts.size() >= l.requests()) {
            next = Math.min(next, starts.peekFirst() + l.windowMs());
          }
          if (next == Double.MAX_VALUE || next <= now) {
            // Nothing would change by waiting: fail rather than loop (a benchmark must not hang on its own arithmetic).
            throw new IllegalStateException("the schedule cannot advance at " + now + " ms: " + running.size()
                + " running, " + inWindow[0] + " ms charged in the window of a budget of " + l.budgetMs() + " ms, "
                + starts.size() + " requests started in it");
          }
          now = next;
        }
        starts.addLast(now);
        double end = now + ms + l.latencyMs();
        // The server charges when the request ends; the answer reaches the client after the latency.
        running.add(new double[] {now + ms, ms});
        phaseEnd = Math.max(phaseEnd, end);
        if (p.chain()) {
          now = end;
        }
      }
      // The next phase starts once every answer of this one has arrived.
      now = Math.max(now, phaseEnd);
      ends.add(phaseEnd / 1000);
    }
    return new Result(now / 1000, ends, total, count);
  }

  /**
   * @param n rows
   * @param per rows per request
   * @param requestMs execution per request
   * @param perRowMs execution per row
   * @param scale the time scale
   * @return each request's execution
   */
  static List<Double> pages(long n, int per, double requestMs, double perRowMs, double scale) {
    List<Double> out = new ArrayList<>();
    for (long done = 0; done < n; done += per) {
      long rows = Math.min(per, n - done);
      out.add(scale * (requestMs + rows * perRowMs));
    }
    if (out.isEmpty()) {
      out.add(scale * requestMs);
    }
    return out;
  }
}
