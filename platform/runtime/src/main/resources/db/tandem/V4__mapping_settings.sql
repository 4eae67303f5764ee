-- What operators changed of a mapping through the admin API; null columns fall back to the plugin's definition.
CREATE TABLE mapping_settings (
  mapping               text PRIMARY KEY,
  direction             text CHECK (direction IN ('TO_CRM', 'FROM_CRM', 'BIDIRECTIONAL')),
  erp_filter            text,
  crm_filter            text,
  disabled_fields       text[]      NOT NULL DEFAULT '{}',
  conflict_policy       text CHECK (conflict_policy IN ('NONE', 'ERP_WINS', 'CRM_WINS')),
  schedule_ms           bigint CHECK (schedule_ms IS NULL OR schedule_ms > 0),
  skip_after_repeats    int CHECK (skip_after_repeats IS NULL OR skip_after_repeats >= 1),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
