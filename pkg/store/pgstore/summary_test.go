package pgstore_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// dayFixes returns one fix of rep at noon UTC of each of n days from the
// 1st of March 2025: reps not in the directory cut UTC days.
func dayFixes(rep dwell.RepID, n int) []dwell.Fix {
	out := make([]dwell.Fix, n)
	for i := range out {
		out[i] = dwell.Fix{
			ID:        fmt.Sprintf("%s-%d", rep, i),
			Time:      time.Date(2025, 3, 1+i, 12, 0, 0, 0, time.UTC),
			Pos:       dwell.LatLng{Lat: -6.2, Lng: 106.8},
			AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1,
		}
	}
	return out
}

// TestListDirtyDaysOrder pages through the marks of reps whose ids differ
// in length, in two tenants, one mark at a time and several, and checks
// that every page continues the (tenant, rep, date) byte order.
func TestListDirtyDaysOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.DSN(t))
	var want []store.DayVersion
	for _, tenant := range []dwell.TenantID{"a", "b"} {
		for _, rep := range []dwell.RepID{"r1", "r10", "r2"} { // byte order
			_, err := s.AppendFixes(ctx, tenant, rep, dayFixes(rep, 3))
			if err != nil {
				t.Fatalf("AppendFixes: %v", err)
			}
			for i := range 3 {
				want = append(want, store.DayVersion{DayKey: store.DayKey{Tenant: tenant, Rep: rep, Date: dwell.Date{Year: 2025, Month: 3, Day: 1 + i}}, Version: 1})
			}
		}
	}
	for _, limit := range []int{1, 2, 7, 100} {
		var got []store.DayVersion
		var after store.DayKey
		for {
			page, err := s.ListDirtyDays(ctx, after, limit)
			if err != nil {
				t.Fatalf("ListDirtyDays(%+v, %d): %v", after, limit, err)
			}
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].DayKey
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ListDirtyDays in pages of %d = %v, want %v", limit, got, want)
		}
	}
	// A mark naming only a tenant starts at that tenant's first day.
	got, err := s.ListDirtyDays(ctx, store.DayKey{Tenant: "b"}, 100)
	if err != nil {
		t.Fatalf("ListDirtyDays from tenant b: %v", err)
	}
	if !reflect.DeepEqual(got, want[9:]) {
		t.Fatalf("ListDirtyDays from tenant b = %v, want %v", got, want[9:])
	}
	if _, err := s.ListDirtyDays(ctx, store.DayKey{}, 0); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("ListDirtyDays with limit 0: err = %v, want Invalid", err)
	}
}

