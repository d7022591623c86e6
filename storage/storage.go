package storage

import (
	"context"
	"time"
)

// Organizations stores organizations.
type Organizations interface {
	CreateOrganization(ctx context.Context, org Organization) error
	GetOrganization(ctx context.Context, id string) (Organization, error)
	// ListOrganizations lists organizations, oldest first; status "" lists all.
	ListOrganizations(ctx context.Context, status string) ([]Organization, error)
	// UpdateOrganization reads, changes and writes one organization
	// atomically; update returning an error leaves it untouched.
	UpdateOrganization(ctx context.Context, id string, update func(*Organization) error) error
	// GetOrganizationBySignupKey finds the organization a sign-up form created.
	GetOrganizationBySignupKey(ctx context.Context, key string) (Organization, error)
	// LockOrganization holds the organization's row until the transaction
	// ends, so that a rule counting its members (the last admin) sees no
	// concurrent change; ErrNotFound when there is none. Outside a
	// transaction it only checks that the organization exists.
	LockOrganization(ctx context.Context, id string) error
}

// Users stores people and their membership.
type Users interface {
	// CreateUser creates the person and, when m is not nil, their
	// membership, in one transaction. ErrConflict when the email is taken.
	CreateUser(ctx context.Context, u User, m *Membership) error
	GetUser(ctx context.Context, id string) (User, error)
	// GetPerson returns the person with their membership and organization,
	// if any, in one read; ErrNotFound when there is no such person.
	GetPerson(ctx context.Context, id string) (Person, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// GetPersonByEmail is GetPerson for an email address (any case), in
	// one read; ErrNotFound when no one has it.
	GetPersonByEmail(ctx context.Context, email string) (Person, error)
	// ListUsers lists people, oldest first; orgID "" lists all.
	ListUsers(ctx context.Context, orgID string) ([]User, error)
	UpdateUser(ctx context.Context, id string, update func(*User) error) error
	// RecordSignIn sets the person's last sign-in time and, when rehash is
	// not empty, replaces their password hash with it (the same password
	// hashed with new parameters), in one statement; ErrNotFound when
	// there is no such person.
	RecordSignIn(ctx context.Context, id string, at time.Time, rehash string) error
	// GetMembership returns the person's membership, ErrNotFound if none.
	GetMembership(ctx context.Context, userID string) (Membership, error)
	// GetMembershipOrganization returns the membership and its organization
	// in one read (the claims of every token), ErrNotFound if none.
	GetMembershipOrganization(ctx context.Context, userID string) (Membership, Organization, error)
	// ListMemberships lists an organization's memberships, oldest member first.
	ListMemberships(ctx context.Context, orgID string) ([]Membership, error)
	// SetRoles replaces a person's roles in their organization.
	SetRoles(ctx context.Context, userID string, roles []string) error
	// DeleteUser deletes the person, their membership, sessions, links and tokens.
	DeleteUser(ctx context.Context, id string) error
	// DropInvitations deletes the invitations not yet accepted (people
	// without a password, in an organization) of the address, but
	// keepUserID's, with their links, and returns their memberships: the
	// first invitation accepted wins over the others.
	DropInvitations(ctx context.Context, email, keepUserID string) ([]Membership, error)
}

// ActionTokens stores the single-use links mailed to people.
type ActionTokens interface {
	CreateActionToken(ctx context.Context, t ActionToken) error
	GetActionToken(ctx context.Context, hash string) (ActionToken, error)
	// ConsumeActionToken marks the token used at now and returns it:
	// ErrNotFound when unknown or expired, ErrAlreadyUsed when used.
	ConsumeActionToken(ctx context.Context, hash string, now time.Time) (ActionToken, error)
	// VoidActionTokens marks every unused link of the person used at now
	// (a link was used, or the password changed: no other may serve).
	VoidActionTokens(ctx context.Context, userID string, now time.Time) error
}

// Outbox stores mail until it is sent.
type Outbox interface {
	EnqueueMail(ctx context.Context, m Mail) error
	// ClaimMails returns up to limit unsent mails due at now and pushes their
	// next attempt lease into the future, so that no other worker takes them
	// while this one sends.
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Mail, error)
	// MarkMailSent records that the SMTP server accepted the mail and
	// erases its text and html: a sent mail keeps no link at rest.
	MarkMailSent(ctx context.Context, id string, now time.Time) error
	MarkMailFailed(ctx context.Context, id string, reason string, next time.Time) error
	// ListMails lists the most recent mails, newest first.
	ListMails(ctx context.Context, limit int) ([]Mail, error)
	// CountUnsentMails counts the mails the SMTP server has not yet accepted.
	CountUnsentMails(ctx context.Context) (int, error)
}

// Audit stores the audit trail.
type Audit interface {
	RecordEvent(ctx context.Context, e AuditEvent) error
	// ListEvents lists events, newest first.
	ListEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PruneEvents deletes events older than before (the retention).
	PruneEvents(ctx context.Context, before time.Time) (int64, error)
}

