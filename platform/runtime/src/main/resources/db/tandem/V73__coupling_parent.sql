-- Lines of a header (a sales line of a sales order) are coupled under their own mapping, each naming its header's
-- coupling: a header's lines are found through it, and go with it when the header is uncoupled. ERP keys of
-- several fields are stored in erp_id as their key segment (Document_Type='Order',Document_No='1001',Line_No=10000),
-- which keeps the uniqueness of (mapping, erp_id) meaning one record.
ALTER TABLE coupling ADD COLUMN parent_id bigint REFERENCES coupling (id) ON DELETE CASCADE;
CREATE INDEX coupling_parent ON coupling (parent_id) WHERE parent_id IS NOT NULL;
