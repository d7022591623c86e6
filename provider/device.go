package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Device authorization (RFC 8628), for clients registered with the
// device_code grant (a command-line tool, a TV: typically public).
//
// What the library does: the endpoint's route, the client's
// authentication, the request's decoding, the codes (op.NewDeviceCode, 128
// bits; op.NewUserCode with Sesame's alphabet), the response with
// verification_uri(_complete) (createDeviceAuthorization, through
// opStorage.StoreDeviceAuthorization), the grant_type check at the token
// endpoint and the token response (op.CreateDeviceTokenResponse).
//
// What Sesame adds around it: the endpoint refuses a client without the
// grant and scopes Sesame does not know (the library checks neither); only
// hashes of both codes are stored (the user code's keyed, see
// storage.HashUserCode); the token endpoint's answer is server.DeviceToken,
// not the library's, which has no slow_down, reads the wall clock and maps
// a 4-second storage timeout to slow_down: here each poll is recorded in
// one statement that raises the interval by 5 s when it came too early
// (RFC 8628 §3.5), expiry follows the injected clock, and the device code
// is spent in the transaction that stores its tokens, so it yields tokens
// once. The page where the person types the user code is the login
// screens' (vocab.PathDevice), behind the sign-in gate.
//
// The tokens belong to no browser session: ending the session of the
// phone that approved does not sign the television out (no sid claim);
// disabling the person does, at the next refresh. They carry the amr and
// auth_time of the session that approved.

// PathDeviceAuthorization is the device authorization endpoint.
const PathDeviceAuthorization = "/oauth/device_authorization"

// Device authorization lifetimes.
const (
	DeviceCodeLifetime = 10 * time.Minute
	DevicePollInterval = 5 * time.Second
	// DevicePollTolerance: a poll that comes at most this much before its
	// interval is over is not too fast (two polls sent 5 s apart may
	// arrive 4.8 s apart).
	DevicePollTolerance = 500 * time.Millisecond
)

var _ op.DeviceAuthorizationStorage = (*opStorage)(nil)

// deviceConfig is the library's configuration of the flow.
func deviceConfig() op.DeviceAuthorizationConfig {
	return op.DeviceAuthorizationConfig{Lifetime: DeviceCodeLifetime, PollInterval: DevicePollInterval, UserFormPath: vocab.PathDevice,
		UserCode: op.UserCodeConfig{CharSet: storage.UserCodeAlphabet, CharAmount: storage.UserCodeLength, DashInterval: 4}}
}

// StoreDeviceAuthorization stores the request the library made, by the
// hashes of its codes; its expiry follows Sesame's clock, not the one the
// library read.
func (s *opStorage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, _ time.Time, scopes []string) error {
	code, ok := storage.NormalizeUserCode(userCode)
	if !ok {
		return fmt.Errorf("provider: the library made a user code outside the alphabet")
	}
	now := s.now()
	err := s.store.CreateDeviceAuthorization(ctx, storage.DeviceAuthorization{ID: storage.NewID("dv"), DeviceHash: storage.HashToken(deviceCode),
		UserHash: storage.HashUserCode(s.userCodeKey, code), ClientID: clientID, Scopes: scopes, Interval: int(DevicePollInterval / time.Second),
		CreatedAt: now, ExpiresAt: now.Add(DeviceCodeLifetime)})
	if err != nil {
		return serverError(err)
	}
	return nil
}

// GetDeviceAuthorizatonState is not the path Sesame's polls take (see
// server.DeviceToken), but it is part of the interface.
func (s *opStorage) GetDeviceAuthorizatonState(context.Context, string, string) (*op.DeviceAuthorizationState, error) {
	return nil, errors.New("provider: device polls are answered by server.DeviceToken")
}

// DeviceAuthorization refuses what the library lets through: a client
// without the grant, a scope Sesame does not know.
func (s *server) DeviceAuthorization(ctx context.Context, r *op.ClientRequest[oidc.DeviceAuthorizationRequest]) (*op.Response, error) {
	if !op.ValidateGrantType(r.Client, oidc.GrantTypeDeviceCode) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the device_code grant is not registered for this client")
	}
	if len(r.Data.Scopes) > 20 {
		return nil, oidc.ErrInvalidScope().WithDescription("too many scopes")
	}
	for _, sc := range r.Data.Scopes {
		if !slices.Contains(SupportedScopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not supported", sc)
		}
	}
	r.Data.Scopes = slices.Compact(slices.Sorted(slices.Values(r.Data.Scopes)))
	return s.LegacyServer.DeviceAuthorization(ctx, r)
}