// RateLimits counts events per key in fixed windows, in the database so
// that every replica sees the same counts.
type RateLimits interface {
	// Hit counts one event for key in the window that contains now and
	// returns the count so far and when the window ends.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error)
}

// Clients stores relying parties.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	DeleteClient(ctx context.Context, id string) error
	// ReplaceClientSecretHash replaces the client's secret hash with
	// newHash if it is still oldHash (the same secret, rehashed): a secret
	// changed meanwhile is never overwritten. ErrNotFound when the client
	// is gone or its hash is no longer oldHash.
	ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error
}

// AuthRequests stores authorization requests and their codes.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, update func(*AuthRequest) error) error
	// AnswerAuthRequest records that session s answers the request (its
	// person, session, authentication time and methods) and returns the
	// request as stored, in one statement; ErrNotFound when the request is
	// unknown, already answered or expired at now.
	AnswerAuthRequest(ctx context.Context, id string, s Session, now time.Time) (AuthRequest, error)
	// GetAuthRequestByCode finds the request whose code hashes to codeHash.
	GetAuthRequestByCode(ctx context.Context, codeHash string) (AuthRequest, error)
	// GetCodeGrant returns the request whose code hashes to codeHash, with
	// its client and person, in one read; ErrNotFound when any is missing.
	GetCodeGrant(ctx context.Context, codeHash string) (CodeGrant, error)
	// SetCode records the code of an answered request, in one statement;
	// ErrNotFound when the request is unknown, not answered or has a code.
	SetCode(ctx context.Context, id, codeHash string, expiry time.Time) error
	// ConsumeCode marks the code exchanged; ErrAlreadyUsed when it was.
	ConsumeCode(ctx context.Context, id string, now time.Time) error
	DeleteAuthRequest(ctx context.Context, id string) error
}

// Tokens stores access and refresh tokens.
type Tokens interface {
	// CreateTokens stores an access token and, when r is not nil, a refresh
	// token, in one transaction.
	CreateTokens(ctx context.Context, a AccessToken, r *RefreshToken) error
	GetAccessToken(ctx context.Context, id string) (AccessToken, error)
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// GetRefreshGrant returns the token with its client and person in one
	// read; ErrNotFound when any of them is gone.
	GetRefreshGrant(ctx context.Context, hash string) (RefreshGrant, error)
	// RotateRefreshToken marks the token with oldHash used and stores the
	// new pair, atomically. When the old token was already used, it revokes
	// every token of its grant and returns ErrAlreadyUsed.
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, a AccessToken, r RefreshToken) error
	// RevokeGrant deletes every token of a grant (code replay, refresh reuse).
	RevokeGrant(ctx context.Context, grantID string) error
	RevokeAccessToken(ctx context.Context, id string) error
	// RevokeRefreshToken deletes a refresh token and the access tokens of its grant.
	RevokeRefreshToken(ctx context.Context, hash string) error
	// RevokeSessionTokens deletes every token issued in a browser session.
	RevokeSessionTokens(ctx context.Context, sessionID string) error
}

// Sessions stores browser sessions.
type Sessions interface {
	CreateSession(ctx context.Context, s Session) error
	// GetSession finds a live session by the hash of its cookie value.
	GetSession(ctx context.Context, hash string, now time.Time) (Session, error)
	GetSessionByID(ctx context.Context, id string) (Session, error)
	// TouchSession records activity and pushes the idle expiry.
	TouchSession(ctx context.Context, id string, lastSeen, idleExpiresAt time.Time) error
	DeleteSession(ctx context.Context, id string) error
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// ListSessionClients lists the clients that received tokens or codes in a session.
	ListSessionClients(ctx context.Context, sessionID string) ([]string, error)
	// ListExpiredSessions lists up to limit sessions expired at now.
	ListExpiredSessions(ctx context.Context, now time.Time, limit int) ([]Session, error)
}

// SigningKeys stores the provider's key pairs.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys lists every key still published, newest first.
	ListSigningKeys(ctx context.Context, now time.Time) ([]SigningKey, error)
	// RotateSigningKey stores k and retires the other active keys of its
	// algorithm, published until publishUntil, in one transaction.
	RotateSigningKey(ctx context.Context, k SigningKey, now, publishUntil time.Time) error
}

