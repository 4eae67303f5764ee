package dev.tandem.runtime.sync;

import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.sqlclient.Pool;

/**
 * What every run of one mapping reads and writes through: the pool its pages commit in, the couplings and
 * watermarks, both endpoints' clients and the mapping itself (with the operator's overrides applied). One value
 * instead of the same six constructor arguments on every run class.
 *
 * @param pool the pool (a page's transaction takes its connection)
 * @param couplings the coupling store
 * @param watermarks the watermark store
 * @param erp the ERP client
 * @param crm the CRM client
 * @param def the effective mapping
 */
public record SyncIo(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks, ODataErpClient erp,
    DataverseClient crm, MappingDefinition def) {

  /**
   * @param other another mapping
   * @return the same stores and clients for that mapping
   */
  public SyncIo with(MappingDefinition other) {
    return new SyncIo(pool, couplings, watermarks, erp, crm, other);
  }
}
