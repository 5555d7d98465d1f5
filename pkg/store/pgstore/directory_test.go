package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// openAt opens a store on a fresh schema whose clock stands at now.
func openAt(t *testing.T, now time.Time) *pgstore.Store {
	t.Helper()
	return openWith(t, pgtest.DSN(t), pgstore.Options{Now: func() time.Time { return now }})
}

// dirtyDates returns the dates of every dirty mark of the store, sorted.
func dirtyDates(t *testing.T, s *pgstore.Store) []dwell.Date {
	t.Helper()
	marks, err := s.ListDirtyDays(context.Background(), store.DayKey{}, 1000)
	if err != nil {
		t.Fatalf("ListDirtyDays: %v", err)
	}
	var out []dwell.Date
	for _, m := range marks {
		out = append(out, m.Date)
	}
	slices.SortFunc(out, func(a, b dwell.Date) int { return a.DaysSince(b) })
	return out
}

// summarizeAll stores a summary of every dirty day, so none is dirty.
func summarizeAll(t *testing.T, s *pgstore.Store) {
	t.Helper()
	marks, err := s.ListDirtyDays(context.Background(), store.DayKey{}, 1000)
	if err != nil {
		t.Fatalf("ListDirtyDays: %v", err)
	}
	for _, m := range marks {
		if _, _, err := s.PutDaySummary(context.Background(), m.Tenant, m.Rep, m.Date, m.Version, []byte("x"), nil); err != nil {
			t.Fatalf("PutDaySummary: %v", err)
		}
	}
}

func testFix(id string, at time.Time) dwell.Fix {
	return dwell.Fix{ID: id, Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
}

// TestZoneChangeMarksFutureDays: a new zone marks the rep's recent days
// and the days, in the new zone, of its data (fixes and actions) since the
// first of them,
// also data dated after the store's clock (a phone with a wrong clock),
// however far; days before the re-derived range stay as they are.
func TestZoneChangeMarksFutureDays(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	s := openAt(t, now)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	r := dwell.Rep{ID: "r1", DisplayName: "Rep", TimeZone: "UTC", CreateTime: now, UpdateTime: now}
	if err := s.CreateRep(ctx, tenant, r); err != nil {
		t.Fatalf("CreateRep: %v", err)
	}
	// Each at 20:00 UTC: the next day in Tokyo (UTC+9).
	at := func(days int) time.Time { return time.Date(2025, 6, 10+days, 20, 0, 0, 0, time.UTC) }
	var fs []dwell.Fix
	for _, d := range []int{-100, -5, -3, 10, 400} {
		fs = append(fs, testFix(fmt.Sprint("f", d), at(d)))
	}
	if _, err := s.AppendFixes(ctx, tenant, "r1", fs); err != nil {
		t.Fatalf("AppendFixes: %v", err)
	}
	// A call at 23:30 UTC eight days ago: the next day in Tokyo.
	call := dwell.Call{RequestID: "call-1", Rep: "r1", Client: "c1", StartTime: at(-8).Add(210 * time.Minute),
		TalkSeconds: 60, Direction: dwell.CallOutbound, Outcome: dwell.CallConnected}
	if _, _, err := s.RecordCall(ctx, tenant, call); err != nil {
		t.Fatalf("RecordCall: %v", err)
	}
	summarizeAll(t, s)
	r.TimeZone = "Asia/Tokyo"
	if err := s.UpdateRep(ctx, tenant, r); err != nil {
		t.Fatalf("UpdateRep: %v", err)
	}
	var want []dwell.Date
	for _, d := range []int{-8, -5, -3, 10, 400} {
		utc := dwell.DateOf(at(d), time.UTC)
		want = append(want, utc, utc.AddDays(1))
	}
	if got := dirtyDates(t, s); !slices.Equal(got, want) {
		t.Fatalf("marks after a zone change = %v, want %v", got, want)
	}
}

// TestZoneChangeMarksShortRetention: under a retention period shorter
// than a day the first re-derived date (keptFrom) is after tomorrow in the
// rep's new zone; a zone change marks the days of data from it on, in the
// new zone, and none before it.
func TestZoneChangeMarksShortRetention(t *testing.T) {
	// 03:00 UTC is the evening before in Los Angeles (UTC-7 in June).
	now := time.Date(2025, 6, 10, 3, 0, 0, 0, time.UTC)
	s := openAt(t, now)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	set := dwell.DefaultSettings()
	set.Retention = time.Hour
	if err := s.PutSettings(ctx, tenant, set); err != nil {
		t.Fatalf("PutSettings: %v", err)
	}
	r := dwell.Rep{ID: "r1", TimeZone: "UTC"}
	if err := s.CreateRep(ctx, tenant, r); err != nil {
		t.Fatalf("CreateRep: %v", err)
	}
	// The first date re-derived is June 12, in every zone.
	at := func(day, hour int) time.Time { return time.Date(2025, 6, day, hour, 0, 0, 0, time.UTC) }
	fs := []dwell.Fix{
		testFix("a", at(11, 12)), // June 11 in UTC and in Los Angeles: not marked
		testFix("c", at(12, 5)),  // June 12 in UTC, June 11 in Los Angeles
		testFix("b", at(13, 3)),  // June 13 in UTC, June 12 in Los Angeles
	}
	if _, err := s.AppendFixes(ctx, tenant, "r1", fs); err != nil {
		t.Fatalf("AppendFixes: %v", err)
	}
	summarizeAll(t, s)
	r.TimeZone = "America/Los_Angeles"
	if err := s.UpdateRep(ctx, tenant, r); err != nil {
		t.Fatalf("UpdateRep: %v", err)
	}
	want := []dwell.Date{{Year: 2025, Month: 6, Day: 12}, {Year: 2025, Month: 6, Day: 13}}
	if got := dirtyDates(t, s); !slices.Equal(got, want) {
		t.Fatalf("marks after a zone change = %v, want %v", got, want)
	}
}

// TestPutClientsRepeatedID: of clients with one id in one import, the last
// is stored, as in boltstore.
func TestPutClientsRepeatedID(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	c := dwell.Client{ID: "c1", DisplayName: "first", Kind: dwell.ClientKindProspect,
		Fence: dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: 1, Lng: 2}, RadiusM: 50}}}
	c2 := c
	c2.DisplayName, c2.Kind = "second", dwell.ClientKindCustomer
	other := c
	other.ID = "c0"
	if err := s.PutClients(ctx, "acme", []dwell.Client{c, other, c2}); err != nil {
		t.Fatalf("PutClients: %v", err)
	}
	got, err := s.GetClient(ctx, "acme", "c1")
	if err != nil {
		t.Fatalf("GetClient: %v", err)
	}
	if got.DisplayName != "second" || got.Kind != dwell.ClientKindCustomer {
		t.Fatalf("GetClient(c1) = %+v, want the second client of the import", got)
	}
	list, _, err := s.ListClients(ctx, "acme", store.ClientFilter{}, store.Page{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("ListClients = %d clients, %v; want 2", len(list), err)
	}
}

