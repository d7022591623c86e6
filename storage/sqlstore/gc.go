package sqlstore

import (
	"context"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// consumedCodeRetention keeps exchanged authorization requests for a day, so
// that a replayed code is recognised and its tokens revoked (RFC 6749 §4.1.2).
const consumedCodeRetention = 24 * time.Hour

// sentMailRetention keeps sent mail a week for `sesame mail list`. Expired
// links are kept a day too, so that a late click says "expired", not "unknown".
const sentMailRetention = 7 * 24 * time.Hour

func (db *DB) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var res storage.GCResult
	n := now.UnixNano()
	err := db.tx(ctx, func(tx conn) error {
		steps := []struct {
			count *int64
			query string
			args  []any
		}{
			{&res.AuthRequests, `DELETE FROM auth_requests WHERE expires_at <= ? AND (consumed_at IS NULL OR consumed_at <= ?)`,
				[]any{n, now.Add(-consumedCodeRetention).UnixNano()}},
			{&res.AccessTokens, `DELETE FROM access_tokens WHERE expires_at <= ?`, []any{n}},
			{&res.RefreshTokens, `DELETE FROM refresh_tokens WHERE expires_at <= ?`, []any{n}},
			{&res.Sessions, `DELETE FROM sessions WHERE idle_expires_at <= ? OR absolute_expires_at <= ?`, []any{n, n}},
			{&res.SigningKeys, `DELETE FROM signing_keys WHERE publish_until IS NOT NULL AND publish_until <= ?`, []any{n}},
			{&res.ActionTokens, `DELETE FROM action_tokens WHERE expires_at <= ?`, []any{now.Add(-consumedCodeRetention).UnixNano()}},
			{&res.Mails, `DELETE FROM mail_outbox WHERE sent_at IS NOT NULL AND sent_at <= ?`, []any{now.Add(-sentMailRetention).UnixNano()}},
			{&res.RateLimits, `DELETE FROM rate_limits WHERE window_start <= ?`, []any{now.Add(-24 * time.Hour).UnixNano()}},
			{&res.RateLimits, `DELETE FROM api_idempotency WHERE expires_at <= ?`, []any{n}},
			{&res.RateLimits, `DELETE FROM login_failures WHERE updated_at <= ?`, []any{now.Add(-24 * time.Hour).UnixNano()}},
			{&res.Mails, `DELETE FROM logout_notices WHERE (sent_at IS NOT NULL AND sent_at <= ?) OR created_at <= ?`,
				[]any{now.Add(-sentMailRetention).UnixNano(), now.Add(-3 * sentMailRetention).UnixNano()}},
			{&res.Protocol, `DELETE FROM pushed_requests WHERE expires_at <= ?`, []any{n}},
			{&res.Protocol, `DELETE FROM used_ids WHERE expires_at <= ?`, []any{n}},
			// An expired device authorization answers expired_token for an
			// hour more, then a late poll's device code is unknown.
			{&res.Protocol, `DELETE FROM device_authorizations WHERE expires_at <= ?`, []any{now.Add(-time.Hour).UnixNano()}},
		}
		for _, s := range steps {
			r, err := tx.ExecContext(ctx, s.query, s.args...)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			*s.count += n
		}
		return nil
	})
	return res, err
}
