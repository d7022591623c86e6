package sqlstore

import (
	"context"
	"fmt"

	"github.com/sesame-idp/sesame/storage"
)

const consentColumns = `user_id, client_id, scopes, granted_at, updated_at`

func scanConsent(row scanner) (storage.Consent, error) {
	var c storage.Consent
	err := row.Scan(&c.UserID, &c.ClientID, listOut(&c.Scopes), tsOut(&c.GrantedAt), tsOut(&c.UpdatedAt))
	return c, err
}

func (db *DB) GetConsent(ctx context.Context, userID, clientID string) (storage.Consent, error) {
	c, err := scanConsent(db.reader().QueryRowContext(ctx, `SELECT `+consentColumns+` FROM consents
		WHERE user_id = ? AND client_id = ?`, userID, clientID))
	return c, notFound(err)
}

func (db *DB) SaveConsent(ctx context.Context, c storage.Consent) error {
	if c.UserID == "" || c.ClientID == "" || c.UpdatedAt.IsZero() {
		return fmt.Errorf("%w: a consent needs a person, a client and a time", storage.ErrInvalid)
	}
	if c.GrantedAt.IsZero() {
		c.GrantedAt = c.UpdatedAt
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, list(c.Scopes), ts(c.GrantedAt), ts(c.UpdatedAt))
	if db.isForeignKey(err) {
		return fmt.Errorf("%w: person %q or client %q", storage.ErrNotFound, c.UserID, c.ClientID)
	}
	return err
}

func (db *DB) ListConsents(ctx context.Context, userID string) ([]storage.Consent, error) {
	return queryAll(ctx, db.reader(), func(row scanner) (storage.Consent, error) {
		var c storage.Consent
		err := row.Scan(&c.UserID, &c.ClientID, listOut(&c.Scopes), tsOut(&c.GrantedAt), tsOut(&c.UpdatedAt), &c.ClientName)
		return c, err
	}, `SELECT `+qualify("x", consentColumns)+`, c.name FROM consents x JOIN clients c ON c.id = x.client_id
		WHERE x.user_id = ? ORDER BY c.name, c.id`, userID)
}

func (db *DB) RevokeConsent(ctx context.Context, userID, clientID string) error {
	return db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		if err := deleteTokens(ctx, tx, "user_id = ? AND client_id = ?", userID, clientID); err != nil {
			return err
		}
		// A code issued but not exchanged yet would bring tokens back.
		_, err = tx.ExecContext(ctx, `DELETE FROM auth_requests WHERE user_id = ? AND client_id = ? AND code_hash IS NOT NULL AND consumed_at IS NULL`,
			userID, clientID)
		return err
	})
}
