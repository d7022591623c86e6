package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const authRequestColumns = `id, client_id, redirect_uri, state, nonce, scopes, response_type, response_mode,
	code_challenge, code_challenge_method, prompt, max_age, login_hint, ui_locales, acr_values, hint_user_id,
	created_at, expires_at, user_id, session_id, auth_time, amr, done, error, code_hash, code_expiry, consumed_at, idp`

func scanAuthRequest(row scanner) (storage.AuthRequest, error) {
	var r storage.AuthRequest
	err := row.Scan(authRequestDests(&r)...)
	return r, err
}

// authRequestDests are the scan destinations of authRequestColumns.
func authRequestDests(r *storage.AuthRequest) []any {
	return []any{&r.ID, &r.ClientID, &r.RedirectURI, &r.State, &r.Nonce, listOut(&r.Scopes), &r.ResponseType,
		&r.ResponseMode, &r.CodeChallenge, &r.CodeChallengeMethod, listOut(&r.Prompt), maxAgeOut{&r.MaxAge}, &r.LoginHint,
		listOut(&r.UILocales), listOut(&r.ACRValues), &r.HintUserID, tsOut(&r.CreatedAt), tsOut(&r.ExpiresAt),
		&r.UserID, &r.SessionID, tsOut(&r.AuthTime), listOut(&r.AMR), &r.Done, &r.Error, strOut{&r.CodeHash},
		tsOut(&r.CodeExpiry), tsOut(&r.ConsumedAt), &r.IDP}
}

// maxAgeOut scans max_age: NULL is no maximum (nil).
type maxAgeOut struct{ p **uint }

func (o maxAgeOut) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*o.p = nil
	if n.Valid {
		v := uint(n.Int64)
		*o.p = &v
	}
	return nil
}

func authRequestArgs(r storage.AuthRequest) []any {
	var maxAge any
	if r.MaxAge != nil {
		maxAge = int64(*r.MaxAge)
	}
	return []any{r.ID, r.ClientID, r.RedirectURI, r.State, r.Nonce, list(r.Scopes), r.ResponseType, r.ResponseMode,
		r.CodeChallenge, r.CodeChallengeMethod, list(r.Prompt), maxAge, r.LoginHint, list(r.UILocales),
		list(r.ACRValues), r.HintUserID, ts(r.CreatedAt), ts(r.ExpiresAt), r.UserID, r.SessionID, ts(r.AuthTime),
		list(r.AMR), boolInt(r.Done), r.Error, nullString(r.CodeHash), ts(r.CodeExpiry), ts(r.ConsumedAt), r.IDP}
}

func (db *DB) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	if r.ID == "" || r.ClientID == "" || r.CreatedAt.IsZero() || r.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: auth request needs an id, a client and an expiry", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO auth_requests (`+authRequestColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, authRequestArgs(r)...)
	switch {
	case db.isUnique(err):
		return storage.ErrConflict
	case db.isForeignKey(err):
		return fmt.Errorf("%w: client %q", storage.ErrNotFound, r.ClientID)
	}
	return err
}

func (db *DB) GetAuthRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	r, err := scanAuthRequest(db.reader().QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests WHERE id = ?`, id))
	return r, notFound(err)
}

func (db *DB) GetAuthRequestByCode(ctx context.Context, codeHash string) (storage.AuthRequest, error) {
	r, err := scanAuthRequest(db.reader().QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests WHERE code_hash = ?`, codeHash))
	return r, notFound(err)
}

var authRequestColumnsX = qualify("x", authRequestColumns)

func (db *DB) GetCodeGrant(ctx context.Context, codeHash string) (storage.CodeGrant, error) {
	var g storage.CodeGrant
	err := db.getGrant(ctx, authRequestColumnsX, "auth_requests", "code_hash", codeHash, &g.Client, &g.Person, authRequestDests(&g.Request))
	return g, err
}

func (db *DB) UpdateAuthRequest(ctx context.Context, id string, update func(*storage.AuthRequest) error) error {
	return db.tx(ctx, func(tx conn) error {
		r, err := scanAuthRequest(tx.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM auth_requests WHERE id = ?`+db.d.ForUpdate, id))
		if err != nil {
			return notFound(err)
		}
		if err := update(&r); err != nil {
			return err
		}
		r.ID = id
		args := authRequestArgs(r)
		_, err = tx.ExecContext(ctx, `UPDATE auth_requests SET client_id = ?, redirect_uri = ?, state = ?, nonce = ?,
			scopes = ?, response_type = ?, response_mode = ?, code_challenge = ?, code_challenge_method = ?, prompt = ?,
			max_age = ?, login_hint = ?, ui_locales = ?, acr_values = ?, hint_user_id = ?, created_at = ?, expires_at = ?,
			user_id = ?, session_id = ?, auth_time = ?, amr = ?, done = ?, error = ?, code_hash = ?, code_expiry = ?,
			consumed_at = ?, idp = ? WHERE id = ?`, append(args[1:], id)...)
		if db.isUnique(err) {
			return storage.ErrConflict
		}
		return err
	})
}

// AnswerAuthRequest is one conditional UPDATE that returns the row: the
// read-modify-write of UpdateAuthRequest read the whole request first.
func (db *DB) AnswerAuthRequest(ctx context.Context, id string, s storage.Session, now time.Time) (storage.AuthRequest, error) {
	var r storage.AuthRequest
	err := db.writeRow(ctx, func(row *sql.Row) (err error) { r, err = scanAuthRequest(row); return notFound(err) },
		`UPDATE auth_requests SET user_id = ?, session_id = ?, auth_time = ?, amr = ?, idp = ?, done = 1
		WHERE id = ? AND done = 0 AND expires_at > ? RETURNING `+authRequestColumns,
		s.UserID, s.ID, ts(s.AuthTime), list(s.AMR), s.IDP, id, now.UnixNano())
	return r, err
}

func (db *DB) SetCode(ctx context.Context, id, codeHash string, expiry time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE auth_requests SET code_hash = ?, code_expiry = ?
		WHERE id = ? AND done = 1 AND error = '' AND code_hash IS NULL`, codeHash, expiry.UnixNano(), id)
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return storage.ErrNotFound
	}
	return nil
}

// ConsumeCode is one conditional UPDATE, atomic on its own; only when it
// changes nothing does a read tell why (a code, once set and consumed,
// stays so, so that read needs no transaction with the update).
func (db *DB) ConsumeCode(ctx context.Context, id string, now time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE auth_requests SET consumed_at = ?
		WHERE id = ? AND code_hash IS NOT NULL AND consumed_at IS NULL`, now.UnixNano(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var n int
	if err := db.reader().QueryRowContext(ctx, `SELECT count(*) FROM auth_requests WHERE id = ? AND code_hash IS NOT NULL`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrAlreadyUsed
}

func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := db.writer().ExecContext(ctx, `DELETE FROM auth_requests WHERE id = ?`, id)
	return err
}
