// Package web holds what every HTTP answer of Sesame shares: the security
// headers, the bound on request bodies, the early form check (size, UTF-8)
// and the one mapping of application errors to an HTTP status and a safe,
// translatable message key. Details of an error go to the log, never to
// the person.
package web
