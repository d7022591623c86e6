package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.yaml.in/yaml/v3"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

//go:embed openapi.yaml
var documentYAML []byte

// Document returns the OpenAPI document as JSON, as it is served.
func Document() ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(documentYAML, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// LoadDocument parses the document (kin-openapi), for validation.
func LoadDocument() (*openapi3.T, error) {
	b, err := Document()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
}

// Caller is what a bearer token grants: the client, and its scopes.
type Caller struct {
	ClientID string
	Scopes   []string
}

// Store is what the API reads and writes beside login.Accounts.
type Store interface {
	storage.Organizations
	storage.Users
	storage.Clients
	storage.Audit
	storage.RateLimits
	storage.SecondFactors
	storage.Management
	storage.Domains
	storage.SSOConnections
}

// Options configure New.
type Options struct {
	Accounts *login.Accounts
	// Companies is company sign-in's domain layer (domains and upstream
	// connections); without it those operations answer 503.
	Companies *login.CompanySignIn
	Store     Store
	// Authenticate checks a bearer token (provider.ClientToken); a
	// refusal is a fail.Unauthorized error, anything else a failure.
	Authenticate func(ctx context.Context, token string) (Caller, error)
	// MasterKey seals the answers kept for idempotency keys (a client's
	// secret is in one).
	MasterKey []byte
	// RatePerMinute bounds each client's requests per minute (600 when 0).
	RatePerMinute int
	// T translates a message key into a language ("fr", "en"), for the
	// problems' titles and details (templates.Renderer.T).
	T      func(lang, key string) string
	Now    func() time.Time
	Logger *slog.Logger
}

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// IdempotencyLifetime is how long a POST's first answer is kept.
const IdempotencyLifetime = 24 * time.Hour

// Server is the management API's HTTP handler.
type Server struct {
	opts    Options
	doc     *openapi3.T
	docJSON []byte
	router  routers.Router
	inner   http.Handler
	box     *secretbox.Box
}

// parsedDocument is the embedded document ready for use: its JSON as served,
// and kin-openapi's model and router for validation.
type parsedDocument struct {
	json    []byte
	routing *openapi3.T
	router  routers.Router
}

// parsed reads the embedded document once per process (parsing and
// validating it for each server cost cmd/sesame's tests 8.6 CPU-seconds under
// -race). Nothing changes it after:
// every Server shares it, as every request of one Server already does.
var parsed = sync.OnceValues(func() (*parsedDocument, error) {
	docJSON, err := Document()
	if err != nil {
		return nil, err
	}
	doc, err := LoadDocument()
	if err != nil {
		return nil, fmt.Errorf("api: the OpenAPI document: %w", err)
	}
	// Routes are found without the server URL: the front strips the
	// mount path itself.
	routing := *doc
	routing.Servers = nil
	router, err := legacy.NewRouter(&routing)
	if err != nil {
		return nil, err
	}
	return &parsedDocument{json: docJSON, routing: &routing, router: router}, nil
})

// New builds the API from its document.
func New(o Options) (*Server, error) {
	if o.Accounts == nil || o.Store == nil || o.Authenticate == nil {
		return nil, errors.New("api: Accounts, Store and Authenticate are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.T == nil {
		o.T = func(_, k string) string { return k }
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 600
	}
	d, err := parsed()
	if err != nil {
		return nil, err
	}
	box, err := secretbox.New(o.MasterKey, "api-idempotency")
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, doc: d.routing, docJSON: d.json, router: d.router, box: box}
	strict := NewStrictHandlerWithOptions(&handlers{s: s}, nil, StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			s.problem(w, r, invalidBody(err))
		},
		ResponseErrorHandlerFunc: s.problem,
	})
	s.inner = HandlerWithOptions(strict, ChiServerOptions{BaseURL: vocab.PathAPI,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) { s.problem(w, r, invalidParam(err)) }})
	return s, nil
}

// problem writes err as a problem document, and logs a failure.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	if code, _ := ProblemOf(err); code == "unavailable" {
		s.opts.Logger.ErrorContext(r.Context(), "api", "path", r.URL.Path, "err", err)
	}
	writeProblem(w, r, err, s.opts.T)
}

// Paths are the prefix the server must route to the API.
const Prefix = vocab.PathAPI + "/"

// ServeHTTP runs the front (front.go), then the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.front(w, r) }

// RoutesInDocument lists the method and path (with {params}) of every
// operation of the document, for the test that compares them with the
// routes served.
func (s *Server) RoutesInDocument() []string { return RoutesOf(s.doc) }

// RoutesOf lists the method and full path of every operation of doc.
func RoutesOf(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+vocab.PathAPI+path)
		}
	}
	return out
}

// Inner is the generated router, for the test that walks its routes.
func (s *Server) Inner() http.Handler { return s.inner }

func trimAPI(p string) string { return strings.TrimPrefix(p, vocab.PathAPI) }
