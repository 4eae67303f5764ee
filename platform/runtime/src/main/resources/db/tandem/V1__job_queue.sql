-- The job queue and job log in one table: a job is claimed with FOR UPDATE SKIP LOCKED and a lease,
-- and keeps its counts and message once it has ended.
CREATE TABLE job (
  id            bigserial PRIMARY KEY,
  kind          text        NOT NULL,
  mapping       text        NOT NULL,
  direction     text,
  status        text        NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  priority      int         NOT NULL DEFAULT 100,
  parameters    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  checkpoint    jsonb,
  parent_id     bigint      REFERENCES job (id) ON DELETE SET NULL,
  schedule_id   bigint,
  attempts      int         NOT NULL DEFAULT 0,
  max_attempts  int         NOT NULL DEFAULT 10 CHECK (max_attempts >= 1),
  run_at        timestamptz NOT NULL DEFAULT now(),
  lease_owner   text,
  lease_until   timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz,
  inserted      bigint      NOT NULL DEFAULT 0,
  modified      bigint      NOT NULL DEFAULT 0,
  deleted       bigint      NOT NULL DEFAULT 0,
  unchanged     bigint      NOT NULL DEFAULT 0,
  skipped       bigint      NOT NULL DEFAULT 0,
  failed        bigint      NOT NULL DEFAULT 0,
  coupled       bigint      NOT NULL DEFAULT 0,
  uncoupled     bigint      NOT NULL DEFAULT 0,
  message       text,
  error_stage   text
);

-- Claim order; partial so the index stays small however long the log grows.
CREATE INDEX job_due ON job (priority, run_at, id) WHERE status = 'queued';
-- Expired-lease sweep.
CREATE INDEX job_lease ON job (lease_until) WHERE status = 'running';
CREATE INDEX job_mapping ON job (mapping, id DESC);
CREATE INDEX job_status ON job (status, id DESC);
CREATE INDEX job_parent ON job (parent_id) WHERE parent_id IS NOT NULL;

-- Recurring synchronization per mapping. A schedule whose jobs changed nothing for its inactivity timeout
-- goes on hold; waking it (API, or an ERP-side change) makes it active and due at once.
CREATE TABLE schedule (
  id                     bigserial PRIMARY KEY,
  mapping                text        NOT NULL,
  kind                   text        NOT NULL DEFAULT 'SYNC',
  direction              text,
  interval_ms            bigint      NOT NULL CHECK (interval_ms > 0),
  inactivity_timeout_ms  bigint      NOT NULL DEFAULT 0 CHECK (inactivity_timeout_ms >= 0),
  state                  text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'on_hold', 'disabled')),
  next_run_at            timestamptz NOT NULL DEFAULT now(),
  last_activity_at       timestamptz NOT NULL DEFAULT now(),
  held_at                timestamptz,
  UNIQUE (mapping, kind)
);

ALTER TABLE job ADD CONSTRAINT job_schedule_fk FOREIGN KEY (schedule_id) REFERENCES schedule (id) ON DELETE SET NULL;
-- At most one pending run per schedule: a slow run is not stacked up behind itself.
CREATE UNIQUE INDEX job_one_active_per_schedule ON job (schedule_id) WHERE status IN ('queued', 'running');
CREATE INDEX schedule_due ON schedule (next_run_at) WHERE state = 'active';
