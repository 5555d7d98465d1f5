package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// backupReps are the reps the backup tests upload for.
var backupReps = []string{"r0", "r1", "r2"}

// backupFix is fix k of a rep's walk: ids are f<k>, a millisecond apart
// from two hours ago.
func backupFix(base time.Time, k int) *dwellv1.Fix {
	return &dwellv1.Fix{Id: fmt.Sprintf("f%d", k), DeviceTime: timestamppb.New(base.Add(time.Duration(k) * time.Millisecond)),
		Position: &dwellv1.LatLng{Lat: -6.2 + float64(k%1000)*1e-5, Lng: 106.8}, AccuracyMeters: 8}
}

// repClient returns an IngestService client of rep on the dwelld at addr,
// with a token from the keys of dataDir.
func repClient(t *testing.T, addr, dataDir, rep string) dwellv1.IngestServiceClient {
	t.Helper()
	tok, err := mintToken(dataDir, dwell.Principal{Tenant: daemon.DefaultTenant, Subject: rep, Role: dwell.RoleRep}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return dwellv1.NewIngestServiceClient(grpcConn(t, addr, tok))
}

// seedBackup creates the backup reps on m and uploads n fixes for each
// (ids f0 ... f<n-1>), so that the store is several MiB: more than the
// socket's buffers hold, so a backup streams for a while.
func seedBackup(t *testing.T, m *daemon.Main, base time.Time, n int) {
	t.Helper()
	dir := m.Config.DataDir
	tok, err := mintToken(dir, dwell.Principal{Tenant: daemon.DefaultTenant, Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dc := dwellv1.NewDirectoryServiceClient(grpcConn(t, m.Addr(), tok))
	for _, r := range backupReps {
		if _, err := dc.CreateRep(t.Context(), &dwellv1.CreateRepRequest{RepId: r, Rep: &dwellv1.Rep{DisplayName: r, TimeZone: "UTC"}}); err != nil {
			t.Fatal(err)
		}
		ic := repClient(t, m.Addr(), dir, r)
		for k := 0; k < n; k += dwell.MaxFixesPerBatch {
			var fs []*dwellv1.Fix
			for i := k; i < min(n, k+dwell.MaxFixesPerBatch); i++ {
				fs = append(fs, backupFix(base, i))
			}
			resp, err := ic.UploadPings(t.Context(), &dwellv1.UploadPingsRequest{Fixes: fs})
			if err != nil || resp.GetAck().GetAccepted() != int32(len(fs)) {
				t.Fatalf("seeding: %v, ack %v", err, resp.GetAck())
			}
		}
	}
}

// backupEnv returns an env that writes to the returned buffers.
func backupEnv(getenv map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return getenv[k] }, now: time.Now}, &out, &errb
}

// TestBackupUnderUploads backs up a dwelld while reps upload without
// pause, and holds the snapshot stream open until dwelld has acknowledged
// more uploads: the backup's read transaction does not stop the writer.
// Then a dwelld started on the backup directory (a restore) accepts
// tokens minted from the backed-up keys and answers DUPLICATE for every
// fix acknowledged before the backup began.
func TestBackupUnderUploads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m := startDaemon(t, dir, "")
	base := time.Now().Add(-2 * time.Hour)
	const seeded = 20000
	seedBackup(t, m, base, seeded)

	// Continuous uploads, 50 fixes a batch, each rep its own goroutine.
	var mu sync.Mutex
	acked := map[string][]string{} // rep -> fix ids acknowledged as accepted
	var acks atomic.Int64
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, r := range backupReps {
		ic := repClient(t, m.Addr(), dir, r)
		wg.Go(func() {
			for k := seeded; ctx.Err() == nil; k += 50 {
				var fs []*dwellv1.Fix
				for i := range 50 {
					fs = append(fs, backupFix(base, k+i))
				}
				resp, err := ic.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: fs})
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("upload for %s: %v", r, err)
					}
					return
				}
				mu.Lock()
				for _, res := range resp.GetAck().GetResults() {
					if res.GetStatus() == dwellv1.FixStatus_FIX_STATUS_ACCEPTED {
						acked[r] = append(acked[r], res.GetId())
					}
				}
				mu.Unlock()
				acks.Add(1)
			}
		})
	}
	defer func() { stop(); wg.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); acks.Load() < 10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("uploads are not acknowledged")
		}
	}
	// Everything acknowledged before the backup begins.
	mu.Lock()
	before := map[string][]string{}
	for r, ids := range acked {
		before[r] = append([]string(nil), ids...)
	}
	mu.Unlock()

	to := filepath.Join(t.TempDir(), "backup")
	var during int64
	paused := false
	job := &backupJob{dataDir: dir, to: to, progress: func(n int64) {
		if paused || n < 256<<10 {
			return
		}
		// Midway through the stream: dwelld is inside the snapshot's
		// read transaction, blocked on this reader. Uploads go on.
		paused = true
		a0 := acks.Load()
		for deadline := time.Now().Add(10 * time.Second); acks.Load() < a0+20 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		during = acks.Load() - a0
	}}
	e, out, errb := backupEnv(nil)
	if code := job.run(t.Context(), e, &globals{output: "table"}); code != exitOK {
		t.Fatalf("backup: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	if !paused || during < 20 {
		t.Fatalf("uploads acknowledged while the backup streamed: %d (paused %v), want 20 or more", during, paused)
	}
	if s := out.String(); !strings.Contains(s, "from the running dwelld") || !strings.Contains(s, "--data-dir "+to) {
		t.Errorf("backup printed:\n%s", s)
	}
	t.Logf("%d upload batches acknowledged while the snapshot streamed\n%s", during, out)
	stop()
	wg.Wait()
	for _, p := range []string{to, filepath.Join(to, "keys")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want mode 0700", p, fi.Mode(), err)
		}
	}
	for _, p := range []string{filepath.Join(to, "dwell.db"), filepath.Join(to, "keys", "default.json")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", p, fi.Mode(), err)
		}
	}

	// Restore: a dwelld on the backup directory.
	r := startDaemon(t, to, "")
	total := 0
	for _, rep := range backupReps {
		ic := repClient(t, r.Addr(), to, rep)
		ids := before[rep]
		for k := 0; k < seeded; k++ {
			ids = append(ids, fmt.Sprintf("f%d", k))
		}
		for len(ids) > 0 {
			n := min(len(ids), dwell.MaxFixesPerBatch)
			var fs []*dwellv1.Fix
			for _, id := range ids[:n] {
				var k int
				fmt.Sscanf(id, "f%d", &k)
				fs = append(fs, backupFix(base, k))
			}
			resp, err := ic.UploadPings(t.Context(), &dwellv1.UploadPingsRequest{Fixes: fs})
			if err != nil {
				t.Fatalf("re-upload to the restored dwelld: %v", err)
			}
			if d := resp.GetAck().GetDuplicates(); d != int32(n) {
				t.Fatalf("rep %s: %d of %d fixes acknowledged before the backup are missing from it", rep, int32(n)-d, n)
			}
			total += n
			ids = ids[n:]
		}
	}
	t.Logf("%d fixes acknowledged before the backup, all in it", total)
}

