package sqlstore

import (
	"context"
	"fmt"

	"github.com/sesame-idp/sesame/storage"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	allow_no_pkce, id_token_signed_alg, created_at, backchannel_logout_uri, grants, scopes, protocol`

func scanClient(row scanner) (storage.Client, error) {
	var c storage.Client
	err := row.Scan(clientDests(&c)...)
	return c, err
}

// clientDests are the scan destinations of clientColumns.
func clientDests(c *storage.Client) []any {
	return []any{&c.ID, &c.Name, &c.SecretHash, &c.Public, listOut(&c.RedirectURIs), listOut(&c.PostLogoutRedirectURIs),
		&c.AllowNoPKCE, &c.IDTokenSignedAlg, tsOut(&c.CreatedAt), &c.BackchannelLogoutURI, listOut(&c.Grants), listOut(&c.Scopes), protocolOut(&c.Protocol)}
}

func (db *DB) CreateClient(ctx context.Context, c storage.Client) error {
	if err := validClient(c); err != nil {
		return err
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.SecretHash, boolInt(c.Public), list(c.RedirectURIs), list(c.PostLogoutRedirectURIs),
		boolInt(c.AllowNoPKCE), c.IDTokenSignedAlg, ts(c.CreatedAt), c.BackchannelLogoutURI, list(c.Grants), list(c.Scopes), protocolIn(c.Protocol))
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	return err
}

func (db *DB) GetClient(ctx context.Context, id string) (storage.Client, error) {
	c, err := scanClient(db.reader().QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	return c, notFound(err)
}

func (db *DB) ListClients(ctx context.Context) ([]storage.Client, error) {
	return queryAll(ctx, db.reader(), scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
}

func (db *DB) ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error {
	res, err := db.writer().ExecContext(ctx, `UPDATE clients SET secret_hash = ? WHERE id = ? AND secret_hash = ?`, newHash, id, oldHash)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return storage.ErrNotFound
	}
	return nil
}

// DeleteClient removes the client, its pending requests (by cascade) and
// every token it holds.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx conn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return deleteTokens(ctx, tx, "client_id = ?", id)
	})
}

// validClient is what storage checks of a client: an id, a creation time,
// and a redirect URI unless its only grant is client_credentials.
func validClient(c storage.Client) error {
	if c.ID == "" || c.CreatedAt.IsZero() {
		return fmt.Errorf("%w: client needs an id", storage.ErrInvalid)
	}
	if len(c.RedirectURIs) == 0 && c.HasGrant(storage.GrantAuthorizationCode) {
		return fmt.Errorf("%w: client needs a redirect URI", storage.ErrInvalid)
	}
	return nil
}

func (db *DB) UpdateClient(ctx context.Context, id string, update func(*storage.Client) error) error {
	return db.tx(ctx, func(tx conn) error {
		c, err := scanClient(tx.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`+db.d.ForUpdate, id))
		if err != nil {
			return notFound(err)
		}
		if err := update(&c); err != nil {
			return err
		}
		c.ID = id
		if err := validClient(c); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE clients SET name = ?, secret_hash = ?, public = ?, redirect_uris = ?,
			post_logout_redirect_uris = ?, allow_no_pkce = ?, id_token_signed_alg = ?, backchannel_logout_uri = ?,
			grants = ?, scopes = ?, protocol = ? WHERE id = ?`,
			c.Name, c.SecretHash, boolInt(c.Public), list(c.RedirectURIs), list(c.PostLogoutRedirectURIs),
			boolInt(c.AllowNoPKCE), c.IDTokenSignedAlg, c.BackchannelLogoutURI, list(c.Grants), list(c.Scopes), protocolIn(c.Protocol), id)
		return err
	})
}
