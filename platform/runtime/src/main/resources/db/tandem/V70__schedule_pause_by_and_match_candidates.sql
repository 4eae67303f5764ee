-- Who paused a schedule and when: an operator through the admin API (POST /api/v1/schedules/{mapping}/pause) or
-- the engine's error tolerance. Waking clears both with the reason.
ALTER TABLE schedule ADD COLUMN paused_by text;
ALTER TABLE schedule ADD COLUMN paused_at timestamptz;
UPDATE schedule SET paused_by = 'error tolerance', paused_at = held_at WHERE state = 'paused';

-- The candidates of an ambiguous match result (the other side's keys), so a person can pick one from either side;
-- the reason names at most five of them.
ALTER TABLE job_record ADD COLUMN candidates text[];
