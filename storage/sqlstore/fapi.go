package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// protocolIn encodes a client's protocol options as JSON ("{}" for none).
func protocolIn(p storage.ClientProtocol) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// protocolOut scans clients.protocol into p.
func protocolOut(p *storage.ClientProtocol) jsonProtocol { return jsonProtocol{p} }

type jsonProtocol struct{ p *storage.ClientProtocol }

func (j jsonProtocol) Scan(src any) error {
	*j.p = storage.ClientProtocol{}
	var b []byte
	switch x := src.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		return nil
	default:
		return fmt.Errorf("sqlstore: protocol: unexpected %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, j.p)
}

func (db *DB) CreatePushedRequest(ctx context.Context, p storage.PushedRequest) error {
	if p.Hash == "" || p.ClientID == "" || p.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: a pushed request needs a hash, a client and an expiry", storage.ErrInvalid)
	}
	_, err := db.writer().ExecContext(ctx, `INSERT INTO pushed_requests (hash, client_id, params, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		p.Hash, p.ClientID, p.Params, ts(p.CreatedAt), ts(p.ExpiresAt))
	if db.isUnique(err) {
		return storage.ErrConflict
	}
	if db.isForeignKey(err) {
		return storage.ErrNotFound
	}
	return err
}

// TakePushedRequest deletes the row and returns it in one statement, so
// that two concurrent uses of one request_uri cannot both get it.
func (db *DB) TakePushedRequest(ctx context.Context, clientID, hash string, now time.Time) (storage.PushedRequest, error) {
	var p storage.PushedRequest
	err := db.writeRow(ctx, func(row *sql.Row) error {
		return row.Scan(&p.Hash, &p.ClientID, &p.Params, tsOut(&p.CreatedAt), tsOut(&p.ExpiresAt))
	}, `DELETE FROM pushed_requests WHERE hash = ? AND client_id = ? RETURNING hash, client_id, params, created_at, expires_at`, hash, clientID)
	if err != nil {
		return storage.PushedRequest{}, notFound(err)
	}
	if !now.Before(p.ExpiresAt) {
		return storage.PushedRequest{}, storage.ErrNotFound
	}
	return p, nil
}

// UseOnce inserts key, or takes over an expired row of it; a live row
// makes the statement change nothing, which is the replay.
func (db *DB) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	res, err := db.writer().ExecContext(ctx, `INSERT INTO used_ids (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_ids.expires_at <= ?`,
		key, ts(expiresAt), now.UnixNano())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrAlreadyUsed
	}
	return nil
}