// TestViewDaySummariesMany reads several reps at once, one of them twice
// and one without data, with a want that takes every other day, and
// checks the answer against one read per rep.
func TestViewDaySummariesMany(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.DSN(t))
	const tenant = dwell.TenantID("acme")
	reps := []dwell.RepID{"r2", "nobody", "r1", "r2", "r3"}
	for _, rep := range []dwell.RepID{"r1", "r2", "r3"} {
		if _, err := s.AppendFixes(ctx, tenant, rep, dayFixes(rep, 5)); err != nil {
			t.Fatalf("AppendFixes: %v", err)
		}
		// Summaries of the first four days, one of them empty; the
		// fifth has none.
		for i := range 4 {
			sum := []byte(fmt.Sprintf("%s day %d", rep, i))
			if i == 2 {
				sum = []byte{}
			}
			if _, _, err := s.PutDaySummary(ctx, tenant, rep, dwell.Date{Year: 2025, Month: 3, Day: 1 + i}, 1, sum, nil); err != nil {
				t.Fatalf("PutDaySummary: %v", err)
			}
		}
	}
	// Another tenant's days of the same reps are not read.
	if _, err := s.AppendFixes(ctx, "globex", "r1", dayFixes("r1", 5)); err != nil {
		t.Fatalf("AppendFixes: %v", err)
	}
	from, to := dwell.Date{Year: 2025, Month: 3, Day: 2}, dwell.Date{Year: 2025, Month: 3, Day: 9}
	var want [][]store.DaySummary
	for _, rep := range reps {
		one, err := s.ListDaySummaries(ctx, tenant, []dwell.RepID{rep}, from, to)
		if err != nil {
			t.Fatalf("ListDaySummaries(%s): %v", rep, err)
		}
		want = append(want, one[0])
	}
	if len(want[0]) != 4 || len(want[1]) != 0 || want[0][1].Summary == nil || len(want[0][1].Summary) != 0 || want[0][3].Summary != nil {
		t.Fatalf("r2's days = %+v, nobody's %+v; want 4 days, the second with an empty summary, the last with none; and none", want[0], want[1])
	}
	all, err := s.ListDaySummaries(ctx, tenant, reps, from, to)
	if err != nil {
		t.Fatalf("ListDaySummaries: %v", err)
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("ListDaySummaries of %v = %v, want %v", reps, all, want)
	}

	// want takes every other day it is asked about, counting across reps.
	n := 0
	var asked []int
	take := func(rep int, d store.DaySummary) bool {
		asked = append(asked, rep)
		n++
		return n%2 == 1
	}
	var viewed [][]store.DaySummary
	err = s.ViewDaySummaries(ctx, tenant, reps, from, to, take, func(days [][]store.DaySummary) error {
		for _, ds := range days {
			ds = slices.Clone(ds)
			for j := range ds {
				ds[j].Summary = slices.Clone(ds[j].Summary)
			}
			viewed = append(viewed, ds)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ViewDaySummaries: %v", err)
	}
	var wantAsked []int
	n = 0
	for i := range want {
		for j := range want[i] {
			wantAsked = append(wantAsked, i)
			n++
			if n%2 == 0 {
				want[i][j].Summary = nil
			}
		}
	}
	if !slices.Equal(asked, wantAsked) {
		t.Fatalf("want asked about reps %v, want %v", asked, wantAsked)
	}
	if !reflect.DeepEqual(viewed, want) {
		t.Fatalf("ViewDaySummaries taking every other day = %v, want %v", viewed, want)
	}

	// An inverted range reads nothing, for every rep.
	none, err := s.ListDaySummaries(ctx, tenant, reps, to, from)
	if err != nil {
		t.Fatalf("ListDaySummaries inverted: %v", err)
	}
	if len(none) != len(reps) || slices.ContainsFunc(none, func(ds []store.DaySummary) bool { return len(ds) > 0 }) {
		t.Fatalf("ListDaySummaries of an inverted range = %v, want %d empty lists", none, len(reps))
	}
	if _, err := s.ListDaySummaries(ctx, tenant, []dwell.RepID{"r1", ""}, from, to); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("ListDaySummaries with an empty rep: err = %v, want Invalid", err)
	}
}

// TestPruneActionFixesKeepsRecord clears the fix of a check-out whose text
// fields hold what a JSON round trip through jsonb would change (a NUL
// escape, quotes, non-ASCII) and checks that everything but the fix reads
// back as it was stored.
func TestPruneActionFixesKeepsRecord(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.DSN(t))
	at := time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)
	co := dwell.CheckOut{
		RequestID: "co-1", Rep: "r1", Client: "c1", Time: at,
		Fix:             &dwell.Fix{Time: at.Add(-time.Second), Pos: dwell.LatLng{Lat: 1e-7, Lng: -179.99999999}, AccuracyM: 12.5, SpeedMPS: -1, BearingDeg: -1},
		Outcome:         dwell.OutcomeRejected,
		RejectionReason: dwell.RejectionOther,
		RejectionText:   "a\x00b \"quoted\" \\ ünïcode \u2028",
		Notes:           "line one\nline two\ttab",
		ReceiveTime:     at.Add(time.Minute),
	}
	stored, _, err := s.RecordCheckOut(ctx, "acme", co)
	if err != nil {
		t.Fatalf("RecordCheckOut: %v", err)
	}
	n, more, err := s.PruneActionFixes(ctx, "acme", "r1", at.Add(time.Hour), 10)
	if err != nil || n != 1 || more {
		t.Fatalf("PruneActionFixes = %d, %v, %v; want 1, false, nil", n, more, err)
	}
	got, err := s.ListCheckOuts(ctx, "acme", "r1", at, at.Add(time.Second))
	if err != nil {
		t.Fatalf("ListCheckOuts: %v", err)
	}
	want := stored
	want.Fix = nil
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("check-out after the prune = %+v, want %+v", got, want)
	}
}

