-- Version 13: consent for third-party applications (issue 18). A person's
-- answer to a client registered as a third party is remembered with the
-- scopes allowed; revoking it deletes the client's tokens for the person,
-- found by the (user, client) indexes below.

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);
CREATE INDEX access_tokens_user_client ON access_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);
