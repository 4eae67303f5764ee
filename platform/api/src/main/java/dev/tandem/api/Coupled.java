package dev.tandem.api;

import java.time.OffsetDateTime;

/**
 * One coupling as a task sees and writes it: an ERP record and a CRM record of a mapping that belong together.
 *
 * @param mapping the mapping
 * @param erpKey the ERP record's key
 * @param crmId the CRM record's GUID
 * @param erpModifiedOn the ERP row's modified-on as last synchronized (after Tandem's own write), or null
 * @param crmModifiedOn the CRM row's modified-on as last synchronized, or null
 * @param parentErpKey for a line, its header's ERP key in the parent mapping ({@link ChildMapping}); else null
 */
public record Coupled(String mapping, ErpKey erpKey, String crmId, OffsetDateTime erpModifiedOn,
    OffsetDateTime crmModifiedOn, ErpKey parentErpKey) {

  /**
   * @param mapping the mapping
   * @param erpKey the ERP key
   * @param crmId the CRM id
   * @return a coupling without stamps or parent
   */
  public static Coupled of(String mapping, ErpKey erpKey, String crmId) {
    return new Coupled(mapping, erpKey, crmId, null, null, null);
  }
}
