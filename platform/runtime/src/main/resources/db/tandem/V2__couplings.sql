-- Couplings: the state the synchronization engine keeps per record pair.

-- A coupling ties one ERP record to one CRM record within a mapping, one-to-one on both sides. A row whose
-- counterpart could not be created yet keeps one side empty ("pending"): it is retried first in the next run
-- instead of waiting for its source to change again.
CREATE TABLE coupling (
  id                    bigserial PRIMARY KEY,
  mapping               text        NOT NULL,
  erp_id                text,
  crm_id                text,
  -- Each side's modified-on as last synchronized (after our own write), so our writes never look like changes.
  erp_modified_on       timestamptz,
  crm_modified_on       timestamptz,
  last_result_to_crm    text CHECK (last_result_to_crm IN ('inserted', 'modified', 'unchanged', 'failed', 'conflict')),
  last_result_from_crm  text CHECK (last_result_from_crm IN ('inserted', 'modified', 'unchanged', 'failed', 'conflict')),
  -- The same error repeated marks the record skipped until someone retries it.
  last_error            text,
  error_repeats         int         NOT NULL DEFAULT 0,
  skipped               boolean     NOT NULL DEFAULT false,
  last_job_id           bigint,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT coupling_has_a_side CHECK (erp_id IS NOT NULL OR crm_id IS NOT NULL),
  CONSTRAINT coupling_erp_once UNIQUE (mapping, erp_id),
  CONSTRAINT coupling_crm_once UNIQUE (mapping, crm_id)
);
-- Failed-but-not-skipped rows are retried first in each run.
CREATE INDEX coupling_retry ON coupling (mapping, id)
  WHERE NOT skipped AND (last_result_to_crm = 'failed' OR last_result_from_crm = 'failed');
