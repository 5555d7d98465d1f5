package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// backupFixes returns n fixes of one walk with ids prefix-0 ... a second
// apart from t0.
func backupFixes(prefix string, n int, t0 time.Time) []dwell.Fix {
	fs := make([]dwell.Fix, n)
	for i := range fs {
		fs[i] = dwell.Fix{ID: fmt.Sprintf("%s-%d", prefix, i), Time: t0.Add(time.Duration(i) * time.Second),
			Pos: dwell.LatLng{Lat: -6.2 + float64(i)*1e-5, Lng: 106.8}, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1}
	}
	return fs
}

func openStore(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBackupIsASnapshot writes while a backup's transaction is open: the
// writes return (the writer does not wait for the reader), and the copy
// holds exactly what was committed before, opens as a store and passes
// Verify.
func TestBackupIsASnapshot(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "live.db"))
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	if err := s.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "Asia/Jakarta"}); err != nil {
		t.Fatal(err)
	}
	before := backupFixes("before", 3000, t0)
	if _, err := s.AppendFixes(ctx, "acme", "r1", before); err != nil {
		t.Fatal(err)
	}
	after := backupFixes("after", 500, t0.Add(time.Hour))

	var copyBuf bytes.Buffer
	var size int64
	n, err := s.Backup(ctx, &copyBuf, func(sz int64) error {
		size = sz
		// A write while the backup's transaction is open commits at once.
		if _, err := s.AppendFixes(ctx, "acme", "r1", after); err != nil {
			return err
		}
		return s.CreateRep(ctx, "other", dwell.Rep{ID: "r2", DisplayName: "R2", TimeZone: "UTC"})
	})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != size || int64(copyBuf.Len()) != size {
		t.Fatalf("Backup wrote %d bytes (buffer %d), announced %d", n, copyBuf.Len(), size)
	}
	path := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(path, copyBuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := boltstore.Verify(ctx, path, time.Second)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := boltstore.Contents{Bytes: size, Tenants: []dwell.TenantID{"acme"}, Reps: 1, Fixes: int64(len(before))}
	if c.Bytes != want.Bytes || !slices.Equal(c.Tenants, want.Tenants) || c.Reps != want.Reps || c.Fixes != want.Fixes {
		t.Fatalf("Verify = %+v, want %+v", c, want)
	}

	// The copy is a store: every fix before the backup is a duplicate
	// there, every fix after is new.
	cp := openStore(t, path)
	got, err := cp.AppendFixes(ctx, "acme", "r1", slices.Concat(before, after))
	if err != nil {
		t.Fatal(err)
	}
	for i, stored := range got {
		if wantNew := i >= len(before); stored != wantNew {
			t.Fatalf("fix %d stored = %v in the copy, want %v", i, stored, wantNew)
		}
	}
	// The live store kept both.
	live, err := boltstore.Verify(ctx, filepath.Join(dir, "live.db"), 50*time.Millisecond)
	if !dwell.Is(dwell.FailedPrecondition, err) {
		t.Fatalf("Verify of a file the store holds = %+v, %v; want FailedPrecondition", live, err)
	}
}

// cancelAfter is a writer that cancels its context after n bytes.
type cancelAfter struct {
	n      int64
	cancel context.CancelFunc
	w      io.Writer
	wrote  int64
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.wrote += int64(n)
	if c.wrote >= c.n {
		c.cancel()
	}
	return n, err
}

// TestBackupCancelled cancels a backup midway: it stops, says so and has
// written less than the whole, and the store serves on.
func TestBackupCancelled(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "live.db"))
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.AppendFixes(t.Context(), "acme", "r1", backupFixes("f", 20000, t0)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var buf bytes.Buffer
	var size int64
	n, err := s.Backup(ctx, &cancelAfter{n: 64 << 10, cancel: cancel, w: &buf}, func(sz int64) error { size = sz; return nil })
	if !errors.Is(err, context.Canceled) || n >= size || n < 64<<10 {
		t.Fatalf("cancelled Backup = %d of %d bytes, %v; want between 64 KiB and the whole, context.Canceled", n, size, err)
	}
	if _, err := s.AppendFixes(t.Context(), "acme", "r1", backupFixes("g", 10, t0)); err != nil {
		t.Fatalf("write after a cancelled backup: %v", err)
	}
	// begin's error ends the backup before any byte.
	boom := errors.New("boom")
	buf.Reset()
	if n, err := s.Backup(t.Context(), &buf, func(int64) error { return boom }); !errors.Is(err, boom) || n != 0 || buf.Len() != 0 {
		t.Fatalf("Backup with a failing begin = %d, %v (%d bytes written); want 0, boom", n, err, buf.Len())
	}
}

