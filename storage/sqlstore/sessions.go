package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const sessionColumns = `id, hash, user_id, auth_time, amr, created_at, last_seen, idle_expires_at,
	absolute_expires_at, user_agent, ip, idp`

func scanSession(row scanner) (storage.Session, error) {
	var s storage.Session
	err := row.Scan(&s.ID, &s.Hash, &s.UserID, tsOut(&s.AuthTime), listOut(&s.AMR), tsOut(&s.CreatedAt), tsOut(&s.LastSeen),
		tsOut(&s.IdleExpiresAt), tsOut(&s.AbsoluteExpiresAt), &s.UserAgent, &s.IP, &s.IDP)
	return s, err
}

func (db *DB) CreateSession(ctx context.Context, s storage.Session) error {
	if s.ID == "" || s.Hash == "" || s.UserID == "" || s.CreatedAt.IsZero() {
		return fmt.Errorf("%w: session needs an id, a hash and a user", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Hash, s.UserID, ts(s.AuthTime), list(s.AMR), ts(s.CreatedAt), ts(s.LastSeen), ts(s.IdleExpiresAt),
		ts(s.AbsoluteExpiresAt), s.UserAgent, s.IP, s.IDP)
	switch {
	case db.isUnique(err):
		return storage.ErrConflict
	case db.isForeignKey(err):
		return fmt.Errorf("%w: user %q", storage.ErrNotFound, s.UserID)
	}
	return err
}

func (db *DB) GetSession(ctx context.Context, hash string, now time.Time) (storage.Session, error) {
	n := now.UnixNano()
	s, err := scanSession(db.reader().QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE hash = ? AND idle_expires_at > ? AND absolute_expires_at > ?`, hash, n, n))
	return s, notFound(err)
}

func (db *DB) GetSessionByID(ctx context.Context, id string) (storage.Session, error) {
	s, err := scanSession(db.reader().QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	return s, notFound(err)
}

func (db *DB) TouchSession(ctx context.Context, id string, lastSeen, idleExpiresAt time.Time) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE sessions SET last_seen = ?, idle_expires_at = ? WHERE id = ?`,
		ts(lastSeen), ts(idleExpiresAt), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.writer().ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

func (db *DB) ListUserSessions(ctx context.Context, userID string, now time.Time) ([]storage.Session, error) {
	n := now.UnixNano()
	return db.querySessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND idle_expires_at > ? AND absolute_expires_at > ? ORDER BY last_seen DESC`, userID, n, n)
}

// querySessions runs a select of sessionColumns.
func (db *DB) querySessions(ctx context.Context, q string, args ...any) ([]storage.Session, error) {
	return queryAll(ctx, db.reader(), scanSession, q, args...)
}

func (db *DB) ListSessionClients(ctx context.Context, sessionID string) ([]string, error) {
	return queryAll(ctx, db.reader(), scanString, `SELECT client_id FROM access_tokens WHERE session_id = ?
		UNION SELECT client_id FROM refresh_tokens WHERE session_id = ?
		UNION SELECT client_id FROM auth_requests WHERE session_id = ? AND code_hash IS NOT NULL
		ORDER BY 1`, sessionID, sessionID, sessionID)
}

func (db *DB) ListExpiredSessions(ctx context.Context, now time.Time, limit int) ([]storage.Session, error) {
	n := now.UnixNano()
	return db.querySessions(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE idle_expires_at <= ? OR absolute_expires_at <= ? ORDER BY idle_expires_at LIMIT ?`, n, n, limit)
}

func scanString(row scanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}
