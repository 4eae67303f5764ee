-- Per mapping and side: the highest modified-on processed (capped at the job's start), which is also the
-- checkpoint a crashed run resumes from; or the CRM's change-tracking delta link.
CREATE TABLE watermark (
  mapping      text        NOT NULL,
  side         text        NOT NULL CHECK (side IN ('ERP', 'CRM')),
  modified_on  timestamptz,
  delta_link   text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mapping, side)
);