// TestBackupInterrupted cuts backups short, by cancelling dwellctl and by
// stopping dwelld midway: neither leaves a dwell.db (nor its temporary
// file) in the backup directory, and a backup there before is untouched.
func TestBackupInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m := startDaemon(t, dir, "")
	seedBackup(t, m, time.Now().Add(-2*time.Hour), 20000)
	noBackup := func(t *testing.T, to string) {
		t.Helper()
		left, _ := filepath.Glob(filepath.Join(to, "*dwell.db*"))
		if len(left) != 0 {
			t.Fatalf("an interrupted backup left %v", left)
		}
	}

	t.Run("cancelled", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "backup")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		job := &backupJob{dataDir: dir, to: to, progress: func(n int64) {
			if n >= 64<<10 {
				cancel()
			}
		}}
		e, _, errb := backupEnv(nil)
		if code := job.run(ctx, e, &globals{output: "table"}); code != exitFail {
			t.Fatalf("cancelled backup: exit %d, want 1\n%s", code, errb)
		}
		noBackup(t, to)
	})

	t.Run("replacing", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "backup")
		c := &cli{t: t}
		c.must(exitOK, "backup", "--data-dir", dir, "--to", to)
		old, err := os.ReadFile(filepath.Join(to, "dwell.db"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		job := &backupJob{dataDir: dir, to: to, force: true, progress: func(n int64) {
			if n >= 64<<10 {
				cancel()
			}
		}}
		e, _, errb := backupEnv(nil)
		if code := job.run(ctx, e, &globals{output: "table"}); code != exitFail {
			t.Fatalf("cancelled backup: exit %d, want 1\n%s", code, errb)
		}
		now, err := os.ReadFile(filepath.Join(to, "dwell.db"))
		if err != nil || !bytes.Equal(now, old) {
			t.Fatalf("the backup before an interrupted --force changed (%d bytes, was %d): %v", len(now), len(old), err)
		}
		if left, _ := filepath.Glob(filepath.Join(to, ".dwell.db.tmp-*")); len(left) != 0 {
			t.Fatalf("an interrupted backup left %v", left)
		}
	})

	t.Run("dwelld stopped", func(t *testing.T) {
		to := filepath.Join(t.TempDir(), "backup")
		stopped := false
		job := &backupJob{dataDir: dir, to: to, progress: func(n int64) {
			if n >= 64<<10 && !stopped {
				stopped = true
				if err := m.Close(); err != nil {
					t.Error(err)
				}
			}
		}}
		e, _, errb := backupEnv(nil)
		if code := job.run(t.Context(), e, &globals{output: "table"}); code != exitFail || !strings.Contains(errb.String(), "stream") {
			t.Fatalf("backup from a dwelld stopped midway: exit %d, want 1 saying the stream broke\n%s", code, errb)
		}
		noBackup(t, to)
	})
}

