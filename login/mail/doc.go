// Package mail delivers the outbox. Mail is written to storage in the same
// transaction as the action that causes it (an invitation, a validation), so
// that an action never happens without its mail nor a mail without its
// action. The Worker claims due mail with a lease (another worker, on this
// or another replica, skips it meanwhile), hands it to a Transport, and marks
// it sent only once the SMTP server accepted it; a failure is retried with
// exponential backoff, forever, across restarts.
//
// Transports: SMTP (github.com/wneessen/go-mail) with STARTTLS, implicit TLS
// or none; Log, the embedded default when no SMTP server is configured,
// which writes the mail's links to the log so that a newcomer can follow
// them. mailtest has an in-process SMTP server for tests.
package mail
