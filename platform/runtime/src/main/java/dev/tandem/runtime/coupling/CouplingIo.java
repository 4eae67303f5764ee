package dev.tandem.runtime.coupling;

import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgJobRecordStore;
import io.vertx.sqlclient.Pool;

/**
 * The endpoints and stores a mapping's coupling jobs work with, held by its {@link GenericCouplingVerticle}.
 *
 * @param pool PostgreSQL
 * @param couplings the couplings
 * @param records the jobs' per-record results
 * @param erp the ERP connector
 * @param crm the CRM connector
 */
record CouplingIo(Pool pool, PgCouplingStore couplings, PgJobRecordStore records, ODataErpClient erp,
    DataverseClient crm) {}
