-- A coupled record found deleted on one side whose deletion the policy did not act on yet (policy NONE, a refused
-- mass deletion, a counterpart delete that failed): remembered on the coupling, so the deletion is acted on once
-- the policy allows it, even though change tracking reports it only once.
ALTER TABLE coupling ADD COLUMN deleted_side text CHECK (deleted_side IN ('ERP', 'CRM'));
CREATE INDEX coupling_deleted ON coupling (mapping, id) WHERE deleted_side IS NOT NULL;

-- Per mapping: how far back each incremental read reaches before the watermark (late commits, clock skew), and
-- when a batch of deletions is too large to apply without an operator (share of the couplings and least count).
ALTER TABLE mapping_settings ADD COLUMN watermark_overlap_seconds int
  CHECK (watermark_overlap_seconds IS NULL OR watermark_overlap_seconds >= 0);
ALTER TABLE mapping_settings ADD COLUMN mass_deletion_share double precision
  CHECK (mass_deletion_share IS NULL OR (mass_deletion_share > 0 AND mass_deletion_share <= 1));
ALTER TABLE mapping_settings ADD COLUMN mass_deletion_min int
  CHECK (mass_deletion_min IS NULL OR mass_deletion_min >= 1);

-- Why a side's deletions are held (a refused mass deletion), until an operator releases them.
ALTER TABLE watermark ADD COLUMN deletions_held text;
ALTER TABLE watermark ADD COLUMN deletions_released int;