// TestVerifyRefusesDamage truncates a good copy, damages keys and page
// headers in it and gives Verify files that are no store at all: each is
// refused with a message that says why, never a crash (bbolt alone
// crashes the process on a damaged page header).
func TestVerifyRefusesDamage(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "live.db"))
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.AppendFixes(ctx, "acme", "r1", backupFixes("f", 20000, t0)); err != nil {
		t.Fatal(err)
	}
	var good bytes.Buffer
	if _, err := s.Backup(ctx, &good, nil); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	g := good.Bytes()
	// A fix's key is its time (8 bytes) and its id: make one fix's time
	// the largest there is, and its key is out of order.
	flipped := slices.Clone(g)
	at := bytes.Index(flipped, []byte("f-5000"))
	if at < 8 {
		t.Fatal("fix f-5000 not found in the copy")
	}
	copy(flipped[at-8:at], bytes.Repeat([]byte{0xff}, 8))
	// A branch or leaf page's type is at offset 8 of its header.
	retyped := slices.Clone(g)
	for off := 2 * 4096; off < len(retyped); off += 4096 {
		retyped[off+8] ^= 0xff
	}
	// A page that says it is another.
	renumbered := slices.Clone(g)
	for off := 2 * 4096; off < len(renumbered); off += 4096 {
		renumbered[off]++
	}
	cases := []struct {
		name, path string
		kind       dwell.Kind
		says       string
	}{
		{"missing", filepath.Join(dir, "nope.db"), dwell.NotFound, "does not exist"},
		{"empty", write("empty.db", nil), dwell.Invalid, "not a bbolt file"},
		{"text", write("text.db", bytes.Repeat([]byte("hello "), 2000)), dwell.Invalid, "not a bbolt file"},
		{"truncated", write("trunc.db", g[:len(g)/2]), dwell.Invalid, "cut short"},
		{"key out of order", write("flipped.db", flipped), dwell.Invalid, "consistency check"},
		{"page type", write("retyped.db", retyped), dwell.Invalid, "want a branch or a leaf"},
		{"page id", write("renumbered.db", renumbered), dwell.Invalid, "says it is page"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := boltstore.Verify(ctx, tc.path, time.Second)
			if !dwell.Is(tc.kind, err) || !bytes.Contains([]byte(err.Error()), []byte(tc.says)) {
				t.Fatalf("Verify(%s) = %+v, %v; want %v saying %q", tc.name, c, err, tc.kind, tc.says)
			}
		})
	}
	if _, err := boltstore.Verify(ctx, write("good.db", g), time.Second); err != nil {
		t.Fatalf("Verify of the intact copy: %v", err)
	}
}

// BenchmarkIngestDuringBackup measures what a running backup costs ingest:
// the same durable ingest as BenchmarkAppendFixes (8 writers, batches of
// 100) into a store of about 60 MiB, with no backup ("idle"), and with
// backups of the whole store one after another for the whole run: to
// io.Discard ("discard": the store's side alone, a long read transaction
// and the reading of the file) and to a file on the same disk, fsynced at
// its end ("file") or every 1 or 4 MiB ("file-sync1M", "file-sync4M",
// which dwellctl backup does): the copy's writes and flushes compete with
// the store's fsyncs. Compare fixes/s and the batch latency percentiles
// (p99-ms, max-ms: a stalled committer shows in max-ms) of the three in
// one run; backups/s says how many whole copies ran meanwhile.
func BenchmarkIngestDuringBackup(b *testing.B) {
	const writers, batch = 8, 100
	dir := b.TempDir()
	s, err := boltstore.Open(filepath.Join(dir, "bench.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for r := range 20 {
		for k := range 25 {
			fs := backupFixes(fmt.Sprintf("seed-%d", k), 1000, t0.Add(time.Duration(k)*time.Hour))
			if _, err := s.AppendFixes(ctx, "bench", dwell.RepID(fmt.Sprintf("seed-%02d", r)), fs); err != nil {
				b.Fatal(err)
			}
		}
	}
	var round atomic.Int64
	for _, mode := range []string{"idle", "discard", "file", "file-sync1M", "file-sync4M"} {
		b.Run(mode, func(b *testing.B) {
			stop := make(chan struct{})
			var backups atomic.Int64
			var bg sync.WaitGroup
			if mode == "discard" {
				bg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := s.Backup(ctx, io.Discard, nil); err != nil {
							b.Error(err)
							return
						}
						backups.Add(1)
					}
				})
			}
			if strings.HasPrefix(mode, "file") {
				bg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						f, err := os.Create(filepath.Join(dir, "copy.db"))
						if err != nil {
							b.Error(err)
							return
						}
						var w io.Writer = f
						switch mode {
						case "file-sync1M":
							w = &syncEvery{f: f, every: 1 << 20}
						case "file-sync4M":
							w = &syncEvery{f: f, every: 4 << 20}
						}
						_, err = s.Backup(ctx, w, nil)
						if err == nil {
							err = f.Sync()
						}
						f.Close()
						if err != nil {
							b.Error(err)
							return
						}
						backups.Add(1)
					}
				})
			}
			rnd := round.Add(1)
			lat := make([][]time.Duration, writers)
			var wg sync.WaitGroup
			b.ResetTimer()
			for g := range writers {
				n := b.N / writers
				if g < b.N%writers {
					n++
				}
				wg.Go(func() {
					rep := dwell.RepID(fmt.Sprintf("w%d-%d", rnd, g))
					for i := range n {
						fs := backupFixes(fmt.Sprintf("b%d", i), batch, t0.Add(time.Duration(i)*time.Minute))
						start := time.Now()
						if _, err := s.AppendFixes(ctx, "bench", rep, fs); err != nil {
							b.Error(err)
							return
						}
						lat[g] = append(lat[g], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(stop)
			bg.Wait()
			all := slices.Concat(lat...)
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "fixes/s")
			b.ReportMetric(float64(backups.Load())/b.Elapsed().Seconds(), "backups/s")
		})
	}
}

