package storage

import "errors"

// Sentinel errors returned by every backend. Callers compare with errors.Is.
var (
	// ErrNotFound: no record has that key (or it has expired).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a record with the same unique key already exists.
	ErrConflict = errors.New("already exists")
	// ErrAlreadyUsed: a single-use record (authorization code, refresh
	// token) was presented a second time.
	ErrAlreadyUsed = errors.New("already used")
	// ErrInvalid: the record breaks a rule of the domain (a bad role, an
	// empty required field).
	ErrInvalid = errors.New("invalid record")
)
