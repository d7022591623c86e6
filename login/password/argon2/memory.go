package argon2

import (
	"runtime"
	"unsafe"
)

// Memory is the work area of one hash at a time, kept from one hash to the
// next. Its zero value is ready to use; it is not safe for concurrent use.
//
// Where the system allows it, the work area is mapped outside the Go heap:
// kept in the heap, the garbage collector would count it as live memory and
// let twice as much garbage pile up before each cycle (the process grew from
// 49 to 131 MiB under a refresh load once two 19 MiB work areas were kept).
type Memory struct {
	blocks  []block
	mapping []byte          // the pages of blocks, when mapped outside the heap
	cleanup runtime.Cleanup // unmaps them if the Memory is dropped without Release
}

// Size returns the KiB the work area holds (0 before its first hash).
func (m *Memory) Size() uint32 { return uint32(len(m.blocks)) }

// Release gives the work area back to the system; the next hash allocates
// it again.
func (m *Memory) Release() {
	if m.mapping != nil {
		m.cleanup.Stop()
		unmapBlocks(m.mapping)
	}
	m.blocks, m.mapping = nil, nil
}

// resize makes the work area n blocks (KiB) long, keeping it when it is.
func (m *Memory) resize(n uint32) {
	if uint32(len(m.blocks)) == n {
		return
	}
	m.Release()
	mapping := mapBlocks(int(n) * blockLength * 8)
	if mapping == nil {
		m.blocks = make([]block, n)
		return
	}
	// The mapping is page-aligned, and a block holds no pointers: the
	// collector has nothing to find in it.
	m.mapping = mapping
	m.blocks = unsafe.Slice((*block)(unsafe.Pointer(unsafe.SliceData(mapping))), n)
	m.cleanup = runtime.AddCleanup(m, unmapBlocks, mapping)
}
