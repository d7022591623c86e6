package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const userColumns = `id, email, password_hash, name, locale, disabled,
	created_at, updated_at, password_set_at, last_sign_in_at, is_operator, chosen_lang`

func scanUser(row scanner) (storage.User, error) {
	var u storage.User
	err := row.Scan(userDests(&u)...)
	return u, err
}

// userDests are the scan destinations of userColumns.
func userDests(u *storage.User) []any {
	return []any{&u.ID, &u.Email, &u.PasswordHash, &u.Name, &u.Locale, &u.Disabled,
		tsOut(&u.CreatedAt), tsOut(&u.UpdatedAt), tsOut(&u.PasswordSetAt), tsOut(&u.LastSignInAt), &u.IsOperator, &u.ChosenLang}
}

func validUser(u storage.User) error {
	if u.ID == "" || storage.NormalizeEmail(u.Email) == "" || u.CreatedAt.IsZero() {
		return fmt.Errorf("%w: user needs an id, an email and a creation time", storage.ErrInvalid)
	}
	return nil
}

// emailKey is what keeps an email address to one account. A person who has
// never set a password — an invitation not yet accepted — holds a key of
// their organization's own, "invited/ORG/address": an invitation reserves
// nothing, so another organization may invite the same address, and an
// address that has an account may be invited without the answer telling
// so. Setting the password turns the key into the address itself, which
// only one account may hold (ErrConflict).
func emailKey(email, passwordHash, orgID string) string {
	addr := storage.NormalizeEmail(email)
	if passwordHash == "" && orgID != "" {
		return "invited/" + orgID + "/" + addr
	}
	return addr
}

func (db *DB) CreateUser(ctx context.Context, u storage.User, m *storage.Membership) error {
	if err := validUser(u); err != nil {
		return err
	}
	if m != nil && !storage.ValidRoles(m.Roles) {
		return fmt.Errorf("%w: roles %v", storage.ErrInvalid, m.Roles)
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	orgID := ""
	if m != nil {
		orgID = m.OrgID
	}
	return db.tx(ctx, func(tx conn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, email_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.PasswordHash, u.Name, u.Locale, boolInt(u.Disabled),
			ts(u.CreatedAt), ts(u.UpdatedAt), ts(u.PasswordSetAt), ts(u.LastSignInAt), boolInt(u.IsOperator), u.ChosenLang, emailKey(u.Email, u.PasswordHash, orgID))
		if db.isUnique(err) {
			return storage.ErrConflict
		}
		if err != nil || m == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (user_id, org_id, roles) VALUES (?, ?, ?)`,
			u.ID, m.OrgID, list(storage.NormalizeRoles(m.Roles)))
		if db.isForeignKey(err) {
			return fmt.Errorf("%w: organization %q", storage.ErrNotFound, m.OrgID)
		}
		return err
	})
}

func (db *DB) GetUser(ctx context.Context, id string) (storage.User, error) {
	u, err := scanUser(db.reader().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFound(err)
}

func (db *DB) GetUserByEmail(ctx context.Context, email string) (storage.User, error) {
	u, err := scanUser(db.reader().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, storage.NormalizeEmail(email)))
	return u, notFound(err)
}

// RecordSignIn touches only what a sign-in changes: a whole-row update
// would rewrite the email's unique index too. An empty rehash keeps the hash.
func (db *DB) RecordSignIn(ctx context.Context, id string, at time.Time, rehash string) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE users SET last_sign_in_at = ?,
		password_hash = COALESCE(NULLIF(?, ''), password_hash) WHERE id = ?`, ts(at), rehash, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) ListUsers(ctx context.Context, orgID string) ([]storage.User, error) {
	q := `SELECT ` + userColumns + ` FROM users ORDER BY created_at, id`
	args := []any{}
	if orgID != "" {
		q = `SELECT ` + userColumns + ` FROM users WHERE id IN (SELECT user_id FROM memberships WHERE org_id = ?) ORDER BY created_at, id`
		args = append(args, orgID)
	}
	return queryAll(ctx, db.reader(), scanUser, q, args...)
}

func (db *DB) UpdateUser(ctx context.Context, id string, update func(*storage.User) error) error {
	return db.tx(ctx, func(tx conn) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`+db.d.ForUpdate, id))
		if err != nil {
			return notFound(err)
		}
		if err := update(&u); err != nil {
			return err
		}
		u.ID = id
		if err := validUser(u); err != nil {
			return err
		}
		var orgID string
		if err := tx.QueryRowContext(ctx, `SELECT org_id FROM memberships WHERE user_id = ?`, id).Scan(&orgID); err != nil && err != sql.ErrNoRows {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, email_key = ?, password_hash = ?, name = ?, locale = ?,
			disabled = ?, updated_at = ?, password_set_at = ?, last_sign_in_at = ?,
			is_operator = ?, chosen_lang = ? WHERE id = ?`, u.Email, emailKey(u.Email, u.PasswordHash, orgID), u.PasswordHash, u.Name, u.Locale, boolInt(u.Disabled),
			ts(u.UpdatedAt), ts(u.PasswordSetAt), ts(u.LastSignInAt), boolInt(u.IsOperator), u.ChosenLang, id)
		if db.isUnique(err) {
			return storage.ErrConflict
		}
		return err
	})
}

