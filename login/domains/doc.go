// Package domains proves that an organization owns an email domain: a
// random challenge value, published by the organization in a DNS TXT
// record at _sesame-challenge.DOMAIN, looked up through the configured
// resolver (domains.resolver, host:port) or the system's (/etc/resolv.conf).
//
// It owns the pieces that know nothing of storage: the domain's normal
// form (lower case, IDNA to ASCII, no final dot), the bundled list of
// public mail domains that no organization may claim (gmail.com,
// outlook.com, …: public_mail.txt), the challenge values, and the look-up
// with its failures told apart — a timeout, a SERVFAIL, a name that does
// not exist, a record without the value — each an internal/fail refusal
// with its own message, so that no door turns a resolver's trouble into a
// 5xx. The account rules (login: who may add, verify, re-check) use it.
//
// The look-up asks the one resolver with miekg/dns over UDP, then TCP when
// the answer is truncated; it does not recurse itself. A recursive
// resolver that answers SERVFAIL is reported as such (a DNSSEC failure at
// the domain looks the same), never retried in a loop.
package domains
