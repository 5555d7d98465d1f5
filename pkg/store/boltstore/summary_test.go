package boltstore

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// TestDayVersionWithoutSummaryVersion opens a day-version entry as a file
// written before the summaries' versions were kept beside the data
// versions holds it (8 bytes): reads take the summary's version from the
// summary itself, and the next summary stored brings the entry up to date.
func TestDayVersionWithoutSummaryVersion(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const tenant, rep = dwell.TenantID("acme"), dwell.RepID("r1")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if _, _, err := s.RecordCall(ctx, tenant, dwell.Call{RequestID: "c1", Rep: rep, Client: "k1", StartTime: at, Outcome: dwell.CallConnected}); err != nil {
		t.Fatal(err)
	}
	d := dwell.DateOf(at, time.UTC)
	if _, _, err := s.PutDaySummary(ctx, tenant, rep, d, 1, []byte("sum"), nil); err != nil {
		t.Fatal(err)
	}
	view := func(refuse bool) (told, got store.DaySummary) {
		t.Helper()
		err := s.ViewDaySummaries(ctx, tenant, []dwell.RepID{rep}, d, d, func(_ int, ds store.DaySummary) bool {
			told = ds
			return !refuse
		}, func(days [][]store.DaySummary) error {
			if len(days[0]) != 1 {
				t.Fatalf("%d days, want 1", len(days[0]))
			}
			got = days[0][0]
			got.Summary = append([]byte(nil), got.Summary...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return told, got
	}
	if told, _ := view(true); told.SummaryVersion != 1 {
		t.Fatalf("want told %+v, want the summary's version 1", told)
	}
	// Back to the old format: the data version alone.
	key := dayKey(rep, d)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return putVersion(tx.Bucket(tenantKey(tenant)).Bucket(bktDayVer), key, 1)
	}); err != nil {
		t.Fatal(err)
	}
	told, got := view(false)
	if told.SummaryVersion != 0 || got.SummaryVersion != 1 || string(got.Summary) != "sum" || !got.Current() {
		t.Fatalf("old format: want told %+v, read %+v; want version unknown, then summary 1 current", told, got)
	}
	if _, _, err := s.RecordCall(ctx, tenant, dwell.Call{RequestID: "c2", Rep: rep, Client: "k1", StartTime: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, got := view(false); got.Current() || got.Version != 2 {
		t.Fatalf("after new data: %+v, want data version 2 and a stale summary", got)
	}
	if _, _, err := s.PutDaySummary(ctx, tenant, rep, d, 2, []byte("sum2"), nil); err != nil {
		t.Fatal(err)
	}
	if told, got := view(false); told.SummaryVersion != 2 || !got.Current() || string(got.Summary) != "sum2" {
		t.Fatalf("after a new summary: want told %+v, read %+v; want version 2 known and current", told, got)
	}
}

// TestViewDaySummariesWantPatterns checks, for days with and without
// summaries and for several patterns of what want takes, that every day
// taken comes with the summary GetDaySummary returns and every day refused
// without one.
func TestViewDaySummariesWantPatterns(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const tenant = dwell.TenantID("acme")
	reps := []dwell.RepID{"r1", "r2", "r3"}
	start := dwell.Date{Year: 2026, Month: 3, Day: 1}
	for ri, rep := range reps {
		for d := range 20 {
			date := start.AddDays(d)
			at := date.Start(time.UTC).Add(10 * time.Hour)
			if _, _, err := s.RecordCall(ctx, tenant, dwell.Call{RequestID: fmt.Sprintf("c%d", d), Rep: rep, Client: "k1", StartTime: at}); err != nil {
				t.Fatal(err)
			}
			if (d*7+ri)%5 == 0 {
				continue // a day without a summary
			}
			if _, _, err := s.PutDaySummary(ctx, tenant, rep, date, 1, []byte(fmt.Sprintf("%s/%d", rep, d)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	patterns := map[string]func(rep, n int) bool{
		"all":       func(int, int) bool { return true },
		"none":      func(int, int) bool { return false },
		"alternate": func(_, n int) bool { return n%2 == 0 },
		"runs":      func(rep, n int) bool { return (n/3+rep)%2 == 0 },
	}
	for name, take := range patterns {
		taken := map[[2]int]bool{}
		n := 0
		err := s.ViewDaySummaries(ctx, tenant, reps, start.AddDays(2), start.AddDays(17), func(i int, _ store.DaySummary) bool {
			n++
			ok := take(i, n)
			taken[[2]int{i, n}] = ok
			return ok
		}, func(days [][]store.DaySummary) error {
			m := 0
			for i, ds := range days {
				if len(ds) != 16 {
					t.Fatalf("%s: rep %d: %d days, want 16", name, i, len(ds))
				}
				for _, d := range ds {
					m++
					want, _, err := s.GetDaySummary(ctx, tenant, reps[i], d.Date)
					if err != nil {
						return err
					}
					if !taken[[2]int{i, m}] {
						want.Summary = nil
					}
					if d.Date != want.Date || d.Version != want.Version || d.SummaryVersion != want.SummaryVersion || string(d.Summary) != string(want.Summary) || (d.Summary == nil) != (want.Summary == nil) {
						t.Errorf("%s: rep %d, %v: got %+v, want %+v", name, i, d.Date, d, want)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
