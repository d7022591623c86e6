package login

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSwitchURLStaysOnSite: the language link of any page, the 404 page of
// a crafted path included, is a path of this site: resolved against the
// page, it keeps the page's host, and it holds no backslash (which browsers
// read as a slash).
func TestSwitchURLStaysOnSite(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"/login?authRequestID=ar1", "/login?authRequestID=ar1&lang=en"},
		{"/organization/members/usr_1/remove", "/organization/members/usr_1/remove?lang=en"},
		{"//evil.example/login", ""},
		{"///evil.example/login", ""},
		{`/\evil.example`, ""},
		{`/\/evil.example`, ""},
		{"/%2F%2Fevil.example", ""},
		{"/%5C%5Cevil.example", ""},
		{"/%2F%5Cevil.example", ""},
		{"/./%2F/evil.example", ""},
		{"/login/..//evil.example", ""},
		{"/%0d%0aLocation:%20http://evil.example", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://id.example.com"+tc.target, nil)
		// httptest parses a target as a client would; a server reads the
		// request line's path as it is.
		r.URL.Path, _ = url.PathUnescape(strings.SplitN(tc.target, "?", 2)[0])
		r.URL.RawPath = ""
		got := switchURL(r, "en")
		if tc.want != "" && got != tc.want {
			t.Errorf("%s: %q, want %q", tc.target, got, tc.want)
		}
		page, _ := url.Parse("http://id.example.com/x")
		ref, err := url.Parse(got)
		if err != nil || strings.ContainsAny(got, "\\\r\n") || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
			page.ResolveReference(ref).Host != "id.example.com" {
			t.Errorf("%s: the language link %q leaves the site", tc.target, got)
		}
	}
}