// TestDirectoryRefusesBadInput: what the store cannot keep is
// dwell.Invalid and stores nothing.
func TestDirectoryRefusesBadInput(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	late := dwell.Client{ID: "c1", Kind: dwell.ClientKindProspect, CreateTime: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	for name, err := range map[string]error{
		"CreateClient, time out of range": s.CreateClient(ctx, "acme", late),
		"PutClients, time out of range":   s.PutClients(ctx, "acme", []dwell.Client{{ID: "c2"}, late}),
		"CreateClient, empty tenant":      s.CreateClient(ctx, "", dwell.Client{ID: "c3"}),
		"CreateRep, empty id":             s.CreateRep(ctx, "acme", dwell.Rep{}),
		"PutSettings, empty tenant":       s.PutSettings(ctx, "", dwell.DefaultSettings()),
	} {
		if !dwell.Is(dwell.Invalid, err) {
			t.Errorf("%s: %v, want kind %q", name, err, dwell.Invalid)
		}
	}
	list, _, err := s.ListClients(ctx, "acme", store.ClientFilter{}, store.Page{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Fatalf("ListClients after refused writes = %v, %v; want none", list, err)
	}
}

// TestConcurrentCreatePartner: concurrent creates with one request id
// store one account; every call returns it, and only one says it was new.
func TestConcurrentCreatePartner(t *testing.T) {
	s := openAt(t, time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC))
	const n = 16
	type result struct {
		a       dwell.PartnerAccount
		existed bool
		err     error
	}
	res := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := dwell.PartnerAccount{ID: dwell.PartnerID(fmt.Sprintf("p%02d", i)), DisplayName: "CRM",
				Scopes: []dwell.Scope{dwell.ScopeIngest}, RequestID: "req-1"}
			res[i].a, res[i].existed, res[i].err = s.CreatePartner(context.Background(), "acme", a)
		})
	}
	wg.Wait()
	created := 0
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("CreatePartner %d: %v", i, r.err)
		}
		if !r.existed {
			created++
		}
		if r.a.ID != res[0].a.ID {
			t.Fatalf("CreatePartner %d returned %s, CreatePartner 0 %s: want one account", i, r.a.ID, res[0].a.ID)
		}
	}
	list, _, err := s.ListPartners(context.Background(), "acme", store.Page{Limit: 100})
	if err != nil {
		t.Fatalf("ListPartners: %v", err)
	}
	if created != 1 || len(list) != 1 {
		t.Fatalf("%d creates said new, %d accounts stored; want 1 and 1", created, len(list))
	}
}

