package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// TestProblemDoorMapsEveryCode: every fail code has its status and title
// here, a stable type, and a failure is never a 5xx other than 503.
func TestProblemDoorMapsEveryCode(t *testing.T) {
	t.Parallel()
	want := map[fail.Code]int{fail.Invalid: 400, fail.Unauthorized: 401, fail.Forbidden: 403, fail.NotFound: 404,
		fail.Conflict: 409, fail.Gone: 410, fail.Stale: 412, fail.Reused: 422, fail.TooLarge: 413, fail.Method: 405, fail.TooMany: 429,
		fail.Unavailable: 503, fail.Internal: 503}
	for _, c := range fail.Codes {
		a, ok := problemOf[c]
		if !ok || a.Title == "" {
			t.Errorf("code %s has no problem answer", c)
		}
		_, got := ProblemOf(fail.E(c, ""))
		if got.Status != want[c] {
			t.Errorf("code %s: status %d, want %d", c, got.Status, want[c])
		}
	}
	if c, a := ProblemOf(errors.New("boom")); c != fail.Unavailable || a.Status != 503 {
		t.Errorf("a bare error: %s %d", c, a.Status)
	}
	if c, _ := ProblemOf(storage.ErrNotFound); c != fail.NotFound {
		t.Errorf("storage's not found: %s", c)
	}
	if ProblemType(fail.NotFound) != "urn:sesame:problem:not_found" {
		t.Error("the type URI changed: it is a stable contract")
	}
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Accounts: &login.Accounts{}, Store: struct{ Store }{},
		Authenticate: func(context.Context, string) (Caller, error) { return Caller{}, fail.E(fail.Unauthorized, "x") },
		MasterKey:    make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEveryRouteIsInTheDocument: the routes served (the generated router,
// walked) and the operations of the document are the same set.
func TestEveryRouteIsInTheDocument(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	var served []string
	err := chi.Walk(s.Inner().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := s.RoutesInDocument()
	slices.Sort(served)
	slices.Sort(doc)
	if !slices.Equal(served, doc) {
		t.Fatalf("served and documented routes differ:\nserved %v\ndocument %v", served, doc)
	}
	if len(doc) < 25 {
		t.Fatalf("only %d operations", len(doc))
	}
}

// TestDocumentServedWithoutToken: /api/v1/openapi.json is the document.
func TestDocumentServedWithoutToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"openapi":"3.1.0"`) || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", w.Code, w.Body.String()[:min(200, w.Body.Len())])
	}
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/organizations", nil))
	if w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("without a token: %d %v", w.Code, w.Header())
	}
}

// TestCursorsAreTheirList's: a cursor opens only the list that gave it.
func TestCursorsAreTheirLists(t *testing.T) {
	t.Parallel()
	c := makeCursor("organizations", time.Unix(1700000000, 0), "org_x")
	if _, err := readCursor("organizations", c); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "!!", "bm9wZQ", *makeCursor("clients", time.Unix(1700000000, 0), "x")} {
		if _, err := readCursor("organizations", &bad); fail.CodeOf(err) != fail.Invalid {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}
