package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Organization statuses.
const (
	OrgPending   = "pending"
	OrgValidated = "validated"
	OrgRejected  = "rejected"
	OrgSuspended = "suspended"
)

// OrgStatuses lists every organization status, in lifecycle order.
var OrgStatuses = []string{OrgPending, OrgValidated, OrgRejected, OrgSuspended}

// Domiciles of an organization.
const (
	DomicileFrance = "FR"
	DomicileAbroad = "abroad"
)

// Membership roles. A person may hold both.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Organization is a company registered on the marketplace.
type Organization struct {
	ID             string
	Name           string
	Domicile       string // DomicileFrance or DomicileAbroad
	Country        string // ISO 3166-1 alpha-2; "FR" for French organizations
	SIRET          string // 14 digits, French organizations only
	SIREN          string // 9 digits, French organizations only
	LegalName      string
	Address        string
	Status         string
	CloudAccountID string
	RejectReason   string
	CreatedAt      time.Time
	ValidatedAt    time.Time // zero until validated
	ValidatedBy    string
	// RequireMFA makes every member enrol a second factor.
	RequireMFA bool
	// RequirePasskey makes every member sign in with a passkey
	// (phishing-resistant): those without one enrol at their next sign-in.
	RequirePasskey bool
	// SignupKey makes sign-up idempotent: a form submitted twice carries the
	// same key and finds the organization the first submit created.
	SignupKey string
}

// User is a person who can sign in. Email is unique case-insensitively;
// PasswordHash is empty until the person sets a password.
type User struct {
	ID           string
	Email        string
	PasswordHash string
	Name         string
	Locale       string // the language of their mail ("" reads as French)
	// ChosenLang is the page language the person chose themselves (at
	// activation or in their settings), "" when they never chose: it
	// outranks their browser's Accept-Language, Locale does not (an
	// administrator or the CLI picks Locale for the mail).
	ChosenLang    string
	Disabled      bool
	IsOperator    bool // validates organizations; belongs to none
	CreatedAt     time.Time
	UpdatedAt     time.Time
	PasswordSetAt time.Time
	LastSignInAt  time.Time
}

// Person is a user with their membership and its organization, read
// together (what every token's claims need); both are nil for a person
// without an organization (an operator).
type Person struct {
	User         User
	Membership   *Membership
	Organization *Organization
}

// RefreshGrant is what a refresh needs, read at once: the token, the
// client it was issued to, and its person with their organization.
type RefreshGrant struct {
	Token  RefreshToken
	Client Client
	Person Person
}

// CodeGrant is what a code exchange needs, read at once: the answered
// authorization request, its client and its person with their organization.
type CodeGrant struct {
	Request AuthRequest
	Client  Client
	Person  Person
}

// Membership ties a person to their one organization.
type Membership struct {
	UserID string
	OrgID  string
	Roles  []string // subset of {admin, user}, sorted, never empty
}

// ValidRoles reports whether roles is a non-empty subset of {admin, user}
// without duplicates.
func ValidRoles(roles []string) bool {
	if len(roles) == 0 || len(roles) > 2 {
		return false
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if (r != RoleAdmin && r != RoleUser) || seen[r] {
			return false
		}
		seen[r] = true
	}
	return true
}

// NormalizeRoles returns roles sorted and without duplicates.
func NormalizeRoles(roles []string) []string {
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}

// Client is a registered relying party.
type Client struct {
	ID                     string
	Name                   string
	SecretHash             string // a keyed hash (provider.HashClientSecret), or a legacy PHC argon2id; empty for public clients
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	AllowNoPKCE            bool   // legacy confidential clients only
	IDTokenSignedAlg       string // "" means the provider's default (RS256)
	BackchannelLogoutURI   string // OpenID Connect Back-Channel Logout 1.0
	CreatedAt              time.Time
	// Grants are the OAuth grants it may use (see GrantTypes); Scopes the
	// management API's scopes it may be given (client_credentials).
	Grants   []string
	Scopes   []string
	Protocol ClientProtocol // PAR, private_key_jwt, DPoP, JWT access tokens… (fapi.go)
}

// AuthRequest is an OpenID Connect authorization request on its way through
// the login screens, then the code that answers it.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scopes              []string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              *uint
	LoginHint           string
	UILocales           []string
	ACRValues           []string
	HintUserID          string // subject of a valid id_token_hint
	CreatedAt           time.Time
	ExpiresAt           time.Time

	// Set when the person has authenticated.
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	Done      bool
	IDP       string // the answering session's IDP
	// Error is an OAuth error code (login_required, access_denied…) the
	// login screens chose to answer with instead of a code.
	Error string

	// Set when the code is issued, then when it is exchanged.
	CodeHash   string
	CodeExpiry time.Time
	ConsumedAt time.Time
}

