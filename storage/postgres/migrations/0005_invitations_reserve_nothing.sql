-- An invitation not yet accepted reserves nothing: a person without a
-- password in an organization holds the email key "invited/ORG/address"
-- (sqlstore's emailKey), and only accepting it takes the address itself.
UPDATE users
SET email_key = 'invited/' || (SELECT org_id FROM memberships WHERE memberships.user_id = users.id) || '/' || email_key
WHERE password_hash = '' AND id IN (SELECT user_id FROM memberships);
