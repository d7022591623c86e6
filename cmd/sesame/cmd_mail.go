package main

import (
	"context"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	sesamemail "github.com/sesame-idp/sesame/login/mail"
)

// The mail command: the outbox.

type mailJSON struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	To        string   `json:"to"`
	Subject   string   `json:"subject"`
	Status    string   `json:"status"`
	Attempts  int      `json:"attempts"`
	LastError string   `json:"last_error,omitempty"`
	Created   string   `json:"created_at"`
	Sent      string   `json:"sent_at,omitempty"`
	Links     []string `json:"links"`
}

func mailList(fs *cliflag.Set) action {
	limit := fs.Int("limit", 20, "N", "how many, the most recent first (1 to 10000)")
	return func(ctx context.Context, c *cli, args []string) error {
		if *limit < 1 || *limit > 10000 {
			return badFlag("limit", "must be from 1 to 10000")
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		list, err := m.Store.ListMails(ctx, *limit)
		if err != nil {
			return err
		}
		out := []mailJSON{}
		var rows [][]string
		for _, x := range list {
			// A queued mail's body is sealed, a sent one's erased; the links
			// are shown for what they are for, never with their tokens.
			body, _ := m.Mail.Sealer.Open(x)
			j := mailJSON{ID: x.ID, Kind: x.Kind, To: x.To, Subject: x.Subject, Status: "queued", Attempts: x.Attempts,
				LastError: x.LastError, Created: ts(x.CreatedAt)}
			if !sesamemail.Sealed(body) {
				j.Links = sesamemail.RedactedLinks(body.Text)
			}
			if !x.SentAt.IsZero() {
				j.Status, j.Sent = "sent", ts(x.SentAt)
			} else if x.LastError != "" {
				j.Status = "retrying"
			}
			if j.Links == nil {
				j.Links = []string{}
			}
			out = append(out, j)
			rows = append(rows, []string{j.Created, j.To, j.Kind, j.Status, strings.Join(j.Links, " ")})
		}
		if c.json {
			return c.printJSON(out)
		}
		return c.table("CREATED\tTO\tKIND\tSTATUS\tLINKS", rows)
	}
}
