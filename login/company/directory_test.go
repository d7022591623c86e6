package company

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI answers like the Recherche d'entreprises API, from the fixtures.
func fakeAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	found, _ := os.ReadFile("testdata/search-siret-found.json")
	none, _ := os.ReadFile("testdata/search-siret-none.json")
	closed := strings.Replace(string(found), `"etat_administratif": "A",
          "activite_principale": "63.11Z",
          "liste_enseignes"`, `"etat_administratif": "F",
          "activite_principale": "63.11Z",
          "liste_enseignes"`, 1)
	if closed == string(found) {
		t.Fatal("fixture changed: cannot derive the closed establishment")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/search" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Sesame") {
			http.Error(w, "bad request", 400)
			return
		}
		if handle != nil && handle(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("q") {
		case "73282932000074":
			w.Write(found)
		case "73282932000082": // same company, the closed establishment
			w.Write([]byte(strings.ReplaceAll(closed, "73282932000074", "73282932000082")))
		default:
			w.Write(none)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRechercheEntreprises(t *testing.T) {
	srv, calls := fakeAPI(t, nil)
	d := &RechercheEntreprises{BaseURL: srv.URL}
	ctx := context.Background()
	c, err := d.Lookup(ctx, "73282932000074")
	if err != nil {
		t.Fatal(err)
	}
	want := Company{SIRET: "73282932000074", SIREN: "732829320", Name: "NUAGE SOUVERAIN", LegalName: "NUAGE SOUVERAIN SAS",
		Address: "12 RUE DE LA REPUBLIQUE 13100 AIX-EN-PROVENCE", Activity: "63.11Z"}
	if c != want {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	// The cache answers the second time.
	if _, err := d.Lookup(ctx, "73282932000074"); err != nil || calls.Load() != 1 {
		t.Fatalf("cache: %v, %d calls", err, calls.Load())
	}
	if _, err := d.Lookup(ctx, "73282932000033"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := d.Lookup(ctx, "73282932000082"); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestRechercheEntreprisesFailures(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var mode atomic.Value
	mode.Store("429")
	srv, calls := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load() {
		case "429":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		case "500":
			w.WriteHeader(500)
		case "garbage":
			w.Write([]byte("{not json"))
		case "slow":
			time.Sleep(200 * time.Millisecond)
		default:
			return false
		}
		return true
	})
	d := &RechercheEntreprises{BaseURL: srv.URL, Now: func() time.Time { return now }, Client: &http.Client{Timeout: 50 * time.Millisecond}}
	ctx := context.Background()
	_, err := d.Lookup(ctx, "73282932000074")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("429: %v", err)
	}
	// Retry-After is honoured: no request is sent before it passes.
	mode.Store("ok")
	if _, err := d.Lookup(ctx, "73282932000074"); !errors.As(err, &rl) || calls.Load() != 1 {
		t.Fatalf("within Retry-After: %v, %d calls", err, calls.Load())
	}
	now = now.Add(31 * time.Second)
	if _, err := d.Lookup(ctx, "73282932000074"); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	for _, m := range []string{"500", "garbage", "slow"} {
		mode.Store(m)
		if _, err := d.Lookup(ctx, "73282932000033"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: %v", m, err)
		}
	}
	// Failures are not cached: the answer comes once the directory is back.
	mode.Store("ok")
	if _, err := d.Lookup(ctx, "73282932000033"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("after recovery: %v", err)
	}
	if _, err := (&RechercheEntreprises{BaseURL: "http://127.0.0.1:1"}).Lookup(ctx, "73282932000074"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("down: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{"7": 7 * time.Second, "": time.Minute, "soon": time.Minute, "99999": time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", h, got, want)
		}
	}
}

func TestStatic(t *testing.T) {
	s := Static{"73282932000074": {Name: "ACME", Address: "Paris"}}
	c, err := s.Lookup(context.Background(), "73282932000074")
	if err != nil || c.SIREN != "732829320" || c.Name != "ACME" {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := s.Lookup(context.Background(), "73282932000033"); !errors.Is(err, ErrUnknown) {
		t.Fatal(err)
	}
}
