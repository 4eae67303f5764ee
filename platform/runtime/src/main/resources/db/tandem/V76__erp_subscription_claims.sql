-- Who creates or renews a mapping's Business Central webhook subscription: a node claims the mapping for a short
-- lease before it asks BC, so two nodes checking their subscriptions at once make one subscription, not two (BC
-- would notify both, and the one not stored would wake nothing but cost BC's notification budget until it expires).
-- A node that dies holding a claim loses it when the lease ends.
CREATE TABLE erp_subscription_claim (
  mapping      text        PRIMARY KEY,
  node         text        NOT NULL,
  claimed_until timestamptz NOT NULL
);
