-- The concurrency of one endpoint user (a Dataverse application user allows 52 requests in flight) split over the
-- nodes that share it: each slot is held by at most one node at a time, with a lease the node renews; a node that
-- dies loses its slots when the lease runs out and the other nodes take them over.
CREATE TABLE endpoint_budget_slot (
  endpoint   text        NOT NULL,
  app_user   text        NOT NULL,
  slot       int         NOT NULL,
  node_id    text,
  expires_at timestamptz NOT NULL DEFAULT '-infinity',
  PRIMARY KEY (endpoint, app_user, slot)
);

-- The nodes that use an endpoint user, holding slots or not yet: the fair part is the slots over the live nodes.
CREATE TABLE endpoint_budget_node (
  endpoint   text        NOT NULL,
  app_user   text        NOT NULL,
  node_id    text        NOT NULL,
  seen_until timestamptz NOT NULL,
  PRIMARY KEY (endpoint, app_user, node_id)
);
