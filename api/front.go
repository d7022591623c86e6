package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/reqlog"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

// The refusals of the front.
var (
	errNoRoute       = fail.E(fail.NotFound, "Errors.API.NotFound")
	errMethod        = fail.E(fail.Method, "Errors.API.Method")
	errScope         = fail.E(fail.Forbidden, "Errors.API.Scope")
	errRate          = fail.E(fail.TooMany, "Errors.API.RateLimit")
	errTooLarge      = fail.E(fail.TooLarge, "Errors.Request.TooLarge")
	errBody          = fail.E(fail.Invalid, "Errors.API.Body")
	errUnknownField  = fail.E(fail.Invalid, "Errors.API.UnknownField")
	errParam         = fail.E(fail.Invalid, "Errors.API.Param")
	errKeyReused     = fail.E(fail.Reused, "Errors.API.IdempotencyKey")
	errKeyRunning    = fail.E(fail.Conflict, "Errors.API.IdempotencyRunning")
	errStale         = fail.E(fail.Stale, "Errors.API.IfMatch")
	errCursor        = fail.E(fail.Invalid, "Errors.API.Cursor")
	errTokenRequired = fail.E(fail.Unauthorized, "Errors.API.TokenMissing")
	errKeys          = fail.E(fail.Invalid, "Errors.Clients.Keys")
	errOrigin        = fail.E(fail.Invalid, "Errors.Clients.Origin")
)

type ctxKey int

const (
	grantKey ctxKey = iota
	ipKey
)

// grantOf is the grant of the request's token (set by the front).
func grantOf(ctx context.Context) Caller {
	g, _ := ctx.Value(grantKey).(Caller)
	return g
}

// actorOf is the audit trail's actor of a request: the client, acting as
// the operator (the back office decides what the operator decides).
func actorOf(ctx context.Context) login.Actor {
	ip, _ := ctx.Value(ipKey).(string)
	return login.Actor{ID: "client:" + grantOf(ctx).ClientID, Operator: true, IP: ip}
}

func (s *Server) front(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	route, pathParams, err := s.findRoute(r)
	if err != nil {
		if errors.Is(err, errMethod) {
			w.Header().Set("Allow", strings.Join(s.allowed(r), ", "))
		}
		s.problem(w, r, err)
		return
	}
	if route.Operation.Security != nil && len(*route.Operation.Security) == 0 {
		// Public (the document itself).
		s.inner.ServeHTTP(w, r)
		return
	}
	grant, err := s.authenticate(r)
	if err != nil {
		if errors.Is(err, errTokenRequired) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame"`)
		} else if fail.CodeOf(err) == fail.Unauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sesame", error="invalid_token"`)
		}
		s.problem(w, r, err)
		return
	}
	if err := s.spend(r.Context(), w, grant.ClientID); err != nil {
		s.problem(w, r, err) // not audited: the budget bounds a flood, its refusals must not write
		return
	}
	// From here every call is audited with the client as its actor
	// (audit.go): a change by the domain layer's own event, anything else
	// (a read, a refusal, a replay) by one event written here.
	sw := &reqlog.StatusWriter{ResponseWriter: w}
	defer s.auditCall(r, grant.ClientID, pathParams, sw)
	w = sw
	if scope := requiredScope(route.Operation); scope != "" && !slices.Contains(grant.Scopes, scope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sesame", error="insufficient_scope", scope="`+scope+`"`)
		s.problem(w, r, errScope)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.validate(r, route, pathParams, body); err != nil {
		s.problem(w, r, err)
		return
	}
	r = r.WithContext(context.WithValue(context.WithValue(r.Context(), grantKey, grant), ipKey, web.ClientIP(r)))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if key := r.Header.Get("Idempotency-Key"); r.Method == http.MethodPost && key != "" {
		s.idempotent(w, r, grant.ClientID, key, body)
		return
	}
	s.inner.ServeHTTP(w, r)
}

// allowed lists the methods the document has for r's path (the Allow
// header of a 405, RFC 9110 §15.5.6).
func (s *Server) allowed(r *http.Request) []string {
	u := *r.URL
	u.Path = trimAPI(r.URL.Path)
	u.RawPath = ""
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method, probe.URL = m, &u
		if _, _, err := s.findIn(probe); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// findRoute finds the operation in the document.
func (s *Server) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	u := *r.URL
	u.Path = trimAPI(r.URL.Path)
	u.RawPath = ""
	req := r.Clone(r.Context())
	req.URL = &u
	route, params, err := s.findIn(req)
	var re *routers.RouteError
	switch {
	case err == nil:
		return route, params, nil
	case errors.As(err, &re) && re.Reason == routers.ErrMethodNotAllowed.Error():
		return nil, nil, errMethod
	}
	if len(s.allowed(r)) > 0 {
		// The path is the document's, the method not (the router says
		// so only of some paths).
		return nil, nil, errMethod
	}
	return nil, nil, errNoRoute
}

