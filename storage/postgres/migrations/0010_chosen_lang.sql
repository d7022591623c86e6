-- The page language a person chose themselves (at activation or in their
-- settings), apart from locale, the language of their mail that an
-- administrator or the CLI may have picked for them. '' is no choice: the
-- browser's Accept-Language decides. Existing accounts start with none.
ALTER TABLE users ADD COLUMN chosen_lang TEXT NOT NULL DEFAULT '';
