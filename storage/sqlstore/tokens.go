package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const accessColumns = `id, grant_id, client_id, user_id, session_id, scopes, audience, auth_time, amr, created_at, expires_at, jkt`
const refreshColumns = `id, hash, grant_id, client_id, user_id, session_id, scopes, audience, auth_time, amr, created_at, expires_at, used_at, jkt, idp, acr`

func scanAccess(row scanner) (storage.AccessToken, error) {
	var a storage.AccessToken
	err := row.Scan(&a.ID, &a.GrantID, &a.ClientID, &a.UserID, &a.SessionID, listOut(&a.Scopes), listOut(&a.Audience),
		tsOut(&a.AuthTime), listOut(&a.AMR), tsOut(&a.CreatedAt), tsOut(&a.ExpiresAt), &a.JKT)
	return a, err
}

func scanRefresh(row scanner) (storage.RefreshToken, error) {
	var r storage.RefreshToken
	err := row.Scan(refreshDests(&r)...)
	return r, err
}

// refreshDests are the scan destinations of refreshColumns.
func refreshDests(r *storage.RefreshToken) []any {
	return []any{&r.ID, &r.Hash, &r.GrantID, &r.ClientID, &r.UserID, &r.SessionID, listOut(&r.Scopes), listOut(&r.Audience),
		tsOut(&r.AuthTime), listOut(&r.AMR), tsOut(&r.CreatedAt), tsOut(&r.ExpiresAt), tsOut(&r.UsedAt), &r.JKT, &r.IDP, &r.ACR}
}

type execer interface { // a pool or a transaction
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (db *DB) insertAccess(ctx context.Context, tx execer, a storage.AccessToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (`+accessColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.GrantID, a.ClientID, a.UserID, a.SessionID, list(a.Scopes), list(a.Audience), ts(a.AuthTime), list(a.AMR),
		ts(a.CreatedAt), ts(a.ExpiresAt), a.JKT)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

func (db *DB) insertRefresh(ctx context.Context, tx execer, r storage.RefreshToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (`+refreshColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Hash, r.GrantID, r.ClientID, r.UserID, r.SessionID, list(r.Scopes), list(r.Audience), ts(r.AuthTime),
		list(r.AMR), ts(r.CreatedAt), ts(r.ExpiresAt), ts(r.UsedAt), r.JKT, r.IDP, r.ACR)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

func (db *DB) CreateTokens(ctx context.Context, a storage.AccessToken, r *storage.RefreshToken) error {
	if r == nil {
		return db.insertAccess(ctx, db.writer(), a)
	}
	return db.tx(ctx, func(tx conn) error {
		if err := db.insertAccess(ctx, tx, a); err != nil {
			return err
		}
		return db.insertRefresh(ctx, tx, *r)
	})
}

func (db *DB) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	a, err := scanAccess(db.reader().QueryRowContext(ctx, `SELECT `+accessColumns+` FROM access_tokens WHERE id = ?`, id))
	return a, notFound(err)
}

func (db *DB) GetRefreshToken(ctx context.Context, hash string) (storage.RefreshToken, error) {
	r, err := scanRefresh(db.reader().QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE hash = ?`, hash))
	return r, notFound(err)
}

var (
	refreshColumnsX = qualify("x", refreshColumns)
	clientColumnsC  = qualify("c", clientColumns)
)

func (db *DB) GetRefreshGrant(ctx context.Context, hash string) (storage.RefreshGrant, error) {
	var g storage.RefreshGrant
	err := db.getGrant(ctx, refreshColumnsX, "refresh_tokens", "hash", hash, &g.Client, &g.Person, refreshDests(&g.Token))
	return g, err
}

// getGrant reads, in one query, the row of table (aliased x) whose
// keyColumn is key, into itemDests, with the client and the person its
// client_id and user_id name.
func (db *DB) getGrant(ctx context.Context, itemColumns, table, keyColumn, key string,
	c *storage.Client, p *storage.Person, itemDests []any) error {
	row := db.reader().QueryRowContext(ctx, `SELECT `+itemColumns+`, `+clientColumnsC+`, `+personColumns+`
		FROM `+table+` x JOIN clients c ON c.id = x.client_id JOIN users u ON u.id = x.user_id `+personJoins+`
		WHERE x.`+keyColumn+` = ?`, key)
	return notFound(scanPerson(row, p, slices.Concat(itemDests, clientDests(c))...))
}

func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, a storage.AccessToken, r storage.RefreshToken) error {
	var reused string
	err := db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`, now.UnixNano(), oldHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var grant string
			err := tx.QueryRowContext(ctx, `SELECT grant_id FROM refresh_tokens WHERE hash = ?`, oldHash).Scan(&grant)
			if err != nil {
				return notFound(err)
			}
			reused = grant
			return storage.ErrAlreadyUsed
		}
		if err := db.insertAccess(ctx, tx, a); err != nil {
			return err
		}
		return db.insertRefresh(ctx, tx, r)
	})
	if reused != "" {
		// The revocation commits on its own: the rotation was rolled back.
		if rerr := db.RevokeGrant(ctx, reused); rerr != nil {
			return rerr
		}
	}
	return err
}

func (db *DB) RevokeGrant(ctx context.Context, grantID string) error {
	return db.tx(ctx, func(tx conn) error { return deleteTokens(ctx, tx, "grant_id = ?", grantID) })
}

// deleteTokens deletes, inside tx, the access and refresh tokens where
// selects (a condition on columns both tables have). The refresh tokens go
// first and again last. On PostgreSQL (READ COMMITTED) a refresh that has
// marked a matched token used holds its row until it commits; the first
// delete waits for it, but the next tokens that refresh inserted are
// visible only to the statements after that delete, so the access delete
// and the second refresh delete take them. A refresh that comes later
// waits for this transaction and finds its token gone. With SQLite's one
// writer the second delete finds nothing.
func deleteTokens(ctx context.Context, tx conn, where string, args ...any) error {
	for _, table := range []string{"refresh_tokens", "access_tokens", "refresh_tokens"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, args...); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) RevokeAccessToken(ctx context.Context, id string) error {
	_, err := db.writer().ExecContext(ctx, `DELETE FROM access_tokens WHERE id = ?`, id)
	return err
}

func (db *DB) RevokeRefreshToken(ctx context.Context, hash string) error {
	return db.tx(ctx, func(tx conn) error {
		var grant string
		if err := tx.QueryRowContext(ctx, `SELECT grant_id FROM refresh_tokens WHERE hash = ?`, hash).Scan(&grant); err != nil {
			return notFound(err)
		}
		return deleteTokens(ctx, tx, "grant_id = ?", grant)
	})
}

func (db *DB) RevokeSessionTokens(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	return db.tx(ctx, func(tx conn) error { return deleteTokens(ctx, tx, "session_id = ?", sessionID) })
}
