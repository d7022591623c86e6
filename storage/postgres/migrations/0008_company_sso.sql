-- Version 8: company sign-in. An organization's email domains, each with
-- the random value it publishes to prove it owns the domain (a domain is
-- verified by one organization at most), its upstream OpenID Connect
-- connection (the client secret encrypted), and the connection that
-- authenticated a session (and so the code it answers).

CREATE TABLE org_domains (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL, -- lower case, without the final dot
    challenge   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    verified_at BIGINT,
    checked_at  BIGINT,
    PRIMARY KEY (org_id, name)
);
CREATE UNIQUE INDEX org_domains_verified ON org_domains (name) WHERE verified_at IS NOT NULL;

CREATE TABLE sso_connections (
    org_id           TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    issuer           TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    secret_encrypted BYTEA NOT NULL,
    scopes           TEXT NOT NULL, -- JSON array
    default_roles    TEXT NOT NULL, -- JSON array
    sufficient_acr   TEXT NOT NULL, -- JSON array
    enforce          BIGINT NOT NULL DEFAULT 0,
    break_glass      TEXT NOT NULL DEFAULT '', -- a user id
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

ALTER TABLE sessions ADD COLUMN idp TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN idp TEXT NOT NULL DEFAULT '';
