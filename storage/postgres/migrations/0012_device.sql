-- Version 12: device authorization (RFC 8628, issue 18). One row per
-- request a client made; the device code and the user code are kept only
-- as hashes (the user code's keyed). The row says who answered, and how
-- they had signed in, for the tokens the next poll yields; the interval
-- grows by 5 s at each poll that comes too early (slow_down).

CREATE TABLE device_authorizations (
    id           TEXT PRIMARY KEY,
    device_hash  TEXT NOT NULL UNIQUE,
    user_hash    TEXT NOT NULL UNIQUE,
    client_id    TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
    poll_interval BIGINT NOT NULL,
    last_poll_at BIGINT NOT NULL DEFAULT 0,
    too_fast     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    user_id      TEXT,
    session_id   TEXT,
    auth_time    BIGINT,
    amr          TEXT NOT NULL DEFAULT '[]',
    decided_at   BIGINT
);
CREATE INDEX device_authorizations_expires ON device_authorizations (expires_at);
