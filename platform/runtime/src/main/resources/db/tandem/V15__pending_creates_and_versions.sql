-- Creates whose outcome may be unknown. A row is committed before the request that creates the counterpart of
-- a source record goes out, and removed in the transaction that writes the coupling (or when the endpoint
-- refused the create). A row that is still there on the next attempt means the request may have taken effect
-- without Tandem hearing about it (a lost response, a crash): the engine then looks for the record on the other
-- side (a reconciling read) and couples what it finds instead of creating it again.
CREATE TABLE pending_create (
  mapping       text        NOT NULL,
  direction     text        NOT NULL CHECK (direction IN ('TO_CRM', 'FROM_CRM')),
  source_id     text        NOT NULL,
  attempted_at  timestamptz NOT NULL DEFAULT now(),
  job_id        bigint,
  PRIMARY KEY (mapping, direction, source_id)
);

-- The exact version (ETag) of each side as Tandem last read or wrote it. A row whose version equals it is
-- unchanged since, whoever last modified it and whatever its (whole-second) modified-on says; any other version
-- is a change, even by the integration user's own account.
ALTER TABLE coupling ADD COLUMN erp_version text;
ALTER TABLE coupling ADD COLUMN crm_version text;
