package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// TestRevocationsOutliveAConcurrentRotation: a refresh that has marked its
// token used and stored the next ones, and commits while a revocation waits
// for it, leaves the application nothing: under READ COMMITTED the
// revocation's first delete does not see the rows the refresh inserted, so
// it deletes again once the refresh has committed. Each way tokens are
// revoked: the person's consent withdrawn, the session signed out, the
// grant revoked (a reused token), the refresh token revoked (RFC 7009),
// the client deleted. (Failed before: the new refresh and access tokens
// survived the consent's revocation.)
func TestRevocationsOutliveAConcurrentRotation(t *testing.T) {
	for _, c := range []struct {
		name   string
		revoke func(ctx context.Context, db *postgres.DB, userID, oldHash string) error
	}{
		{"consent", func(ctx context.Context, db *postgres.DB, userID, _ string) error {
			return db.RevokeConsent(ctx, userID, "app")
		}},
		{"session", func(ctx context.Context, db *postgres.DB, _, _ string) error {
			return db.RevokeSessionTokens(ctx, "ses_1")
		}},
		{"grant", func(ctx context.Context, db *postgres.DB, _, _ string) error { return db.RevokeGrant(ctx, "g1") }},
		{"refresh token", func(ctx context.Context, db *postgres.DB, _, old string) error {
			return db.RevokeRefreshToken(ctx, old)
		}},
		{"client", func(ctx context.Context, db *postgres.DB, _, _ string) error { return db.DeleteClient(ctx, "app") }},
	} {
		t.Run(c.name, func(t *testing.T) { revokeDuringRotation(t, c.revoke) })
	}
}

func revokeDuringRotation(t *testing.T, revoke func(ctx context.Context, db *postgres.DB, userID, oldHash string) error) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, pgtest.BaseDSN(t))
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Truncate(time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateClient(ctx, storage.Client{ID: "app", RedirectURIs: []string{"https://app.example/cb"}, CreatedAt: now}))
	u := storage.User{ID: storage.NewID("usr"), Email: "ada@acme.example", CreatedAt: now, UpdatedAt: now}
	must(db.CreateUser(ctx, u, nil))
	must(db.SaveConsent(ctx, storage.Consent{UserID: u.ID, ClientID: "app", Scopes: []string{"openid"}, GrantedAt: now, UpdatedAt: now}))
	a := storage.AccessToken{ID: storage.NewID("at"), GrantID: "g1", ClientID: "app", UserID: u.ID, SessionID: "ses_1", Scopes: []string{"openid"},
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	r := storage.RefreshToken{ID: storage.NewID("rt"), Hash: storage.HashToken(storage.NewSecret()), GrantID: "g1", ClientID: "app",
		UserID: u.ID, SessionID: "ses_1", Scopes: a.Scopes, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	must(db.CreateTokens(ctx, a, &r))

	// The refresh, halfway: the old token marked used and the next tokens
	// stored, not committed yet (RotateRefreshToken's statements).
	raw, err := sql.Open("pgx", dsn)
	must(err)
	defer raw.Close()
	rotation, err := raw.BeginTx(ctx, nil)
	must(err)
	defer rotation.Rollback()
	_, err = rotation.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`, now.UnixNano(), r.Hash)
	must(err)
	_, err = rotation.ExecContext(ctx, `INSERT INTO refresh_tokens (id, hash, grant_id, client_id, user_id, session_id, scopes, audience,
		auth_time, amr, created_at, expires_at, used_at, jkt, idp, acr) SELECT 'rt_next', 'hash_next', grant_id, client_id, user_id,
		session_id, scopes, audience, auth_time, amr, created_at, expires_at, NULL, jkt, idp, acr FROM refresh_tokens WHERE hash = $1`, r.Hash)
	must(err)
	_, err = rotation.ExecContext(ctx, `INSERT INTO access_tokens (id, grant_id, client_id, user_id, session_id, scopes, audience,
		auth_time, amr, created_at, expires_at, jkt) SELECT 'at_next', grant_id, client_id, user_id, session_id, scopes, audience,
		auth_time, amr, created_at, expires_at, jkt FROM access_tokens WHERE id = $1`, a.ID)
	must(err)

	revoked := make(chan error, 1)
	go func() { revoked <- revoke(ctx, db, u.ID, r.Hash) }()
	// Wait until the revocation waits on the refresh's row lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		must(raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE NOT granted`).Scan(&waiting))
		if waiting > 0 {
			break
		}
		select {
		case err := <-revoked:
			t.Fatalf("the revocation did not wait for the refresh: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the revocation never waited on the refresh's lock")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for time to pass
	}
	must(rotation.Commit())
	must(<-revoked)

	for _, table := range []string{"refresh_tokens", "access_tokens"} {
		var n int
		must(raw.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE user_id = $1`, u.ID).Scan(&n))
		if n != 0 {
			t.Errorf("%d %s left for the application after the revocation", n, table)
		}
	}
}
