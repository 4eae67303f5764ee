-- The values of a coupled record's bidirectional fields on each side as of its last synchronization:
-- {"erp": {field: value}, "crm": {column: value}}. When both sides changed, comparing each side with these tells
-- which fields each side changed, so conflict policy MERGE can take both sides' changes when they do not overlap.
ALTER TABLE coupling ADD COLUMN synced jsonb;
