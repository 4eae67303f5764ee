package dev.tandem.runtime.connectors.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How many operations each batch of a write carries ({@code CrmBudgetAndBatchSizeIT} times it at the simulator). */
class DataverseBatchSpreadTest {

  @Test
  void smallWritesAreSpreadLargeOnesKeepTheirBatches() {
    assertEquals(10, DataverseClient.spread(100, 1000), "100 upserts: ten batches of 10");
    assertEquals(10, DataverseClient.spread(7, 1000), "a handful: one batch");
    assertEquals(20, DataverseClient.spread(200, 1000));
    assertEquals(1000, DataverseClient.spread(201, 1000), "a full synchronization's page: whole");
    assertEquals(5, DataverseClient.spread(100, 5), "never above the batch size in force");
  }
}
