-- Version 11: the protocol's extensions (issue 18). A client's choices
-- (private_key_jwt and its keys, PAR and DPoP required, JWT access tokens,
-- grants, third party, allowed origins) are one JSON value; tokens bound
-- to a DPoP key carry its thumbprint; pushed authorization requests live
-- 60 s and are taken once; single-use ids (jti of client assertions and
-- DPoP proofs) are kept until they expire, so that every replica refuses
-- a replay.

ALTER TABLE clients ADD COLUMN protocol TEXT NOT NULL DEFAULT '{}';
ALTER TABLE access_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';

CREATE TABLE pushed_requests (
    hash       TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX pushed_requests_expires ON pushed_requests (expires_at);

CREATE TABLE used_ids (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX used_ids_expires ON used_ids (expires_at);
