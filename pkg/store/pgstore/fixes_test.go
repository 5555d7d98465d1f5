package pgstore_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestFixesRefuseBadInput: a batch with one fix that cannot be stored is
// refused whole with dwell.Invalid, and nothing of it is stored or marked.
func TestFixesRefuseBadInput(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	at := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	good := testFix("good", at)
	bad := func(f func(*dwell.Fix)) []dwell.Fix {
		b := testFix("bad", at.Add(time.Second))
		f(&b)
		return []dwell.Fix{good, b}
	}
	for _, tc := range []struct {
		name   string
		tenant dwell.TenantID
		rep    dwell.RepID
		fixes  []dwell.Fix
	}{
		{"empty fix id", "acme", "r1", bad(func(f *dwell.Fix) { f.ID = "" })},
		{"fix id too long", "acme", "r1", bad(func(f *dwell.Fix) { f.ID = strings.Repeat("x", dwell.MaxFixIDBytes+1) })},
		{"time after 2262", "acme", "r1", bad(func(f *dwell.Fix) { f.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"time before 1678", "acme", "r1", bad(func(f *dwell.Fix) { f.Time = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"zero time", "acme", "r1", bad(func(f *dwell.Fix) { f.Time = time.Time{} })},
		{"empty rep", "acme", "", []dwell.Fix{good}},
		{"empty tenant", "", "r1", []dwell.Fix{good}},
	} {
		stored, err := s.AppendFixes(ctx, tc.tenant, tc.rep, tc.fixes)
		if !dwell.Is(dwell.Invalid, err) {
			t.Errorf("AppendFixes, %s = %v, %v; want kind %q", tc.name, stored, err, dwell.Invalid)
		}
	}
	got, err := s.ListFixes(ctx, "acme", "r1", time.Time{}, at.Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Fatalf("ListFixes after refused batches = %v, %v; want none", got, err)
	}
	if last, err := s.LastFixTime(ctx, "acme", "r1"); err != nil || !last.IsZero() {
		t.Fatalf("LastFixTime after refused batches = %v, %v; want zero", last, err)
	}
	if d := dirtyDates(t, s); len(d) != 0 {
		t.Fatalf("refused batches marked days %v", d)
	}
	if _, err := s.ListFixes(ctx, "", "r1", time.Time{}, at); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("ListFixes of an empty tenant: %v, want kind %q", err, dwell.Invalid)
	}
}

// TestAppendFixesOppositeOrders: two uploads of the same new fixes of one
// rep, at once and in opposite orders (a phone re-sending its buffer the
// other way round), store every fix once between them.
func TestAppendFixesOppositeOrders(t *testing.T) {
	s := openAt(t, time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	for round := range 5 {
		fs := make([]dwell.Fix, 1000)
		for i := range fs {
			fs[i] = testFix(fmt.Sprintf("r%d-%04d", round, i), time.Date(2025, 3, 1, round, 0, i, 0, time.UTC))
		}
		rev := slices.Clone(fs)
		slices.Reverse(rev)
		stored := make([][]bool, 2)
		var wg sync.WaitGroup
		for k, in := range [][]dwell.Fix{fs, rev} {
			wg.Go(func() {
				var err error
				if stored[k], err = s.AppendFixes(ctx, "acme", "r1", in); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i := range fs {
			if n := btoi(stored[0][i]) + btoi(stored[1][len(fs)-1-i]); n != 1 {
				t.Fatalf("round %d: fix %s stored %d times, want 1", round, fs[i].ID, n)
			}
		}
	}
	got, err := s.ListFixes(ctx, "acme", "r1", time.Time{}, time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || len(got) != 5000 {
		t.Fatalf("ListFixes = %d fixes, %v; want 5000", len(got), err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestActionsRefuseBadInput: an action that cannot be stored is refused
// with dwell.Invalid, and nothing is stored or marked.
func TestActionsRefuseBadInput(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	at := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	far := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	fix := testFix("f", at)
	farFix := testFix("f", far)
	errs := map[string]error{}
	record := func(name string, c dwell.CheckIn) {
		_, _, errs[name] = s.RecordCheckIn(ctx, "acme", c)
	}
	record("check-in time out of range", dwell.CheckIn{Rep: "r1", Time: far, ReceiveTime: at})
	record("check-in fix time out of range", dwell.CheckIn{Rep: "r1", Time: at, Fix: &farFix, ReceiveTime: at})
	record("check-in receive time out of range", dwell.CheckIn{Rep: "r1", Time: at, Fix: &fix, ReceiveTime: far})
	// The store keeps request ids of up to 1,024 bytes, as boltstore; the
	// API's tighter limit is validation's.
	record("check-in request id too long", dwell.CheckIn{Rep: "r1", RequestID: strings.Repeat("x", 1025), Time: at})
	record("check-in empty rep", dwell.CheckIn{Time: at})
	_, _, errs["check-out empty tenant"] = s.RecordCheckOut(ctx, "", dwell.CheckOut{Rep: "r1", Time: at})
	_, _, errs["call start out of range"] = s.RecordCall(ctx, "acme", dwell.Call{Rep: "r1", StartTime: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)})
	_, _, errs["tracking change zero time"] = s.RecordTrackingChange(ctx, "acme", dwell.TrackingChange{Rep: "r1"})
	for name, err := range errs {
		if !dwell.Is(dwell.Invalid, err) {
			t.Errorf("%s: %v, want kind %q", name, err, dwell.Invalid)
		}
	}
	all := func(rep dwell.RepID) int {
		from, to := time.Time{}, far
		ci, err1 := s.ListCheckIns(ctx, "acme", rep, from, to)
		co, err2 := s.ListCheckOuts(ctx, "acme", rep, from, to)
		cl, err3 := s.ListCalls(ctx, "acme", rep, from, to)
		tc, err4 := s.ListTrackingChanges(ctx, "acme", rep, from, to)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return len(ci) + len(co) + len(cl) + len(tc)
	}
	if n := all("r1") + all(""); n != 0 {
		t.Fatalf("refused actions stored %d records", n)
	}
	if d := dirtyDates(t, s); len(d) != 0 {
		t.Fatalf("refused actions marked days %v", d)
	}
}

// TestCheckInFixWithoutTime: a check-in's fix without a time (the phone
// had none to give) comes back as it went in.
func TestCheckInFixWithoutTime(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	at := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	fix := testFix("", time.Time{})
	in := dwell.CheckIn{RequestID: "a", Rep: "r1", Client: "c1", Time: at, Fix: &fix, ReceiveTime: at.Add(time.Second)}
	stored, existed, err := s.RecordCheckIn(ctx, "acme", in)
	if err != nil || existed || !reflect.DeepEqual(*stored.Fix, fix) {
		t.Fatalf("RecordCheckIn = %+v, %v, %v; want its fix %+v", stored, existed, err, fix)
	}
	list, err := s.ListCheckIns(ctx, "acme", "r1", at, at.Add(1))
	if err != nil || len(list) != 1 || list[0].Fix == nil || !reflect.DeepEqual(*list[0].Fix, fix) {
		t.Fatalf("ListCheckIns = %+v, %v; want one with fix %+v", list, err, fix)
	}
}

// TestResumeMarksPausedDaysInRepZone: the days a resume marks back to its
// pause are the rep's local days. In Jakarta (UTC+7) a pause at 20:00 UTC
// on the 14th is 03:00 on the 15th, so the 14th is not marked.
func TestResumeMarksPausedDaysInRepZone(t *testing.T) {
	s := openAt(t, time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	if err := s.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", TimeZone: "Asia/Jakarta"}); err != nil {
		t.Fatal(err)
	}
	pause := time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)
	if _, _, err := s.RecordTrackingChange(ctx, "acme", dwell.TrackingChange{RequestID: "p", Rep: "r1", Time: pause, Paused: true}); err != nil {
		t.Fatal(err)
	}
	summarizeAll(t, s)
	// The 17th, 08:00 UTC: 15:00 in Jakarta.
	resume := dwell.TrackingChange{RequestID: "r", Rep: "r1", Time: pause.Add(60 * time.Hour)}
	if _, _, err := s.RecordTrackingChange(ctx, "acme", resume); err != nil {
		t.Fatal(err)
	}
	want := []dwell.Date{{Year: 2025, Month: 3, Day: 15}, {Year: 2025, Month: 3, Day: 16}, {Year: 2025, Month: 3, Day: 17}}
	if got := dirtyDates(t, s); !slices.Equal(got, want) {
		t.Fatalf("days marked by the resume = %v, want %v", got, want)
	}
	// A second resume has no pause just before it: it marks its own day.
	summarizeAll(t, s)
	again := dwell.TrackingChange{RequestID: "r2", Rep: "r1", Time: pause.Add(80 * time.Hour)}
	if _, _, err := s.RecordTrackingChange(ctx, "acme", again); err != nil {
		t.Fatal(err)
	}
	want = []dwell.Date{{Year: 2025, Month: 3, Day: 18}}
	if got := dirtyDates(t, s); !slices.Equal(got, want) {
		t.Fatalf("days marked by a resume after a resume = %v, want %v", got, want)
	}
}

// BenchmarkAppendFixes measures ingest into the PostgreSQL store beside its
// baseline, the bbolt store with durability on, in the same run: each
// parallel goroutine is a rep of its own uploading batches of 1,000 fixes
// with random 16-byte hex ids and increasing times, as phones do. One op is
// one batch; fixes/s is the figure that matters, and only its ratio between
// the two stores means anything on a shared machine. The PostgreSQL test
// server runs with fsync=off (pgtest), so its commits are not flushed to
// disk while bbolt's are: the ratio flatters PostgreSQL by the cost of an
// fsync per commit. The server's CPU is its own processes', on the same
// cores as the benchmark.
func BenchmarkAppendFixes(b *testing.B) {
	const batch = 1000
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"pg", func(b *testing.B) store.Store {
			return openPG(b, pgtest.DSN(b))
		}},
	}
	for _, par := range []int{1, 4} {
		for _, st := range stores {
			b.Run(fmt.Sprintf("store=%s/parallelism=%d", st.name, par), func(b *testing.B) {
				s := st.open(b)
				defer s.Close()
				benchAppend(b, s, batch, par)
			})
		}
	}
}

// benchAppend runs b.N batches of batch fixes through s.AppendFixes from
// par times GOMAXPROCS goroutines, one rep each.
func benchAppend(b *testing.B, s store.Store, batch, par int) {
	ctx := context.Background()
	const tenant = dwell.TenantID("bench")
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	var reps atomic.Int64
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := reps.Add(1)
		rep := dwell.RepID(fmt.Sprintf("rep-%03d", g))
		rng := rand.New(rand.NewPCG(uint64(g), 42))
		fixes := make([]dwell.Fix, batch)
		raw := make([]byte, 0, 16)
		t := start
		for pb.Next() {
			for j := range fixes {
				raw = binary.LittleEndian.AppendUint64(raw[:0], rng.Uint64())
				raw = binary.LittleEndian.AppendUint64(raw, rng.Uint64())
				t = t.Add(time.Second)
				fixes[j] = dwell.Fix{
					ID:         hex.EncodeToString(raw),
					Time:       t,
					Pos:        dwell.LatLng{Lat: -6.2 + rng.Float64()*0.1, Lng: 106.8 + rng.Float64()*0.1},
					AccuracyM:  5 + rng.Float64()*30,
					SpeedMPS:   rng.Float64() * 15,
					BearingDeg: -1,
				}
			}
			stored, err := s.AppendFixes(ctx, tenant, rep, fixes)
			if err != nil {
				b.Error(err)
				return
			}
			n := 0
			for _, ok := range stored {
				if ok {
					n++
				}
			}
			if n != batch {
				b.Errorf("AppendFixes stored %d of a batch of %d new fixes", n, batch)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "fixes/s")
}
