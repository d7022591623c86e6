//go:build !unix

package argon2

// mapBlocks returns nil: the work area is allocated in the Go heap.
func mapBlocks(int) []byte { return nil }

func unmapBlocks([]byte) {}
