package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/loadgen"
	"github.com/sesame-idp/sesame/internal/softauthn"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// passkeyBench is a Sesame at a localhost issuer with the load test's
// client and people, one of whom has a passkey (a software authenticator).
type passkeyBench struct {
	issuer string
	key    *softauthn.Key
}

func newPasskeyBench(b *testing.B) passkeyBench {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port
	env := []string{"SESAME_DATA_DIR=" + b.TempDir(), "SESAME_ISSUER=" + issuer, "SESAME_LISTEN=" + ln.Addr().String(),
		"SESAME_ACCOUNTS_SIGNIN_PER_IP=1000000"}
	cfg, err := config.Load("", env)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	slog.SetDefault(quiet)
	m := &Main{Config: cfg, Listener: ln, Now: time.Now, Logger: quiet}
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	ctx := context.Background()
	hashSecret := func(s string) (string, error) { return provider.HashClientSecret(m.MasterKey, s) }
	if err := loadgen.Setup(ctx, m.Store, hashSecret, m.Hasher.Hash, 5, "", m.Now(), io.Discard); err != nil {
		b.Fatalf("setup: %v", err)
	}
	users, err := m.Store.ListUsers(ctx, "")
	if err != nil || len(users) == 0 {
		b.Fatalf("no users: %v", err)
	}
	k, err := softauthn.New(issuer, "localhost")
	if err != nil {
		b.Fatal(err)
	}
	pub, err := k.PublicKey()
	if err != nil {
		b.Fatal(err)
	}
	k.UserHandle = []byte(users[0].ID)
	err = m.Store.CreatePasskey(ctx, storage.Passkey{ID: base64.RawURLEncoding.EncodeToString(k.ID), UserID: users[0].ID,
		Name: "bench", PublicKey: pub, CreatedAt: m.Now()}, 10)
	if err != nil {
		b.Fatal(err)
	}
	return passkeyBench{issuer: issuer, key: k}
}

var (
	benchCSRF = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	benchAR   = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
)

// ready fetches the sign-in page of a new authorization request and the
// passkey options; it returns the form to post (the answer signed) and
// the PKCE verifier.
func (pb passkeyBench) ready(client *http.Client) (url.Values, string, error) {
	verifier := storage.NewSecret()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {loadgen.ClientID}, "redirect_uri": {loadgen.Redirect}, "response_type": {"code"},
		"scope": {"openid email organization"}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := client.Get(pb.issuer + "/authorize?" + q.Encode())
	if err != nil {
		return nil, "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf, ar := benchCSRF.FindSubmatch(page), benchAR.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || csrf == nil || ar == nil {
		return nil, "", fmt.Errorf("authorize: %d", resp.StatusCode)
	}
	form := url.Values{"csrf_token": {string(csrf[1])}, "authRequestID": {string(ar[1])}}
	resp, err = client.PostForm(pb.issuer+"/login/passkey/options", form)
	if err != nil {
		return nil, "", err
	}
	var o softauthn.Options
	err = json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("options: %d %v", resp.StatusCode, err)
	}
	cred, err := pb.key.Get(o.PublicKey.Challenge)
	if err != nil {
		return nil, "", err
	}
	form.Set("credential", cred)
	return form, verifier, nil
}

// signIn posts the passkey's answer and returns the code.
func (pb passkeyBench) signIn(client *http.Client, form url.Values) (string, error) {
	resp, err := client.PostForm(pb.issuer+"/login/passkey", form)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("passkey sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code"), nil
}

func (pb passkeyBench) exchange(code, verifier string) error {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {loadgen.Redirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, pb.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(loadgen.ClientID, loadgen.ClientSecret)
	resp, err := testClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		return fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return nil
}

// BenchmarkPasskeySignInFlow: the whole sign-in with a passkey alone, one
// at a time (authorize, form, options, the passkey's answer, callback, code
// exchange with PKCE, over loopback HTTP); BenchmarkSignInFlow is the same
// with a password.
func BenchmarkPasskeySignInFlow(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b)
	pb := newPasskeyBench(b)
	for b.Loop() {
		client := loadgen.NewClient()
		form, verifier, err := pb.ready(client)
		if err != nil {
			b.Fatal(err)
		}
		code, err := pb.signIn(client, form)
		if err != nil {
			b.Fatal(err)
		}
		if err := pb.exchange(code, verifier); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPasskeyPOST: the passkey answer's POST alone (the challenge
// spent, the assertion verified, session, audit, the authorization request
// answered); BenchmarkLoginPOST is the same with a password.
func BenchmarkPasskeyPOST(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b)
	pb := newPasskeyBench(b)
	for b.Loop() {
		b.StopTimer()
		client := loadgen.NewClient()
		form, _, err := pb.ready(client)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := pb.signIn(client, form); err != nil {
			b.Fatal(err)
		}
	}
}