// AccessToken is the record behind an opaque access token. The token
// itself is an encrypted reference to ID and is never stored.
type AccessToken struct {
	ID        string
	GrantID   string // the authorization request the grant started with
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	JKT       string // the DPoP key it is bound to (RFC 9449 cnf.jkt), or ""
}

// RefreshToken is a refresh token, stored by hash. Tokens of one grant form
// a family: each use rotates the token, and a second use of a rotated token
// revokes the family.
type RefreshToken struct {
	ID        string
	Hash      string
	GrantID   string
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string
	Audience  []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until rotated
	JKT       string    // the DPoP key it is bound to (public clients), or ""
	IDP       string    // the company provider that authenticated the session, or ""
	ACR       string    // the acr its grant's first ID token stated, or "" (issued before version 16)
}

// Session is a browser session, found by the hash of its cookie value. ID is
// public (it is the sid claim); the cookie value never is.
type Session struct {
	ID                string
	Hash              string
	UserID            string
	AuthTime          time.Time
	AMR               []string
	CreatedAt         time.Time
	LastSeen          time.Time
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
	UserAgent         string
	IP                string
	// IDP is the issuer of the company's provider that authenticated the
	// session (company sign-in); "" for Sesame's own proofs.
	IDP string
}

// SigningKey is a key pair that signs ID tokens. The private part is
// encrypted by the caller before it reaches storage.
type SigningKey struct {
	ID               string // the kid
	Algorithm        string // RS256, ES256, EdDSA
	PrivateEncrypted []byte
	Public           []byte // the public JWK, JSON
	CreatedAt        time.Time
	// RetiredAt is set when a newer key of the same algorithm replaces it;
	// PublishUntil is when its public part may leave the key set.
	RetiredAt    time.Time
	PublishUntil time.Time
}

// NewID returns a random, opaque identifier with a readable prefix, such as
// "usr_3mz2…". 128 bits of randomness.
func NewID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewSecret returns a random 256-bit secret, URL-safe.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the SHA-256 of a high-entropy token, the only form in
// which tokens, codes and session ids are stored. A fast hash is enough:
// the input is 256 random bits, so there is nothing to brute-force.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NormalizeEmail folds an email address for comparison: trimmed, lower case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Purposes of action tokens (the links mailed to people).
const (
	PurposeSetPassword   = "set_password"
	PurposeResetPassword = "reset_password"
)

// ActionToken is a single-use link, stored by the hash of its token.
type ActionToken struct {
	Hash      string
	UserID    string
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// Mail is a message in the outbox. It is written in the same transaction as
// the action that causes it and stays until an SMTP server accepted it; its
// body is then erased. Text holds the body sealed by login/mail while the
// mail is queued (HTML is then empty): storage does not look into it.
type Mail struct {
	ID            string
	Kind          string // invitation, org_validated…: for logs and tests
	To            string
	Subject       string
	Text          string
	HTML          string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	SentAt        time.Time
	LastError     string
}

// AuditEvent is one security-relevant fact: who did what to what, when, from where.
type AuditEvent struct {
	ID         string
	At         time.Time
	ActorID    string // a user id, "cli", or "" for anonymous
	Action     string // org.created, org.validated, member.invited…
	TargetType string
	TargetID   string
	OrgID      string
	IP         string
	Details    string
}

// AuditFilter selects audit events; zero fields select everything.
type AuditFilter struct {
	OrgID string
	Since time.Time
	Limit int
	// ActorID and Action select one actor's, one action's events, and
	// ActionPrefix ("member.") a kind of them; Until the events before it
	// (exclusive). BeforeAt and BeforeID are a cursor: the events after
	// (older than) this one, in the newest-first order (the API's pages);
	// Offset skips that many (the audit screens' pages).
	ActorID, Action string
	ActionPrefix    string
	Until           time.Time
	BeforeAt        time.Time
	BeforeID        string
	Offset          int
}

// TOTP is a person's authenticator secret (encrypted by the caller).
type TOTP struct {
	UserID          string
	SecretEncrypted []byte
	CreatedAt       time.Time
	ConfirmedAt     time.Time // zero while the enrolment is not confirmed
	LastStep        int64     // the last time step used: older codes are refused
}

// LoginFailures counts failed sign-ins of one email address.
type LoginFailures struct {
	Key         string
	Failures    int
	LockedUntil time.Time
}

// LogoutNotice is a back-channel logout token on its way to a client.
type LogoutNotice struct {
	ID            string
	ClientID      string
	URI           string
	Token         string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	SentAt        time.Time
	LastError     string
}