// Polling answers (RFC 8628 §3.5).
var (
	errDevicePending = func() error { return oidc.ErrAuthorizationPending() }
	errDeviceUnknown = func() error {
		return oidc.ErrInvalidGrant().WithDescription("unknown device code")
	}
)

// DeviceToken answers a poll: the tokens once the person approved, else
// what the RFC says to wait for or give up on.
func (s *server) DeviceToken(ctx context.Context, r *op.ClientRequest[oidc.DeviceAccessTokenRequest]) (*op.Response, error) {
	if err := requireDPoP(ctx, r.Client); err != nil {
		return nil, err
	}
	if len(r.Data.DeviceCode) > 256 {
		return nil, errDeviceUnknown()
	}
	now := s.opts.Now()
	p, err := s.opts.Store.PollDeviceAuthorization(ctx, r.Client.GetID(), storage.HashToken(r.Data.DeviceCode), now, DevicePollTolerance)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errDeviceUnknown()
	case err != nil:
		return nil, serverError(err)
	}
	d := p.DeviceAuthorization
	switch {
	case d.State == storage.DeviceUsed:
		return nil, oidc.ErrInvalidGrant().WithDescription("device code already used")
	case !now.Before(d.ExpiresAt):
		return nil, oidc.ErrExpiredDeviceCode()
	case d.State == storage.DeviceDenied:
		return nil, oidc.ErrAccessDenied().WithDescription("the person refused")
	case d.State == storage.DevicePending && p.TooFast:
		return nil, oidc.ErrSlowDown().WithDescription("poll every %d seconds", d.Interval)
	case d.State == storage.DevicePending:
		return nil, errDevicePending()
	case d.State != storage.DeviceApproved:
		return nil, serverError(fmt.Errorf("device authorization %s in state %q", d.ID, d.State))
	}
	if err := s.store.userActive(ctx, d.UserID); err != nil {
		return nil, err
	}
	req := &deviceRequest{authRequest{storage.AuthRequest{ID: d.ID, ClientID: d.ClientID, Scopes: d.Scopes,
		ResponseType: string(oidc.ResponseTypeCode), UserID: d.UserID, AuthTime: d.AuthTime, AMR: d.AMR, Done: true}}}
	resp, err := op.CreateDeviceTokenResponse(withAlg(ctx, r.Client), req, s.provider, r.Client)
	switch {
	case errors.Is(err, errDeviceUsed):
		return nil, oidc.ErrInvalidGrant().WithDescription("device code already used")
	case err != nil:
		return nil, err
	}
	s.issued("device_code")
	dpopTyped(ctx, resp)
	return op.NewResponse(resp), nil
}

// deviceRequest is an approved device authorization on its way to tokens:
// an authorization request answered by the person (so the library gives a
// refresh token for offline_access when the client has the grant, and the
// ID token its acr), without session, whose tokens are stored in the
// transaction that spends it (opStorage.storeTokens).
type deviceRequest struct{ authRequest }

// errDeviceUsed: the device code was spent meanwhile (a racing poll).
var errDeviceUsed = errors.New("provider: device code already used")

// storeDeviceTokens spends the device authorization and stores its tokens,
// together.
func (s *opStorage) storeDeviceTokens(ctx context.Context, d *deviceRequest, a storage.AccessToken, r *storage.RefreshToken) error {
	err := s.store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.UseDeviceAuthorization(ctx, d.r.ID); err != nil {
			return err
		}
		return tx.CreateTokens(ctx, a, r)
	})
	if errors.Is(err, storage.ErrAlreadyUsed) {
		return errDeviceUsed
	}
	return err
}

// deviceGrant maps the grant as clients are registered with it to the
// token endpoint's grant_type.
func deviceGrant(g string) oidc.GrantType {
	if g == storage.GrantDeviceCode {
		return oidc.GrantTypeDeviceCode
	}
	return oidc.GrantType(g)
}

// UserCodeKey is the key of the user codes' hashes (storage.HashUserCode),
// derived from the secret-encryption key: the login screens hash what a
// person types with it to find the request.
func UserCodeKey(master []byte) ([]byte, error) {
	k, err := secretbox.Derive(master, "device-user-codes")
	if err != nil {
		return nil, err
	}
	return k[:], nil
}
