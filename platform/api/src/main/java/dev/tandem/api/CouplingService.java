package dev.tandem.api;

import io.vertx.core.Future;
import java.util.Optional;

/** The runtime's couplings, read-only to plugins: which record on one side is coupled to which on the other. */
public interface CouplingService {

  /**
   * @param mapping a mapping name, e.g. {@code ITEM-PRODUCT}
   * @param crmId a CRM record id
   * @return the ERP key coupled to it in that mapping, if any
   */
  Future<Optional<String>> erpIdOf(String mapping, String crmId);

  /**
   * @param mapping a mapping name
   * @param erpId an ERP key
   * @return the CRM id coupled to it in that mapping, if any
   */
  Future<Optional<String>> crmIdOf(String mapping, String erpId);
}
