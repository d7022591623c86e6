package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testAuditFilters: the audit pages filter by dates (Until exclusive), by
// the action's prefix, and page with Offset.
func testAuditFilters(t *testing.T, s storage.Storage) {
	actions := []string{"member.invited", "signin.succeeded", "member.removed", "signin.failed", "org.validated"}
	for i, a := range actions {
		must(t, s.RecordEvent(ctx(), storage.AuditEvent{ID: fmt.Sprintf("evt_%d", i), At: base.Add(time.Duration(i) * time.Hour),
			ActorID: "usr_1", Action: a, TargetType: "user", TargetID: "usr_2", OrgID: "org_a"}))
	}
	ids := func(f storage.AuditFilter) string {
		t.Helper()
		list, err := s.ListEvents(ctx(), f)
		must(t, err)
		out := ""
		for _, e := range list {
			out += e.ID[4:]
		}
		return out
	}
	for _, tc := range []struct {
		f    storage.AuditFilter
		want string
	}{
		{storage.AuditFilter{}, "43210"},
		{storage.AuditFilter{ActionPrefix: "member."}, "20"},
		{storage.AuditFilter{ActionPrefix: "signin."}, "31"},
		{storage.AuditFilter{ActionPrefix: "nothing."}, ""},
		{storage.AuditFilter{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)}, "21"},
		{storage.AuditFilter{Limit: 2}, "43"},
		{storage.AuditFilter{Limit: 2, Offset: 2}, "21"},
		{storage.AuditFilter{Limit: 2, Offset: 4}, "0"},
		{storage.AuditFilter{Limit: 2, Offset: 9}, ""},
		{storage.AuditFilter{OrgID: "org_b"}, ""},
		{storage.AuditFilter{ActionPrefix: "m", Until: base.Add(2 * time.Hour)}, "0"},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
		}
	}
}
