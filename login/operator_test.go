package login

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

var (
	orgLinkRe  = regexp.MustCompile(`<td data-label="[^"]*"><a href="/admin/organizations/(org_[^"]+)">`)
	nextLinkRe = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	cardRe     = regexp.MustCompile(`<article class="org-card"`)
)

// TestOperatorListPagesAndSearch: the console lists organizations a page
// at a time (the pending ones as cards, the oldest first; the others in a
// table with a next page), finds them by name or SIRET and by status, and
// answers a hand-made search or cursor with a clear refusal and the first
// page. It read every organization and their members at once before.
func TestOperatorListPagesAndSearch(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	for i := range 55 {
		hx.Org(fmt.Sprintf("Waiting %d", i), storage.OrgPending)
	}
	var validated []storage.Organization
	for i := range 120 {
		validated = append(validated, hx.Org(fmt.Sprintf("Org %d", i), storage.OrgValidated))
	}
	if err := hx.Store.UpdateOrganization(context.Background(), validated[42].ID, func(o *storage.Organization) error {
		o.SIRET = "73282932000074"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	op := hx.User("operator@sesame.example", nil)
	o := hx.Browser()
	o.SignIn(op.Email, "")

	first := o.Get(PathOperator).Shows(http.StatusOK, "")
	if n := len(cardRe.FindAllString(first.Body, -1)); n != consolePageSize || !first.Says("Operator.MorePending") {
		t.Fatalf("%d pending cards, want %d and a note that more wait", n, consolePageSize)
	}
	seen := map[string]bool{}
	page, pages := first, 0
	for {
		pages++
		for _, m := range orgLinkRe.FindAllStringSubmatch(page.Body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		next := nextLinkRe.FindStringSubmatch(page.Body)
		if next == nil {
			break
		}
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		page = o.Get(html.UnescapeString(next[1])).Shows(http.StatusOK, "")
		if !page.Says("Operator.FirstPage") {
			t.Fatal("a later page has no way back to the start")
		}
	}
	if pages != 3 || len(seen) != len(validated) {
		t.Fatalf("%d pages listing %d organizations, want 3 listing %d", pages, len(seen), len(validated))
	}

	for _, tc := range []struct {
		query string
		want  int
	}{
		{"q=org+7", 11},          // Org 7, Org 70…79: the name, in any case
		{"q=73282932000074", 1},  // a SIRET
		{"q=waiting", 0},         // pending ones are the cards
		{"status=validated", 50}, // a page of them
		{"status=rejected", 0},   // none: said so
		{"q=org+1&status=validated", 31},
	} {
		p := o.Get(PathOperator+"?"+tc.query).Shows(http.StatusOK, "")
		if got := len(orgLinkRe.FindAllString(p.Body, -1)); got != tc.want {
			t.Errorf("%s: %d organizations, want %d", tc.query, got, tc.want)
		}
		if tc.want == 0 && !p.Says("Operator.NoneMatch") {
			t.Errorf("%s: no word that nothing matches", tc.query)
		}
	}
	for _, bad := range []string{
		"status=pending", "status=whatever", "after=!!!", "after=" + url.QueryEscape("bm90LWEtY3Vyc29y"),
		"q=" + strings.Repeat("a", 201),
	} {
		p := o.Get(PathOperator+"?"+bad).Shows(http.StatusBadRequest, "Errors.Console.Search")
		if n := len(orgLinkRe.FindAllString(p.Body, -1)); n != consolePageSize {
			t.Errorf("%s: %d organizations, want the first page", bad, n)
		}
	}
}

// TestOperatorListCountsMembersAndNamesTheFounder: a pending card names
// its first admin (the oldest account among the admins) and counts every
// member; a validated row counts them too; an organization without members
// shows none and no founder.
func TestOperatorListCountsMembersAndNamesTheFounder(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	pending := hx.Org("Pending Co", storage.OrgPending)
	hx.User("first-member@pending.example", &pending, storage.RoleUser)
	hx.Clock.Add(time.Second)
	hx.User("founder@pending.example", &pending, storage.RoleAdmin, storage.RoleUser)
	hx.Clock.Add(time.Second)
	hx.User("second-admin@pending.example", &pending, storage.RoleAdmin)
	validated := hx.Org("Validated Co", storage.OrgValidated)
	hx.User("one@validated.example", &validated, storage.RoleAdmin)
	hx.User("two@validated.example", &validated, storage.RoleUser)
	hx.Org("Empty Co", storage.OrgPending)
	op := hx.User("operator@sesame.example", nil)
	o := hx.Browser()
	o.SignIn(op.Email, "")

	page := o.Get(PathOperator).Shows(http.StatusOK, "")
	card := regexp.MustCompile(`(?s)Pending Co.*?org-card-actions`).FindString(page.Body)
	if !strings.Contains(card, "<dd>founder@pending.example</dd>") || !strings.Contains(card, "(3)") {
		t.Errorf("the pending card does not name its first admin and count three members:\n%s", card)
	}
	empty := regexp.MustCompile(`(?s)Empty Co.*?org-card-actions`).FindString(page.Body)
	if !strings.Contains(empty, "<dd></dd>") || !strings.Contains(empty, "(0)") {
		t.Errorf("the empty organization's card:\n%s", empty)
	}
	row := regexp.MustCompile(`(?s)Validated Co.*?</tr>`).FindString(page.Body)
	if !regexp.MustCompile(`>2</td>`).MatchString(row) {
		t.Errorf("the validated row does not count two members:\n%s", row)
	}
}
