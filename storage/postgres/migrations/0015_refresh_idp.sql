-- Version 15: a refresh token remembers the company provider that
-- authenticated its session (issue 17), so that an ID token issued by a
-- refresh says so (claim idp) as the first one did. Empty: Sesame's own
-- sign-in. Its amr was already kept.

ALTER TABLE refresh_tokens ADD COLUMN idp TEXT NOT NULL DEFAULT '';
