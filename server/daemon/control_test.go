package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// startControlMain runs dwelld in-process on a loopback port over dir and
// returns it with its log.
func startControlMain(t *testing.T, dir string) (*Main, *lockedBuffer) {
	t.Helper()
	m := NewMain()
	log := &lockedBuffer{}
	m.Stdout, m.Stderr = io.Discard, log
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "info"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, log
}

// controlClient is an HTTP client over the Unix socket at path.
func controlClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
}

// fillStore gives m's store a rep and n fixes.
func fillStore(t *testing.T, m *Main, n int) {
	t.Helper()
	ctx := t.Context()
	if err := m.store.CreateRep(ctx, DefaultTenant, dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		fs := make([]dwell.Fix, min(n-done, 10000))
		for i := range fs {
			fs[i] = dwell.Fix{ID: fmt.Sprintf("f%d", done+i), Time: t0.Add(time.Duration(done+i) * time.Second),
				Pos: dwell.LatLng{Lat: 1, Lng: 1}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
		}
		if _, err := m.store.AppendFixes(ctx, DefaultTenant, "r1", fs); err != nil {
			t.Fatal(err)
		}
		done += len(fs)
	}
}

// TestControlBackup takes a backup over the control socket: the socket is
// 0600, GET /backup streams a file that Verify accepts with what was
// stored, other methods are refused, and Close removes the socket.
func TestControlBackup(t *testing.T) {
	dir := t.TempDir()
	m, _ := startControlMain(t, dir)
	fillStore(t, m, 1000)
	sock := filepath.Join(dir, ControlSocket)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket mode = %v, want a socket with 0600", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".control-*")); len(left) != 0 {
		t.Fatalf("the socket's temporary directory is left: %v", left)
	}
	hc := controlClient(sock)
	resp, err := hc.Get("http://dwelld/backup")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /backup = %d, %v", resp.StatusCode, err)
	}
	if cl, _ := strconv.Atoi(resp.Header.Get("Content-Length")); cl != len(body) || cl == 0 {
		t.Fatalf("GET /backup: Content-Length %q, body %d bytes", resp.Header.Get("Content-Length"), len(body))
	}
	copyPath := filepath.Join(t.TempDir(), "dwell.db")
	if err := os.WriteFile(copyPath, body, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := boltstore.Verify(t.Context(), copyPath, time.Second)
	if err != nil || c.Reps != 1 || c.Fixes != 1000 {
		t.Fatalf("Verify of the backup = %+v, %v; want 1 rep and 1000 fixes", c, err)
	}
	resp, err = hc.Post("http://dwelld/backup", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /backup = %d, want 405", resp.StatusCode)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("control socket after Close: %v, want it removed", err)
	}
}

// TestControlCloseCutsBackup stops dwelld while a backup streams: Close
// returns promptly, and the client's body ends in an error, never looking
// complete.
func TestControlCloseCutsBackup(t *testing.T) {
	dir := t.TempDir()
	m, _ := startControlMain(t, dir)
	fillStore(t, m, 150000) // several MiB: more than the socket buffers
	resp, err := controlClient(filepath.Join(dir, ControlSocket)).Get("http://dwelld/backup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited more than 10 s for a backup in flight")
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatalf("backup body ended cleanly after %d more bytes of %d though dwelld stopped midway", n, resp.ContentLength)
	}
	if 64<<10+n >= resp.ContentLength {
		t.Fatalf("backup body was whole (%d bytes) though cut", 64<<10+n)
	}
}

// TestControlStaleSocket starts dwelld over the socket a crashed dwelld
// left behind, which is replaced, and over a file that is not a socket,
// which is left alone: dwelld serves on and logs why it has no socket.
func TestControlStaleSocket(t *testing.T) {
	t.Run("stale socket", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(dir, ControlSocket)
		lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		lis.SetUnlinkOnClose(false)
		lis.Close() // what a kill -9 leaves: the file, nobody listening
		if _, err := net.Dial("unix", sock); err == nil {
			t.Fatal("the stale socket accepts connections")
		}
		startControlMain(t, dir)
		resp, err := controlClient(sock).Get("http://dwelld/backup")
		if err != nil {
			t.Fatalf("backup over the replaced socket: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /backup = %d", resp.StatusCode)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, ControlSocket)
		if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		m, log := startControlMain(t, dir)
		if m.Addr() == "" || !strings.Contains(log.String(), "is not a socket") {
			t.Fatalf("dwelld over a file named %s: addr %q, log:\n%s", ControlSocket, m.Addr(), log)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "mine" {
			t.Fatalf("the file is now %q, %v; want it untouched", b, err)
		}
	})
}

// TestNoControlSocketOnPostgres: a dwelld on PostgreSQL keeps nothing in
// its data directory to back up, and serves no control socket there.
func TestNoControlSocketOnPostgres(t *testing.T) {
	dir := t.TempDir()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--postgres", pgtest.DSN(t), "--log-level", "warn"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if _, err := os.Lstat(filepath.Join(dir, ControlSocket)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("control socket of a dwelld on PostgreSQL: %v, want none", err)
	}
}

// TestControlStalledReader: a backup reader that takes nothing for the
// stall limit is cut off, so that it cannot hold the snapshot's read
// transaction open; the next backup is whole.
func TestControlStalledReader(t *testing.T) {
	dir := t.TempDir()
	st, err := boltstore.Open(filepath.Join(dir, "dwell.db"), boltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for b := range 15 {
		fs := make([]dwell.Fix, 10000)
		for i := range fs {
			k := b*len(fs) + i
			fs[i] = dwell.Fix{ID: fmt.Sprintf("f%d", k), Time: t0.Add(time.Duration(k) * time.Second), Pos: dwell.LatLng{Lat: 1, Lng: 1}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
		}
		if _, err := st.AppendFixes(t.Context(), "acme", "r1", fs); err != nil {
			t.Fatal(err)
		}
	}
	log := &lockedBuffer{}
	c, err := startControl(t.Context(), dir, st, http.NotFoundHandler(), slog.New(slog.NewTextHandler(log, nil)), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	hc := controlClient(filepath.Join(dir, ControlSocket))
	resp, err := hc.Get("http://dwelld/backup")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // a reader stopped, far past the limit
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil || 64<<10+n >= resp.ContentLength {
		t.Fatalf("stalled reader got %d of %d bytes, %v; want it cut off", 64<<10+n, resp.ContentLength, err)
	}
	if !strings.Contains(log.String(), "backup not completed") {
		t.Fatalf("log:\n%s", log)
	}
	resp, err = hc.Get("http://dwelld/backup")
	if err != nil {
		t.Fatal(err)
	}
	n, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != resp.ContentLength {
		t.Fatalf("backup after a stalled one: %d of %d bytes, %v", n, resp.ContentLength, err)
	}
}
