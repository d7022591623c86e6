package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// noScreens stands in for the login screens: no browser session, bare
// status codes for pages, and no confirmation (a logout needs a valid
// id_token_hint).
type noScreens struct{}

func (noScreens) CurrentSessionID(*http.Request) string                             { return "" }
func (noScreens) EndBrowserSession(context.Context, http.Header, http.Header) error { return nil }
func (noScreens) Fail(w http.ResponseWriter, _ *http.Request, err error) {
	w.WriteHeader(OAuthError(err).Status)
}
func (noScreens) FormPost(w http.ResponseWriter, _ *http.Request, _ string, _ url.Values, _ []string) {
	w.WriteHeader(http.StatusOK)
}
func (s noScreens) ConfirmLogout(w http.ResponseWriter, r *http.Request, _ string, _ url.Values, _ []string) {
	s.Fail(w, r, errPageInvalid)
}
func (noScreens) LogoutConfirmed(*http.Request) bool { return false }

// benchProvider is a provider over a real SQLite file, a client and a person.
type benchProvider struct {
	p      *Provider
	store  *sqlite.DB
	keys   *KeyManager
	userID string
	// argon2 counts the argon2id verifications the provider asked for.
	argon2 *countingVerifier
}

// countingVerifier counts the calls to the SecretVerifier it wraps.
type countingVerifier struct {
	SecretVerifier
	calls atomic.Int64
}

func (c *countingVerifier) Verify(ctx context.Context, encoded, secret string) error {
	c.calls.Add(1)
	return c.SecretVerifier.Verify(ctx, encoded, secret)
}

const benchSecret = "bench-client-secret-0123456789"

// newBenchProvider builds it; wrap, if given, stands between the provider
// and the database (to count reads).
// newTestStore is a SQLite file in a temporary directory with a signing
// key, and the master key (zeros) the key is sealed with: what every
// provider test and benchmark starts from.
func newTestStore(tb testing.TB) (*sqlite.DB, []byte, *KeyManager) {
	tb.Helper()
	db := sqlitetest.Open(tb)
	master := make([]byte, 32)
	box, _ := secretbox.New(master, "signing-keys")
	keys := &KeyManager{Store: db, Box: box, PublishFor: time.Hour}
	if _, err := keys.EnsureKeys(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db, master, keys
}

func newBenchProvider(b testing.TB, wrap ...func(storage.Storage) storage.Storage) *benchProvider {
	ctx := context.Background()
	db, master, keys := newTestStore(b)
	hasher := password.NewHasher(password.Params{MemoryKiB: 8192, Iterations: 1, Parallelism: 1}, 0)
	hash, _ := hasher.Hash(ctx, benchSecret)
	now := time.Now()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(db.CreateClient(ctx, storage.Client{ID: "bench", SecretHash: hash, RedirectURIs: []string{"https://rp.example/cb"}, CreatedAt: now}))
	org := storage.Organization{ID: storage.NewID("org"), Name: "ACME", Domicile: storage.DomicileFrance, Country: "FR",
		SIRET: "73282932000074", SIREN: "732829320", Status: storage.OrgValidated, CreatedAt: now}
	must(db.CreateOrganization(ctx, org))
	u := storage.User{ID: storage.NewID("usr"), Email: "bench@acme.example", Name: "Bench", CreatedAt: now}
	must(db.CreateUser(ctx, u, &storage.Membership{OrgID: org.ID, Roles: []string{"admin", "user"}}))
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the library logs its routes
	var store storage.Storage = db
	for _, w := range wrap {
		store = w(store)
	}
	counter := &countingVerifier{SecretVerifier: hasher}
	p, err := New(Options{Issuer: "https://id.example.com", Store: store, Keys: keys, Secrets: counter, MasterKey: master,
		Lifetimes: Lifetimes{AuthRequest: time.Hour, Code: time.Hour, AccessToken: time.Hour, IDToken: time.Hour, RefreshToken: 24 * time.Hour},
		Screens:   noScreens{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return &benchProvider{p: p, store: db, keys: keys, userID: u.ID, argon2: counter}
}

// grant stores a finished authorization request with its code, as the
// login screens and the callback would leave it.
func (bp *benchProvider) grant(b testing.TB, i int) (code, verifier string) {
	verifier = fmt.Sprintf("%043d", i)
	sum := sha256.Sum256([]byte(verifier))
	code = fmt.Sprintf("code-%d-%s", i, storage.NewSecret())
	now := time.Now()
	err := bp.store.CreateAuthRequest(context.Background(), storage.AuthRequest{ID: storage.NewID("ar"), ClientID: "bench",
		RedirectURI: "https://rp.example/cb", Scopes: []string{"openid", "email", "profile", "organization", "offline_access"},
		ResponseType: "code", Nonce: "n", CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), UserID: bp.userID, SessionID: "ses_bench", AuthTime: now, AMR: []string{"pwd"},
		Done: true, CodeHash: storage.HashToken(code), CodeExpiry: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return code, verifier
}

func (bp *benchProvider) token(b testing.TB, form url.Values) map[string]any {
	code, out := bp.post(form)
	if code != http.StatusOK {
		b.Fatalf("token endpoint: %d %v", code, out)
	}
	return out
}

// post sends a token request, its form parsed first as the server's Forms
// middleware does.
func (bp *benchProvider) post(form url.Values) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, "https://id.example.com/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bench", benchSecret)
	req.ParseForm()
	w := httptest.NewRecorder()
	bp.p.ServeHTTP(w, req)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

func opsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkCodeExchange: authorization_code grant with PKCE, client_secret_basic,
// an RS256 ID token with the organization claims, access and refresh tokens stored.
func BenchmarkCodeExchange(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	bp := newBenchProvider(b)
	codes := make([][2]string, b.N)
	for i := range codes {
		codes[i][0], codes[i][1] = bp.grant(b, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bp.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {codes[i][0]}, "redirect_uri": {"https://rp.example/cb"},
			"code_verifier": {codes[i][1]}})
	}
	opsPerSecond(b)
}

// BenchmarkRefreshGrant: refresh_token grant with rotation and a new RS256 ID token.
func BenchmarkRefreshGrant(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	bp := newBenchProvider(b)
	code, verifier := bp.grant(b, 0)
	out := bp.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}})
	rt := out["refresh_token"].(string)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = bp.token(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		rt = out["refresh_token"].(string)
	}
	opsPerSecond(b)
}

// BenchmarkIDTokenSigning signs a typical ID token with each algorithm.
func BenchmarkIDTokenSigning(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	bp := newBenchProvider(b)
	for _, alg := range Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			key, err := bp.keys.SigningKey(context.Background(), alg)
			if err != nil {
				b.Fatal(err)
			}
			signer, err := op.SignerFromKey(key)
			if err != nil {
				b.Fatal(err)
			}
			claims := oidc.NewIDTokenClaims("https://id.example.com", bp.userID, []string{"bench"}, time.Now().Add(time.Hour),
				time.Now(), "nonce", vocab.ACRPassword, []string{vocab.AMRPassword}, "bench", 0)
			claims.Claims = map[string]any{"org_id": "org_x", "org_name": "ACME", "org_roles": []string{"admin"}, "org_status": "validated"}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := crypto.Sign(claims, signer); err != nil {
						b.Fatal(err)
					}
				}
			})
			opsPerSecond(b)
		})
	}
}

// BenchmarkJWKS serves the key set.
func BenchmarkJWKS(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	bp := newBenchProvider(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			bp.p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://id.example.com/keys", nil))
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
	opsPerSecond(b)
}
