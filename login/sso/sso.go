package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sesame-idp/sesame/internal/fail"
)

// Errors of an upstream sign-in.
var (
	// ErrUpstream: the upstream could not be reached, or answered an error.
	ErrUpstream = fail.E(fail.Unavailable, "Errors.SSO.Upstream")
	// ErrToken: what the upstream sent back does not verify.
	ErrToken = fail.E(fail.Unauthorized, "Errors.SSO.Token")
	// ErrIssuer: the issuer is not a URL Sesame accepts.
	ErrIssuer = fail.E(fail.Invalid, "Errors.SSO.Issuer")
	// ErrPrivateIssuer: the issuer, or an endpoint it names, is on an
	// address an upstream may not have (see Client.AllowPrivate).
	ErrPrivateIssuer = fail.E(fail.Invalid, "Errors.SSO.PrivateIssuer")
)

// Connection is what the flow needs of an organization's connection.
type Connection struct {
	Issuer, ClientID, ClientSecret string
	Scopes                         []string // beyond openid and email
	RedirectURL                    string   // Sesame's callback
}

// Identity is what the upstream proved.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	AMR           []string
	ACR           string
}

// Client talks to upstream providers.
type Client struct {
	Now func() time.Time
	// DiscoveryTTL is how long a discovery document is kept (5 min when zero).
	DiscoveryTTL time.Duration
	// AllowPrivate lets an upstream be on a loopback or private address
	// (domains.private_issuers: tests and closed networks). Without it such
	// addresses are refused when dialled: an organization admin chooses the
	// issuer, and must not make Sesame fetch the operator's own network.
	AllowPrivate bool

	mu     sync.Mutex
	cache  map[string]cached
	client *http.Client
}

type cached struct {
	p  *oidc.Provider
	at time.Time
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// upstreamTimeout bounds each call to an upstream.
const upstreamTimeout = 10 * time.Second

// http is the client every upstream call goes through: its dialer checks
// the address each connection is made to, after resolution (a name that
// resolves to a refused address, even on a second look-up, is refused),
// and it uses no proxy, which would dial past the check.
func (c *Client) http() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		d := &net.Dialer{Timeout: upstreamTimeout, Control: func(_, address string, _ syscall.RawConn) error {
			return checkDialled(address, c.AllowPrivate)
		}}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy, tr.DialContext = nil, d.DialContext
		c.client = &http.Client{Timeout: upstreamTimeout, Transport: tr}
	}
	return c.client
}

// errRefusedAddress is a dial the guard refused.
var errRefusedAddress = errors.New("the upstream's address is not a public one")

// checkDialled refuses the addresses an upstream may not have: link-local
// ones (a cloud's metadata service at 169.254.169.254), unspecified and
// multicast ones always; loopback, private (RFC 1918, fc00::/7) and shared
// (100.64.0.0/10) ones unless allowPrivate.
func checkDialled(address string, allowPrivate bool) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", errRefusedAddress, host)
	}
	if refusedAddress(ip.Unmap(), allowPrivate) {
		return fmt.Errorf("%w: %s", errRefusedAddress, ip)
	}
	return nil
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

func refusedAddress(ip netip.Addr, allowPrivate bool) bool {
	switch {
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast(), ip.IsUnspecified():
		return true
	case ip.IsLoopback(), ip.IsPrivate(), sharedAddressSpace.Contains(ip):
		return !allowPrivate
	}
	return false
}

func (c *Client) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, c.http()) }

// CheckIssuer accepts https issuers, and http ones on a loopback host (as
// for redirect URIs), without query or fragment.
func CheckIssuer(issuer string, loopback func(host string) bool) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return ErrIssuer
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return ErrIssuer
	}
	return nil
}

