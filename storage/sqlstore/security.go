package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func (db *DB) PutTOTP(ctx context.Context, t storage.TOTP) error {
	if t.UserID == "" || len(t.SecretEncrypted) == 0 || t.CreatedAt.IsZero() {
		return fmt.Errorf("%w: TOTP needs a user, a secret and a time", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO totp_credentials (user_id, secret_encrypted, created_at, confirmed_at, last_step)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = excluded.secret_encrypted,
		created_at = excluded.created_at, confirmed_at = excluded.confirmed_at, last_step = excluded.last_step`,
		t.UserID, t.SecretEncrypted, ts(t.CreatedAt), ts(t.ConfirmedAt), t.LastStep)
	if db.isForeignKey(err) {
		return fmt.Errorf("%w: user %q", storage.ErrNotFound, t.UserID)
	}
	return err
}

func (db *DB) GetTOTP(ctx context.Context, userID string) (storage.TOTP, error) {
	var t storage.TOTP
	err := db.reader().QueryRowContext(ctx, `SELECT user_id, secret_encrypted, created_at, confirmed_at, last_step
		FROM totp_credentials WHERE user_id = ?`, userID).Scan(&t.UserID, &t.SecretEncrypted, tsOut(&t.CreatedAt), tsOut(&t.ConfirmedAt), &t.LastStep)
	return t, notFound(err)
}

func (db *DB) ConfirmTOTP(ctx context.Context, userID string, step int64, now time.Time, hashes []string) error {
	return db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_credentials SET confirmed_at = ?, last_step = ? WHERE user_id = ?`, now.UnixNano(), step, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE totp_credentials SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrAlreadyUsed
	}
	return nil
}

func (db *DB) DeleteTOTP(ctx context.Context, userID string) error {
	return db.tx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM totp_credentials WHERE user_id = ?`, userID)
		return err
	})
}

func (db *DB) UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error {
	return db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`, now.UnixNano(), userID, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		return storage.ErrAlreadyUsed
	})
}

func (db *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.reader().QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, err
}

func (db *DB) GetLoginFailures(ctx context.Context, key string) (storage.LoginFailures, error) {
	f := storage.LoginFailures{Key: key}
	err := db.reader().QueryRowContext(ctx, `SELECT failures, locked_until FROM login_failures WHERE key = ?`, key).
		Scan(&f.Failures, tsOut(&f.LockedUntil))
	if err == sql.ErrNoRows {
		return f, nil
	}
	return f, err
}

func (db *DB) RecordLoginFailure(ctx context.Context, key string, now time.Time, lockFor func(int) time.Duration) (storage.LoginFailures, error) {
	f := storage.LoginFailures{Key: key}
	err := db.tx(ctx, func(tx conn) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (key, failures, updated_at) VALUES (?, 1, ?)
			ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + 1, updated_at = excluded.updated_at
			RETURNING failures`, key, now.UnixNano()).Scan(&f.Failures); err != nil {
			return err
		}
		if d := lockFor(f.Failures); d > 0 {
			f.LockedUntil = now.Add(d)
			_, err := tx.ExecContext(ctx, `UPDATE login_failures SET locked_until = ? WHERE key = ?`, f.LockedUntil.UnixNano(), key)
			return err
		}
		return nil
	})
	return f, err
}

func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := db.writer().ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}

const noticeColumns = `id, client_id, uri, token, created_at, attempts, next_attempt_at, sent_at, last_error`

func (db *DB) EnqueueLogoutNotice(ctx context.Context, n storage.LogoutNotice) error {
	if n.ID == "" || n.URI == "" || n.CreatedAt.IsZero() {
		return fmt.Errorf("%w: logout notice needs an id, a URI and a time", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO logout_notices (`+noticeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.ClientID, n.URI, n.Token, ts(n.CreatedAt), n.Attempts, int64(0), ts(n.SentAt), n.LastError)
	return err
}

func scanNotice(row scanner) (storage.LogoutNotice, error) {
	var n storage.LogoutNotice
	err := row.Scan(&n.ID, &n.ClientID, &n.URI, &n.Token, tsOut(&n.CreatedAt), &n.Attempts, tsOut(&n.NextAttemptAt),
		tsOut(&n.SentAt), &n.LastError)
	return n, err
}

func (db *DB) ClaimLogoutNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.LogoutNotice, error) {
	return claimDue(ctx, db, "logout_notices", noticeColumns, scanNotice, now, lease, limit, func(n *storage.LogoutNotice) (*int, *time.Time, string) {
		return &n.Attempts, &n.NextAttemptAt, n.ID
	})
}

func (db *DB) MarkLogoutNoticeSent(ctx context.Context, id string, now time.Time) error {
	_, err := db.writer().ExecContext(ctx, `UPDATE logout_notices SET sent_at = ?, last_error = '' WHERE id = ?`, now.UnixNano(), id)
	return err
}

func (db *DB) MarkLogoutNoticeFailed(ctx context.Context, id, reason string, next time.Time) error {
	_, err := db.writer().ExecContext(ctx, `UPDATE logout_notices SET last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL`,
		reason, next.UnixNano(), id)
	return err
}