// findIn finds the operation of a request whose path has the API's
// prefix removed. The router lets a path parameter match nothing
// (/organizations/X/domains as /organizations/X/domains/{domain}): a
// route with an empty parameter is no route.
func (s *Server) findIn(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range params {
		if v == "" {
			return nil, nil, routers.ErrPathNotFound
		}
	}
	return route, params, nil
}

// requiredScope is the scope the operation's security requirement names.
func requiredScope(op *openapi3.Operation) string {
	if op.Security == nil {
		return ""
	}
	for _, req := range *op.Security {
		for _, scopes := range req {
			if len(scopes) > 0 {
				return scopes[0]
			}
		}
	}
	return ""
}

func (s *Server) authenticate(r *http.Request) (Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Caller{}, errTokenRequired
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Caller{}, fail.E(fail.Unauthorized, "Errors.API.TokenInvalid")
	}
	return s.opts.Authenticate(r.Context(), strings.TrimSpace(token))
}

// spend counts one request of the client in the current minute, in
// storage (every replica counts in the same window).
func (s *Server) spend(ctx context.Context, w http.ResponseWriter, clientID string) error {
	n, end, err := s.opts.Store.Hit(ctx, "api:"+clientID, minute, s.opts.Now())
	if err != nil {
		return err
	}
	w.Header().Set("RateLimit-Limit", strconv.Itoa(s.opts.RatePerMinute))
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(max(0, s.opts.RatePerMinute-n)))
	if n > s.opts.RatePerMinute {
		wait := int(end.Sub(s.opts.Now()).Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		return errRate
	}
	return nil
}

// readBody reads the body, at most MaxBodyBytes, and checks it is
// well-formed JSON when there is one.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, errTooLarge
	case err != nil:
		return nil, fail.Wrap(fail.Invalid, "Errors.API.Body", err)
	case len(bytes.TrimSpace(body)) > 0 && !json.Valid(body):
		return nil, &paramsError{err: errBody, params: []param{{Name: "body", Reason: "not well-formed JSON"}}}
	}
	return body, nil
}

var (
	quoted      = regexp.MustCompile(`additional propert\w* '(.+?)' not allowed`)
	unsupported = regexp.MustCompile(`property "([^"]+)" is unsupported`)
)

// validate checks the request against the document: parameters, and the
// body's schema (unknown fields included: every schema of a request body
// has additionalProperties false).
func (s *Server) validate(r *http.Request, route *routers.Route, pathParams map[string]string, body []byte) error {
	req := r.Clone(r.Context())
	u := *r.URL
	u.Path = trimAPI(r.URL.Path)
	req.URL = &u
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(bytes.TrimSpace(body)) == 0 {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err := openapi3filter.ValidateRequest(r.Context(), in)
	if err == nil {
		return nil
	}
	var params []param
	unknown := false
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		var reqErr *openapi3filter.RequestError
		var schemaErr *openapi3.SchemaError
		switch {
		case errors.As(err, &reqErr) && reqErr.Parameter != nil:
			reason := reqErr.Reason
			if errors.As(err, &schemaErr) {
				reason = schemaErr.Reason
			}
			if reason == "" {
				reason = "invalid"
			}
			params = append(params, param{Name: reqErr.Parameter.Name, Reason: reason})
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &schemaErr) && unsupported.MatchString(schemaErr.Reason):
			unknown = true
			for _, m := range unsupported.FindAllStringSubmatch(schemaErr.Reason, -1) {
				params = append(params, param{Name: joinPointer(schemaErr.JSONPointer(), m[1]), Reason: "unknown field"})
			}
		case errors.As(err, &schemaErr):
			if strings.Contains(schemaErr.Reason, "additional propert") {
				unknown = true
				for _, m := range quoted.FindAllStringSubmatch(schemaErr.Reason, -1) {
					for _, name := range strings.Split(m[1], "', '") {
						params = append(params, param{Name: joinPointer(schemaErr.JSONPointer(), name), Reason: "unknown field"})
					}
				}
				return
			}
			name := strings.Join(schemaErr.JSONPointer(), ".")
			if name == "" {
				name = "body"
			}
			params = append(params, param{Name: name, Reason: schemaErr.Reason})
		case errors.As(err, &reqErr):
			params = append(params, param{Name: "body", Reason: reqErr.Reason})
		default:
			params = append(params, param{Name: "request", Reason: "invalid"})
		}
	}
	walk(err)
	e := errParam
	if unknown {
		e = errUnknownField
	} else if route.Operation.RequestBody != nil && len(params) > 0 && !isParam(route.Operation, params[0].Name) {
		e = errBody
	}
	return &paramsError{err: e, params: params}
}

