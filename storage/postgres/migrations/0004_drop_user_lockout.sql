-- Guessing is throttled per account and per address in login_failures
-- (0003); the per-user counters of 0001 have been unused since.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
