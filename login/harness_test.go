package login

// The screens' test harness: the real handler, templates, SQLite storage
// (in t.TempDir()), argon2 (with cheap parameters), secret boxes and mail
// worker, behind httptest; a clock the test moves; an SMTP recorder
// (mail/mailtest) that receives what the worker delivers; a fake provider
// (Answer). No cmd/sesame, no browser: a test drives the
// screens with a cookie jar, as a browser would.

import (
	"context"
	"crypto/rand"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/login/cloudaccount"
	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/mail/mailtest"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/totp"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
	"github.com/sesame-idp/sesame/templates"
)

// testPassword passes the policy (12 characters, not common).
const testPassword = "correct horse battery"

// The renderer parses every template once per test binary.
var (
	pagesOnce sync.Once
	pages     *templates.Renderer
	pagesErr  error
	// cheap argon2: a hash costs microseconds, not 100 ms.
	cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
)

func renderer(t *testing.T) *templates.Renderer {
	t.Helper()
	pagesOnce.Do(func() { pages, pagesErr = templates.New() })
	if pagesErr != nil {
		t.Fatal(pagesErr)
	}
	return pages
}

type clock = testclock.Clock

// closedSIRET is a well-formed SIRET the test directory knows as closed.
const closedSIRET = "73282932000082"

// closedDirectory knows no company but closedSIRET's closed establishment.
type closedDirectory struct{}

func (closedDirectory) Lookup(_ context.Context, siret string) (company.Company, error) {
	if siret == closedSIRET {
		return company.Company{SIRET: siret}, company.ErrClosed
	}
	return company.Company{}, company.ErrUnknown
}

// harness is one Sesame's screens, alone.
type harness struct {
	t      *testing.T
	H      *Handler
	Store  storage.Storage
	Clock  *clock
	URL    string
	SMTP   *mailtest.Server
	worker *mail.Worker

	mu       sync.Mutex
	answered []storage.AuthRequest // what the fake provider was handed
	seen     map[string]bool       // links Link returned
	client   storage.Client
}

// newHarness builds the screens on a fresh database.
// opts change the handler before its routes are built.
func newHarness(t *testing.T, opts ...func(*harness)) *harness {
	t.Helper()
	return newHarnessOn(t, openSQLite(t), opts...)
}

// openSQLite is the harness's database: SQLite in t.TempDir(), closed
// with the test.
func openSQLite(t *testing.T) storage.Storage {
	return sqlitetest.Open(t)
}

