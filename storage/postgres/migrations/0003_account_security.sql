-- Version 3: the second factor, guessing throttles, organizations that
-- require the second factor, and back-channel logout.

CREATE TABLE totp_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    confirmed_at     BIGINT,
    last_step        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY, -- a hash of the normalised email
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at   BIGINT NOT NULL
);

ALTER TABLE organizations ADD COLUMN require_mfa BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

CREATE TABLE logout_notices (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    token           TEXT NOT NULL, -- the signed logout token
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logout_notices_due ON logout_notices (next_attempt_at) WHERE sent_at IS NULL;
