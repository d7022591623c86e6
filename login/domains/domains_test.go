package domains_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Example.FR", "example.fr"},
		{" example.fr. ", "example.fr"},
		{"sub.example.co.uk", "sub.example.co.uk"},
		{"bücher.de", "xn--bcher-kva.de"},
		{"localhost", ""},
		{"", ""},
		{"127.0.0.1", ""},
		{"example.123", ""},
		{"-bad.fr", ""},
		{"bad-.fr", ""},
		{"a..fr", ""},
		{"under_score.fr", ""},
		{"x@y.fr", ""},
		{strings.Repeat("a", 64) + ".fr", ""},
		{strings.Repeat("abcdefghi.", 30) + "fr", ""},
		{"exa mple.fr", ""},
		{"exa\nmple.fr", ""},
	}
	for _, tt := range tests {
		got, err := domains.Normalize(tt.in)
		if tt.want == "" {
			if !errors.Is(err, domains.ErrInvalid) {
				t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPublicAndOf(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"gmail.com", "outlook.com", "orange.fr", "yahoo.fr"} {
		if !domains.Public(d) {
			t.Errorf("%s is not public", d)
		}
	}
	if domains.Public("example.fr") {
		t.Error("example.fr is public")
	}
	if got := domains.Of("Jeanne@Example.FR"); got != "example.fr" {
		t.Errorf("Of = %q", got)
	}
	for _, bad := range []string{"nobody", "@example.fr", "a@", "a@localhost"} {
		if got := domains.Of(bad); got != "" {
			t.Errorf("Of(%q) = %q", bad, got)
		}
	}
	a, b := domains.NewChallenge(), domains.NewChallenge()
	if a == b || len(a) < 30 {
		t.Errorf("challenges %q %q", a, b)
	}
	if got := domains.Record("example.fr", "v"); got != `_sesame-challenge.example.fr TXT "v"` {
		t.Errorf("Record = %s", got)
	}
}

// TestCheck asks a real DNS server (miekg/dns on 127.0.0.1) for the record,
// and tells its failures apart.
func TestCheck(t *testing.T) {
	t.Parallel()
	srv := dnstest.Start(t)
	srv.SetTXT("_sesame-challenge.good.fr", "other", "v1")
	srv.SetTXT("_sesame-challenge.wrong.fr", "v2")
	srv.SetTXT("_sesame-challenge.empty.fr")
	srv.ServFail("_sesame-challenge.broken.fr")
	srv.Silent("_sesame-challenge.slow.fr")
	r := &domains.Resolver{Addr: srv.Addr, Timeout: 300 * time.Millisecond}
	tests := []struct {
		domain string
		want   error
	}{
		{"good.fr", nil},
		{"wrong.fr", domains.ErrNoRecord},
		{"empty.fr", domains.ErrNoRecord},
		{"absent.fr", domains.ErrNoSuchName},
		{"broken.fr", domains.ErrServFail},
		{"slow.fr", domains.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			err := r.Check(context.Background(), tt.domain, "v1")
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
	// A resolver that is not there is a refusal too, never a failure.
	dead := &domains.Resolver{Addr: "127.0.0.1:1", Timeout: 300 * time.Millisecond}
	if err := dead.Check(context.Background(), "good.fr", "v1"); !errors.Is(err, domains.ErrResolver) && !errors.Is(err, domains.ErrTimeout) {
		t.Fatalf("dead resolver: %v", err)
	}
}
