package conformance

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testConsents: a consent round-trips and is replaced by the next answer
// (its first time kept); the list names the clients; revoking deletes the
// consent and the client's tokens and pending codes for that person only,
// and a consent that does not exist revokes nothing.
func testConsents(t *testing.T, s storage.Storage) {
	org := newOrg("")
	must(t, s.CreateOrganization(ctx(), org))
	alice := storage.User{ID: "usr_1", Email: "alice@consent.example", Locale: "fr", CreatedAt: base, UpdatedAt: base}
	bob := storage.User{ID: "usr_2", Email: "bob@consent.example", Locale: "fr", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), alice, &storage.Membership{OrgID: org.ID, Roles: []string{"user"}}))
	must(t, s.CreateUser(ctx(), bob, &storage.Membership{OrgID: org.ID, Roles: []string{"user"}}))
	tp := newClient("marketplace") // tokens() issues for "marketplace"
	tp.Name = "Zeta app"
	tp.Protocol.ThirdParty = true
	must(t, s.CreateClient(ctx(), tp))
	other := newClient("other")
	other.Name = "Alpha app"
	must(t, s.CreateClient(ctx(), other))

	_, err := s.GetConsent(ctx(), alice.ID, tp.ID)
	wantErr(t, err, storage.ErrNotFound)
	must(t, s.SaveConsent(ctx(), storage.Consent{UserID: alice.ID, ClientID: tp.ID, Scopes: []string{"openid"}, UpdatedAt: base}))
	later := base.Add(time.Hour)
	must(t, s.SaveConsent(ctx(), storage.Consent{UserID: alice.ID, ClientID: tp.ID, Scopes: []string{"openid", "email"},
		GrantedAt: later, UpdatedAt: later}))
	got, err := s.GetConsent(ctx(), alice.ID, tp.ID)
	must(t, err)
	if !slices.Equal(got.Scopes, []string{"openid", "email"}) || !got.GrantedAt.Equal(base) || !got.UpdatedAt.Equal(later) {
		t.Fatalf("consent after a second answer: %+v", got)
	}
	must(t, s.SaveConsent(ctx(), storage.Consent{UserID: alice.ID, ClientID: other.ID, Scopes: []string{"openid"}, UpdatedAt: base}))
	must(t, s.SaveConsent(ctx(), storage.Consent{UserID: bob.ID, ClientID: tp.ID, Scopes: []string{"openid"}, UpdatedAt: base}))
	wantErr(t, s.SaveConsent(ctx(), storage.Consent{UserID: alice.ID, ClientID: "nobody", UpdatedAt: base}), storage.ErrNotFound)
	wantErr(t, s.SaveConsent(ctx(), storage.Consent{UserID: "usr_none", ClientID: tp.ID, UpdatedAt: base}), storage.ErrNotFound)
	wantErr(t, s.SaveConsent(ctx(), storage.Consent{UserID: alice.ID, ClientID: tp.ID}), storage.ErrInvalid)

	list, err := s.ListConsents(ctx(), alice.ID)
	must(t, err)
	if len(list) != 2 || list[0].ClientName != "Alpha app" || list[1].ClientName != "Zeta app" || list[1].ClientID != tp.ID {
		t.Fatalf("list: %+v", list)
	}

	// Tokens: alice's and bob's with the third party, alice's with another.
	aA, aR := tokens("g-alice", "ses_a", 0)
	must(t, s.CreateTokens(ctx(), aA, &aR))
	bA, bR := tokens("g-bob", "ses_b", 1)
	bA.UserID, bR.UserID = bob.ID, bob.ID
	must(t, s.CreateTokens(ctx(), bA, &bR))
	oA, oR := tokens("g-other", "ses_a", 2)
	oA.ClientID, oR.ClientID = other.ID, other.ID
	must(t, s.CreateTokens(ctx(), oA, &oR))
	// A code issued, not yet exchanged, and one exchanged (kept: it
	// recognises a replay).
	pending := storage.AuthRequest{ID: "ar_pending", ClientID: tp.ID, RedirectURI: "https://rp.example/cb", Scopes: []string{"openid"},
		ResponseType: "code", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreateAuthRequest(ctx(), pending))
	must(t, s.UpdateAuthRequest(ctx(), pending.ID, func(a *storage.AuthRequest) error {
		a.UserID, a.Done, a.CodeHash, a.CodeExpiry = alice.ID, true, "code-pending", base.Add(time.Minute)
		return nil
	}))

	// Bob cannot revoke what is not his: alice's consent to "other".
	wantErr(t, s.RevokeConsent(ctx(), bob.ID, other.ID), storage.ErrNotFound)
	if _, err := s.GetAccessToken(ctx(), oA.ID); err != nil {
		t.Fatalf("a refused revocation touched a token: %v", err)
	}
	must(t, s.RevokeConsent(ctx(), alice.ID, tp.ID))
	_, err = s.GetConsent(ctx(), alice.ID, tp.ID)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetAccessToken(ctx(), aA.ID)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetRefreshToken(ctx(), aR.Hash)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetAuthRequest(ctx(), pending.ID)
	wantErr(t, err, storage.ErrNotFound)
	for _, id := range []string{bA.ID, oA.ID} {
		if _, err := s.GetAccessToken(ctx(), id); err != nil {
			t.Fatalf("revoking alice's consent ended token %s: %v", id, err)
		}
	}
	for _, h := range []string{bR.Hash, oR.Hash} {
		if _, err := s.GetRefreshToken(ctx(), h); err != nil {
			t.Fatalf("revoking alice's consent ended a refresh token: %v", err)
		}
	}
	if _, err := s.GetConsent(ctx(), bob.ID, tp.ID); err != nil {
		t.Fatalf("bob's consent: %v", err)
	}
	wantErr(t, s.RevokeConsent(ctx(), alice.ID, tp.ID), storage.ErrNotFound)

	// In a transaction that fails, nothing is revoked.
	boom := errors.New("boom")
	err = s.Atomic(ctx(), func(tx storage.Tx) error {
		must(t, tx.RevokeConsent(ctx(), bob.ID, tp.ID))
		return boom
	})
	wantErr(t, err, boom)
	if _, err := s.GetAccessToken(ctx(), bA.ID); err != nil {
		t.Fatalf("a rolled-back revocation ended a token: %v", err)
	}
	// Removing the client removes the consents to it.
	must(t, s.DeleteClient(ctx(), other.ID))
	if list, err := s.ListConsents(ctx(), alice.ID); err != nil || len(list) != 0 {
		t.Fatalf("consents after the client's removal: %+v, %v", list, err)
	}
}
