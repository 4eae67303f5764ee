package dev.tandem.api;

import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The couplings as a {@link SyncTask} reads and writes them. Keys are {@link ErpKey}s, so composite keys (sales
 * lines: document type, number and line number) are stored and found like single ones. Every write is idempotent:
 * coupling a pair again only refreshes its stamps, so a task may repeat a page after a crash. A coupling is one to
 * one on both sides within its mapping; coupling an ERP record to a second CRM record fails
 * {@link ErrorKind#DATA} at stage {@link Stage#COMMIT}.
 */
public interface CouplingWriter extends CouplingService {

  /**
   * @param mapping a mapping name
   * @param crmIds CRM record ids
   * @return the couplings of those that are coupled, by CRM id (lower case)
   */
  Future<Map<String, Coupled>> byCrmIds(String mapping, Collection<String> crmIds);

  /**
   * @param mapping a mapping name
   * @param erpKeys ERP keys
   * @return the couplings of those that are coupled, by ERP key
   */
  Future<Map<ErpKey, Coupled>> byErpKeys(String mapping, Collection<ErpKey> erpKeys);

  /**
   * @param mapping the lines' mapping (a {@link ChildMapping})
   * @param parentErpKey the header's ERP key
   * @return the couplings of that header's lines
   */
  Future<List<Coupled>> children(String mapping, ErpKey parentErpKey);

  /**
   * The line couplings of many headers in one lookup: a task that writes a page of headers asks once per page, not
   * once per header.
   *
   * @param mapping the lines' mapping (a {@link ChildMapping})
   * @param parentErpKeys the headers' ERP keys
   * @return each header's line couplings, in ERP key order, by header key; a header without lines maps to an empty
   *     list, so every key asked for is in the answer
   */
  Future<Map<ErpKey, List<Coupled>>> children(String mapping, Collection<ErpKey> parentErpKeys);

  /**
   * Couples records, or refreshes the stamps of pairs already coupled. A line names its header
   * ({@link Coupled#parentErpKey()}); the header's coupling must exist.
   *
   * @param couplings the pairs, written in one PostgreSQL transaction fenced by the job's lease
   * @return done
   */
  Future<Void> couple(List<Coupled> couplings);

  /**
   * @param mapping a mapping name
   * @param erpKeys ERP keys whose couplings go (a header's lines go with it)
   * @return how many couplings were removed
   */
  Future<Integer> uncouple(String mapping, Collection<ErpKey> erpKeys);

  /**
   * @param mapping a mapping name
   * @param crmId a CRM id
   * @return the coupled ERP key, parsed with that mapping's key fields
   */
  Future<Optional<ErpKey>> erpKeyOf(String mapping, String crmId);
}
