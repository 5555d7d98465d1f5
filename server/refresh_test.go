package server

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// These tests run inside the package: they watch the refresher's listener
// hook and compare stored summaries with fresh derivations. The store is a
// real bbolt file; data is written through the store, as the ingest
// handlers do.

const tenant = dwell.TenantID("acme")

// refreshEnv is a store and a server over a simulated city, with two reps
// in different zones.
type refreshEnv struct {
	t    *testing.T
	path string
	st   *boltstore.Store
	s    *Server
	city *sim.City
	days []*sim.DayResult
}

var refreshClock = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)

func newRefreshEnv(t *testing.T) *refreshEnv {
	t.Helper()
	e := &refreshEnv{t: t, path: filepath.Join(t.TempDir(), "dwell.db")}
	e.open()
	t.Cleanup(e.close)
	city, err := sim.NewCity(11, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e.city = city
	ctx := t.Context()
	cs := city.Clients()
	for i := range cs {
		if i%3 == 0 {
			cs[i].Kind = dwell.ClientKindCustomer
		}
	}
	if err := e.st.PutClients(ctx, tenant, cs); err != nil {
		t.Fatal(err)
	}
	for _, r := range []dwell.Rep{{ID: "budi", TimeZone: "Asia/Jakarta", DisplayName: "Budi"}, {ID: "lena", TimeZone: "Europe/Berlin", DisplayName: "Lena"}} {
		if err := e.st.CreateRep(ctx, tenant, r); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(r.TimeZone)
		for d := 2; d <= 3; d++ {
			res, err := sim.Day(uint64(d*100+len(r.ID)), city, sim.Realistic(), sim.DayConfig{Rep: r.ID, Loc: loc, Date: dwell.Date{Year: 2026, Month: 3, Day: d}})
			if err != nil {
				t.Fatal(err)
			}
			e.days = append(e.days, res)
		}
	}
	return e
}

func (e *refreshEnv) open() {
	st, err := boltstore.Open(e.path, boltstore.Options{NoSync: true, Now: func() time.Time { return refreshClock }})
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.s = New(Config{Store: st, Verifier: nil, Now: func() time.Time { return refreshClock }})
}

func (e *refreshEnv) close() {
	if e.s == nil {
		return
	}
	e.s.Close()
	e.st.Close()
	e.s = nil
}

// write stores the uploads of every simulated day in [from, to) (by
// upload index) and, with the last, the claims and a call.
func (e *refreshEnv) write(from, to int) {
	e.t.Helper()
	ctx := e.t.Context()
	for _, d := range e.days {
		for _, u := range d.Uploads[min(from, len(d.Uploads)):min(to, len(d.Uploads))] {
			// The simulator numbers fixes per day; the store dedups per rep.
			fs := slices.Clone(u.Fixes)
			for i := range fs {
				fs[i].ID = d.Date.String() + "/" + fs[i].ID
			}
			if _, err := e.st.AppendFixes(ctx, tenant, d.Rep, fs); err != nil {
				e.t.Fatal(err)
			}
		}
		if to < len(d.Uploads) {
			continue
		}
		for _, ci := range d.CheckIns {
			if _, _, err := e.st.RecordCheckIn(ctx, tenant, ci.CheckIn); err != nil {
				e.t.Fatal(err)
			}
		}
		for _, co := range d.CheckOuts {
			if _, _, err := e.st.RecordCheckOut(ctx, tenant, co.CheckOut); err != nil {
				e.t.Fatal(err)
			}
		}
		c := dwell.Call{RequestID: "call-" + string(d.Rep) + d.Date.String(), Rep: d.Rep, Client: d.CheckIns[0].Client,
			StartTime: d.Start.Add(30 * time.Minute), TalkSeconds: 95, Direction: dwell.CallOutbound, Outcome: dwell.CallConnected}
		if _, _, err := e.st.RecordCall(ctx, tenant, c); err != nil {
			e.t.Fatal(err)
		}
	}
}

// stored returns every stored summary, current or not, by rep and date.
func (e *refreshEnv) stored() map[store.DayKey]store.DaySummary {
	out := map[store.DayKey]store.DaySummary{}
	for _, rep := range []dwell.RepID{"budi", "lena"} {
		ds, err := e.st.ListDaySummaries(e.t.Context(), tenant, []dwell.RepID{rep}, dwell.Date{Year: 2026, Month: 2, Day: 1}, dwell.Date{Year: 2026, Month: 4, Day: 1})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, d := range ds[0] {
			out[store.DayKey{Tenant: tenant, Rep: rep, Date: d.Date}] = d
		}
	}
	return out
}

// rebuild derives every day with data afresh and fails unless each stored
// summary is current and equal, byte for byte, to the fresh one.
func (e *refreshEnv) rebuild() {
	e.t.Helper()
	got := e.stored()
	if len(got) == 0 {
		e.t.Fatal("no summaries")
	}
	for k, ds := range got {
		r, err := e.st.GetRep(e.t.Context(), tenant, k.Rep)
		if err != nil {
			e.t.Fatal(err)
		}
		fresh, err := summarizeStored(e.t.Context(), e.s, tenant, r, k.Date)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ds.Current() {
			e.t.Fatalf("%s %v: summary of version %d, data version %d", k.Rep, k.Date, ds.SummaryVersion, ds.Version)
		}
		if !bytes.Equal(ds.Summary, fresh.EncodeSummary()) {
			e.t.Fatalf("%s %v: kept summary differs from a rebuild", k.Rep, k.Date)
		}
	}
}

func TestRefresherListenerSeesPrevAndNext(t *testing.T) {
	e := newRefreshEnv(t)
	var mu sync.Mutex
	changes := map[store.DayKey][]dayChange{}
	e.s.dayListeners = append(e.s.dayListeners, func(_ context.Context, c dayChange) error {
		mu.Lock()
		defer mu.Unlock()
		k := store.DayKey{Tenant: c.tenant, Rep: c.rep, Date: c.date}
		changes[k] = append(changes[k], c)
		return nil
	})
	e.write(0, 3)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	first := map[store.DayKey]dayChange{}
	for k, cs := range changes {
		last := cs[len(cs)-1]
		if cs[0].prev != nil {
			t.Fatalf("%v: first change has a prev", k)
		}
		first[k] = last
	}
	clear(changes)
	mu.Unlock()
	if len(first) < 4 {
		t.Fatalf("changes for %d rep-days, want at least the 4 simulated", len(first))
	}

	e.write(3, 1000) // the rest of the day arrives late
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range e.days {
		k := store.DayKey{Tenant: tenant, Rep: d.Rep, Date: d.Date}
		cs := changes[k]
		if len(cs) == 0 {
			t.Fatalf("%v: no change after late fixes", k)
		}
		c := cs[0]
		if c.prev == nil || !bytes.Equal(c.prev.Encode(), first[k].next.Encode()) {
			t.Fatalf("%v: prev is not the day stored before", k)
		}
		r, _ := e.st.GetRep(t.Context(), tenant, d.Rep)
		fresh, err := deriveStored(t.Context(), e.s, tenant, r, d.Date, false)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cs[len(cs)-1].next.Encode(), fresh.day.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("%v: next =\n%s\nwant the derivation\n%s", k, got, want)
		}
		if bytes.Equal(c.next.Encode(), c.prev.Encode()) {
			t.Fatalf("%v: the late fixes changed nothing", k)
		}
	}
	e.rebuild()
}

