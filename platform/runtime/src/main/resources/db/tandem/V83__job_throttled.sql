-- Requests of a job the ERP or the CRM answered with 429: the overview shows them per mapping (its last job).
ALTER TABLE job ADD COLUMN throttled bigint NOT NULL DEFAULT 0;
