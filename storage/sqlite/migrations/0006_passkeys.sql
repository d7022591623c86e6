-- Version 6: passkeys (WebAuthn credentials), the challenges already
-- answered (single use), and the organization's "passkeys only" policy.

CREATE TABLE passkeys (
    id               TEXT PRIMARY KEY, -- the credential id, base64url
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    public_key       BLOB NOT NULL,
    sign_count       INTEGER NOT NULL DEFAULT 0,
    transports       TEXT NOT NULL DEFAULT '[]',
    backup_eligible  INTEGER NOT NULL DEFAULT 0,
    backed_up        INTEGER NOT NULL DEFAULT 0,
    aaguid           BLOB,
    attestation_type TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_used_at     INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE passkey_challenges (
    hash       TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);

ALTER TABLE organizations ADD COLUMN require_passkey INTEGER NOT NULL DEFAULT 0;
