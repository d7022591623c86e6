// Package web holds what every HTTP answer of Sesame shares: the security
// headers, the bound on request bodies, the early form check (size, UTF-8)
// and the page door of internal/fail: Status, the one mapping of an
// application error's code to a page's HTTP status and a safe, translatable
// message key (the OAuth/JSON door is provider.OAuthError, the CLI's is
// exitStatus in cmd/sesame). Details of an error go to the log, never to
// the person.
package web
