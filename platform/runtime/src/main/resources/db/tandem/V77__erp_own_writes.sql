-- ERP side, after a full synchronization CRM to ERP of a bidirectional mapping: rows stamped after own_writes_from
-- (the ERP's newest SystemModifiedAt when the line started; null: it had none) up to own_writes_until are the full
-- synchronization's own writes, or people's changes among them that its last job synchronized already; the
-- ERP-to-CRM runs do not read them back.
ALTER TABLE watermark ADD COLUMN own_writes_from timestamptz;