// TestFailedListenerRetriesDayEventsOnce makes a day listener fail until
// allowed, placed before the events listener (the publish never runs) and
// after it (the publish ran but the day is not done): either way the days
// stay marked with their old summaries, and once the listener succeeds the
// event log holds each event of the days exactly once.
func TestFailedListenerRetriesDayEventsOnce(t *testing.T) {
	for _, before := range []bool{true, false} {
		name := "AfterPublish"
		if before {
			name = "BeforePublish"
		}
		t.Run(name, func(t *testing.T) {
			e := newRefreshEnv(t)
			var mu sync.Mutex
			allow, failed := false, 0
			failing := func(context.Context, dayChange) error {
				mu.Lock()
				defer mu.Unlock()
				if !allow {
					failed++
					return dwell.E(dwell.Unavailable, "listener down")
				}
				return nil
			}
			if before {
				e.s.dayListeners = append([]func(context.Context, dayChange) error{failing}, e.s.dayListeners...)
			} else {
				e.s.dayListeners = append(e.s.dayListeners, failing)
			}
			ctx := t.Context()
			e.write(0, 10000)
			if err := e.s.Refresh(ctx); err == nil {
				t.Fatal("Refresh with a failing listener: no error")
			}
			marks, err := e.st.ListDirtyDays(ctx, store.DayKey{}, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(marks) < len(e.days) || failed < len(e.days) {
				t.Fatalf("after the failed pass: %d marks, %d failed calls; want at least %d of each", len(marks), failed, len(e.days))
			}
			for k, ds := range e.stored() {
				if ds.Summary != nil {
					t.Fatalf("%v: summary stored although its listener failed", k)
				}
			}
			logged, err := e.st.ListEvents(ctx, tenant, 0, store.MaxEventsPerList)
			if err != nil {
				t.Fatal(err)
			}
			if before && len(logged) != 0 {
				t.Fatalf("%d events logged although the publish never ran", len(logged))
			}

			mu.Lock()
			allow = true
			mu.Unlock()
			if err := e.s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if marks, err := e.st.ListDirtyDays(ctx, store.DayKey{}, 100); err != nil || len(marks) != 0 {
				t.Fatalf("marks after the retry = %v, %v; want none", marks, err)
			}
			e.rebuild()

			// Every day was derived from all of its data at once, so its
			// events are those of its derivation against nothing, given
			// what the days before hand on and the next day with data
			// shows when the listener reads them (eventOptions: a rep idle
			// across midnight is one idle stop, started the day before; a
			// visit open at its day's end ends when the next day shows the
			// rep elsewhere).
			set, err := e.st.GetSettings(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for _, d := range e.days {
				r, err := e.st.GetRep(ctx, tenant, d.Rep)
				if err != nil {
					t.Fatal(err)
				}
				fresh, err := e.s.derive(ctx, tenant, r, d.Date, set, false)
				if err != nil {
					t.Fatal(err)
				}
				o, err := e.s.eventOptions(ctx, dayChange{tenant: tenant, rep: d.Rep, team: r.Team, r: r, settings: set, date: d.Date, next: &fresh.day})
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range events.Diff(nil, &fresh.day, o) {
					want[ev.Key]++
				}
			}
			if len(want) == 0 {
				t.Fatal("the simulated days show no events")
			}
			logged, err = e.st.ListEvents(ctx, tenant, 0, store.MaxEventsPerList)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, ev := range logged {
				got[ev.Key]++
			}
			for k, n := range got {
				if n != 1 || want[k] == 0 {
					t.Errorf("event %q logged %d times, %d expected", k, n, want[k])
				}
			}
			for k := range want {
				if got[k] == 0 {
					t.Errorf("event %q never logged", k)
				}
			}
		})
	}
}

func TestSummariesRebuildEqualsIncremental(t *testing.T) {
	e := newRefreshEnv(t)
	// Upload by upload, refreshing in between: the incremental path.
	for i := 0; i < 40; i += 4 {
		e.write(i, i+4)
		if err := e.s.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	e.write(40, 10000)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.rebuild()
}

func TestStaleSummaryIsDerivedInline(t *testing.T) {
	e := newRefreshEnv(t)
	e.write(0, 5)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.s.refresh.stop() // no background refresh from here on
	e.write(5, 10000)
	d := e.days[0]
	r, _ := e.st.GetRep(t.Context(), tenant, d.Rep)
	all, err := e.st.ListDaySummaries(t.Context(), tenant, []dwell.RepID{d.Rep}, d.Date, d.Date)
	if err != nil || len(all[0]) != 1 || all[0][0].Current() {
		t.Fatalf("stored = %+v, %v; want one stale summary", all, err)
	}
	ds := all[0]
	repDays, err := e.s.daySummaries(t.Context(), tenant, []dwell.Rep{r}, d.Date, d.Date, true)
	got := repDays[0]
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := summarizeStored(t.Context(), e.s, tenant, r, d.Date)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].EncodeSummary(), fresh.EncodeSummary()) {
		t.Fatal("a stale summary was served instead of the current derivation")
	}
	old, _ := kpi.DecodeDay(ds[0].Summary, nil)
	if bytes.Equal(old.EncodeSummary(), fresh.EncodeSummary()) {
		t.Fatal("the late fixes did not change the day; the test shows nothing")
	}
}

func TestDirtyMarksSurviveRestart(t *testing.T) {
	e := newRefreshEnv(t)
	e.s.refresh.stop()
	e.write(0, 10000)
	if marks, err := e.st.ListDirtyDays(t.Context(), store.DayKey{}, 100); err != nil || len(marks) < 4 {
		t.Fatalf("marks before restart = %v, %v", marks, err)
	}
	e.close()
	e.open() // a new server drains the marks left behind at start
	deadline := time.Now().Add(30 * time.Second)
	for {
		marks, err := e.st.ListDirtyDays(t.Context(), store.DayKey{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d marks left 30 s after start", len(marks))
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.rebuild()
}

func TestSettingsChangeRederives(t *testing.T) {
	e := newRefreshEnv(t)
	e.write(0, 10000)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := dwell.DefaultSettings()
	st.VisitMin = 30 * time.Minute
	if err := e.st.PutSettings(t.Context(), tenant, st); err != nil {
		t.Fatal(err)
	}
	for k, ds := range e.stored() {
		if ds.Current() {
			t.Fatalf("%v: summary still current after a settings change", k)
		}
	}
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.rebuild()
}

func TestDayCacheNeverServesAnOldVersion(t *testing.T) {
	e := newRefreshEnv(t)
	e.write(0, 5)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := e.days[0]
	r, _ := e.st.GetRep(t.Context(), tenant, d.Rep)
	first, err := e.s.daySummaries(t.Context(), tenant, []dwell.Rep{r}, d.Date, d.Date, false)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.s.daySummaries(t.Context(), tenant, []dwell.Rep{r}, d.Date, d.Date, false)
	if again[0][0] != first[0][0] {
		t.Fatal("an unchanged day was decoded again instead of served from the cache")
	}
	e.write(5, 10000)
	if err := e.s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.daySummaries(t.Context(), tenant, []dwell.Rep{r}, d.Date, d.Date, false)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := summarizeStored(t.Context(), e.s, tenant, r, d.Date)
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] == first[0][0] || got[0][0].Totals != fresh.Totals || got[0][0].Field() != fresh.Field() {
		t.Fatalf("after new data: %+v, want the new derivation's totals %+v", got[0][0].Totals, fresh.Totals)
	}
}
