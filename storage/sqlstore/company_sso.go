package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// Company sign-in: organizations' domains and upstream connections.

const domainColumns = `org_id, name, challenge, created_at, verified_at, checked_at`

func domainDests(d *storage.Domain) []any {
	return []any{&d.OrgID, &d.Name, &d.Challenge, tsOut(&d.CreatedAt), tsOut(&d.VerifiedAt), tsOut(&d.CheckedAt)}
}

func scanDomain(row scanner) (storage.Domain, error) {
	var d storage.Domain
	err := row.Scan(domainDests(&d)...)
	return d, err
}

func (db *DB) CreateDomain(ctx context.Context, d storage.Domain) error {
	if d.OrgID == "" || d.Name == "" || d.Challenge == "" || d.CreatedAt.IsZero() {
		return fmt.Errorf("%w: domain needs an organization, a name, a challenge and a creation time", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO org_domains (`+domainColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		d.OrgID, d.Name, d.Challenge, ts(d.CreatedAt), ts(d.VerifiedAt), ts(d.CheckedAt))
	switch {
	case db.isUnique(err):
		return storage.ErrConflict
	case db.isForeignKey(err):
		return fmt.Errorf("%w: organization %q", storage.ErrNotFound, d.OrgID)
	}
	return err
}

func (db *DB) GetDomain(ctx context.Context, orgID, name string) (storage.Domain, error) {
	d, err := scanDomain(db.reader().QueryRowContext(ctx, `SELECT `+domainColumns+` FROM org_domains
		WHERE org_id = ? AND name = ?`, orgID, name))
	return d, notFound(err)
}

func (db *DB) ListDomains(ctx context.Context, orgID string) ([]storage.Domain, error) {
	return queryAll(ctx, db.reader(), scanDomain, `SELECT `+domainColumns+` FROM org_domains
		WHERE org_id = ? ORDER BY name`, orgID)
}

func (db *DB) SetDomainVerified(ctx context.Context, orgID, name string, verifiedAt, checkedAt time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE org_domains SET verified_at = ?, checked_at = ?
		WHERE org_id = ? AND name = ?`, ts(verifiedAt), ts(checkedAt), orgID, name)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DeleteDomain(ctx context.Context, orgID, name string) error {
	res, err := db.writer().ExecContext(ctx, `DELETE FROM org_domains WHERE org_id = ? AND name = ?`, orgID, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

const ssoColumns = `org_id, issuer, client_id, secret_encrypted, scopes, default_roles, sufficient_acr,
	enforce, break_glass, created_at, updated_at`

func ssoDests(c *storage.SSOConnection) []any {
	return []any{&c.OrgID, &c.Issuer, &c.ClientID, &c.SecretEncrypted, listOut(&c.Scopes), listOut(&c.DefaultRoles),
		listOut(&c.SufficientACR), &c.Enforce, &c.BreakGlass, tsOut(&c.CreatedAt), tsOut(&c.UpdatedAt)}
}

var domainColumnsD = qualify("d", domainColumns)
var ssoColumnsC = qualify("c", ssoColumns)

func (db *DB) GetVerifiedDomain(ctx context.Context, name string) (storage.Domain, *storage.SSOConnection, error) {
	var d storage.Domain
	var c storage.SSOConnection
	var orgID sql.NullString
	dests := domainDests(&d)
	cd := ssoDests(&c)
	dests = append(dests, &orgID)
	rest := make([]any, 0, len(cd)-1)
	for _, x := range cd[1:] {
		rest = append(rest, anyScanner{x})
	}
	err := db.reader().QueryRowContext(ctx, `SELECT `+domainColumnsD+`, `+ssoColumnsC+` FROM org_domains d
		LEFT JOIN sso_connections c ON c.org_id = d.org_id
		WHERE d.name = ? AND d.verified_at IS NOT NULL`, name).Scan(append(dests, rest...)...)
	if err != nil {
		return d, nil, notFound(err)
	}
	if !orgID.Valid {
		return d, nil, nil
	}
	c.OrgID = orgID.String
	return d, &c, nil
}

// anyScanner scans into dest, leaving it untouched on NULL (the LEFT
// JOIN's missing connection).
type anyScanner struct{ dest any }

func (a anyScanner) Scan(v any) error {
	if v == nil {
		return nil
	}
	switch d := a.dest.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *string:
		var s sql.NullString
		if err := s.Scan(v); err != nil {
			return err
		}
		*d = s.String
	case *[]byte:
		switch b := v.(type) {
		case []byte:
			*d = append([]byte(nil), b...)
		case string:
			*d = []byte(b)
		default:
			return fmt.Errorf("sqlstore: %T into bytes", v)
		}
	case *bool:
		var b sql.NullBool
		if err := b.Scan(v); err != nil {
			return err
		}
		*d = b.Bool
	default:
		return fmt.Errorf("sqlstore: cannot scan into %T", a.dest)
	}
	return nil
}

func (db *DB) ListDomainsToRecheck(ctx context.Context, before time.Time, limit int) ([]storage.Domain, error) {
	return queryAll(ctx, db.reader(), scanDomain, `SELECT `+domainColumns+` FROM org_domains
		WHERE verified_at IS NOT NULL AND (checked_at IS NULL OR checked_at < ?)
		ORDER BY checked_at, org_id, name LIMIT ?`, before.UnixNano(), limit)
}

func validSSO(c storage.SSOConnection) error {
	if c.OrgID == "" || c.Issuer == "" || c.ClientID == "" || len(c.SecretEncrypted) == 0 || c.CreatedAt.IsZero() {
		return fmt.Errorf("%w: connection needs an organization, an issuer, a client and a secret", storage.ErrInvalid)
	}
	if !storage.ValidRoles(c.DefaultRoles) {
		return fmt.Errorf("%w: default roles %v", storage.ErrInvalid, c.DefaultRoles)
	}
	return nil
}

func (db *DB) PutSSOConnection(ctx context.Context, c storage.SSOConnection) error {
	if err := validSSO(c); err != nil {
		return err
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	args := []any{c.OrgID, c.Issuer, c.ClientID, c.SecretEncrypted, list(c.Scopes), list(storage.NormalizeRoles(c.DefaultRoles)),
		list(c.SufficientACR), boolInt(c.Enforce), c.BreakGlass, ts(c.CreatedAt), ts(c.UpdatedAt)}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO sso_connections (`+ssoColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id,
		secret_encrypted = excluded.secret_encrypted, scopes = excluded.scopes, default_roles = excluded.default_roles,
		sufficient_acr = excluded.sufficient_acr, enforce = excluded.enforce, break_glass = excluded.break_glass,
		updated_at = excluded.updated_at`, args...)
	if db.isForeignKey(err) {
		return fmt.Errorf("%w: organization %q", storage.ErrNotFound, c.OrgID)
	}
	return err
}

func (db *DB) GetSSOConnection(ctx context.Context, orgID string) (storage.SSOConnection, error) {
	var c storage.SSOConnection
	err := db.reader().QueryRowContext(ctx, `SELECT `+ssoColumns+` FROM sso_connections WHERE org_id = ?`, orgID).Scan(ssoDests(&c)...)
	return c, notFound(err)
}

func (db *DB) DeleteSSOConnection(ctx context.Context, orgID string) error {
	res, err := db.writer().ExecContext(ctx, `DELETE FROM sso_connections WHERE org_id = ?`, orgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) AnySSOConnection(ctx context.Context) (bool, error) {
	var n int
	err := db.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM sso_connections LIMIT 1) x`).Scan(&n)
	return n > 0, err
}
