package fail

import (
	"errors"
	"fmt"
)

// Code is the kind of a failure: what a door needs to choose its answer.
type Code string

// The codes. Every door maps each of them; Internal is also the code of
// any error that is not a *Error.
const (
	Invalid      Code = "invalid"      // the input is wrong: correct it and try again
	Unauthorized Code = "unauthorized" // a credential or proof was refused
	Forbidden    Code = "forbidden"    // allowed to no one in this position
	NotFound     Code = "not_found"    // no such thing
	Conflict     Code = "conflict"     // the state of things forbids it (already exists, last admin)
	Gone         Code = "gone"         // it existed and can no longer be used (a used link)
	Stale        Code = "stale"        // it changed since the asker read it (an If-Match that no longer matches)
	Reused       Code = "reused"       // a key of a request was used for another request (an Idempotency-Key)
	TooLarge     Code = "too_large"    // the request is too large
	Method       Code = "method"       // this method is not allowed here (a GET where only POST is)
	TooMany      Code = "too_many"     // too many attempts: wait
	Unavailable  Code = "unavailable"  // a dependency is down or busy: retry later
	Internal     Code = "internal"     // a bug or an unexpected failure
)

// Codes lists every code, for the doors' tests.
var Codes = []Code{Invalid, Unauthorized, Forbidden, NotFound, Conflict, Gone, Stale, Reused, TooLarge, Method, TooMany, Unavailable, Internal}

// Error is an application error.
type Error struct {
	Code Code
	Key  string // the message key of the sentence people read
	Arg  any    // an argument of that sentence, if it has one
	Err  error  // the cause, for the log only
}

// E returns an error of code with message key.
func E(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// Wrap returns an error of code with message key whose cause is err.
func Wrap(code Code, key string, err error) *Error { return &Error{Code: code, Key: key, Err: err} }

func (e *Error) Error() string {
	s := e.Key
	if s == "" {
		s = string(e.Code)
	}
	if e.Arg != nil {
		s += fmt.Sprintf(" (%v)", e.Arg)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrX) true for a copy of ErrX carrying a cause
// or an argument: same code, same key.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Key == e.Key
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf is the code of err: "" for nil, Internal for an error that is not
// a *Error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok && e.Code != "" {
		return e.Code
	}
	return Internal
}

// KeyOf is the message key of err, "" when it has none (nil, or not a
// *Error): the door then chooses its generic sentence.
func KeyOf(err error) string {
	if e, ok := As(err); ok {
		return e.Key
	}
	return ""
}

// Refusal reports whether err refuses what was asked (the asker can do
// something about it) rather than failing (Internal, Unavailable).
func Refusal(err error) bool {
	switch CodeOf(err) {
	case "", Internal, Unavailable:
		return false
	}
	return true
}
