package boltstore

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMmapSize opens a new store, and one whose file is 6 GiB (sparse, as
// bbolt itself grows files ahead of their data), and reads the size of the
// file's memory map from /proc/self/maps: 4 GiB more than a new file, and
// twice the big one, so that neither is remapped (a remap waits for every
// reader, a Backup included, and holds up every acknowledgement) until
// the file has grown by that much.
func TestMmapSize(t *testing.T) {
	for _, c := range []struct {
		grow int64
		want int64
	}{
		{0, 4 << 30}, // no file yet: 4 GiB
		{6 << 30, 12 << 30},
	} {
		path := filepath.Join(t.TempDir(), "dwell.db")
		if c.grow > 0 {
			st, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
			if err := os.Truncate(path, c.grow); err != nil {
				t.Fatal(err)
			}
		}
		st, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := mappedBytes(t, path)
		st.Close()
		if got != c.want {
			t.Errorf("a file of %d bytes is mapped with %d bytes, want %d", c.grow, got, c.want)
		}
	}
}

// mappedBytes returns the length of the process's memory maps of path.
func mappedBytes(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasSuffix(line, " "+path) {
			continue
		}
		var lo, hi int64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		n += hi - lo
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}
