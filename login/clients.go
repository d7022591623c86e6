package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// Relying parties: the registration rules the command line (`sesame client
// add`), the management API and the console's Applications page share,
// and the writes that register, change, rotate and remove a client, each
// with its audit event in one transaction.

// FieldError refuses one field of a form, a command's flags or a request
// body: the field as the API names it (redirect_uris), what is wrong in a
// plain English sentence safe to show (the command line and the API show
// it), and the application error (code and message key) the doors map.
type FieldError struct {
	Field   string
	Problem string
	Err     *fail.Error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, key, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...), Err: fail.E(fail.Invalid, key)}
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// MinClientSecretLength is the shortest client secret an operator may set
// (provider.MinClientSecretLength: a test keeps them equal).
const MinClientSecretLength = 32

// IDTokenAlgorithms are the algorithms a client's ID tokens may be signed
// with (provider.Algorithms: a test keeps them equal).
var IDTokenAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// ClientGrants are the grants a client may be registered with.
var ClientGrants = []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken, storage.GrantClientCredentials,
	storage.GrantDeviceCode}

// CheckRedirectURI applies the registration policy to one URI of field:
// absolute, no fragment, https, or http on a loopback host, or a custom
// scheme for public (native) clients.
func CheckRedirectURI(field, raw string, public bool) error {
	const key = "Errors.Clients.RedirectURI"
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fieldErr(field, key, "%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fieldErr(field, key, "%q must not have a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fieldErr(field, key, "%q has no host", raw)
		}
	case "http":
		if !config.IsLoopbackHost(u.Hostname()) {
			return fieldErr(field, key, "%q must use https (http is only for localhost)", raw)
		}
	default:
		if !public {
			return fieldErr(field, key, "%q: custom schemes are only for public (native) clients", raw)
		}
	}
	return nil
}

// NormalizeClient fills what registration defaults: the name (the id), the
// grants (the authorization code), refresh tokens with the code.
func NormalizeClient(c *storage.Client) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		c.Name = c.ID
	}
	if len(c.Grants) == 0 {
		c.Grants = []string{storage.GrantAuthorizationCode}
	}
	if (slices.Contains(c.Grants, storage.GrantAuthorizationCode) || slices.Contains(c.Grants, storage.GrantDeviceCode)) &&
		!slices.Contains(c.Grants, storage.GrantRefreshToken) {
		c.Grants = append(c.Grants, storage.GrantRefreshToken)
	}
	slices.Sort(c.Grants)
	c.Grants = slices.Compact(c.Grants)
	slices.Sort(c.Scopes)
	c.Scopes = slices.Compact(c.Scopes)
}