// BenchmarkViewDaySummaries measures a team's KPI read: the summaries of
// 30 reps over 60 days (2 KiB each) in one ViewDaySummaries, cold (every
// summary read) and cached (want refuses every day: versions only), on
// this store and, in the same run, on boltstore as the baseline. One op is
// one read of the whole team; bytes are the summaries read.
func BenchmarkViewDaySummaries(b *testing.B) {
	const reps, days, size = 30, 60, 2048
	ctx := context.Background()
	pg := openPG(b, pgtest.DSN(b))
	bolt, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bolt.Close() })
	ids := make([]dwell.RepID, reps)
	sum := bytes.Repeat([]byte("s"), size)
	first := dwell.Date{Year: 2025, Month: 3, Day: 1} // dayFixes' first day
	for _, s := range []store.Store{bolt, pg} {
		for i := range ids {
			ids[i] = dwell.RepID(fmt.Sprintf("rep-%03d", i))
			if _, err := s.AppendFixes(ctx, "bench", ids[i], dayFixes(ids[i], days)); err != nil {
				b.Fatal(err)
			}
			for d := range days {
				if _, _, err := s.PutDaySummary(ctx, "bench", ids[i], first.AddDays(d), 1, sum, sum); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	from, to := first, first.AddDays(days-1)
	for _, c := range []struct {
		name string
		want func(int, store.DaySummary) bool
	}{{"cold", nil}, {"cached", func(int, store.DaySummary) bool { return false }}} {
		for _, st := range []struct {
			name string
			s    store.Store
		}{{"boltstore", bolt}, {"pgstore", pg}} {
			b.Run(c.name+"/"+st.name, func(b *testing.B) {
				if c.want == nil {
					b.SetBytes(reps * days * size)
				}
				for b.Loop() {
					n := 0
					err := st.s.ViewDaySummaries(ctx, "bench", ids, from, to, c.want, func(all [][]store.DaySummary) error {
						for _, ds := range all {
							n += len(ds)
						}
						return nil
					})
					if err != nil || n != reps*days {
						b.Fatalf("ViewDaySummaries: %d days, %v; want %d", n, err, reps*days)
					}
				}
			})
		}
	}
}

// TestRefreshRacesWrites runs a refresher (ListDirtyDays, PutDaySummary)
// against writers appending fixes to the same day: whatever the
// interleaving, once the writers are done a last pass leaves the day
// clean, with a summary of its final version, one bump per batch.
func TestRefreshRacesWrites(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.DSN(t))
	const writers, batches, size = 4, 25, 10
	const final = writers * batches // a bump a batch
	var stored atomic.Int64         // batches stored so far
	day := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	refresh := func() error {
		var after store.DayKey
		for {
			marks, err := s.ListDirtyDays(ctx, after, 10)
			if err != nil {
				return err
			}
			for _, m := range marks {
				// A derivation takes a while: a batch lands meanwhile,
				// if any is left, so most puts are of a stale version.
				for stored.Load() <= int64(m.Version) && stored.Load() < final {
					time.Sleep(100 * time.Microsecond)
				}
				if _, _, err := s.PutDaySummary(ctx, m.Tenant, m.Rep, m.Date, m.Version, []byte(fmt.Sprint(m.Version)), nil); err != nil {
					return err
				}
			}
			if len(marks) < 10 {
				return nil
			}
			after = marks[len(marks)-1].DayKey
		}
	}
	done := make(chan struct{})
	errs := make(chan error, writers+1)
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			if err := refresh(); err != nil {
				errs <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				fs := make([]dwell.Fix, size)
				for i := range fs {
					n := (w*batches+b)*size + i
					fs[i] = dwell.Fix{ID: fmt.Sprintf("w%d-%d", w, n), Time: day.Add(time.Duration(n) * time.Second), AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
				}
				if _, err := s.AppendFixes(ctx, "acme", "r1", fs); err != nil {
					errs <- err
					return
				}
				stored.Add(1)
			}
		})
	}
	wg.Wait()
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := refresh(); err != nil {
		t.Fatal(err)
	}
	if marks, err := s.ListDirtyDays(ctx, store.DayKey{}, 10); err != nil || len(marks) != 0 {
		t.Fatalf("dirty days after the last pass = %v, %v; want none", marks, err)
	}
	got, _, err := s.GetDaySummary(ctx, "acme", "r1", dwell.DateOf(day, time.UTC))
	if err != nil {
		t.Fatalf("GetDaySummary: %v", err)
	}
	if got.Version != final || !got.Current() || string(got.Summary) != fmt.Sprint(final) {
		t.Fatalf("day after the race = %+v (summary %q), want version %d, current, summary %q", got, got.Summary, final, fmt.Sprint(final))
	}
}
