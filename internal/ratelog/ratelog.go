// Package ratelog keeps rate-limit refusals from flooding the log: a key
// (a budget, an address) gets at most one line a minute, which counts the
// refusals since its previous line. Under load, one client refused
// thousands of times a second writes one line a minute instead of
// thousands. The clock is the caller's: Refused takes the time.
package ratelog

import (
	"sync"
	"time"
)

// Every is the least time between two lines of a key.
const Every = time.Minute

// maxKeys bounds the memory: past it, the keys quiet for a minute are
// forgotten (their next refusal writes a line at once).
const maxKeys = 4096

// Log counts refusals per key. Its zero value is ready.
type Log struct {
	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	last time.Time // when its last line was written
	n    int       // refusals since, not yet written
}

// Refused records a refusal of key at now. write says whether to write a
// line now; n is the count it reports: the refusals since the key's
// previous line, this one included.
func (l *Log) Refused(key string, now time.Time) (n int, write bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[string]*entry{}
	}
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxKeys {
			l.prune(now)
		}
		l.keys[key] = &entry{last: now}
		return 1, true
	}
	e.n++
	if now.Sub(e.last) < Every {
		return 0, false
	}
	n, e.n, e.last = e.n, 0, now
	return n, true
}

// prune forgets the keys without a line for a minute.
func (l *Log) prune(now time.Time) {
	for k, e := range l.keys {
		if now.Sub(e.last) >= Every {
			delete(l.keys, k)
		}
	}
}