// Discover reads (or recalls) the issuer's discovery document.
func (c *Client) Discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	c.mu.Lock()
	if e, ok := c.cache[issuer]; ok && c.now().Sub(e.at) < orDefault(c.DiscoveryTTL, 5*time.Minute) {
		c.mu.Unlock()
		return e.p, nil
	}
	c.mu.Unlock()
	p, err := oidc.NewProvider(c.ctx(ctx), issuer)
	if errors.Is(err, errRefusedAddress) {
		return nil, fail.Wrap(ErrPrivateIssuer.Code, ErrPrivateIssuer.Key, fmt.Errorf("discovery of %s: %w", issuer, err))
	}
	if err != nil {
		return nil, fail.Wrap(ErrUpstream.Code, ErrUpstream.Key, fmt.Errorf("discovery of %s: %w", issuer, err))
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]cached{}
	}
	c.cache[issuer] = cached{p, c.now()}
	c.mu.Unlock()
	return p, nil
}

// Forget drops the issuer's cached discovery (after a failure that may
// come from keys or endpoints that changed).
func (c *Client) Forget(issuer string) {
	c.mu.Lock()
	delete(c.cache, issuer)
	c.mu.Unlock()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (conn Connection) config(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID, "email"}
	for _, s := range conn.Scopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{ClientID: conn.ClientID, ClientSecret: conn.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: conn.RedirectURL, Scopes: scopes}
}

// AuthURL is where the browser goes to sign in upstream: the code flow
// with PKCE (S256 of verifier), state, nonce and, when set, login_hint.
func (c *Client) AuthURL(ctx context.Context, conn Connection, state, nonce, verifier, loginHint string) (string, error) {
	p, err := c.Discover(ctx, conn.Issuer)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return conn.config(p).AuthCodeURL(state, opts...), nil
}

// Challenge is the S256 challenge of verifier (for tests).
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Exchange trades the code for tokens and verifies the ID token: its
// signature against the upstream's keys, its issuer, audience and expiry,
// and its nonce.
func (c *Client) Exchange(ctx context.Context, conn Connection, code, verifier, nonce string) (Identity, error) {
	p, err := c.Discover(ctx, conn.Issuer)
	if err != nil {
		return Identity{}, err
	}
	hctx := c.ctx(ctx)
	tok, err := conn.config(p).Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// invalid_grant (a code replayed, expired or not ours): a refusal.
			return Identity{}, fail.Wrap(ErrToken.Code, ErrToken.Key, fmt.Errorf("token endpoint: %w", err))
		}
		return Identity{}, fail.Wrap(ErrUpstream.Code, ErrUpstream.Key, fmt.Errorf("token endpoint: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fail.Wrap(ErrToken.Code, ErrToken.Key, errors.New("no id_token in the token response"))
	}
	v := p.VerifierContext(hctx, &oidc.Config{ClientID: conn.ClientID, Now: c.now})
	idt, err := v.Verify(hctx, raw)
	if err != nil {
		if strings.Contains(err.Error(), "fetching keys") {
			c.Forget(conn.Issuer)
			return Identity{}, fail.Wrap(ErrUpstream.Code, ErrUpstream.Key, err)
		}
		return Identity{}, fail.Wrap(ErrToken.Code, ErrToken.Key, err)
	}
	if idt.Nonce == "" || idt.Nonce != nonce {
		return Identity{}, fail.Wrap(ErrToken.Code, ErrToken.Key, errors.New("nonce mismatch"))
	}
	var cl struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Name          string          `json:"name"`
		AMR           []string        `json:"amr"`
		ACR           string          `json:"acr"`
	}
	if err := idt.Claims(&cl); err != nil {
		return Identity{}, fail.Wrap(ErrToken.Code, ErrToken.Key, err)
	}
	return Identity{Subject: idt.Subject, Email: cl.Email, EmailVerified: verified(cl.EmailVerified), Name: cl.Name,
		AMR: cl.AMR, ACR: cl.ACR}, nil
}

// verified reads email_verified, a boolean (or, from some providers, the
// string "true").
func verified(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "true" || s == `"true"`
}
