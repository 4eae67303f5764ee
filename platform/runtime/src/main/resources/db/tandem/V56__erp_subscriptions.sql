-- Business Central online webhook subscriptions, one per mapping that reads from the ERP: BC's id, the API page
-- subscribed to, the clientState that authenticates its notifications, its ETag (renewal needs If-Match) and when
-- it expires (three days after creation or the last renewal).
CREATE TABLE erp_subscription (
  mapping          text        PRIMARY KEY,
  subscription_id  text        NOT NULL UNIQUE,
  resource         text        NOT NULL,
  client_state     text        NOT NULL,
  etag             text,
  expires_at       timestamptz NOT NULL,
  renewed_at       timestamptz NOT NULL DEFAULT now(),
  notified_at      timestamptz
);
