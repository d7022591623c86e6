package provider

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// BenchmarkClientAuthentication is the cost of client authentication per
// request: an introspection of an unknown token (active: false, next to
// no work beyond authenticating the client) with client_secret_basic, and
// with private_key_jwt assertions signed RS256 and ES256 (signed
// beforehand: the client's work is not counted; each has its own jti, so
// each is also recorded once in storage). Report: µs per request (ns/op).
func BenchmarkClientAuthentication(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b) // what production pays
	form := url.Values{"token": {"not-a-token"}}
	b.Run("client_secret_basic", func(b *testing.B) {
		e := newFAPI(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if a := e.post(PathIntrospect, form, "conf"); a.status != 200 {
				b.Fatal(a)
			}
		}
	})
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		b.Run("private_key_jwt_"+string(alg), func(b *testing.B) {
			e := newFAPI(b)
			k := fapiKeys()
			key, kid := any(k.client), "k1"
			if alg == jose.ES256 {
				key, kid = k.ec, "k2"
			}
			now := e.clock.Now()
			forms := make([]url.Values, b.N)
			for i := range forms {
				a := sign(b, alg, key, kid, "", false, map[string]any{"iss": "pkjwt", "sub": "pkjwt", "aud": fapiIssuer,
					"jti": storage.NewSecret(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
				forms[i] = assertionForm(form, a)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if a := e.post(PathIntrospect, forms[i], ""); a.status != 200 {
					b.Fatal(a)
				}
			}
		})
	}
}

// BenchmarkRefreshGrantDPoP is BenchmarkRefreshGrant's refresh with and
// without a DPoP proof (signed beforehand), on a client_secret_basic client.
func BenchmarkRefreshGrantDPoP(b *testing.B) {
	sqlstore.WithoutEscapeGuard(b)
	for _, withProof := range []bool{false, true} {
		name := "bearer"
		if withProof {
			name = "dpop"
		}
		b.Run(name, func(b *testing.B) {
			e := newFAPI(b)
			k := fapiKeys()
			code, verifier := e.grant(b, "conf")
			tok := e.post(PathToken, codeForm(code, verifier), "conf")
			rt := tok.str("refresh_token")
			proofs := make([]string, b.N)
			if withProof {
				for i := range proofs {
					proofs[i] = "DPoP: " + e.proof(b, k.ec, "POST", fapiIssuer+PathToken, "", nil)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				var a answer
				form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
				if withProof {
					a = e.post(PathToken, form, "conf", proofs[i])
				} else {
					a = e.post(PathToken, form, "conf")
				}
				if a.status != 200 {
					b.Fatal(a)
				}
				rt = a.str("refresh_token")
			}
			opsPerSecond(b)
		})
	}
}

// BenchmarkAssertionCheck is the check of one client assertion without
// storage (the jti recorded nowhere, the client in memory): what
// private_key_jwt costs beyond its one write.
func BenchmarkAssertionCheck(b *testing.B) {
	now := time.Unix(1_800_000_000, 0)
	k := fapiKeys()
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.client.PublicKey, KeyID: "k1"}, {Key: &k.ec.PublicKey, KeyID: "k2"}}})
	st := &opStorage{store: fuzzStore{client: storage.Client{ID: "pkjwt", Protocol: storage.ClientProtocol{AuthMethod: AuthPrivateKeyJWT, JWKS: string(set)}}},
		now: func() time.Time { return now }, jwks: &clientKeys{now: func() time.Time { return now }, cache: map[string]fetchedKeys{}}}
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		b.Run(string(alg), func(b *testing.B) {
			key, kid := any(k.client), "k1"
			if alg == jose.ES256 {
				key, kid = k.ec, "k2"
			}
			a := sign(b, alg, key, kid, "", false, map[string]any{"iss": "pkjwt", "sub": "pkjwt", "aud": fapiIssuer, "jti": "j",
				"exp": now.Add(time.Minute).Unix()})
			ctx := context.Background()
			b.ReportAllocs()
			for range b.N {
				if _, err := st.verifyAssertion(ctx, a, "", fapiIssuer+PathToken, fapiIssuer); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
