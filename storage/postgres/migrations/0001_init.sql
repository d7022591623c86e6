-- Sesame schema, version 1. Times are Unix nanoseconds (UTC, BIGINT); lists are JSON arrays.

CREATE TABLE organizations (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    domicile         TEXT NOT NULL CHECK (domicile IN ('FR', 'abroad')),
    country          TEXT NOT NULL,
    siret            TEXT,
    siren            TEXT,
    legal_name       TEXT NOT NULL DEFAULT '',
    address          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('pending', 'validated', 'rejected', 'suspended')),
    cloud_account_id TEXT NOT NULL DEFAULT '',
    reject_reason    TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    validated_at     BIGINT,
    validated_by     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX organizations_siret ON organizations (siret) WHERE siret IS NOT NULL;
CREATE INDEX organizations_status ON organizations (status, created_at);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE, -- lower-cased email
    password_hash   TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    disabled        BIGINT NOT NULL DEFAULT 0,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    password_set_at BIGINT,
    last_sign_in_at BIGINT
);

CREATE TABLE memberships (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    org_id  TEXT NOT NULL REFERENCES organizations (id),
    roles   TEXT NOT NULL -- JSON array of 'admin', 'user'
);
CREATE INDEX memberships_org ON memberships (org_id);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL DEFAULT '',
    secret_hash               TEXT NOT NULL DEFAULT '',
    public                    BIGINT NOT NULL DEFAULT 0,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    allow_no_pkce             BIGINT NOT NULL DEFAULT 0,
    id_token_signed_alg       TEXT NOT NULL DEFAULT '',
    created_at                BIGINT NOT NULL
);

CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    scopes                TEXT NOT NULL,
    response_type         TEXT NOT NULL,
    response_mode         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL,
    max_age               BIGINT,
    login_hint            TEXT NOT NULL DEFAULT '',
    ui_locales            TEXT NOT NULL,
    acr_values            TEXT NOT NULL,
    hint_user_id          TEXT NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    user_id               TEXT NOT NULL DEFAULT '',
    session_id            TEXT NOT NULL DEFAULT '',
    auth_time             BIGINT,
    amr                   TEXT NOT NULL,
    done                  BIGINT NOT NULL DEFAULT 0,
    error                 TEXT NOT NULL DEFAULT '',
    code_hash             TEXT UNIQUE,
    code_expiry           BIGINT,
    consumed_at           BIGINT
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

CREATE TABLE access_tokens (
    id         TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL,
    audience   TEXT NOT NULL,
    auth_time  BIGINT,
    amr        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);
CREATE INDEX access_tokens_session ON access_tokens (session_id);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL,
    audience   TEXT NOT NULL,
    auth_time  BIGINT,
    amr        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    hash                TEXT NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time           BIGINT NOT NULL,
    amr                 TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    last_seen           BIGINT NOT NULL,
    idle_expires_at     BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    user_agent          TEXT NOT NULL DEFAULT '',
    ip                  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE signing_keys (
    id                TEXT PRIMARY KEY,
    algorithm         TEXT NOT NULL,
    private_encrypted BYTEA NOT NULL,
    public_jwk        BYTEA NOT NULL,
    created_at        BIGINT NOT NULL,
    retired_at        BIGINT,
    publish_until     BIGINT
);
