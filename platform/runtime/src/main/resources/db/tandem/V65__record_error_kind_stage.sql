-- Record errors keep their kind and stage as columns, so the error log can be filtered by them (they were a
-- "[STAGE] text" prefix of the message). Deletion notes have no prefix: they were found reading, as data.
ALTER TABLE record_error ADD COLUMN kind text NOT NULL DEFAULT 'DATA'
  CHECK (kind IN ('RETRIABLE', 'PERMANENT', 'DATA'));
ALTER TABLE record_error ADD COLUMN stage text NOT NULL DEFAULT 'READ'
  CHECK (stage IN ('READ', 'TRANSFORM', 'LOOKUP', 'WRITE', 'COMMIT', 'DISPATCH'));
UPDATE record_error SET stage = substring(message FROM '^\[([A-Z]+)\] '),
    message = substring(message FROM '^\[[A-Z]+\] (.*)$')
  WHERE message ~ '^\[(READ|TRANSFORM|LOOKUP|WRITE|COMMIT|DISPATCH)\] ';
ALTER TABLE record_error ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE record_error ALTER COLUMN stage DROP DEFAULT;
CREATE INDEX record_error_job ON record_error (job_id, stage) WHERE resolved_at IS NULL;

-- A schedule can be paused by the engine, with the reason: a job whose failed share passed the mapping's error
-- tolerance pauses it until an operator wakes it.
ALTER TABLE schedule DROP CONSTRAINT schedule_state_check;
ALTER TABLE schedule ADD CONSTRAINT schedule_state_check
  CHECK (state IN ('active', 'on_hold', 'disabled', 'paused'));
ALTER TABLE schedule ADD COLUMN paused_reason text;

-- The error tolerance as operators override it per mapping (null: the node's default).
ALTER TABLE mapping_settings ADD COLUMN max_failed_share double precision
  CHECK (max_failed_share IS NULL OR (max_failed_share >= 0 AND max_failed_share <= 1));
ALTER TABLE mapping_settings ADD COLUMN min_failed_records int
  CHECK (min_failed_records IS NULL OR min_failed_records >= 1);
