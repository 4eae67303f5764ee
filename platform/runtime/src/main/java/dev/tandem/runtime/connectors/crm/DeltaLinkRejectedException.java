package dev.tandem.runtime.connectors.crm;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;

/**
 * Dataverse refused a delta link: its token expired (0x80044352 "Version stamp associated with the client has
 * expired. Please perform a full sync.", after the organization's change-tracking retention, 7 days by default)
 * or is no longer valid. Following it again can never work; the caller starts change tracking over.
 */
public final class DeltaLinkRejectedException extends TandemException {

  private static final long serialVersionUID = 1L;

  DeltaLinkRejectedException(String message) {
    super(ErrorKind.PERMANENT, Stage.READ, message, null, null);
  }
}
