-- Fencing: every claim of a job gives its lease a new epoch. The holder names the epoch in every page commit,
-- renewal and completion, so a node whose lease was lost (and taken over by another) cannot commit any more.
ALTER TABLE job ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0;

-- Exclusive runs: the claim looks for a running job of the same mapping before it takes a queued one.
CREATE INDEX job_running_mapping ON job (mapping) WHERE status = 'running';

-- The nodes sharing this schema, with their heartbeats (the jobs a node runs are the job rows it leases).
CREATE TABLE node (
  id            text PRIMARY KEY,
  version       text,
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now(),
  stopped_at    timestamptz
);

-- Dispatchers LISTEN on a channel per schema (several schemas may share one database) and claim at once when a
-- job is enqueued; NOTIFY is sent when the enqueuing transaction commits. Polling stays as the fallback.
CREATE FUNCTION job_enqueued_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tandem_jobs_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), '');
  RETURN NULL;
END
$$;
CREATE TRIGGER job_enqueued AFTER INSERT ON job FOR EACH STATEMENT EXECUTE FUNCTION job_enqueued_notify();
