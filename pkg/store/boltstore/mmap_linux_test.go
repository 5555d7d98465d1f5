package boltstore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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

// TestMmapLimitedAddressSpace opens a store in a child process whose
// address space is limited (as ulimit -v or systemd's LimitAS do) to what
// it uses plus 2 GiB: the 4 GiB map fails with ENOMEM, and Open maps 1
// GiB instead rather than refusing to start.
func TestMmapLimitedAddressSpace(t *testing.T) {
	if os.Getenv("DWELL_MMAP_CHILD") == "1" {
		mmapChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMmapLimitedAddressSpace$", "-test.v")
	cmd.Env = append(os.Environ(), "DWELL_MMAP_CHILD=1", "DWELL_MMAP_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("mapped %d bytes", minMmapSize)) {
		t.Fatalf("the child did not map %d bytes:\n%s", minMmapSize, out)
	}
}

// mmapChild is TestMmapLimitedAddressSpace's child.
func mmapChild(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var kib int64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmSize:"); ok {
			fmt.Sscan(v, &kib)
		}
	}
	if kib == 0 {
		t.Fatal("no VmSize in /proc/self/status")
	}
	limit := uint64(kib<<10) + 2<<30
	if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(os.Getenv("DWELL_MMAP_DIR"), "dwell.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open with the address space limited: %v", err)
	}
	defer st.Close()
	t.Logf("mapped %d bytes", mappedBytes(t, path))
}
