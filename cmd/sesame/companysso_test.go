package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
)

// upstreamSesame is a second Sesame, another process with its own
// database, on 127.0.0.2: browsers key cookies by host, so the two
// providers' cookies do not mix.
type upstreamSesame struct {
	issuer string
	env    []string
}

func startUpstream(t *testing.T) *upstreamSesame {
	t.Helper()
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append([]string{"SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr, "SESAME_DATA_DIR=" + t.TempDir()}, cheapArgon...)
	startProcess(t, bin, env)
	return &upstreamSesame{issuer: "http://" + addr, env: env}
}

// cli runs a command against the upstream's database.
func (u *upstreamSesame) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	var out, errb strings.Builder
	if code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, u.env); code != 0 {
		t.Fatalf("upstream sesame %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// refused runs a command that must be refused: exit 2, one line.
func (e *testEnv) refused(stdin string, args ...string) string {
	e.t.Helper()
	out, errs, code := e.cli(stdin, args...)
	if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || out != "" {
		e.t.Fatalf("sesame %s: exit %d, stdout %q, stderr %q; want a one-line refusal", strings.Join(args, " "), code, out, errs)
	}
	return errs
}

var recordRe = regexp.MustCompile(`^_sesame-challenge\.(\S+) TXT "([^"]+)"$`)

// TestCompanySignInThroughAnotherSesame: the operator verifies a domain
// (a real DNS server) and connects the organization to its provider (a
// second sesame serve process); a new person of the domain signs in at a
// relying party by typing their email, authenticates upstream, comes back
// a member, and the relying party reads the organization's claims and idp;
// a second sign-in reuses the membership.
func TestCompanySignInThroughAnotherSesame(t *testing.T) {
	up := startUpstream(t)
	dns := dnstest.Start(t)
	e := newEnv(t, "SESAME_DOMAINS_RESOLVER="+dns.Addr, "SESAME_DOMAINS_TIMEOUT=300ms", "SESAME_DOMAINS_PRIVATE_ISSUERS=true")
	f := e.fixture("marketplace")

	// The company's own provider knows Jeanne, and Sesame as a client.
	upSecret := rand.Text() + rand.Text()
	up.cli(t, "", "client", "add", "--id", "sesame", "--secret", upSecret, "--redirect-uri", e.issuer+"/sso/callback")
	upOrg := up.cli(t, "", "org", "create", "--name", "ACME upstream", "--country", "DE", "--validated")
	up.cli(t, "upstream pass phrase 7781\n", "user", "add", "--email", "jeanne@acme.example", "--org", upOrg,
		"--name", "Jeanne", "--password-stdin")

	// The operator: an organization, refused a connection until validated
	// and with a verified domain.
	pending := e.mustCLI("", "org", "create", "--name", "Pending", "--country", "DE")
	e.refused(upSecret+"\n", "org", "sso", "set", pending, "--issuer", up.issuer, "--client-id", "sesame", "--client-secret-stdin")
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "DE", "--validated")
	e.refused(upSecret+"\n", "org", "sso", "set", org, "--issuer", up.issuer, "--client-id", "sesame", "--client-secret-stdin")
	e.refused("", "org", "domain", "add", org, "gmail.com")
	e.refused("", "org", "domain", "add", org, "not a domain")
	e.refused("", "org", "domain", "add", "org_none", "acme.example")
	line := e.mustCLI("", "org", "domain", "add", org, "acme.example")
	m := recordRe.FindStringSubmatch(line)
	if m == nil || m[1] != "acme.example" {
		t.Fatalf("domain add printed %q", line)
	}
	// Not published, then the resolver silent: refusals that say so.
	if msg := e.refused("", "org", "domain", "verify", org, "acme.example"); !strings.Contains(msg, "does not exist") {
		t.Fatalf("NXDOMAIN: %q", msg)
	}
	dns.Silent(domains.RecordName("acme.example"))
	if msg := e.refused("", "org", "domain", "verify", org, "acme.example"); !strings.Contains(msg, "in time") {
		t.Fatalf("timeout: %q", msg)
	}
	dns = nil // the silent name stays silent: a second server serves the record
	dns2 := dnstest.Start(t)
	dns2.SetTXT(domains.RecordName("acme.example"), m[2])
	e.env = append(e.env, "SESAME_DOMAINS_RESOLVER="+dns2.Addr)
	e.mustCLI("", "org", "domain", "verify", org, "acme.example")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(e.mustCLI("", "--json", "org", "domain", "list", org)), &listed); err != nil ||
		len(listed) != 1 || listed[0]["verified"] != true || listed[0]["value"] != m[2] {
		t.Fatalf("domain list: %v %v", listed, err)
	}
	e.refused("x\n", "org", "sso", "set", org, "--issuer", "http://idp.example", "--client-id", "sesame", "--client-secret-stdin")
	e.refused("", "org", "sso", "set", org, "--issuer", up.issuer, "--client-id", "sesame")
	e.mustCLI(upSecret+"\n", "org", "sso", "set", org, "--issuer", up.issuer, "--client-id", "sesame", "--client-secret-stdin",
		"--scope", "profile")
	var shown map[string]any
	if err := json.Unmarshal([]byte(e.mustCLI("", "--json", "org", "sso", "show", org)), &shown); err != nil ||
		shown["issuer"] != up.issuer || shown["callback"] != e.issuer+"/sso/callback" || strings.Contains(e.mustCLI("", "org", "sso", "show", org), upSecret) {
		t.Fatalf("sso show: %v %v", shown, err)
	}

	// Jeanne, new to Sesame, signs in at the relying party by her email.
	signIn := func() (map[string]any, string, string) {
		t.Helper()
		b := e.browser()
		b.hosts[strings.TrimPrefix(up.issuer, "http://")] = true
		verifier, challenge := pkce()
		resp, body := b.get(e.authorizeURL(f, challenge, nil))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("authorize: %d", resp.StatusCode)
		}
		// Email only: routed to the company's provider, which shows its form.
		resp, body = b.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)},
			"authRequestID": {field(arIDRe, body)}, "email": {"jeanne@acme.example"}, "method": {"company"}})
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), up.issuer+"/login") ||
			field(emailRe, body) != "jeanne@acme.example" {
			t.Fatalf("want the upstream's form with the login_hint, got %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
		}
		resp, body = b.post(up.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)},
			"authRequestID": {field(arIDRe, body)}, "email": {"jeanne@acme.example"}, "password": {"upstream pass phrase 7781"}})
		code := rpRedirect(t, resp, f).Get("code")
		if code == "" {
			t.Fatalf("no code: %d %.300s", resp.StatusCode, body)
		}
		tokens := exchange(t, e.relyingParty(f, "n-marketplace"), code, verifier)
		p, err := gooidc.NewProvider(context.Background(), e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := p.Verifier(&gooidc.Config{ClientID: f.clientID}).Verify(context.Background(), tokens.IDToken)
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		_ = idt.Claims(&claims)
		return claims, idt.Subject, tokens.RefreshToken
	}
	claims, sub, refresh := signIn()
	if claims["org_id"] != org || claims["idp"] != up.issuer || claims["email"] != "jeanne@acme.example" ||
		!slices.Contains(toStrings(claims["org_roles"]), "user") || !slices.Contains(toStrings(claims["amr"]), "pwd") {
		t.Fatalf("ID token: %v", claims)
	}
	// A refresh (through the relying-party library, which verifies the new
	// ID token) says the same: the same idp and the upstream's amr.
	if refresh == "" {
		t.Fatal("no refresh token")
	}
	for i := range 2 {
		rt, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), e.relyingParty(f, ""), refresh, "", "")
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		var again map[string]any
		if err := json.Unmarshal(idTokenPayload(t, rt.IDToken), &again); err != nil {
			t.Fatal(err)
		}
		if again["idp"] != claims["idp"] || !slices.Equal(toStrings(again["amr"]), toStrings(claims["amr"])) || again["sub"] != sub {
			t.Fatalf("refresh %d: ID token %v, first %v", i, again, claims)
		}
		refresh = rt.RefreshToken // rotated
	}
	claims2, sub2, _ := signIn()
	if sub2 != sub || claims2["idp"] != up.issuer {
		t.Fatalf("second sign-in: %s vs %s, %v", sub2, sub, claims2)
	}
	users := e.mustCLI("", "user", "list", "--org", org)
	if strings.Count(users, "jeanne@acme.example") != 1 {
		t.Fatalf("members:\n%s", users)
	}
	audit := e.mustCLI("", "audit", "list", "--org", org)
	for _, a := range []string{"domain.added", "domain.verified", "sso.set", "member.created", "signin.succeeded"} {
		if !strings.Contains(audit, a) {
			t.Errorf("no %s in the audit:\n%s", a, audit)
		}
	}
	// The operator removes the connection: the domain routes no more.
	e.mustCLI("", "org", "sso", "remove", org)
	e.refused("", "org", "sso", "show", org)
	e.mustCLI("", "org", "domain", "remove", org, "acme.example")
	e.refused("", "org", "domain", "remove", org, "acme.example")
}

// idTokenPayload is the claims part of a compact JWT (already verified by
// the relying-party library).
func idTokenPayload(t *testing.T, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
