-- The management API: clients get grants and scopes (client_credentials
-- clients need no redirect URI), organizations are listed page by page,
-- and POSTs carry an Idempotency-Key whose first answer is kept.
ALTER TABLE clients ADD COLUMN grants TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';

CREATE INDEX organizations_created ON organizations (created_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);

CREATE TABLE api_idempotency (
    client_id    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL DEFAULT 0,  -- 0 while the first request runs
    body         BYTEA,                      -- the first answer, sealed
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE INDEX api_idempotency_expires ON api_idempotency (expires_at);
