-- When a mapping's runs last read every ERP key to find records deleted in the ERP: that read costs a request per
-- page of keys, so it is done once per interval (schedules.erpDeletionScanMs), not on every run.
ALTER TABLE watermark ADD COLUMN keys_scanned_at timestamptz;
