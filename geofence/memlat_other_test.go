//go:build !linux

package geofence

import "testing"

// memLatencyTable returns a table of n bytes for BenchmarkMemoryLatency;
// huge pages are asked for on Linux only.
func memLatencyTable(_ *testing.B, n int, huge bool) (table []uint64, ok bool) {
	return make([]uint64, n/8), !huge
}