// SecondFactors stores TOTP secrets and recovery codes.
type SecondFactors interface {
	// PutTOTP starts (or restarts) an enrolment; it replaces any secret.
	PutTOTP(ctx context.Context, t TOTP) error
	GetTOTP(ctx context.Context, userID string) (TOTP, error)
	// ConfirmTOTP confirms the enrolment at step and replaces the recovery codes.
	ConfirmTOTP(ctx context.Context, userID string, step int64, now time.Time, recoveryHashes []string) error
	// UseTOTPStep records step as used; ErrAlreadyUsed when it is not after the last one.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the secret and the recovery codes.
	DeleteTOTP(ctx context.Context, userID string) error
	// UseRecoveryCode spends a code: ErrNotFound if unknown, ErrAlreadyUsed if spent.
	UseRecoveryCode(ctx context.Context, userID, hash string, now time.Time) error
	// CountRecoveryCodes counts the unspent codes.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// LoginThrottle counts failed sign-ins per email address, for every
// replica to see.
type LoginThrottle interface {
	// GetLoginFailures returns the count; a zero value when there is none.
	GetLoginFailures(ctx context.Context, key string) (LoginFailures, error)
	// RecordLoginFailure adds a failure and locks for lockFor(failures).
	RecordLoginFailure(ctx context.Context, key string, now time.Time, lockFor func(failures int) time.Duration) (LoginFailures, error)
	ClearLoginFailures(ctx context.Context, key string) error
}

// LogoutNotices stores back-channel logout tokens until delivered.
type LogoutNotices interface {
	EnqueueLogoutNotice(ctx context.Context, n LogoutNotice) error
	ClaimLogoutNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]LogoutNotice, error)
	MarkLogoutNoticeSent(ctx context.Context, id string, now time.Time) error
	MarkLogoutNoticeFailed(ctx context.Context, id, reason string, next time.Time) error
}

// Tx is every read and write of the data: what a transaction takes, and
// what a function that works both inside and outside a transaction takes.
// Storage is one, running each call on its own; Atomic hands its function
// another, bound to the transaction.
type Tx interface {
	Organizations
	Users
	Clients
	AuthRequests
	Tokens
	Sessions
	SigningKeys
	ActionTokens
	Outbox
	Audit
	RateLimits
	SecondFactors
	LoginThrottle
	LogoutNotices
	Protocol
	DeviceAuthorizations // device.go
	Passkeys
	Domains
	SSOConnections
	Management
	Consents
}

// Transactor runs functions in one transaction.
type Transactor interface {
	// Atomic runs fn in one transaction: the calls fn makes on tx commit
	// together or not at all. The transaction is the value tx, never the
	// context: a call that fn makes on the Storage itself panics (it would
	// run outside the transaction, and on SQLite wait for it).
	Atomic(ctx context.Context, fn func(tx Tx) error) error
}

// GarbageCollector deletes what has expired.
type GarbageCollector interface {
	// GarbageCollect deletes what expired before now and says how much.
	GarbageCollect(ctx context.Context, now time.Time) (GCResult, error)
}

// Pinger checks that the database answers (a health check).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Storage is everything Sesame stores, in one backend: what its owner
// opens, hands out and closes. A consumer declares the narrow interface it
// uses instead (the aggregates above, Transactor, Pinger…): provider.Store,
// provider.KeyManager's storage.SigningKeys, the back-channel's
// storage.LogoutNotices. Atomic's function gets the whole Tx all the same:
// the transaction stays one explicit value.
type Storage interface {
	Tx
	Transactor
	GarbageCollector
	Pinger
	Close() error
}

// GCResult counts what GarbageCollect deleted.
type GCResult struct {
	AuthRequests  int64
	AccessTokens  int64
	RefreshTokens int64
	Sessions      int64
	SigningKeys   int64
	ActionTokens  int64
	Mails         int64
	RateLimits    int64
	Protocol      int64 // pushed authorization requests and single-use ids (fapi.go)
}

// Passkeys stores people's WebAuthn credentials (passkeys) and the
// challenges already answered.
type Passkeys interface {
	// CreatePasskey stores a new credential: ErrConflict when its id is
	// taken, ErrNotFound when the person is unknown, and refuses when the
	// person already has max (ErrTooManyPasskeys, an ErrInvalid).
	CreatePasskey(ctx context.Context, p Passkey, max int) error
	// GetPasskey finds a credential by its id; ErrNotFound when unknown.
	GetPasskey(ctx context.Context, id string) (Passkey, error)
	// ListPasskeys lists a person's credentials, oldest first.
	ListPasskeys(ctx context.Context, userID string) ([]Passkey, error)
	// RecordPasskeyUse stores a sign-in with the credential: its new sign
	// count and backup state, and when. It refuses (ErrAlreadyUsed) a
	// count that does not move forward from the one stored, unless both
	// are zero (an authenticator without counter); ErrNotFound when the
	// credential is gone.
	RecordPasskeyUse(ctx context.Context, id string, signCount uint32, backedUp bool, at time.Time) error
	// RenamePasskey renames one of the person's credentials; ErrNotFound
	// when the person has no such credential.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes one of the person's credentials; ErrNotFound
	// when the person has no such credential.
	DeletePasskey(ctx context.Context, userID, id string) error
	// DeletePasskeys removes every credential of the person and says how many.
	DeletePasskeys(ctx context.Context, userID string) (int, error)
	// UsePasskeyChallenge records a WebAuthn challenge (its hash) as
	// answered until expires, and forgets those expired at now;
	// ErrAlreadyUsed when it was answered before.
	UsePasskeyChallenge(ctx context.Context, hash string, expires, now time.Time) error
}
