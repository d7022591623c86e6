-- Version 3: the second factor, guessing throttles, organizations that
-- require the second factor, and back-channel logout.

CREATE TABLE totp_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted BLOB NOT NULL,
    created_at       INTEGER NOT NULL,
    confirmed_at     INTEGER,
    last_step        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY, -- a hash of the normalised email
    failures     INTEGER NOT NULL,
    locked_until INTEGER,
    updated_at   INTEGER NOT NULL
);

ALTER TABLE organizations ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

CREATE TABLE logout_notices (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    token           TEXT NOT NULL, -- the signed logout token
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logout_notices_due ON logout_notices (next_attempt_at) WHERE sent_at IS NULL;
