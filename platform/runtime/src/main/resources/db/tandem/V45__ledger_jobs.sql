-- Ledger jobs (the Item Availability job): per job, the last ledger entry number whose figures reached the CRM.
-- Stored only after the CRM accepted a page's writes, so a crash re-sends that page and never skips it.
CREATE TABLE ledger_position (
  job            text        PRIMARY KEY,
  mapping        text        NOT NULL,
  last_entry_no  bigint      NOT NULL DEFAULT 0 CHECK (last_entry_no >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Couplings whose CRM record has not had the job's figure yet: every coupling when the job starts following the
-- ledger, then each coupling made later (the trigger below), so a product created after its item's last posting
-- still gets its stock. A run pushes them and deletes them, after the CRM accepted.
CREATE TABLE ledger_pending_coupling (
  job     text NOT NULL REFERENCES ledger_position (job) ON DELETE CASCADE,
  erp_id  text NOT NULL,
  PRIMARY KEY (job, erp_id)
);

CREATE FUNCTION ledger_note_coupling() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_pending_coupling (job, erp_id)
    SELECT p.job, NEW.erp_id FROM ledger_position p WHERE p.mapping = NEW.mapping
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Fires for a new coupling and for a pending one that gets its counterpart (or another), not for the frequent
-- updates of results and modified-ons (an upsert that sets the same ids again is no new coupling).
CREATE TRIGGER coupling_ledger_pending_insert AFTER INSERT ON coupling
  FOR EACH ROW WHEN (NEW.erp_id IS NOT NULL AND NEW.crm_id IS NOT NULL)
  EXECUTE FUNCTION ledger_note_coupling();
CREATE TRIGGER coupling_ledger_pending_update AFTER UPDATE OF erp_id, crm_id ON coupling
  FOR EACH ROW WHEN (NEW.erp_id IS NOT NULL AND NEW.crm_id IS NOT NULL
    AND (OLD.erp_id IS DISTINCT FROM NEW.erp_id OR OLD.crm_id IS DISTINCT FROM NEW.crm_id))
  EXECUTE FUNCTION ledger_note_coupling();
