-- Version 16: a refresh token remembers the authentication context class
-- (acr) its grant's first ID token stated, so that an ID token issued by a
-- refresh states the same level rather than none. Empty: a token issued
-- before this version (its refreshed ID tokens state no acr, as before).

ALTER TABLE refresh_tokens ADD COLUMN acr TEXT NOT NULL DEFAULT '';
