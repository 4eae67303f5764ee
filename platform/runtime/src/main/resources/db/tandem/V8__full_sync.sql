-- Full synchronization runs: the review's "Start" launches the mappings whose dependencies are finished, then
-- each next wave as its dependencies finish. The coordinator (any node) advances a run under its row lock.
CREATE TABLE full_sync_run (
  id           bigserial PRIMARY KEY,
  status       text        NOT NULL DEFAULT 'running'
               CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  parts        int         NOT NULL DEFAULT 1 CHECK (parts >= 1),
  split_at_rows bigint     NOT NULL DEFAULT 10000 CHECK (split_at_rows >= 1),
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  message      text
);
-- One run at a time: a second start is refused while one is running.
CREATE UNIQUE INDEX full_sync_one_running ON full_sync_run ((true)) WHERE status = 'running';

-- One line per mapping of a run. A mapping's jobs are FULL_SYNC jobs whose parameters name the run.
CREATE TABLE full_sync_line (
  run_id       bigint      NOT NULL REFERENCES full_sync_run (id) ON DELETE CASCADE,
  mapping      text        NOT NULL,
  position     int         NOT NULL,
  direction    text        CHECK (direction IN ('TO_CRM', 'FROM_CRM')),
  dependencies text[]      NOT NULL DEFAULT '{}',
  status       text        NOT NULL DEFAULT 'waiting'
               CHECK (status IN ('waiting', 'running', 'succeeded', 'failed', 'held', 'skipped')),
  reason       text,
  estimated    bigint,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (run_id, mapping)
);

CREATE INDEX job_full_sync_run ON job (((parameters ->> 'fullSyncRun')::bigint)) WHERE kind = 'FULL_SYNC';
