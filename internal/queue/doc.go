// Package queue holds what Sesame's two delivery workers share — the mail
// outbox (login/mail) and back-channel logout (provider): a loop that
// delivers at once when woken after an enqueue and otherwise every poll
// interval, and the doubling wait before a failed delivery is retried.
// The queues themselves live in storage (claimed with a lease, so that a
// crashed worker's items come back).
package queue
