-- What a check found besides ok and its message, e.g. the imported solution's name and version (crm.solution),
-- which GET /api/v1/connection shows.
ALTER TABLE connection_check ADD COLUMN detail jsonb;
