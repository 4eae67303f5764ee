-- A full synchronization line whose jobs ended but failed some records is not a plain success ('partial'); the
-- source side's own newest modified-on when the line started, where its watermark moves when the line ends.
ALTER TABLE full_sync_line DROP CONSTRAINT full_sync_line_status_check;
ALTER TABLE full_sync_line ADD CONSTRAINT full_sync_line_status_check
  CHECK (status IN ('waiting', 'running', 'succeeded', 'partial', 'failed', 'held', 'skipped'));
ALTER TABLE full_sync_line ADD COLUMN source_mark timestamptz;
