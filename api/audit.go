package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/sesame-idp/sesame/internal/reqlog"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

// Every call is audited with the client as its actor. A change that
// succeeds is audited by the domain layer, in the change's own
// transaction (org.validated, member.invited…, actor client:ID); every
// other call of an authenticated client — a read, a refusal (wrong scope,
// bad input, a stale If-Match, a rule of the domain), a replayed
// Idempotency-Key — writes one event here, after its answer: one insert,
// nothing read. Not audited: a call without a valid token (there is no
// client to name; the request log has it) and a call over the client's
// budget (429: the budget is what bounds a flood, so its refusals write
// nothing more).

// Audit actions of the calls the domain layer does not audit.
const (
	ActionRead    = "api.read"    // a GET answered
	ActionRefused = "api.refused" // a change refused (4xx)
	ActionReplay  = "api.replayed"
)

// auditAction is the action of a call's event, or "" when the domain
// layer audited it (a change that succeeded).
func auditAction(method string, status int, replayed bool) string {
	switch {
	case method == http.MethodGet || method == http.MethodHead:
		return ActionRead
	case replayed:
		return ActionReplay
	case status >= 400 && status != http.StatusTooManyRequests:
		return ActionRefused
	}
	return ""
}

// auditCall writes the call's event when the domain layer did not.
func (s *Server) auditCall(r *http.Request, clientID string, pathParams map[string]string, w *reqlog.StatusWriter) {
	status := w.Status
	if status == 0 {
		status = http.StatusOK
	}
	action := auditAction(r.Method, status, w.Header().Get("Idempotent-Replayed") != "")
	if action == "" || status >= 500 {
		return // a failure is in the log; an event would likely fail too
	}
	target, targetType := trimAPI(r.URL.Path), "api"
	if id := pathParams["org_id"]; id != "" {
		target, targetType = id, "organization"
	}
	details := r.Method + " " + r.URL.Path
	if q := r.URL.RawQuery; q != "" {
		details += "?" + q
	}
	if len(details) > 400 {
		details = details[:400]
	}
	details += " " + strconv.Itoa(status)
	ctx := context.WithoutCancel(r.Context())
	err := s.opts.Store.RecordEvent(ctx, storage.AuditEvent{ID: storage.NewID("evt"), At: s.opts.Now(),
		ActorID: "client:" + clientID, Action: action, TargetType: targetType, TargetID: target, IP: web.ClientIP(r),
		Details: details})
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "api: audit a call", "err", err)
	}
}
