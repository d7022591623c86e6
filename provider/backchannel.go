package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sesame-idp/sesame/internal/queue"
	"github.com/sesame-idp/sesame/storage"
)

// BackchannelLogoutEvent is the event a logout token carries.
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Backchannel implements OpenID Connect Back-Channel Logout 1.0: when a
// browser session ends, each client that received tokens in it and
// registered a backchannel_logout_uri gets a signed logout token. Tokens
// are queued in storage in the same step as the session ends and delivered
// with retries by Run, like mail.
type Backchannel struct {
	Store  storage.LogoutNotices // what Deliver claims and marks; SessionEnded writes in its caller's transaction
	Keys   *KeyManager
	Issuer string
	Now    func() time.Time
	Logger *slog.Logger
	Client *http.Client // nil: 10 s timeout, no redirects
	Poll   time.Duration

	waker *queue.Waker
}

// logoutClaims are the claims of a logout token.
type logoutClaims struct {
	Issuer   string                    `json:"iss"`
	Subject  string                    `json:"sub,omitempty"`
	Audience []string                  `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	ID       string                    `json:"jti"`
	SID      string                    `json:"sid,omitempty"`
	Events   map[string]map[string]any `json:"events"`
}

// SessionEnded queues a logout token for every client of the session that
// asked for one, in tx (the transaction that ends the session). Call it before the session's tokens are revoked: they are
// how Sesame knows which clients were there.
func (b *Backchannel) SessionEnded(ctx context.Context, tx storage.Tx, s storage.Session) error {
	clients, err := tx.ListSessionClients(ctx, s.ID)
	if err != nil {
		return err
	}
	queued := false
	for _, id := range clients {
		c, err := tx.GetClient(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if c.BackchannelLogoutURI == "" {
			continue
		}
		token, err := b.logoutToken(ctx, tx, c, s)
		if err != nil {
			return err
		}
		if err := tx.EnqueueLogoutNotice(ctx, storage.LogoutNotice{ID: storage.NewID("bcl"), ClientID: c.ID,
			URI: c.BackchannelLogoutURI, Token: token, CreatedAt: b.Now()}); err != nil {
			return err
		}
		queued = true
	}
	if queued {
		b.Wake()
	}
	return nil
}

func (b *Backchannel) logoutToken(ctx context.Context, tx storage.Tx, c storage.Client, s storage.Session) (string, error) {
	alg := Algorithms[0]
	if c.IDTokenSignedAlg != "" {
		alg = jose.SignatureAlgorithm(c.IDTokenSignedAlg)
	}
	key, err := b.Keys.SigningKeyWith(ctx, tx, alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := b.Now()
	claims := logoutClaims{Issuer: b.Issuer, Subject: s.UserID, Audience: []string{c.ID}, IssuedAt: now.Unix(),
		Expiry: now.Add(2 * time.Minute).Unix(), ID: storage.NewID("jti"), SID: s.ID,
		Events: map[string]map[string]any{BackchannelLogoutEvent: {}}}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// Wake asks Run to deliver now.
func (b *Backchannel) Wake() { b.waker.Wake() }

// Run delivers queued logout tokens until ctx ends.
func (b *Backchannel) Run(ctx context.Context) {
	b.waker.Run(ctx, b.Poll, b.Logger, "back-channel logout", func(ctx context.Context) error {
		_, err := b.Deliver(ctx)
		return err
	})
}

// NewBackchannel returns a notifier with its wake-up channel.
func NewBackchannel(store storage.LogoutNotices, keys *KeyManager, issuer string, now func() time.Time, logger *slog.Logger) *Backchannel {
	return &Backchannel{Store: store, Keys: keys, Issuer: issuer, Now: now, Logger: logger, waker: queue.NewWaker()}
}

// Deliver posts every due logout token and returns how many were accepted.
func (b *Backchannel) Deliver(ctx context.Context) (int, error) {
	client := b.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	sent := 0
	for {
		batch, err := b.Store.ClaimLogoutNotices(ctx, b.Now(), 2*time.Minute, 20)
		if err != nil || len(batch) == 0 {
			return sent, err
		}
		for _, n := range batch {
			err := post(ctx, client, n)
			if err != nil {
				next := b.Now().Add(backoff(n.Attempts))
				b.Logger.WarnContext(ctx, "back-channel logout not accepted, will retry", "client_id", n.ClientID, "attempt", n.Attempts, "err", err)
				if err := b.Store.MarkLogoutNoticeFailed(ctx, n.ID, err.Error(), next); err != nil {
					return sent, err
				}
				continue
			}
			if err := b.Store.MarkLogoutNoticeSent(ctx, n.ID, b.Now()); err != nil {
				return sent, err
			}
			sent++
		}
	}
}

func post(ctx context.Context, client *http.Client, n storage.LogoutNotice) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URI, strings.NewReader(url.Values{"logout_token": {n.Token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// backoff is the wait before attempt n+1: 10 s, 20 s, 40 s… at most 1 h.
func backoff(attempts int) time.Duration { return queue.Backoff(10*time.Second, attempts) }
