-- The connection set up through the admin API (the reference's "Connection Setup" window), shared by every node.
-- One row: the non-secret settings as a JSON document, the Enabled switch and a revision every change bumps.
CREATE TABLE connection_setting (
  id              smallint PRIMARY KEY CHECK (id = 1),
  settings        jsonb NOT NULL,
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text,
  revision        bigint NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Its secrets, each encrypted on its own with AES-GCM (nonce || ciphertext || tag; the secret's name is the
-- associated data, so a ciphertext cannot be moved to another secret). key_id names the key that sealed it.
CREATE TABLE connection_secret (
  name        text PRIMARY KEY,
  sealed      bytea NOT NULL,
  key_id      text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);

-- The last result of each connection check, by name (GET /api/v1/connection shows them).
CREATE TABLE connection_check (
  name        text PRIMARY KEY,
  ok          boolean NOT NULL,
  message     text NOT NULL,
  remedy      text,
  checked_at  timestamptz NOT NULL DEFAULT now()
);

-- The assisted setup guide's state, so a guide begun on one node can be resumed on any other.
CREATE TABLE setup_guide (
  id          smallint PRIMARY KEY CHECK (id = 1),
  state       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every node LISTENs on a channel per schema and reloads the connection when it changes.
CREATE FUNCTION connection_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tandem_conn_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), '');
  RETURN NULL;
END
$$;
CREATE TRIGGER connection_setting_changed AFTER INSERT OR UPDATE OR DELETE ON connection_setting
  FOR EACH STATEMENT EXECUTE FUNCTION connection_changed_notify();
CREATE TRIGGER connection_secret_changed AFTER INSERT OR UPDATE OR DELETE ON connection_secret
  FOR EACH STATEMENT EXECUTE FUNCTION connection_changed_notify();
