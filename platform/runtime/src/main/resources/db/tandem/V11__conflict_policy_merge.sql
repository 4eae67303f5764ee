-- The admin API offers conflict policy MERGE (field by field), but V4's check constraint did not allow it: a
-- PATCH to MERGE failed as a constraint violation. The constraint now lists every policy the engine knows.
ALTER TABLE mapping_settings DROP CONSTRAINT IF EXISTS mapping_settings_conflict_policy_check;
ALTER TABLE mapping_settings ADD CONSTRAINT mapping_settings_conflict_policy_check
  CHECK (conflict_policy IN ('NONE', 'ERP_WINS', 'CRM_WINS', 'MERGE'));
