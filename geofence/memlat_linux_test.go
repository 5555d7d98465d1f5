package geofence

import (
	"syscall"
	"testing"
	"unsafe"
)

// memLatencyTable returns a table of n bytes for BenchmarkMemoryLatency.
// With huge it maps the table itself and asks for 2 MiB pages
// (MADV_HUGEPAGE, which transparent huge pages in "madvise" mode honour),
// unmapped when b ends; ok is false if the kernel refuses.
func memLatencyTable(b *testing.B, n int, huge bool) (table []uint64, ok bool) {
	if !huge {
		return make([]uint64, n/8), true
	}
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		b.Logf("mmap of %d bytes: %v", n, err)
		return nil, false
	}
	b.Cleanup(func() { _ = syscall.Munmap(mem) })
	const madvHugepage = 14
	if err := syscall.Madvise(mem, madvHugepage); err != nil {
		b.Logf("madvise(MADV_HUGEPAGE): %v", err)
		return nil, false
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), n/8), true
}
