package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"golang.org/x/text/language"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/web"
)

// ProblemAnswer is how an application error is answered by the management
// API: its status and title. Its type is ProblemType(code).
type ProblemAnswer struct {
	Status int
	Title  string
}

// problemOf is the API door's table: one status and title per code.
// Internal is answered as Unavailable (503, Retry-After): the cause, a
// storage failure or a bug, stays in the log.
var problemOf = map[fail.Code]ProblemAnswer{
	fail.Invalid:      {http.StatusBadRequest, "Invalid request"},
	fail.Unauthorized: {http.StatusUnauthorized, "Unauthorized"},
	fail.Forbidden:    {http.StatusForbidden, "Forbidden"},
	fail.NotFound:     {http.StatusNotFound, "Not found"},
	fail.Conflict:     {http.StatusConflict, "Conflict"},
	fail.Gone:         {http.StatusGone, "Gone"},
	fail.Stale:        {http.StatusPreconditionFailed, "Precondition failed"},
	fail.Reused:       {http.StatusUnprocessableEntity, "Idempotency-Key reused"},
	fail.TooLarge:     {http.StatusRequestEntityTooLarge, "Request too large"},
	fail.Method:       {http.StatusMethodNotAllowed, "Method not allowed"},
	fail.TooMany:      {http.StatusTooManyRequests, "Too many requests"},
	fail.Unavailable:  {http.StatusServiceUnavailable, "Service unavailable"},
	fail.Internal:     {http.StatusServiceUnavailable, "Service unavailable"},
}

// ProblemType is the stable type URI of a code's problems.
func ProblemType(c fail.Code) string { return "urn:sesame:problem:" + string(c) }

// ProblemOf is the API door of internal/fail: it maps any error to its
// code and answer. Storage's sentinel errors are classified as the page
// door does (web.Classify).
func ProblemOf(err error) (fail.Code, ProblemAnswer) {
	e := web.Classify(err)
	c := e.Code
	a, ok := problemOf[c]
	if !ok || c == fail.Internal {
		c, a = fail.Unavailable, problemOf[fail.Unavailable]
	}
	return c, a
}

// param is a refused field of a request.
type param struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// paramsError is a refusal naming the fields at fault.
type paramsError struct {
	err    *fail.Error
	params []param
}

func (e *paramsError) Error() string { return e.err.Error() }
func (e *paramsError) Unwrap() error { return e.err }

type problemDoc struct {
	Type          string  `json:"type"`
	Title         string  `json:"title"`
	Status        int     `json:"status"`
	Detail        string  `json:"detail"`
	Code          string  `json:"code"`
	Instance      string  `json:"instance,omitempty"`
	InvalidParams []param `json:"invalid_params,omitempty"`
}

// ProblemTitleKey is the message key of a code's title in the catalogs
// (templates/locales/{fr,en}/api.json).
func ProblemTitleKey(c fail.Code) string { return "API.Problem." + string(c) }

// ProblemLang is the language of a request's problem documents: French
// or English by Accept-Language; English when the header names neither
// (a program that asks nothing reads the API's own language).
func ProblemLang(r *http.Request) string {
	if r == nil {
		return "en"
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return "en"
	}
	for _, tag := range tags { // in the client's order of preference
		if b, _ := tag.Base(); b.String() == "fr" || b.String() == "en" {
			return b.String()
		}
	}
	return "en"
}

// writeProblem answers err as a problem document in the request's
// language: t translates the title's and the error's message keys (the
// type URI and code do not change with the language).
func writeProblem(w http.ResponseWriter, r *http.Request, err error, t func(lang, key string) string) {
	code, a := ProblemOf(err)
	lang := ProblemLang(r)
	title := a.Title
	if s := t(lang, ProblemTitleKey(code)); s != ProblemTitleKey(code) {
		title = s
	}
	doc := problemDoc{Type: ProblemType(code), Title: title, Status: a.Status, Code: string(code), Detail: title}
	if e, ok := fail.As(err); ok && e.Key != "" && fail.Refusal(err) {
		if s := t(lang, e.Key); s != e.Key {
			doc.Detail = s
		}
	}
	var fe *login.FieldError
	var pe *paramsError
	switch {
	case errors.As(err, &fe):
		doc.InvalidParams = []param{{Name: fe.Field, Reason: fe.Problem}}
	case errors.As(err, &pe):
		doc.InvalidParams = pe.params
	}
	if r != nil {
		doc.Instance = r.URL.Path
	}
	h := w.Header()
	if (a.Status == http.StatusServiceUnavailable || a.Status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(5))
	}
	if a.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="sesame"`)
	}
	h.Set("Content-Language", lang)
	h.Add("Vary", "Accept-Language")
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(doc)
}
