package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/login/web"
)

// TestCompanySignInRefusesPrivateIssuer: an organization admin cannot make
// Sesame fetch the operator's own network: an issuer on a loopback address
// is refused, with a message saying why and what the operator can allow,
// unless domains.private_issuers is on (the other tests' upstream is on
// 127.0.0.1, and they turn it on). Before, Sesame fetched it (review R1).
func TestCompanySignInRefusesPrivateIssuer(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.C.Upstream = &sso.Client{Now: sx.Clock.Now} // the default: no private issuers
	_, err := sx.C.AddDomain(context.Background(), cliActor, sx.Org.ID, acme)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := sx.Store.ListDomains(context.Background(), sx.Org.ID)
	sx.DNS.SetTXT("_sesame-challenge."+acme, d[0].Challenge)
	if _, err := sx.C.VerifyDomain(context.Background(), cliActor, sx.Org.ID, acme, false); err != nil {
		t.Fatal(err)
	}
	_, err = sx.C.SetConnection(context.Background(), cliActor, sx.Org.ID,
		ConnectionInput{Issuer: sx.Up.URL, ClientID: sx.Up.ClientID, ClientSecret: sx.Up.ClientSecret})
	if !errors.Is(err, sso.ErrPrivateIssuer) {
		t.Fatalf("a loopback issuer: %v", err)
	}
	if status, key := web.Status(err); status != http.StatusBadRequest || key != "Errors.SSO.PrivateIssuer" {
		t.Fatalf("answered %d %s", status, key)
	}
	// The admin's screen says it.
	b := sx.Browser()
	b.SignIn(sx.Admin.Email, "")
	b.Post(PathCompanySSO, url.Values{"issuer": {sx.Up.URL}, "client_id": {sx.Up.ClientID}, "client_secret": {sx.Up.ClientSecret},
		"role_user": {"1"}}).Shows(http.StatusBadRequest, "Errors.SSO.PrivateIssuer")
}
