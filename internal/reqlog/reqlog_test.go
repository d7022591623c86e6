package reqlog

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/login":                                   "/login",
		"/login?lang=en":                           "/login?lang=en",
		"/reset-password?token=abc":                "/reset-password?token=REDACTED",
		"/callback?code=c&state=s&lang=fr":         "/callback?code=REDACTED&lang=fr&state=REDACTED",
		"/authorize?client_id=a&id_token_hint=eyJ": "/authorize?client_id=a&id_token_hint=REDACTED",
		"/x?Token=1&ACCESS_TOKEN=2&x_secret=3":     "/x?ACCESS_TOKEN=REDACTED&Token=REDACTED&x_secret=REDACTED",
		"/x?%zz":                                   "/x?REDACTED",
		"/x?next=%2Faccount%2Fsecurity":            "/x?next=%2Faccount%2Fsecurity",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := SafePath(u); got != want {
			t.Errorf("SafePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSane(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"": false, "abc": true, "3fa85f64-5717-4562-b3fc-2c963f66afa6": true, "a:b.c_d": true,
		strings.Repeat("a", 64): true, strings.Repeat("a", 65): false, "a b": false, "a\nb": false, `a"b`: false, "é": false} {
		if Sane(id) != want {
			t.Errorf("Sane(%q) = %v", id, !want)
		}
	}
	if id := NewID(); !Sane(id) || len(id) != 32 || id == NewID() {
		t.Errorf("NewID %q", id)
	}
}