// CheckClient refuses a client the registration policy does not allow;
// secret is one the operator chose ("" when one is generated). c is
// normalized first (NormalizeClient).
func CheckClient(c storage.Client, secret string) error {
	NormalizeClient(&c)
	switch {
	case c.ID == "":
		return fieldErr("id", "Errors.Clients.ID", "is required")
	case !clientIDPattern.MatchString(c.ID):
		return fieldErr("id", "Errors.Clients.ID", "use 1 to 64 letters, digits, dots, dashes or underscores")
	case len(c.Name) > 200 || !OneLine(c.Name):
		return fieldErr("name", "Errors.Clients.Name", "must be one line of at most 200 characters")
	case c.Public && secret != "":
		return fieldErr("public", "Errors.Clients.PublicSecret", "cannot be combined with --secret")
	case c.Public && c.AllowNoPKCE:
		return fieldErr("allow_no_pkce", "Errors.Clients.NoPKCE", "is only for confidential clients (public clients always use PKCE)")
	case secret != "" && len(secret) < MinClientSecretLength:
		// It is verified with a fast keyed hash, as the generated ones
		// (256 random bits) are: it must not be guessable.
		return fieldErr("secret", "Errors.Clients.Secret", "must be at least %d characters (or leave it out: one is generated)", MinClientSecretLength)
	case c.IDTokenSignedAlg != "" && !slices.Contains(IDTokenAlgorithms, c.IDTokenSignedAlg):
		return fieldErr("id_token_signed_response_alg", "Errors.Clients.Alg", "must be RS256, ES256 or EdDSA")
	}
	for _, g := range c.Grants {
		if !slices.Contains(ClientGrants, g) {
			return fieldErr("grants", "Errors.Clients.Grant", "%q is not a grant (authorization_code, refresh_token, client_credentials, device_code)", g)
		}
	}
	code, cc := slices.Contains(c.Grants, storage.GrantAuthorizationCode), slices.Contains(c.Grants, storage.GrantClientCredentials)
	switch {
	case cc && c.Public:
		return fieldErr("grants", "Errors.Clients.Grant", "client_credentials is only for confidential clients")
	case !code && !slices.Contains(c.Grants, storage.GrantDeviceCode) && slices.Contains(c.Grants, storage.GrantRefreshToken):
		return fieldErr("grants", "Errors.Clients.Grant", "refresh_token comes with authorization_code or device_code")
	case code && len(c.RedirectURIs) == 0:
		return fieldErr("redirect_uris", "Errors.Clients.RedirectURI", "is required")
	case !code && (len(c.RedirectURIs) > 0 || len(c.PostLogoutRedirectURIs) > 0 || c.BackchannelLogoutURI != ""):
		return fieldErr("redirect_uris", "Errors.Clients.RedirectURI", "are only for the authorization_code grant")
	case c.Protocol.ThirdParty && !code:
		return fieldErr("third_party", "Errors.Clients.ThirdParty", "consent is asked of people signing in: a third-party client needs the authorization_code grant")
	case len(c.Scopes) > 0 && !cc:
		return fieldErr("scopes", "Errors.Clients.Scope", "are only for the client_credentials grant")
	case cc && len(c.Scopes) == 0:
		return fieldErr("scopes", "Errors.Clients.Scope", "at least one is required with client_credentials (%s)", strings.Join(vocab.APIScopes, ", "))
	case len(c.RedirectURIs) > 20 || len(c.PostLogoutRedirectURIs) > 20:
		return fieldErr("redirect_uris", "Errors.Clients.RedirectURI", "at most 20")
	}
	for _, s := range c.Scopes {
		if !slices.Contains(vocab.APIScopes, s) {
			return fieldErr("scopes", "Errors.Clients.Scope", "%q is not a scope (%s)", s, strings.Join(vocab.APIScopes, ", "))
		}
	}
	for _, u := range c.RedirectURIs {
		if err := CheckRedirectURI("redirect_uris", u, c.Public); err != nil {
			return err
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := CheckRedirectURI("post_logout_redirect_uris", u, c.Public); err != nil {
			return err
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := CheckRedirectURI("backchannel_logout_uri", c.BackchannelLogoutURI, false); err != nil {
			return err
		}
	}
	return CheckProtocol(c, secret) // clientprotocol.go
}

// ErrClientExists and ErrNoClient are the refusals of a client's id.
var (
	ErrClientExists = fail.E(fail.Conflict, "Errors.Clients.Exists")
	ErrNoClient     = fail.E(fail.NotFound, "Errors.Clients.NotFound")
)

func (a *Accounts) hashSecret(secret string) (string, error) {
	if a.HashClientSecret == nil {
		return "", errors.New("login: Accounts.HashClientSecret is not set")
	}
	return a.HashClientSecret(secret)
}

// RegisterClient checks and registers a client with its audit event. A
// confidential client without a secret gets one generated, returned once
// (only its keyed hash is stored).
func (a *Accounts) RegisterClient(ctx context.Context, actor Actor, c storage.Client, secret string) (storage.Client, string, error) {
	NormalizeClient(&c)
	if err := CheckClient(c, secret); err != nil {
		return c, "", err
	}
	generated := ""
	if !c.Public && !c.Protocol.KeyedAuth() { // a keyed client has no secret
		if secret == "" {
			generated = storage.NewSecret()
			secret = generated
		}
		h, err := a.hashSecret(secret)
		if err != nil {
			return c, "", err
		}
		c.SecretHash = h
	}
	c.CreatedAt = a.Now()
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.CreateClient(ctx, c); errors.Is(err, storage.ErrConflict) {
			return &FieldError{Field: "id", Problem: fmt.Sprintf("a client %q already exists", c.ID), Err: ErrClientExists}
		} else if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "client.created", "client", c.ID, "", clientDetails(c))
	})
	if err != nil {
		return storage.Client{}, "", err
	}
	return c, generated, nil
}

func clientDetails(c storage.Client) string {
	return "grants=" + strings.Join(c.Grants, ",") + " scopes=" + strings.Join(c.Scopes, ",") +
		" redirect_uris=" + strings.Join(c.RedirectURIs, " ")
}

// UpdateClient changes a client with change (which must not touch its id,
// secret or kind), checks the result as a registration is, and audits it.
// check, when set, sees the client as stored before the change (the API's
// If-Match) and may refuse.
func (a *Accounts) UpdateClient(ctx context.Context, actor Actor, id string, check func(storage.Client) error, change func(*storage.Client)) (storage.Client, error) {
	var out storage.Client
	err := a.Store.Atomic(ctx, func(tx storage.Tx) error {
		err := tx.UpdateClient(ctx, id, func(c *storage.Client) error {
			if check != nil {
				if err := check(*c); err != nil {
					return err
				}
			}
			change(c)
			NormalizeClient(c)
			if err := CheckClient(*c, ""); err != nil {
				return err
			}
			out = *c
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNoClient
		} else if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "client.updated", "client", id, "", clientDetails(out))
	})
	return out, err
}

// RotateClientSecret gives a confidential client a new generated secret,
// returned once; the old one stops working at once.
func (a *Accounts) RotateClientSecret(ctx context.Context, actor Actor, id string, check func(storage.Client) error) (storage.Client, string, error) {
	secret := storage.NewSecret()
	h, err := a.hashSecret(secret)
	if err != nil {
		return storage.Client{}, "", err
	}
	var out storage.Client
	err = a.Store.Atomic(ctx, func(tx storage.Tx) error {
		err := tx.UpdateClient(ctx, id, func(c *storage.Client) error {
			if check != nil {
				if err := check(*c); err != nil {
					return err
				}
			}
			if c.Public {
				return fieldErr("public", "Errors.Clients.PublicSecret", "a public client has no secret")
			}
			c.SecretHash = h
			out = *c
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNoClient
		} else if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "client.secret_rotated", "client", id, "", "")
	})
	if err != nil {
		return storage.Client{}, "", err
	}
	return out, secret, nil
}

// RemoveClient deletes a client and every token it holds.
func (a *Accounts) RemoveClient(ctx context.Context, actor Actor, id string, check func(storage.Client) error) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		c, err := tx.GetClient(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNoClient
		} else if err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		if err := tx.DeleteClient(ctx, id); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "client.removed", "client", id, "", "")
	})
}
