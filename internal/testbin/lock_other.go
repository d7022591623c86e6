//go:build !unix

package testbin

// lock does nothing where flock(2) is missing: builds then only repeat work.
func lock(string) (func(), error) { return func() {}, nil }
