-- Ledger jobs that follow documents besides their ledger (the Customer Statistics job: sales order lines move the
-- outstanding orders without a ledger entry): per job and service, the last SystemModifiedAt whose rows' figures
-- reached the CRM. Stored only after the CRM accepted a page's writes, as the ledger position is.
CREATE TABLE ledger_feed_position (
  job            text        NOT NULL REFERENCES ledger_position (job) ON DELETE CASCADE,
  service        text        NOT NULL,
  last_modified  timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, service)
);

-- When every coupled record last got its figures again (a job with a refresh interval: figures that move with the
-- date alone, such as an amount becoming overdue).
ALTER TABLE ledger_position ADD COLUMN refreshed_at timestamptz;
