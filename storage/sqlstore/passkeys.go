package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const passkeyColumns = `id, user_id, name, public_key, sign_count, transports, backup_eligible, backed_up,
	aaguid, attestation_type, created_at, last_used_at`

func scanPasskey(row scanner) (storage.Passkey, error) {
	var p storage.Passkey
	var count int64
	err := row.Scan(&p.ID, &p.UserID, &p.Name, &p.PublicKey, &count, listOut(&p.Transports), &p.BackupEligible,
		&p.BackedUp, &p.AAGUID, &p.AttestationType, tsOut(&p.CreatedAt), tsOut(&p.LastUsedAt))
	p.SignCount = uint32(count)
	return p, err
}

func (db *DB) CreatePasskey(ctx context.Context, p storage.Passkey, max int) error {
	if p.ID == "" || p.UserID == "" || len(p.PublicKey) == 0 || p.CreatedAt.IsZero() {
		return fmt.Errorf("%w: a passkey needs an id, a person, a public key and a time", storage.ErrInvalid)
	}
	var aaguid any
	if len(p.AAGUID) > 0 {
		aaguid = p.AAGUID
	}
	// The person's row is locked first, then counted and inserted in one
	// statement: on PostgreSQL (read committed) two adds that only counted
	// would both see room; locked, the second counts after the first commits.
	return db.tx(ctx, func(tx conn) error {
		var got string
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = ?`+db.d.ForUpdate, p.UserID).Scan(&got)
		if err != nil {
			if errors.Is(notFound(err), storage.ErrNotFound) {
				return fmt.Errorf("%w: user %q", storage.ErrNotFound, p.UserID)
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO passkeys (`+passkeyColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM passkeys WHERE user_id = ?) < ?`,
			p.ID, p.UserID, p.Name, p.PublicKey, int64(p.SignCount), list(p.Transports), boolInt(p.BackupEligible),
			boolInt(p.BackedUp), aaguid, p.AttestationType, ts(p.CreatedAt), ts(p.LastUsedAt), p.UserID, max)
		switch {
		case db.isUnique(err):
			return fmt.Errorf("%w: passkey %q", storage.ErrConflict, p.ID)
		case db.isForeignKey(err):
			return fmt.Errorf("%w: user %q", storage.ErrNotFound, p.UserID)
		case err != nil:
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrTooManyPasskeys
		}
		return nil
	})
}

func (db *DB) GetPasskey(ctx context.Context, id string) (storage.Passkey, error) {
	p, err := scanPasskey(db.reader().QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ?`, id))
	return p, notFound(err)
}

func (db *DB) ListPasskeys(ctx context.Context, userID string) ([]storage.Passkey, error) {
	return queryAll(ctx, db.reader(), scanPasskey, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ?
		ORDER BY created_at, id`, userID)
}

func (db *DB) RecordPasskeyUse(ctx context.Context, id string, signCount uint32, backedUp bool, at time.Time) error {
	return db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `UPDATE passkeys SET sign_count = ?, backed_up = ?, last_used_at = ?
			WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
			int64(signCount), boolInt(backedUp), ts(at), id, int64(signCount), int64(signCount))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM passkeys WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		return storage.ErrAlreadyUsed
	})
}

func (db *DB) RenamePasskey(ctx context.Context, userID, id, name string) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE passkeys SET name = ? WHERE user_id = ? AND id = ?`, name, userID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DeletePasskey(ctx context.Context, userID, id string) error {
	res, err := db.writer().ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = ? AND id = ?`, userID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (db *DB) DeletePasskeys(ctx context.Context, userID string) (int, error) {
	res, err := db.writer().ExecContext(ctx, `DELETE FROM passkeys WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (db *DB) UsePasskeyChallenge(ctx context.Context, hash string, expires, now time.Time) error {
	return db.tx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM passkey_challenges WHERE expires_at < ?`, now.UnixNano()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO passkey_challenges (hash, expires_at) VALUES (?, ?)
			ON CONFLICT (hash) DO NOTHING`, hash, expires.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrAlreadyUsed
		}
		return nil
	})
}
