package mail

import (
	"context"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// holdRecheck is how often a mail held for want of an SMTP server is
// looked at again: once a server is configured (and Sesame restarted), the
// held mail goes out within this time.
const holdRecheck = time.Hour

// hold keeps a mail queued when no SMTP server is configured: it is
// "queued" in `sesame mail list` (its links shown, tokens hidden) until a
// server accepts it, never "sent". Its links are logged once, the first
// time the worker sees it, so that a newcomer can follow them; later looks
// are silent. openErr is the sealed body's: an unreadable body is logged
// without its links.
func (w *Worker) hold(ctx context.Context, l Log, m, plain storage.Mail, openErr error) error {
	if m.Attempts <= 1 {
		if openErr != nil {
			w.Logger.WarnContext(ctx, "mail queued: no SMTP server is configured; its body cannot be opened", "mail", m.ID, "err", openErr)
		} else {
			_ = l.Send(ctx, plain)
		}
	}
	return w.Store.MarkMailFailed(ctx, m.ID, "", w.Now().Add(holdRecheck))
}