// TestClientWritesBesideFixWrites: client imports and fix batches of one
// tenant at once all succeed (the store retries what PostgreSQL aborts),
// and every stored day ends marked after the last import.
func TestClientWritesBesideFixWrites(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	s := openAt(t, now)
	ctx := context.Background()
	const writers = 4
	var wg sync.WaitGroup
	errs := make([]error, 2*writers)
	for w := range writers {
		wg.Go(func() {
			for i := range 10 {
				c := dwell.Client{ID: dwell.ClientID(fmt.Sprintf("c%d-%d", w, i)), Kind: dwell.ClientKindProspect}
				if err := s.PutClients(ctx, "acme", []dwell.Client{c}); err != nil {
					errs[w] = err
					return
				}
			}
		})
		wg.Go(func() {
			rep := dwell.RepID(fmt.Sprint("r", w))
			for i := range 10 {
				f := testFix(fmt.Sprint("f", i), now.Add(-time.Duration(i)*24*time.Hour))
				if _, err := s.AppendFixes(ctx, "acme", rep, []dwell.Fix{f}); err != nil {
					errs[writers+w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	summarizeAll(t, s)
	if err := s.PutClients(ctx, "acme", []dwell.Client{{ID: "last", Kind: dwell.ClientKindCustomer}}); err != nil {
		t.Fatalf("PutClients: %v", err)
	}
	marks, err := s.ListDirtyDays(ctx, store.DayKey{}, 1000)
	if err != nil {
		t.Fatalf("ListDirtyDays: %v", err)
	}
	if len(marks) != writers*10 {
		t.Fatalf("%d days marked after a client import, want %d", len(marks), writers*10)
	}
}

// BenchmarkClientWriteMarks measures a client write (UpdateClient), which
// marks the tenant's recent rep-days dirty: 200 reps with 37 days each
// (every day recent: the baseline) against 200 reps with a year of days
// each (the same days marked, ten times the history). The cost should
// follow the days marked, not the history; days=1 shows the cost of a mark.
func BenchmarkClientWriteMarks(b *testing.B) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	for _, bc := range []struct{ reps, days int }{{200, 1}, {200, 37}, {200, 365}} {
		b.Run(fmt.Sprintf("reps=%d/days=%d", bc.reps, bc.days), func(b *testing.B) {
			s := openWith(b, pgtest.DSN(b), pgstore.Options{Now: func() time.Time { return now }})
			ctx := context.Background()
			for r := range bc.reps {
				fs := make([]dwell.Fix, bc.days)
				for d := range fs {
					fs[d] = testFix(fmt.Sprint("f", d), now.AddDate(0, 0, -d))
				}
				if _, err := s.AppendFixes(ctx, "acme", dwell.RepID(fmt.Sprintf("r%03d", r)), fs); err != nil {
					b.Fatalf("AppendFixes: %v", err)
				}
			}
			c := dwell.Client{ID: "c1", Kind: dwell.ClientKindProspect}
			if err := s.CreateClient(ctx, "acme", c); err != nil {
				b.Fatalf("CreateClient: %v", err)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := s.UpdateClient(ctx, "acme", c); err != nil {
					b.Fatalf("UpdateClient: %v", err)
				}
			}
		})
	}
}

// BenchmarkPutClients measures an import of 1,000 clients in one
// PutClients call (one statement of arrays) against the baseline of
// CreateClient, one client and one transaction a call; both report the
// time per client.
func BenchmarkPutClients(b *testing.B) {
	circle := dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: -6.2, Lng: 106.8}, RadiusM: 75}}
	ctx := context.Background()
	b.Run("CreateClient", func(b *testing.B) {
		s := openPG(b, pgtest.DSN(b))
		i := 0
		for b.Loop() {
			c := dwell.Client{ID: dwell.ClientID(fmt.Sprintf("c%09d", i)), Kind: dwell.ClientKindProspect, Fence: circle}
			if err := s.CreateClient(ctx, "acme", c); err != nil {
				b.Fatalf("CreateClient: %v", err)
			}
			i++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/client")
	})
	b.Run("PutClients1000", func(b *testing.B) {
		s := openPG(b, pgtest.DSN(b))
		cs := make([]dwell.Client, 1000)
		n := 0
		for b.Loop() {
			for j := range cs {
				cs[j] = dwell.Client{ID: dwell.ClientID(fmt.Sprintf("c%09d", n)), Kind: dwell.ClientKindProspect, Fence: circle}
				n++
			}
			if err := s.PutClients(ctx, "acme", cs); err != nil {
				b.Fatalf("PutClients: %v", err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/client")
	})
}
