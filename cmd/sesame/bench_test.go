package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/loadgen"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// benchServer starts Sesame on a SQLite file with the given extra settings,
// the load test's client and 50 people, as `sesame-load --setup` makes
// them.
func benchServer(b *testing.B, extra ...string) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	env := append([]string{"SESAME_DATA_DIR=" + b.TempDir(), "SESAME_ISSUER=" + issuer, "SESAME_LISTEN=" + ln.Addr().String(),
		"SESAME_ACCOUNTS_SIGNIN_PER_IP=1000000"}, extra...)
	cfg, err := config.Load("", env)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	slog.SetDefault(quiet) // the OIDC library logs its routes
	m := &Main{Config: cfg, Listener: ln, Now: time.Now, Logger: quiet}
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	hashSecret := func(s string) (string, error) { return provider.HashClientSecret(m.MasterKey, s) }
	if err := loadgen.Setup(context.Background(), m.Store, hashSecret, m.Hasher.Hash, 50, "", m.Now(), io.Discard); err != nil {
		b.Fatalf("setup: %v", err)
	}
	return issuer
}

var benchArgon = []struct {
	name string
	env  []string
}{
	{"argon2id-19MiB-t2", nil}, // the defaults
	{"argon2id-8MiB-t1", cheapArgon},
}

// BenchmarkSignInFlow: the whole sign-in, one at a time, as the load command
// does it (authorize, form, POST, callback, code exchange with PKCE, over
// loopback HTTP); the two hashing settings show what is hashing.
func BenchmarkSignInFlow(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	for _, a := range benchArgon {
		b.Run(a.name, func(b *testing.B) {
			target := benchServer(b, a.env...)
			r := loadgen.New([]string{target}, 50, "signin", loadgen.OPs["sesame"])
			api := loadgen.APIConns{}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := r.Flow(context.Background(), api, target, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoginPOST: the password form's POST alone (hash verification,
// session, audit, the authorization request answered), its form fetched
// outside the timer.
func BenchmarkLoginPOST(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	for _, a := range benchArgon {
		b.Run(a.name, func(b *testing.B) {
			target := benchServer(b, a.env...)
			r := loadgen.New([]string{target}, 50, "signin", loadgen.OPs["sesame"])
			var i int
			for b.Loop() {
				b.StopTimer()
				client := loadgen.NewClient()
				q := url.Values{"client_id": {loadgen.ClientID}, "redirect_uri": {loadgen.Redirect}, "response_type": {"code"}, "scope": {"openid"},
					"state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
				resp, err := client.Get(target + "/authorize?" + q.Encode())
				if err != nil {
					b.Fatal(err)
				}
				page, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				b.StartTimer()
				resp, err = r.Login(client, target, page, i%50)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					b.Fatalf("login POST: %d", resp.StatusCode)
				}
				i++
			}
		})
	}
}
