package login

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// onBothBackends runs test on a harness over SQLite, then over PostgreSQL
// (SESAME_TEST_POSTGRES_DSN; skipped without it, unless CI).
func onBothBackends(t *testing.T, test func(t *testing.T, hx *harness)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		test(t, newHarness(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		test(t, newHarnessOn(t, openPostgres(t)))
	})
}

// race posts each form from its own browser at the same moment and
// returns the statuses (the CSRF tokens fetched first).
func race(t *testing.T, hx *harness, path string, forms []url.Values) []int {
	t.Helper()
	reqs := make([]*http.Request, len(forms))
	clients := make([]*http.Client, len(forms))
	for i, f := range forms {
		b := hx.Browser()
		f = cloneForm(f)
		f.Set("csrf_token", b.csrf())
		req, err := http.NewRequest(http.MethodPost, hx.URL+path, strings.NewReader(f.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		reqs[i], clients[i] = req, b.c
	}
	statuses := make([]int, len(forms))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := clients[i].Do(reqs[i])
			if err != nil {
				statuses[i] = -1
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// One reset link used by several browsers at once sets one password; the
// others are told the link is used. Never a 5xx.
func TestConcurrentResetsWithOneLink(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, hx *harness) {
		org := hx.Org("Acme", storage.OrgValidated)
		u := hx.User("reset@acme.example", &org, storage.RoleUser)
		hx.Browser().Post(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusOK, "Forgot.Sent")
		token := mustQuery(t, hx.Link(u.Email, PathResetPassword), "token")
		var forms []url.Values
		for i := range 6 {
			pw := fmt.Sprintf("velvet orbit lantern %d", i)
			forms = append(forms, url.Values{"token": {token}, "password": {pw}, "password_confirm": {pw}})
		}
		statuses := race(t, hx, PathResetPassword, forms)
		if count(statuses, http.StatusOK) != 1 || count(statuses, http.StatusGone) != len(forms)-1 {
			t.Fatalf("statuses %v: want one 200 and the rest 410", statuses)
		}
		resets := 0
		for _, e := range hx.Events() {
			if e == "password.reset" {
				resets++
			}
		}
		if resets != 1 {
			t.Fatalf("%d resets audited", resets)
		}
	})
}

// One invitation link accepted by several browsers at once activates the
// account once.
func TestConcurrentInvitationAccepts(t *testing.T) {
	t.Parallel()
	onBothBackends(t, func(t *testing.T, hx *harness) {
		org := hx.Org("Acme", storage.OrgValidated)
		hx.User("admin@acme.example", &org, storage.RoleAdmin)
		admin := hx.Browser()
		admin.SignIn("admin@acme.example", "")
		token := mustQuery(t, invite(t, hx, admin, "new@acme.example"), "token")
		var forms []url.Values
		for i := range 6 {
			pw := fmt.Sprintf("velvet orbit lantern %d", i)
			forms = append(forms, url.Values{"token": {token}, "password": {pw}, "password_confirm": {pw}})
		}
		statuses := race(t, hx, PathSetPassword, forms)
		ok := 0
		for _, s := range statuses {
			switch {
			case s >= 500 || s < 0:
				t.Fatalf("statuses %v", statuses)
			case s < 400:
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("statuses %v: want exactly one activation", statuses)
		}
		activated := 0
		for _, e := range hx.Events() {
			if e == "password.set" {
				activated++
			}
		}
		if activated != 1 {
			t.Fatalf("%d activations audited (password.set)", activated)
		}
	})
}