// TestBackupOffline backs up a stopped dwelld's data directory, also with
// the stale socket of a crash in it, and refuses one whose file is held
// by a store that serves no socket.
func TestBackupOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m := startDaemon(t, dir, "")
	seedBackup(t, m, time.Now().Add(-2*time.Hour), 1000)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t}
	r := c.must(exitOK, "backup", "--data-dir", dir, "--to", filepath.Join(t.TempDir(), "b1"), "-o", "json")
	res := decodeJSON[backupResult](t, r.stdout)
	if res.Online || res.Reps != 3 || res.Fixes != 3000 || res.Keys != 1 || len(res.Tenants) != 1 {
		t.Fatalf("offline backup = %+v, want offline, 3 reps, 3000 fixes, 1 key", res)
	}

	// The socket a killed dwelld leaves: a file nobody listens on.
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, daemon.ControlSocket), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	lis.SetUnlinkOnClose(false)
	lis.Close()
	if r := c.must(exitOK, "backup", "--data-dir", dir, "--to", filepath.Join(t.TempDir(), "b2")); !strings.Contains(r.stdout, "offline") {
		t.Fatalf("backup beside a stale socket printed:\n%s", r.stdout)
	}

	// A process holds the store but serves no socket.
	s, err := boltstore.Open(filepath.Join(dir, "dwell.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	to := filepath.Join(t.TempDir(), "b3")
	if r := c.must(exitFail, "backup", "--data-dir", dir, "--to", to); !strings.Contains(r.stderr, "is locked") {
		t.Fatalf("backup of a held store without a socket: stderr %q", r.stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(to, "*dwell.db*")); len(left) != 0 {
		t.Fatalf("a refused backup left %v", left)
	}
}

// TestBackupRefusals checks usage errors (exit 2, nothing created) and the
// clear failures (exit 1) of a missing data directory, one that is not
// dwelld's, and an existing backup without --force.
func TestBackupRefusals(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "data")
	startDaemon(t, dir, "")
	to := filepath.Join(tmp, "backup")
	c := &cli{t: t}
	alias := filepath.Join(tmp, "alias")
	if err := os.Symlink(dir, alias); err != nil {
		t.Fatal(err)
	}
	untouched := func(t *testing.T, paths ...string) {
		t.Helper()
		for _, p := range append(paths, to) {
			if _, err := os.Lstat(p); err == nil && p != dir {
				t.Fatalf("%s was created by a refused backup", p)
			}
		}
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		says string
	}{
		{"no --to", nil, []string{"--data-dir", dir}, "--to is required"},
		{"postgres", nil, []string{"--postgres", "postgres://x", "--to", to}, "pg_dump"},
		{"postgres env", []string{"DWELL_POSTGRES", "postgres://x"}, []string{"--to", to}, "pg_dump"},
		{"into the data dir", nil, []string{"--data-dir", dir, "--to", dir}, "inside the data directory"},
		{"inside the data dir", nil, []string{"--data-dir", dir, "--to", filepath.Join(dir, "keys", "b")}, "inside the data directory"},
		{"inside, by another name", nil, []string{"--data-dir", dir, "--to", filepath.Join(alias, "b")}, "inside the data directory"},
		{"argument", nil, []string{"--data-dir", dir, "--to", to, "extra"}, "unexpected arguments"},
		{"bad flag", nil, []string{"--data-dir", dir, "--to", to, "--forse"}, "forse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.with(tc.env...).must(exitUsage, append([]string{"backup"}, tc.args...)...)
			if !strings.Contains(r.stderr, tc.says) {
				t.Fatalf("stderr %q, want it to say %q", r.stderr, tc.says)
			}
			untouched(t, tc.args[len(tc.args)-1])
		})
	}

	r := c.must(exitFail, "backup", "--data-dir", filepath.Join(tmp, "nope"), "--to", to)
	if !strings.Contains(r.stderr, "data directory "+filepath.Join(tmp, "nope")+" does not exist") {
		t.Fatalf("missing data dir: stderr %q", r.stderr)
	}
	untouched(t)
	if err := os.Mkdir(filepath.Join(tmp, "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if r := c.must(exitFail, "backup", "--data-dir", filepath.Join(tmp, "empty"), "--to", to); !strings.Contains(r.stderr, "holds no dwell.db") {
		t.Fatalf("data dir without a store: stderr %q", r.stderr)
	}
	untouched(t)

	c.must(exitOK, "backup", "--data-dir", dir, "--to", to)
	first, err := os.Stat(filepath.Join(to, "dwell.db"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.must(exitFail, "backup", "--data-dir", dir, "--to", to); !strings.Contains(r.stderr, "--force") {
		t.Fatalf("second backup into one directory: stderr %q", r.stderr)
	}
	if now, err := os.Stat(filepath.Join(to, "dwell.db")); err != nil || !os.SameFile(first, now) {
		t.Fatalf("a refused backup replaced the one before: %v", err)
	}
	c.must(exitOK, "backup", "--data-dir", dir, "--to", to, "--force")
	if now, err := os.Stat(filepath.Join(to, "dwell.db")); err != nil || os.SameFile(first, now) {
		t.Fatalf("--force did not replace the backup: %v", err)
	}

	// Another data directory's dwelld has other keys: its backup never
	// goes where this one's is, --force or not.
	other := filepath.Join(tmp, "other")
	startDaemon(t, other, "")
	if r := c.must(exitFail, "backup", "--data-dir", other, "--to", to, "--force"); !strings.Contains(r.stderr, "another data directory") {
		t.Fatalf("backup over another data directory's backup: stderr %q", r.stderr)
	}
	if now, err := os.Stat(filepath.Join(to, "dwell.db")); err != nil || now.Size() == 0 {
		t.Fatalf("the backup there before is gone: %v", err)
	}
}

// TestBackupRefusedOverRunningDwelld backs up into the data directory of
// a running dwelld, as nightly backups do into the directory a restored
// dwelld serves: refused, with or without --force, before anything is
// written, and that dwelld's dwell.db is the same file, holding every fix
// it acknowledged before and after, across a restart. (Replaced, it would
// go on writing to the unlinked file and lose all that at its restart.)
func TestBackupRefusedOverRunningDwelld(t *testing.T) {
	tmp := t.TempDir()
	dir, restored := filepath.Join(tmp, "data"), filepath.Join(tmp, "restored")
	m := startDaemon(t, dir, "")
	base := time.Now().Add(-2 * time.Hour)
	seedBackup(t, m, base, 100)
	c := &cli{t: t}
	c.must(exitOK, "backup", "--data-dir", dir, "--to", restored)
	r := startDaemon(t, restored, "")
	upload := func(m *daemon.Main, from, to int, want dwellv1.FixStatus) {
		t.Helper()
		var fs []*dwellv1.Fix
		for k := from; k < to; k++ {
			fs = append(fs, backupFix(base, k))
		}
		resp, err := repClient(t, m.Addr(), restored, "r0").UploadPings(t.Context(), &dwellv1.UploadPingsRequest{Fixes: fs})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range resp.GetAck().GetResults() {
			if res.GetStatus() != want {
				t.Fatalf("fix %s: %v, want %v", res.GetId(), res.GetStatus(), want)
			}
		}
	}
	upload(r, 100, 200, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	before, err := os.Stat(filepath.Join(restored, "dwell.db"))
	if err != nil {
		t.Fatal(err)
	}

	for _, force := range []bool{true, false} {
		args := []string{"backup", "--data-dir", dir, "--to", restored}
		if force {
			args = append(args, "--force")
		}
		res := c.must(exitFail, args...)
		if !strings.Contains(res.stderr, restored+" is the data directory of a running dwelld (its dwell.db is locked)") {
			t.Fatalf("%v: stderr %q, want it to say a dwelld runs there", args, res.stderr)
		}
		if now, err := os.Stat(filepath.Join(restored, "dwell.db")); err != nil || !os.SameFile(before, now) {
			t.Fatalf("%v replaced the running dwelld's dwell.db: %v", args, err)
		}
		if left, _ := filepath.Glob(filepath.Join(restored, ".dwell.db.tmp-*")); len(left) != 0 {
			t.Fatalf("%v left %v", args, left)
		}
	}

	// Everything acknowledged, before the refusals and after, survives
	// the restored dwelld's restart.
	upload(r, 200, 300, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = startDaemon(t, restored, "")
	upload(r, 0, 300, dwellv1.FixStatus_FIX_STATUS_DUPLICATE)
}
