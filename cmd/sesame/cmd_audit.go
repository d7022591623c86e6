package main

import (
	"context"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/storage"
)

// The audit command: who did what.

type auditJSON struct {
	At      string `json:"at"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	OrgID   string `json:"org_id,omitempty"`
	IP      string `json:"ip,omitempty"`
	Details string `json:"details,omitempty"`
}

func auditList(fs *cliflag.Set) action {
	org := fs.String("org", "", "ORG_ID", "only this organization's events")
	since := fs.String("since", "", "TIME", "only events since a time (2026-11-25T10:00:00Z) or for a duration (24h)")
	limit := fs.Int("limit", 100, "N", "how many, the most recent first (1 to 100000)")
	return func(ctx context.Context, c *cli, args []string) error {
		var from time.Time
		if *since != "" {
			t, err := time.Parse(time.RFC3339, *since)
			if err != nil {
				d, derr := time.ParseDuration(*since)
				if derr != nil {
					return badFlag("since", "%q is neither a time (2026-11-25T10:00:00Z) nor a duration (24h)", *since)
				}
				t = time.Now().Add(-d)
			}
			from = t
		}
		if *limit < 1 || *limit > 100000 {
			return badFlag("limit", "must be from 1 to 100000")
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		events, err := m.Store.ListEvents(ctx, storage.AuditFilter{OrgID: *org, Since: from, Limit: *limit})
		if err != nil {
			return err
		}
		out := []auditJSON{}
		var rows [][]string
		for _, e := range events {
			j := auditJSON{At: ts(e.At), Actor: e.ActorID, Action: e.Action, Target: strings.Trim(e.TargetType+":"+e.TargetID, ":"),
				OrgID: e.OrgID, IP: e.IP, Details: e.Details}
			out = append(out, j)
			rows = append(rows, []string{j.At, orDash(j.Actor), j.Action, orDash(j.Target), orDash(j.OrgID), orDash(j.IP), j.Details})
		}
		if c.json {
			return c.printJSON(out)
		}
		return c.table("AT\tACTOR\tACTION\tTARGET\tORGANIZATION\tIP\tDETAILS", rows)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliAudit records what the command line changed.
func cliAudit(ctx context.Context, m *Main, action, targetType, targetID, details string) {
	_ = m.Store.RecordEvent(ctx, storage.AuditEvent{ID: storage.NewID("evt"), At: m.Now(), ActorID: "cli", Action: action,
		TargetType: targetType, TargetID: targetID, Details: details})
}
