-- The ERP deletion check without a scan of every key: the coupled ERP keys of a mapping cut into ranges, each with
-- what the last check saw — the ERP's row count within the range ($count with the range as $filter, the mapping's
-- filter applied) and the mapping's coupled count within it. Only a range whose counts moved is read again.
CREATE TABLE erp_key_range (
  mapping        text        NOT NULL,
  range_no       int         NOT NULL,
  lower_key      text,                   -- inclusive; null: from the first key
  upper_key      text,                   -- exclusive; null: to the last key
  erp_count      bigint,
  coupled_count  bigint,
  verified_at    timestamptz,            -- when its keys were last read and compared
  PRIMARY KEY (mapping, range_no)
);

-- Both counts over the whole key set at the last check: when neither moved, no range is counted.
ALTER TABLE watermark ADD COLUMN erp_total bigint;
ALTER TABLE watermark ADD COLUMN coupled_total bigint;

-- CRM side: up to this CRM modified-on, rows last modified by one of Tandem's application users are the full
-- synchronization's own writes (recorded on their couplings), so the next CRM-to-ERP run does not read them back.
ALTER TABLE watermark ADD COLUMN own_writes_until timestamptz;

-- The other side's newest modified-on when a line started (the CRM's for an ERP-to-CRM line): changes made there
-- during the full synchronization are read from it.
ALTER TABLE full_sync_line ADD COLUMN other_mark timestamptz;

-- After a full synchronization: incremental reads start no earlier than the point the full synchronization read
-- from (its overlap is not needed behind it: every row stamped before it was read by the full synchronization).
ALTER TABLE watermark ADD COLUMN read_floor timestamptz;