// newHarnessOn builds the screens on db (a fresh database of either
// backend: openSQLite, openPostgres).
func newHarnessOn(t *testing.T, db storage.Storage, opts ...func(*harness)) *harness {
	t.Helper()
	ctx := context.Background()
	master := make([]byte, secretbox.KeySize)
	_, _ = rand.Read(master)
	box := func(purpose string) *secretbox.Box {
		b, err := secretbox.New(master, purpose)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sealer, err := mail.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	// The clock starts at the real time: the cookie jar expires cookies by
	// the real clock, and the test clock only moves forward.
	clk := testclock.New(time.Now().UTC().Truncate(time.Second))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	hasher := password.NewHasher(cheap, 2)
	smtp := mailtest.Start(t)
	worker := mail.NewWorker(db, &mail.SMTP{Host: smtp.Host, Port: smtp.Port, TLS: "none", From: "sesame@example.test"}, clk.Now, logger)
	worker.Sealer = sealer
	pg := renderer(t)
	accounts := &Accounts{Store: db, Pages: pg, Now: clk.Now, LinkLifetime: 24 * time.Hour, ResetLifetime: 5 * time.Minute,
		Sealer: sealer}
	hx := &harness{t: t, Store: db, Clock: clk, SMTP: smtp, worker: worker}
	cloudHash, err := hasher.Hash(ctx, "cloud password 42")
	if err != nil {
		t.Fatal(err)
	}
	hx.H = &Handler{
		Store: db, Pages: pg, Hasher: hasher, Now: clk.Now, Logger: logger,
		Answer:      hx.answer,
		SessionIdle: time.Hour, SessionAbsolute: 12 * time.Hour,
		Accounts: accounts,
		Cloud: cloudaccount.Static{Accounts: map[string]string{"founder@cloud.example": cloudHash},
			Check: hasher.Verify},
		Directory: closedDirectory{},
		Drafts:    box("signup-drafts"), Policy: password.Policy{MinLength: 12}, SignupPerHour: 100,
		TOTPBox: box("totp-secrets"), MFABox: box("second-step"), TOTPIssuer: "Sesame test",
		ReauthAfter:   5 * time.Minute,
		SignInPerHour: 1000, CodePerHour: 1000, ResetPerHour: 1000, ResetPerEmail: 3,
	}
	// Passkeys: the harness listens on 127.0.0.1, which browsers refuse,
	// but its software authenticator (passkey_test.go) answers for
	// passkeyOrigin, as a browser at a localhost issuer would.
	if hx.H.WebAuthn, _, err = NewWebAuthn(passkeyOrigin, nil); err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(hx)
	}
	r := chi.NewRouter()
	r.Use(web.Forms(hx.H.Fail))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		hx.H.Fail(w, r, fail.E(fail.NotFound, "Errors.Request.NotFound"))
	})
	hx.H.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	hx.URL = srv.URL
	accounts.Issuer = srv.URL
	hx.client = storage.Client{ID: "rp", Name: "Relying Party", RedirectURIs: []string{"https://rp.example/cb"}, CreatedAt: clk.Now()}
	if err := db.CreateClient(ctx, hx.client); err != nil {
		t.Fatal(err)
	}
	return hx
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// answer is the fake provider: it records the request and redirects to the
// relying party with a code (or the error the screens chose).
func (hx *harness) answer(_ context.Context, _ storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc {
	hx.mu.Lock()
	hx.answered = append(hx.answered, ar)
	hx.mu.Unlock()
	return func(w http.ResponseWriter, r *http.Request) {
		q := url.Values{"state": {ar.State}}
		if ar.Error != "" {
			q.Set("error", ar.Error)
		} else {
			q.Set("code", "code-for-"+ar.ID)
		}
		http.Redirect(w, r, ar.RedirectURI+"?"+q.Encode(), http.StatusFound)
	}
}

// Answered is what the fake provider was handed, in order.
func (hx *harness) Answered() []storage.AuthRequest {
	hx.mu.Lock()
	defer hx.mu.Unlock()
	return append([]storage.AuthRequest(nil), hx.answered...)
}

// AuthRequest stores a live authorization request from the relying party.
func (hx *harness) AuthRequest(edit func(*storage.AuthRequest)) storage.AuthRequest {
	hx.t.Helper()
	now := hx.Clock.Now()
	ar := storage.AuthRequest{ID: storage.NewID("ar"), ClientID: hx.client.ID, RedirectURI: hx.client.RedirectURIs[0],
		State: "st", Nonce: "n", Scopes: []string{"openid"}, ResponseType: "code", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if edit != nil {
		edit(&ar)
	}
	if err := hx.Store.CreateAuthRequest(context.Background(), ar); err != nil {
		hx.t.Fatal(err)
	}
	return ar
}

// Org creates a validated organization (or of the given status).
func (hx *harness) Org(name, status string) storage.Organization {
	hx.t.Helper()
	o := storage.Organization{ID: storage.NewID("org"), Name: name, LegalName: name, Domicile: storage.DomicileAbroad, Country: "DE",
		Status: status, CreatedAt: hx.Clock.Now()}
	if err := hx.Store.CreateOrganization(context.Background(), o); err != nil {
		hx.t.Fatal(err)
	}
	return o
}

// User creates a person with testPassword, a member of org with roles
// (no organization when org is nil: then an operator).
func (hx *harness) User(email string, org *storage.Organization, roles ...string) storage.User {
	hx.t.Helper()
	hash, err := hx.H.Hasher.Hash(context.Background(), testPassword)
	if err != nil {
		hx.t.Fatal(err)
	}
	now := hx.Clock.Now()
	u := storage.User{ID: storage.NewID("usr"), Email: email, PasswordHash: hash, Name: email, Locale: "en",
		CreatedAt: now, UpdatedAt: now, PasswordSetAt: now}
	var m *storage.Membership
	if org != nil {
		m = &storage.Membership{UserID: u.ID, OrgID: org.ID, Roles: roles}
	} else {
		u.IsOperator = true
	}
	if err := hx.Store.CreateUser(context.Background(), u, m); err != nil {
		hx.t.Fatal(err)
	}
	return u
}

// TOTP gives u a confirmed second factor and returns its secret and
// recovery codes.
func (hx *harness) TOTP(u storage.User) (string, []string) {
	hx.t.Helper()
	k, err := totp.Generate("Sesame test", u.Email)
	if err != nil {
		hx.t.Fatal(err)
	}
	var codes []string
	err = hx.Store.Atomic(context.Background(), func(tx storage.Tx) (err error) {
		codes, err = hx.H.build().factors.storeFactor(context.Background(), tx, u, k.Secret, totp.Step(hx.Clock.Now())-10, false)
		return err
	})
	if err != nil {
		hx.t.Fatal(err)
	}
	return k.Secret, codes
}

// Code is the TOTP code of secret now; each call moves the clock one
// period on, so that no two codes share a step.
func (hx *harness) Code(secret string) string {
	hx.t.Helper()
	hx.Clock.Add(totp.Period)
	c, err := totp.Code(secret, hx.Clock.Now())
	if err != nil {
		hx.t.Fatal(err)
	}
	return c
}

// Mails delivers the outbox and returns what addr received.
func (hx *harness) Mails(addr string) []mailtest.Message {
	hx.t.Helper()
	if _, err := hx.worker.Deliver(context.Background()); err != nil {
		hx.t.Fatal(err)
	}
	return hx.SMTP.To(addr)
}

// Link is a link to path, in a mail addr received, that no earlier call
// returned (mails queued together may arrive in either order).
func (hx *harness) Link(addr, path string) string {
	hx.t.Helper()
	ms := hx.Mails(addr)
	hx.mu.Lock()
	defer hx.mu.Unlock()
	if hx.seen == nil {
		hx.seen = map[string]bool{}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		for _, l := range mail.Links(ms[i].Text) {
			if u, err := url.Parse(l); err == nil && u.Path == path && !hx.seen[l] {
				hx.seen[l] = true
				return u.RequestURI()
			}
		}
	}
	hx.t.Fatalf("no new link to %s in the %d mails to %s", path, len(ms), addr)
	return ""
}

// Events lists the audit trail's actions, oldest first.
func (hx *harness) Events() []string {
	hx.t.Helper()
	es, err := hx.Store.ListEvents(context.Background(), storage.AuditFilter{Limit: 1000})
	if err != nil {
		hx.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

// browser is one cookie jar: a person at their browser.
type browser struct {
	hx *harness
	t  *testing.T
	c  *http.Client
}

// testTransport carries the harness's requests. It is not
// http.DefaultTransport, whose idle connections httptest.Server.Close
// closes: a parallel test's POST that was just handed one of them failed
// ("http: CloseIdleConnections called"; Go retries idempotent requests only).
var testTransport = http.DefaultTransport.(*http.Transport).Clone()

func (hx *harness) Browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{hx: hx, t: hx.t, c: &http.Client{Jar: jar, Transport: testTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer, read.
type page struct {
	t        *testing.T
	Status   int
	Location string
	Body     string
	Header   http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	req.Header.Set("Accept-Language", "en")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &page{t: b.t, Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body), Header: res.Header}
}

// Get fetches path (or an absolute URL).
func (b *browser) Get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// Post submits a form with the browser's CSRF token (fetching / first
// when it has none yet).
func (b *browser) Post(path string, form url.Values) *page {
	b.t.Helper()
	form = cloneForm(form)
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf())
	}
	return b.PostRaw(path, form)
}

// PostRaw submits a form as it is, with no CSRF token added.
func (b *browser) PostRaw(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.hx.URL + path
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.hx.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) csrf() string {
	b.t.Helper()
	if v := b.cookie("sesame_csrf"); v != "" {
		return v
	}
	b.Get(PathLogin)
	v := b.cookie("sesame_csrf")
	if v == "" {
		b.t.Fatal("no CSRF cookie after GET /login")
	}
	return v
}

// SignIn signs in with the password (and the TOTP secret, when given), and
// checks that the browser ends on the home page.
func (b *browser) SignIn(email, secret string) {
	b.t.Helper()
	p := b.Post(PathLogin, url.Values{"email": {email}, "password": {testPassword}})
	if secret != "" {
		p.Redirects(PathLoginCode)
		p = b.Post(PathLoginCode, url.Values{"code": {b.hx.Code(secret)}})
	}
	p.Redirects(PathHome)
}

// Redirects checks a 303 to path (query ignored).
func (p *page) Redirects(path string) *page {
	p.t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		p.t.Fatalf("status %d, want a redirect to %s; body: %s", p.Status, path, excerpt(p.Body))
	}
	u, err := url.Parse(p.Location)
	if err != nil || (u.Path != path && p.Location != path) {
		p.t.Fatalf("redirect to %q, want %s", p.Location, path)
	}
	return p
}

// Shows checks the status and that the page says the message of key (in
// English).
func (p *page) Shows(status int, key string) *page {
	p.t.Helper()
	if p.Status != status {
		p.t.Fatalf("status %d, want %d (%s); body: %s", p.Status, status, key, excerpt(p.Body))
	}
	if key != "" && !p.Says(key) {
		p.t.Fatalf("the page does not say %s (%q); body: %s", key, pages.T("en", key), excerpt(p.Body))
	}
	return p
}

// Says reports whether the page shows the message of key.
func (p *page) Says(key string) bool {
	msg := pages.T("en", key)
	if i := strings.Index(msg, "%"); i > 0 { // a message with an argument: its start
		msg = msg[:i]
	}
	return strings.Contains(p.Body, html.EscapeString(msg)) || strings.Contains(p.Body, msg)
}

var hiddenField = regexp.MustCompile(`name="([A-Za-z_]+)" value="([^"]*)"`)

// Field is the value of the page's hidden (or filled) input name.
func (p *page) Field(name string) string {
	p.t.Helper()
	for _, m := range hiddenField.FindAllStringSubmatch(p.Body, -1) {
		if m[1] == name {
			return html.UnescapeString(m[2])
		}
	}
	p.t.Fatalf("no field %s; body: %s", name, excerpt(p.Body))
	return ""
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500] + "…"
	}
	return s
}
