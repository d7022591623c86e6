//go:build unix

package argon2

import "golang.org/x/sys/unix"

// mapBlocks maps size bytes of private anonymous memory (zero pages until
// written), or returns nil when it cannot.
func mapBlocks(size int) []byte {
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return b
}

func unmapBlocks(b []byte) { _ = unix.Munmap(b) }
