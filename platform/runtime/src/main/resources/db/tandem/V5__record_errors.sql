-- The per-record error log: one row per record that failed in a run, with both ids, stage and message; resolved
-- when the record later goes through.
CREATE TABLE record_error (
  id           bigserial PRIMARY KEY,
  job_id       bigint,  -- no foreign key: the job log's retention may have purged the job by now
  mapping      text        NOT NULL,
  direction    text        NOT NULL CHECK (direction IN ('TO_CRM', 'FROM_CRM')),
  erp_id       text,
  crm_id       text,
  message      text        NOT NULL,
  occurred_at  timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz
);
CREATE INDEX record_error_open ON record_error (mapping, id DESC) WHERE resolved_at IS NULL;
CREATE INDEX record_error_erp ON record_error (mapping, erp_id) WHERE resolved_at IS NULL;
CREATE INDEX record_error_crm ON record_error (mapping, crm_id) WHERE resolved_at IS NULL;
