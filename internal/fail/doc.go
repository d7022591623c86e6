// Package fail is Sesame's one vocabulary of failure (after
// benbjohnson/wtf): an application error is a *Error with a Code saying
// what kind of failure it is, a message Key naming the safe sentence a
// person reads (translated by the catalogs in templates), and the cause for
// the log. It imports nothing but the standard library, so that the
// domain (login's account rules, the gate, enrolment), the screens, the
// provider and the CLI can all use it.
//
// A domain error says what went wrong, never how it is shown: it carries
// no HTTP status and no exit status. Each door turns a Code into its own
// answer in exactly one function: the pages in login/web (Status), the
// OAuth/JSON answers in provider (OAuthError), the CLI in cmd/sesame
// (exitStatus). An error that is not a *Error is Internal: its cause goes
// to the log and the person reads a generic sentence.
package fail
