package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/sesame-idp/sesame/storage"
)

// likePattern makes a LIKE pattern finding s anywhere, its own % and _
// taken literally (escaped with !).
func likePattern(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

func (db *DB) ListOrganizationsPage(ctx context.Context, q storage.OrgQuery) ([]storage.Organization, error) {
	var where []string
	var args []any
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	if q.NotStatus != "" {
		where, args = append(where, "status <> ?"), append(args, q.NotStatus)
	}
	if q.SIRET != "" {
		where, args = append(where, "siret = ?"), append(args, q.SIRET)
	}
	if q.Q != "" {
		p := likePattern(q.Q)
		where, args = append(where, "(lower(name) LIKE ? ESCAPE '!' OR lower(legal_name) LIKE ? ESCAPE '!')"), append(args, p, p)
	}
	if !q.AfterCreated.IsZero() {
		where = append(where, "(created_at > ? OR (created_at = ? AND id > ?))")
		n := q.AfterCreated.UnixNano()
		args = append(args, n, n, q.AfterID)
	}
	query := `SELECT ` + orgColumns + ` FROM organizations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	query += ` ORDER BY created_at, id LIMIT ?`
	args = append(args, limit)
	return queryAll(ctx, db.reader(), scanOrg, query, args...)
}

func (db *DB) OrganizationSummaries(ctx context.Context, ids []string) (map[string]storage.OrgSummary, error) {
	out := map[string]storage.OrgSummary{}
	if len(ids) == 0 {
		return out, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	r := db.reader()
	rows, err := r.QueryContext(ctx, `SELECT org_id, count(*) FROM memberships WHERE org_id IN (`+in+`) GROUP BY org_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = storage.OrgSummary{Members: n}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Roles are a JSON list of known names (SetRoles refuses others), so
	// the quoted name matches exactly.
	admins, err := r.QueryContext(ctx, `SELECT m.org_id, u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id IN (`+in+`) AND m.roles LIKE '%"`+storage.RoleAdmin+`"%' ORDER BY m.org_id, u.created_at, u.id`, args...)
	if err != nil {
		return nil, err
	}
	defer admins.Close()
	for admins.Next() {
		var id, email string
		if err := admins.Scan(&id, &email); err != nil {
			return nil, err
		}
		if s := out[id]; s.Founder == "" {
			s.Founder = email
			out[id] = s
		}
	}
	return out, admins.Err()
}

func (db *DB) BeginIdempotent(ctx context.Context, r storage.IdempotentRequest) (storage.IdempotentRequest, bool, error) {
	if r.ClientID == "" || r.Key == "" || r.CreatedAt.IsZero() {
		return r, false, errors.Join(storage.ErrInvalid, errors.New("idempotent request needs a client, a key and a time"))
	}
	var out storage.IdempotentRequest
	began := false
	err := db.tx(ctx, func(tx conn) error {
		var body []byte
		err := tx.QueryRowContext(ctx, `SELECT request_hash, status, body, created_at, expires_at FROM api_idempotency
			WHERE client_id = ? AND key = ?`+db.d.ForUpdate, r.ClientID, r.Key).
			Scan(&out.RequestHash, &out.Status, &body, tsOut(&out.CreatedAt), tsOut(&out.ExpiresAt))
		switch {
		case err == nil && r.CreatedAt.Before(out.ExpiresAt):
			out.ClientID, out.Key, out.Body = r.ClientID, r.Key, body
			return nil
		case err == nil:
			if _, err := tx.ExecContext(ctx, `DELETE FROM api_idempotency WHERE client_id = ? AND key = ?`, r.ClientID, r.Key); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_idempotency (client_id, key, request_hash, status, created_at, expires_at)
			VALUES (?, ?, ?, 0, ?, ?)`, r.ClientID, r.Key, r.RequestHash, ts(r.CreatedAt), ts(r.ExpiresAt))
		if db.isUnique(err) {
			return storage.ErrConflict // another request with this key began meanwhile
		}
		began, out = err == nil, r
		return err
	})
	return out, began, err
}

func (db *DB) FinishIdempotent(ctx context.Context, clientID, key string, status int, body []byte) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE api_idempotency SET status = ?, body = ? WHERE client_id = ? AND key = ?`,
		status, body, clientID, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DropIdempotent(ctx context.Context, clientID, key string) error {
	_, err := db.writer().ExecContext(ctx, `DELETE FROM api_idempotency WHERE client_id = ? AND key = ?`, clientID, key)
	return err
}