func joinPointer(ptr []string, name string) string {
	return strings.Join(append(slices.Clone(ptr), name), ".")
}

func isParam(op *openapi3.Operation, name string) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.Name == name {
			return true
		}
	}
	return false
}

// invalidBody is a body the generated code could not decode (the
// validation before it lets few through).
func invalidBody(err error) error {
	return &paramsError{err: fail.Wrap(fail.Invalid, "Errors.API.Body", err), params: []param{{Name: "body", Reason: "cannot be decoded"}}}
}

// invalidParam is a parameter the generated code could not parse.
func invalidParam(err error) error {
	return fail.Wrap(fail.Invalid, "Errors.API.Param", err)
}

// --- Idempotency-Key ---

// kept is a first answer, as stored (sealed).
type kept struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header"`
	Body   []byte            `json:"body"`
}

// recorder keeps what the operation answers, and writes it too.
type recorder struct {
	reqlog.StatusWriter
	body bytes.Buffer
}

func (rw *recorder) Write(b []byte) (int, error) {
	rw.body.Write(b)
	return rw.StatusWriter.Write(b)
}

// idempotent runs a POST with an Idempotency-Key once: the first request
// with the key runs and its answer is kept (sealed); a retry with the same
// method, path and body gets that answer; another request with the key is
// refused (422); a retry while the first still runs is 409. A failure of
// the server's (5xx) forgets the key, so that a retry runs again.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, clientID, key string, body []byte) {
	sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(bytes.TrimSpace(body))))
	hash := base64.RawURLEncoding.EncodeToString(sum[:])
	now := s.opts.Now()
	ctx := r.Context()
	prev, began, err := s.opts.Store.BeginIdempotent(ctx, storage.IdempotentRequest{ClientID: clientID, Key: key, RequestHash: hash,
		CreatedAt: now, ExpiresAt: now.Add(IdempotencyLifetime)})
	switch {
	case errors.Is(err, storage.ErrConflict):
		s.problem(w, r, errKeyRunning)
		return
	case err != nil:
		s.problem(w, r, err)
		return
	case !began && prev.RequestHash != hash:
		s.problem(w, r, errKeyReused)
		return
	case !began && prev.Status == 0:
		w.Header().Set("Retry-After", "1")
		s.problem(w, r, errKeyRunning)
		return
	case !began:
		s.replay(w, r, prev)
		return
	}
	rec := &recorder{StatusWriter: reqlog.StatusWriter{ResponseWriter: w}}
	s.inner.ServeHTTP(rec, r)
	if rec.Status == 0 {
		rec.Status = http.StatusOK
	}
	// The request's context may have ended with it: keeping the answer
	// must not depend on the client still waiting.
	ctx = context.WithoutCancel(ctx)
	if rec.Status >= 500 {
		if err := s.opts.Store.DropIdempotent(ctx, clientID, key); err != nil {
			s.opts.Logger.Error("api: forget an idempotency key", "err", err)
		}
		return
	}
	k := kept{Status: rec.Status, Header: map[string]string{}, Body: rec.body.Bytes()}
	for _, h := range []string{"Content-Type", "ETag", "Location", "Retry-After", "WWW-Authenticate"} {
		if v := w.Header().Get(h); v != "" {
			k.Header[h] = v
		}
	}
	plain, _ := json.Marshal(k)
	sealed, err := s.box.Seal(plain)
	if err == nil {
		err = s.opts.Store.FinishIdempotent(ctx, clientID, key, rec.Status, sealed)
	}
	if err != nil {
		s.opts.Logger.Error("api: keep an idempotent answer", "err", err)
		_ = s.opts.Store.DropIdempotent(ctx, clientID, key)
	}
}

// replay writes a kept answer again, marked Idempotent-Replayed.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, prev storage.IdempotentRequest) {
	plain, err := s.box.Open(prev.Body)
	var k kept
	if err == nil {
		err = json.Unmarshal(plain, &k)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	for h, v := range k.Header {
		w.Header().Set(h, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(k.Status)
	_, _ = w.Write(k.Body)
}
