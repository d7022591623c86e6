package conformance

import (
	"reflect"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// testUpdateClientProtocol: an update writes a client's protocol options
// too (the API and the console change them).
func testUpdateClientProtocol(t *testing.T, s storage.Storage) {
	c := newClient("proto-update")
	must(t, s.CreateClient(ctx(), c))
	want := storage.ClientProtocol{AuthMethod: storage.AuthPrivateKeyJWT, JWKSURI: "https://rp.example/jwks", RequirePAR: true,
		RequireDPoP: true, AccessTokenFormat: "jwt", Resource: "https://api.example", ThirdParty: true,
		AllowedOrigins: []string{"https://app.example"}}
	must(t, s.UpdateClient(ctx(), c.ID, func(c *storage.Client) error { c.Protocol = want; return nil }))
	got, err := s.GetClient(ctx(), c.ID)
	must(t, err)
	if !reflect.DeepEqual(got.Protocol, want) {
		t.Fatalf("protocol after an update: %+v, want %+v", got.Protocol, want)
	}
	must(t, s.UpdateClient(ctx(), c.ID, func(c *storage.Client) error { c.Protocol = storage.ClientProtocol{}; return nil }))
	if got, _ := s.GetClient(ctx(), c.ID); !reflect.DeepEqual(got.Protocol, storage.ClientProtocol{}) {
		t.Fatalf("protocol cleared by an update: %+v", got.Protocol)
	}
}
