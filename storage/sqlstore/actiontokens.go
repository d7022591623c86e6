package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func (db *DB) CreateActionToken(ctx context.Context, t storage.ActionToken) error {
	if t.Hash == "" || t.UserID == "" || t.ExpiresAt.IsZero() || t.CreatedAt.IsZero() {
		return fmt.Errorf("%w: action token needs a hash, a user and times", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO action_tokens (hash, user_id, purpose, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.Hash, t.UserID, t.Purpose, ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.UsedAt))
	switch {
	case db.isUnique(err):
		return storage.ErrConflict
	case db.isForeignKey(err):
		return fmt.Errorf("%w: user %q", storage.ErrNotFound, t.UserID)
	case err != nil && db.isCheck(err):
		return fmt.Errorf("%w: purpose %q", storage.ErrInvalid, t.Purpose)
	}
	return err
}

func scanActionToken(row scanner) (storage.ActionToken, error) {
	var t storage.ActionToken
	err := row.Scan(&t.Hash, &t.UserID, &t.Purpose, tsOut(&t.CreatedAt), tsOut(&t.ExpiresAt), tsOut(&t.UsedAt))
	return t, err
}

func (db *DB) GetActionToken(ctx context.Context, hash string) (storage.ActionToken, error) {
	t, err := scanActionToken(db.reader().QueryRowContext(ctx, `SELECT hash, user_id, purpose, created_at, expires_at, used_at
		FROM action_tokens WHERE hash = ?`, hash))
	return t, notFound(err)
}

func (db *DB) ConsumeActionToken(ctx context.Context, hash string, now time.Time) (storage.ActionToken, error) {
	var t storage.ActionToken
	err := db.tx(ctx, func(tx conn) error {
		var err error
		t, err = scanActionToken(tx.QueryRowContext(ctx, `SELECT hash, user_id, purpose, created_at, expires_at, used_at
			FROM action_tokens WHERE hash = ?`+db.d.ForUpdate, hash))
		if err != nil {
			return notFound(err)
		}
		if !t.UsedAt.IsZero() {
			return storage.ErrAlreadyUsed
		}
		if !now.Before(t.ExpiresAt) {
			return storage.ErrNotFound
		}
		t.UsedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE action_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`, now.UnixNano(), hash)
		return err
	})
	return t, err
}

func (db *DB) VoidActionTokens(ctx context.Context, userID string, now time.Time) error {
	_, err := db.writer().ExecContext(ctx, `UPDATE action_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL`,
		now.UnixNano(), userID)
	return err
}
