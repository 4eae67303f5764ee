-- Per-record results of coupling jobs (match-based coupling, creating counterparts): which records were coupled,
-- and for those that were not, why (no match, several matches, already taken). Kept with the job, read through
-- GET /api/v1/jobs/{id}/records; no foreign key, like record_error: the job log's retention may purge the job first.
CREATE TABLE job_record (
  id        bigserial PRIMARY KEY,
  job_id    bigint      NOT NULL,
  mapping   text        NOT NULL,
  erp_id    text,
  crm_id    text,
  result    text        NOT NULL CHECK (result IN ('coupled', 'no_match', 'ambiguous', 'taken', 'created', 'failed')),
  reason    text,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_record_job ON job_record (job_id, id);