// TestBackupFile copies a store file no store holds: refused while one
// does, a verified copy with every fix once it is closed.
func TestBackupFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	s, err := boltstore.Open(live, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendFixes(ctx, "acme", "r1", backupFixes("f", 2000, time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := boltstore.BackupFile(ctx, live, 50*time.Millisecond, &buf, nil); !dwell.Is(dwell.FailedPrecondition, err) || n != 0 {
		t.Fatalf("BackupFile of a file a store holds = %d, %v; want FailedPrecondition", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var size int64
	n, err := boltstore.BackupFile(ctx, live, time.Second, &buf, func(sz int64) error { size = sz; return nil })
	if err != nil || n != size || int64(buf.Len()) != n {
		t.Fatalf("BackupFile = %d, %v (announced %d, wrote %d)", n, err, size, buf.Len())
	}
	cp := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(cp, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := boltstore.Verify(ctx, cp, time.Second); err != nil || c.Fixes != 2000 {
		t.Fatalf("Verify of the copy = %+v, %v; want 2000 fixes", c, err)
	}
	if _, err := boltstore.BackupFile(ctx, filepath.Join(dir, "nope.db"), time.Second, &buf, nil); !dwell.Is(dwell.NotFound, err) {
		t.Fatalf("BackupFile of a missing file: %v, want NotFound", err)
	}
}

// syncEvery writes to f and fsyncs it every so many bytes.
type syncEvery struct {
	f            *os.File
	every, dirty int64
}

func (s *syncEvery) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	if s.dirty += int64(n); err == nil && s.dirty >= s.every {
		s.dirty, err = 0, s.f.Sync()
	}
	return n, err
}

// FuzzVerify damages a small store file at random: Verify accepts it or
// refuses it as dwell.Invalid, and never crashes or hangs.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	s, err := boltstore.Open(filepath.Join(dir, "seed.db"), boltstore.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for r := range 3 {
		if _, err := s.AppendFixes(context.Background(), "acme", dwell.RepID(fmt.Sprintf("r%d", r)), backupFixes("f", 300, t0)); err != nil {
			f.Fatal(err)
		}
	}
	var seed bytes.Buffer
	if _, err := s.Backup(context.Background(), &seed, nil); err != nil {
		f.Fatal(err)
	}
	s.Close()
	good := seed.Bytes()
	f.Add(uint32(0), uint8(0), uint16(0))
	f.Add(uint32(2*4096+8), uint8(0xff), uint16(1))
	f.Add(uint32(3*4096+10), uint8(0x7f), uint16(4096))
	f.Add(uint32(4*4096+16), uint8(0x40), uint16(0))
	f.Fuzz(func(t *testing.T, at uint32, xor uint8, stride uint16) {
		b := slices.Clone(good)
		// Damage one byte, or one byte every stride bytes from there.
		for i := int(at) % len(b); i < len(b); i += int(stride) {
			b[i] ^= xor
			if stride == 0 {
				break
			}
		}
		p := filepath.Join(t.TempDir(), "fuzz.db")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := boltstore.Verify(context.Background(), p, time.Second); err != nil && !dwell.Is(dwell.Invalid, err) {
			t.Fatalf("Verify of a damaged file = %v, want nil or Invalid", err)
		}
	})
}
