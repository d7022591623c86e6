package login

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// After signing in, the browser lands where it was sent away from: a page
// that needs a session (the security settings, the members…) sends the
// browser to PathLogin?next=<that page>, the form carries it, the sealed
// attempt keeps it across the code step, and the gate's last redirect goes
// there instead of the home page. Only a path of this site is kept
// (safeReturn): anything else — another host, a scheme, a backslash,
// control characters — lands on the home page (no open redirect).

// returnParam names the page to land on after signing in.
const returnParam = "next"

// maxReturn bounds what is carried in the form and the sealed attempt.
const maxReturn = 512

// safeReturn is p when it is a path of this site worth landing on, else "".
func safeReturn(p string) string {
	if p == "" || len(p) > maxReturn || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return ""
	}
	for _, c := range p {
		// Browsers read a backslash as a slash and drop tabs and newlines
		// from a URL: "/\evil", "/\t/evil" are other sites to them.
		if c == '\\' || c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return ""
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") || strings.Contains(clean, `\`) ||
		strings.HasPrefix(u.EscapedPath(), "//") {
		return ""
	}
	// The sign-in's own pages would loop; the home page is the default.
	if clean == PathHome || clean == PathLogin || strings.HasPrefix(clean, PathLogin+"/") {
		return ""
	}
	out := &url.URL{Path: clean, RawQuery: u.RawQuery}
	if s := out.String(); strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return s
	}
	return ""
}

// loginFor is the sign-in page that brings the browser back to r's page
// (a GET: a form posted without a session is not replayed).
func loginFor(r *http.Request) string {
	if r.Method != http.MethodGet {
		return PathLogin
	}
	next := safeReturn(r.URL.RequestURI())
	if next == "" {
		return PathLogin
	}
	return PathLogin + "?" + url.Values{returnParam: {next}}.Encode()
}

// requestedReturn is the page the sign-in form was asked to return to.
func requestedReturn(r *http.Request) string {
	if r.Method == http.MethodPost {
		return safeReturn(r.PostFormValue(returnParam))
	}
	return safeReturn(r.URL.Query().Get(returnParam))
}

// landing is where a sign-in without an authorization request ends.
func landing(at attempt) string {
	if next := safeReturn(at.Return); next != "" {
		return next
	}
	return PathHome
}

// mustURL parses a path safeReturn accepted.
func mustURL(p string) *url.URL {
	u, err := url.Parse(p)
	if err != nil {
		return &url.URL{Path: PathHome}
	}
	return u
}
