package sso

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/sesame-idp/sesame/internal/fail"
)

// TestUpstreamAddressGuard: an organization admin chooses the issuer, so
// the addresses Sesame dials for it are checked after resolution: never a
// link-local one (a cloud's metadata service), an unspecified or a
// multicast one; a loopback, private or shared one only when the operator
// allows private issuers. (Before, any address was dialled: review R1.)
func TestUpstreamAddressGuard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr                 string
		refused, refusedOpen bool // without, with AllowPrivate
	}{
		{"203.0.113.7", false, false},
		{"2001:db8::7", false, false},
		{"169.254.169.254", true, true},
		{"fe80::1", true, true},
		{"0.0.0.0", true, true},
		{"::", true, true},
		{"224.0.0.1", true, true},
		{"127.0.0.1", true, false},
		{"127.0.0.2", true, false},
		{"::1", true, false},
		{"10.0.0.5", true, false},
		{"172.16.3.4", true, false},
		{"192.168.1.1", true, false},
		{"100.64.0.1", true, false},
		{"fd00::1", true, false},
		{"::ffff:10.0.0.5", true, false}, // IPv4-mapped: the IPv4 rules
	} {
		ip := netip.MustParseAddr(tc.addr)
		if got := refusedAddress(ip.Unmap(), false); got != tc.refused {
			t.Errorf("%s: refused %v, want %v", tc.addr, got, tc.refused)
		}
		if got := refusedAddress(ip.Unmap(), true); got != tc.refusedOpen {
			t.Errorf("%s with private issuers allowed: refused %v, want %v", tc.addr, got, tc.refusedOpen)
		}
		err := checkDialled(netip.AddrPortFrom(ip, 443).String(), false)
		if (err != nil) != tc.refused || (err != nil && !errors.Is(err, errRefusedAddress)) {
			t.Errorf("%s dialled: %v", tc.addr, err)
		}
	}

	// A real discovery at a loopback address: refused with its own
	// message (a 400, never the "did not answer" of an upstream down),
	// and reached once allowed.
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"http://` + r.Host + `","authorization_endpoint":"http://` + r.Host + `/a","token_endpoint":"http://` + r.Host + `/t","jwks_uri":"http://` + r.Host + `/k"}`))
	}))
	defer srv.Close()
	_, err := (&Client{}).Discover(context.Background(), srv.URL)
	if e, ok := fail.As(err); !ok || e.Key != ErrPrivateIssuer.Key || e.Code != fail.Invalid || hits != 0 {
		t.Fatalf("a loopback issuer: %v (%d requests reached it)", err, hits)
	}
	if _, err := (&Client{AllowPrivate: true}).Discover(context.Background(), srv.URL); err != nil || hits != 1 {
		t.Fatalf("allowed: %v, %d requests", err, hits)
	}
}
