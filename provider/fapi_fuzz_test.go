package provider

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/storage"
)

// fuzzStore answers what the proof and assertion checks ask of storage.
type fuzzStore struct {
	Store
	client storage.Client
}

func (f fuzzStore) UseOnce(context.Context, string, time.Time, time.Time) error { return nil }
func (f fuzzStore) GetClient(_ context.Context, id string) (storage.Client, error) {
	if id != f.client.ID {
		return storage.Client{}, storage.ErrNotFound
	}
	return f.client, nil
}

// FuzzProtocolInput: whatever a client sends as a DPoP proof or a client
// assertion is refused or accepted, never a panic, and only a well-formed
// one of the right key is accepted.
func FuzzProtocolInput(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	k := fapiKeys()
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.client.PublicKey, KeyID: "k1"}}})
	st := &opStorage{store: fuzzStore{client: storage.Client{ID: "pkjwt", Protocol: storage.ClientProtocol{AuthMethod: AuthPrivateKeyJWT, JWKS: string(set)}}},
		now: func() time.Time { return now }, jwks: &clientKeys{now: func() time.Time { return now }, cache: map[string]fetchedKeys{}}}
	proof := sign(f, jose.ES256, k.ec, "", "dpop+jwt", true, map[string]any{"jti": "j", "htm": "POST", "htu": fapiIssuer + PathToken, "iat": now.Unix()})
	assertion := sign(f, jose.RS256, k.client, "k1", "", false, map[string]any{"iss": "pkjwt", "sub": "pkjwt", "aud": fapiIssuer,
		"jti": "a", "exp": now.Add(time.Minute).Unix()})
	for _, seed := range []string{proof, assertion, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("e", 100), proof + "x",
		`{"payload":"e30","signatures":[]}`} {
		f.Add(seed)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in string) {
		// A proof carries its own key: any well-signed one for this
		// request is accepted (the seed, or another process's seed).
		if jkt, err := st.dpopProof(ctx, []string{in}, "POST", fapiIssuer+PathToken, "", errDPoPProof); err == nil {
			jws, perr := jose.ParseSigned(in, DPoPAlgorithms)
			if perr != nil || len(jkt) != 43 || jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType] != "dpop+jwt" {
				t.Fatalf("accepted %q (%s)", in, jkt)
			}
		}
		// An assertion needs this process's client key: only the seed.
		if _, err := st.verifyAssertion(ctx, in, "", fapiIssuer+PathToken, fapiIssuer); err == nil && in != assertion {
			t.Fatalf("accepted an assertion that is not the seed: %q", in)
		}
	})
}
