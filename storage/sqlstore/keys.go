package sqlstore

import (
	"context"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const keyColumns = `id, algorithm, private_encrypted, public_jwk, created_at, retired_at, publish_until`

func scanKey(row scanner) (storage.SigningKey, error) {
	var k storage.SigningKey
	err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateEncrypted, &k.Public, tsOut(&k.CreatedAt), tsOut(&k.RetiredAt), tsOut(&k.PublishUntil))
	return k, err
}

func (db *DB) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	return db.insertKey(ctx, db.writer(), k)
}

func (db *DB) insertKey(ctx context.Context, tx execer, k storage.SigningKey) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateEncrypted, k.Public, ts(k.CreatedAt), ts(k.RetiredAt), ts(k.PublishUntil))
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

func (db *DB) ListSigningKeys(ctx context.Context, now time.Time) ([]storage.SigningKey, error) {
	return queryAll(ctx, db.reader(), scanKey, `SELECT `+keyColumns+` FROM signing_keys
		WHERE publish_until IS NULL OR publish_until > ? ORDER BY created_at DESC, id`, now.UnixNano())
}

func (db *DB) RotateSigningKey(ctx context.Context, k storage.SigningKey, now, publishUntil time.Time) error {
	return db.tx(ctx, func(tx conn) error {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, publish_until = ?
			WHERE algorithm = ? AND retired_at IS NULL`, now.UnixNano(), publishUntil.UnixNano(), k.Algorithm); err != nil {
			return err
		}
		return db.insertKey(ctx, tx, k)
	})
}
