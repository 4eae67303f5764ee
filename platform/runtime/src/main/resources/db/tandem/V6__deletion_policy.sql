-- What happens when a coupled record is deleted on one side.
ALTER TABLE mapping_settings ADD COLUMN deletion_policy text
  CHECK (deletion_policy IN ('NONE', 'RESTORE', 'REMOVE_COUPLING', 'DELETE_COUNTERPART'));
-- Reference system's "synch. only coupled records": uncoupled records are not created on the other side.
ALTER TABLE mapping_settings ADD COLUMN sync_only_coupled boolean;
