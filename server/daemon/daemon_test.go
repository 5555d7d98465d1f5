package daemon

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// failedMain is a Main over dir, listening on listen, whose Run the
// caller expects to fail; its stdout and log go to out.
func failedMain(t *testing.T, dir, listen string, out *lockedBuffer) *Main {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = out, out
	if err := m.ParseFlags([]string{"--listen", listen, "--data-dir", dir}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	return m
}

// closeAfterFailedRun calls m.Close as cmd/dwelld does after a failed Run
// and checks that it returns nil within 10 seconds (a hang is the bug, not
// a slow machine: a Close with nothing to drain takes milliseconds) and
// does not panic.
func closeAfterFailedRun(t *testing.T, m *Main) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- r
			}
		}()
		done <- m.Close()
	}()
	select {
	case r := <-done:
		if r != nil {
			t.Fatalf("Close after a failed Run: %v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close after a failed Run has not returned after 10 s")
	}
}

// TestRunFailsCleanly starts dwelld where it cannot run: Run returns an
// error that says why, and Close then returns nil at once, without a
// panic, having released the store, so that the process exits (SIGTERM
// would otherwise be ignored, with the store's file lock held).
func TestRunFailsCleanly(t *testing.T) {
	t.Run("listen address taken", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		dir := t.TempDir()
		out := &lockedBuffer{}
		m := failedMain(t, dir, busy.Addr().String(), out)
		err = m.Run(t.Context())
		t.Logf("Run: %v", err)
		if err == nil || !strings.Contains(err.Error(), "listen") || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("Run on a taken port = %v, want the listen error", err)
		}
		closeAfterFailedRun(t, m)
		// The store is closed and its lock released: another process
		// (here another Store) opens the file without waiting.
		s, err := boltstore.Open(filepath.Join(dir, dbFile), boltstore.Options{})
		if err != nil {
			t.Fatalf("the store after Close: %v", err)
		}
		s.Close()
		// The first start created the tenant's key before failing: it
		// says how to mint a token, as the next start will not.
		if !strings.Contains(out.String(), "dwellctl token mint --data-dir") {
			t.Fatalf("a first start that failed printed no token mint hint:\n%s", out)
		}
	})

	t.Run("data directory in use", func(t *testing.T) {
		dir := t.TempDir()
		first, _ := startControlMain(t, dir)
		m := failedMain(t, dir, "127.0.0.1:0", &lockedBuffer{})
		err := m.Run(t.Context())
		t.Logf("Run: %v", err)
		if err == nil {
			t.Fatal("Run on a data directory in use succeeded")
		}
		if !strings.Contains(err.Error(), "the data directory "+dir+" is in use by another dwelld (its dwell.db is locked)") {
			t.Errorf("Run on a data directory in use = %v, want it said in use by another dwelld", err)
		}
		closeAfterFailedRun(t, m)
		// The first dwelld still serves on its store.
		fillStore(t, first, 10)
	})

	t.Run("newer layout", func(t *testing.T) {
		dir := t.TempDir()
		db, err := bolt.Open(filepath.Join(dir, dbFile), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("meta"))
			if err != nil {
				return err
			}
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], 2)
			return b.Put([]byte("format"), v[:])
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		m := failedMain(t, dir, "127.0.0.1:0", &lockedBuffer{})
		err = m.Run(t.Context())
		t.Logf("Run: %v", err)
		if err == nil {
			t.Fatal("Run on a newer layout succeeded")
		}
		if !strings.Contains(err.Error(), "has storage layout 2, newer than the layout 1 this version reads") {
			t.Errorf("Run on a newer layout = %v, want it said newer", err)
		}
		closeAfterFailedRun(t, m)
	})
}