func scanMembership(row scanner) (storage.Membership, error) {
	var m storage.Membership
	err := row.Scan(membershipDests(&m)...)
	return m, err
}

// membershipDests are the scan destinations of user_id, org_id, roles.
func membershipDests(m *storage.Membership) []any {
	return []any{&m.UserID, &m.OrgID, listOut(&m.Roles)}
}

func (db *DB) GetMembership(ctx context.Context, userID string) (storage.Membership, error) {
	m, err := scanMembership(db.reader().QueryRowContext(ctx, `SELECT user_id, org_id, roles FROM memberships WHERE user_id = ?`, userID))
	return m, notFound(err)
}

// Column lists qualified by their table's alias, for joins.
var (
	userColumnsU = qualify("u", userColumns)
	orgColumnsO  = qualify("o", orgColumns)
)

func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// joinScanner scans the leading columns of a row into pre, the optional
// ones of an outer join into opt and the rest into the destinations its
// caller gives, which are optional too: a NULL leaves them unset.
type joinScanner struct {
	row      scanner
	pre, opt []any
}

func (j joinScanner) Scan(dest ...any) error {
	all := slices.Concat(j.pre, j.opt, dest)
	for i := len(j.pre); i < len(all); i++ {
		all[i] = orNull{all[i]}
	}
	return j.row.Scan(all...)
}

// orNull scans into its destination, or leaves it alone on a NULL.
type orNull struct{ dest any }

func (o orNull) Scan(src any) error {
	if src == nil {
		return nil
	}
	switch d := o.dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *string:
		var v sql.NullString
		err := v.Scan(src)
		*d = v.String
		return err
	case *bool:
		var v sql.NullBool
		err := v.Scan(src)
		*d = v.Bool
		return err
	}
	return fmt.Errorf("sqlstore: cannot scan a nullable %T", o.dest)
}

func (db *DB) GetMembershipOrganization(ctx context.Context, userID string) (storage.Membership, storage.Organization, error) {
	var m storage.Membership
	row := db.reader().QueryRowContext(ctx, `SELECT m.user_id, m.org_id, m.roles, `+orgColumnsO+`
		FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ?`, userID)
	o, err := scanOrg(joinScanner{row: row, pre: membershipDests(&m)})
	return m, o, notFound(err)
}

// A person's row: the user, and their membership and organization when
// they have one (outer joins: NULLs for an operator).
var personColumns = userColumnsU + `, m.user_id, m.org_id, m.roles, ` + orgColumnsO

const personJoins = `LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN organizations o ON o.id = m.org_id`

// scanPerson scans a row of pre's columns followed by personColumns.
func scanPerson(row scanner, p *storage.Person, pre ...any) error {
	var m storage.Membership
	o, err := scanOrg(joinScanner{row: row, pre: append(pre, userDests(&p.User)...), opt: membershipDests(&m)})
	if err == nil && m.OrgID != "" {
		p.Membership, p.Organization = &m, &o
	}
	return err
}

func (db *DB) GetPersonByEmail(ctx context.Context, email string) (storage.Person, error) {
	var p storage.Person
	row := db.reader().QueryRowContext(ctx, `SELECT `+personColumns+` FROM users u `+personJoins+` WHERE u.email_key = ?`,
		storage.NormalizeEmail(email))
	err := scanPerson(row, &p)
	return p, notFound(err)
}

func (db *DB) GetPerson(ctx context.Context, id string) (storage.Person, error) {
	var p storage.Person
	row := db.reader().QueryRowContext(ctx, `SELECT `+personColumns+` FROM users u `+personJoins+` WHERE u.id = ?`, id)
	err := scanPerson(row, &p)
	return p, notFound(err)
}

func (db *DB) ListMemberships(ctx context.Context, orgID string) ([]storage.Membership, error) {
	return queryAll(ctx, db.reader(), scanMembership, `SELECT m.user_id, m.org_id, m.roles FROM memberships m
		JOIN users u ON u.id = m.user_id WHERE m.org_id = ? ORDER BY u.created_at, u.id`, orgID)
}

func (db *DB) SetRoles(ctx context.Context, userID string, roles []string) error {
	if !storage.ValidRoles(roles) {
		return fmt.Errorf("%w: roles %v", storage.ErrInvalid, roles)
	}
	res, err := db.writer().ExecContext(ctx, `UPDATE memberships SET roles = ? WHERE user_id = ?`, list(storage.NormalizeRoles(roles)), userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DeleteUser(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx conn) error {
		if err := deleteTokens(ctx, tx, "user_id = ?", id); err != nil {
			return err
		}
		// Sessions, membership and links go by cascade.
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

func (db *DB) DropInvitations(ctx context.Context, email, keepUserID string) ([]storage.Membership, error) {
	var dropped []storage.Membership
	err := db.tx(ctx, func(tx conn) error {
		var err error
		dropped, err = queryAll(ctx, tx, scanMembership, `SELECT m.user_id, m.org_id, m.roles FROM users u
			JOIN memberships m ON m.user_id = u.id
			WHERE u.email_key = 'invited/' || m.org_id || '/' || ? AND u.id <> ?`, storage.NormalizeEmail(email), keepUserID)
		if err != nil {
			return err
		}
		// Never signed in: no session nor token; the membership and the
		// links go by cascade.
		for _, m := range dropped {
			if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, m.UserID); err != nil {
				return err
			}
		}
		return nil
	})
	return dropped, err
}
