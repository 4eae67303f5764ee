package dev.tandem.runtime.store;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leases of the jobs this node runs, by job id: the dispatcher puts a lease here before it hands the job to
 * its verticle and removes it when the job ended; the verticle looks its lease up by the job id of the request.
 * Shared between event loops, hence concurrent.
 */
public final class JobLeases {

  private final Map<Long, JobLease> leases = new ConcurrentHashMap<>();

  /** @param lease a lease now held */
  public void put(JobLease lease) {
    leases.put(lease.jobId(), lease);
  }

  /** @param lease a lease no longer held */
  public void remove(JobLease lease) {
    leases.remove(lease.jobId(), lease);
  }

  /**
   * @param jobId a job
   * @return its lease on this node, or {@link JobLease#NONE} when the dispatcher did not start it here
   */
  public JobLease of(long jobId) {
    return leases.getOrDefault(jobId, JobLease.NONE);
  }
}
