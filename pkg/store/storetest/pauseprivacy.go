package storetest

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// runPausePrivacy runs the cases of what keeps no location for a time the
// rep paused tracking: ListTrackingState (was the rep paused then?) and
// Privacy.DeleteFixesBetween (forget the fixes of that time).
func runPausePrivacy(t *testing.T, h Harness) {
	t.Run("ListTrackingState", func(t *testing.T) { testListTrackingState(t, h) })
	t.Run("DeleteFixesBetween", func(t *testing.T) { testDeleteFixesBetween(t, h) })
	t.Run("DeleteFixesBetweenOpenEnd", func(t *testing.T) { testDeleteFixesBetweenOpenEnd(t, h) })
	t.Run("DeleteFixesBetweenForgetsIDs", func(t *testing.T) { testDeleteFixesBetweenForgetsIDs(t, h) })
	t.Run("DeleteFixesBetweenMarksDays", func(t *testing.T) { testDeleteFixesBetweenMarksDays(t, h) })
}

// deleteBetween calls DeleteFixesBetween and checks how many it deleted.
func deleteBetween(t *testing.T, s store.Store, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time, want int) {
	t.Helper()
	n, err := s.DeleteFixesBetween(ctx(), tenant, rep, from, to)
	must(t, "DeleteFixesBetween", err)
	if n != want {
		t.Fatalf("DeleteFixesBetween(%s, %s, %v, %v) = %d, want %d", tenant, rep, from, to, n, want)
	}
}

func testDeleteFixesBetween(t *testing.T, h Harness) {
	s := h.Open(t)
	all := fixes("r1", 0, 10) // one a second from t0
	for _, tn := range []dwell.TenantID{tenantA, tenantB} {
		_, err := s.AppendFixes(ctx(), tn, "r1", all)
		must(t, "AppendFixes", err)
	}
	_, err := s.AppendFixes(ctx(), tenantA, "r2", fixes("r2", 0, 10))
	must(t, "AppendFixes r2", err)

	// [t0+3s, t0+7s): the fixes 3 to 6; the one at the end stays.
	deleteBetween(t, s, tenantA, "r1", t0.Add(3*time.Second), t0.Add(7*time.Second), 4)
	wantEqual(t, "fixes left", listFixIDs(t, s, tenantA, "r1"), fixIDs(append(all[:3:3], all[7:]...)))
	wantEqual(t, "the other tenant's fixes", listFixIDs(t, s, tenantB, "r1"), fixIDs(all))
	wantEqual(t, "another rep's fixes", listFixIDs(t, s, tenantA, "r2"), fixIDs(fixes("r2", 0, 10)))
	wantHorizon(t, s, "a deletion is no prune", tenantA, "r1", time.Time{})

	// Again, an empty range, a rep or tenant without fixes: nothing.
	deleteBetween(t, s, tenantA, "r1", t0.Add(3*time.Second), t0.Add(7*time.Second), 0)
	deleteBetween(t, s, tenantA, "r1", t0.Add(8*time.Second), t0.Add(8*time.Second), 0)
	deleteBetween(t, s, tenantA, "r1", t0.Add(9*time.Second), t0.Add(2*time.Second), 0)
	deleteBetween(t, s, tenantA, "nobody", t0, t0.Add(time.Hour), 0)
	deleteBetween(t, s, "nowhere", "r1", t0, t0.Add(time.Hour), 0)
	wantEqual(t, "fixes left after empty deletions", listFixIDs(t, s, tenantA, "r1"), fixIDs(append(all[:3:3], all[7:]...)))

	_, err = s.DeleteFixesBetween(ctx(), tenantA, "", t0, t0.Add(time.Hour))
	wantKind(t, "DeleteFixesBetween without a rep", err, dwell.Invalid)

	if h.Reopen != nil {
		s = h.Reopen(t, s)
		wantEqual(t, "fixes left after a reopen", listFixIDs(t, s, tenantA, "r1"), fixIDs(append(all[:3:3], all[7:]...)))
	}
}

func testDeleteFixesBetweenOpenEnd(t *testing.T, h Harness) {
	s := h.Open(t)
	all := fixes("r1", 0, 10)
	_, err := s.AppendFixes(ctx(), tenantA, "r1", all)
	must(t, "AppendFixes", err)
	// A zero to: every fix from t0+6s on, however late.
	late := fixes("r1", 400000, 1)
	_, err = s.AppendFixes(ctx(), tenantA, "r1", late)
	must(t, "AppendFixes late", err)
	deleteBetween(t, s, tenantA, "r1", t0.Add(6*time.Second), time.Time{}, 5)
	wantEqual(t, "fixes left", listFixIDs(t, s, tenantA, "r1"), fixIDs(all[:6]))
	last, err := s.LastFixTime(ctx(), tenantA, "r1")
	must(t, "LastFixTime", err)
	if !last.Equal(all[5].Time) {
		t.Fatalf("LastFixTime after the deletion = %v, want %v", last, all[5].Time)
	}
}

// testDeleteFixesBetweenForgetsIDs checks that a deleted fix sent again is
// stored again (its id is forgotten) while the fixes kept stay duplicates,
// with enough fixes that the id index has merged some of them, and across
// a reopen.
func testDeleteFixesBetweenForgetsIDs(t *testing.T, h Harness) {
	s := h.Open(t)
	const n = 10000
	all := fixes("r1", 0, n)
	for i := 0; i < n; i += 1000 {
		_, err := s.AppendFixes(ctx(), tenantA, "r1", all[i:i+1000])
		must(t, "AppendFixes", err)
	}
	// Early fixes (merged long ago) and the last ones (likely pending).
	deleteBetween(t, s, tenantA, "r1", t0.Add(100*time.Second), t0.Add(200*time.Second), 100)
	deleteBetween(t, s, tenantA, "r1", t0.Add((n-50)*time.Second), time.Time{}, 50)
	again := append(append(all[90:210:210], all[n-60:]...), all[5000])
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", again)
	must(t, "AppendFixes again", err)
	want := make([]bool, len(again))
	for i := range 100 {
		want[10+i] = true // all[100:200]
	}
	for i := range 50 {
		want[120+10+i] = true // all[n-50:]
	}
	wantStored(t, "the deleted fixes and some kept ones sent again", stored, want)
	got, err := s.ListFixes(ctx(), tenantA, "r1", t0, t0.Add(n*time.Second))
	must(t, "ListFixes", err)
	wantEqual(t, "every fix back", fixIDs(got), fixIDs(all))
	// Sent a third time (after a reopen), every one is a duplicate again.
	if h.Reopen != nil {
		s = h.Reopen(t, s)
	}
	stored, err = s.AppendFixes(ctx(), tenantA, "r1", again)
	must(t, "AppendFixes a third time", err)
	wantStored(t, "a third time", stored, make([]bool, len(again)))

	// A few fixes just stored (their ids not merged yet), deleted and
	// sent again, are stored again.
	few := fixes("r1", n, 3)
	stored, err = s.AppendFixes(ctx(), tenantA, "r1", few)
	must(t, "AppendFixes a few", err)
	wantStored(t, "a few", stored, allTrue(3))
	deleteBetween(t, s, tenantA, "r1", few[0].Time, time.Time{}, 3)
	stored, err = s.AppendFixes(ctx(), tenantA, "r1", few)
	must(t, "AppendFixes the few again", err)
	wantStored(t, "the few sent again", stored, allTrue(3))
}

// testDeleteFixesBetweenMarksDays checks that the days that lost a fix get
// a new data version and a dirty mark, and the others neither.
func testDeleteFixesBetweenMarksDays(t *testing.T, h Harness) {
	s := h.Open(t)
	// r1 is not in the directory: its days are UTC days. Ten fixes on
	// t0's day and ten on the next.
	const dayS = 24 * 3600
	_, err := s.AppendFixes(ctx(), tenantA, "r1", append(fixes("r1", 0, 10), fixes("r1", dayS, 10)...))
	must(t, "AppendFixes", err)
	summarizeDirty(t, s)
	before := dayVersions(t, s, tenantA, "r1")
	if len(before) != 2 {
		t.Fatalf("days before = %+v, want t0's and the next", before)
	}

	deleteBetween(t, s, tenantA, "r1", t0.Add(dayS*time.Second), t0.Add((dayS+5)*time.Second), 5)
	after := dayVersions(t, s, tenantA, "r1")
	if len(after) != 2 || after[0].Version != before[0].Version || after[1].Version != before[1].Version+1 {
		t.Fatalf("day versions after the deletion = %+v, were %+v; want only the second raised by one", after, before)
	}
	next := dwell.DateOf(t0.Add(dayS*time.Second), time.UTC)
	wantEqual(t, "dirty days", dirtyDays(t, s), []store.DayVersion{{DayKey: store.DayKey{Tenant: tenantA, Rep: "r1", Date: next}, Version: after[1].Version}})

	// A deletion that finds nothing marks nothing.
	summarizeDirty(t, s)
	deleteBetween(t, s, tenantA, "r1", t0.Add(20*time.Second), t0.Add(3600*time.Second), 0)
	wantEqual(t, "dirty days after an empty deletion", dirtyDays(t, s), []store.DayVersion(nil))
}

func testListTrackingState(t *testing.T, h Harness) {
	s := h.Open(t)
	record := func(tn dwell.TenantID, rep, id string, at time.Time, paused bool) dwell.TrackingChange {
		t.Helper()
		c := trackingChange(rep, id, at)
		c.Paused = paused
		_, _, err := s.RecordTrackingChange(ctx(), tn, c)
		must(t, "RecordTrackingChange", err)
		return c
	}
	// A pause 100 days before t0, a resume and a pause at one instant
	// (recorded in that order), and a resume an hour after t0.
	old := record(tenantA, "r1", "p-old", t0.Add(-100*24*time.Hour), true)
	r1 := record(tenantA, "r1", "r-1", t0, false)
	p1 := record(tenantA, "r1", "p-1", t0, true)
	r2 := record(tenantA, "r1", "r-2", t0.Add(time.Hour), false)
	record(tenantB, "r1", "p-b", t0.Add(time.Minute), true)
	record(tenantA, "r2", "p-r2", t0.Add(time.Minute), true)

	state := func(from, to time.Time) []dwell.TrackingChange {
		t.Helper()
		got, err := s.ListTrackingState(ctx(), tenantA, "r1", from, to)
		must(t, "ListTrackingState", err)
		return got
	}
	wantEqual(t, "state in the long pause", state(t0.Add(-time.Hour), t0.Add(-time.Minute)), []dwell.TrackingChange{old})
	wantEqual(t, "state over t0", state(t0.Add(-time.Hour), t0.Add(time.Nanosecond)), []dwell.TrackingChange{old, r1, p1})
	wantEqual(t, "state after t0", state(t0.Add(time.Minute), t0.Add(2*time.Minute)), []dwell.TrackingChange{r1, p1})
	wantEqual(t, "state from t0", state(t0, t0.Add(2*time.Hour)), []dwell.TrackingChange{old, r1, p1, r2})
	wantEqual(t, "state long after", state(t0.Add(50*time.Hour), t0.Add(51*time.Hour)), []dwell.TrackingChange{r2})
	wantEqual(t, "state before any change", state(old.Time.Add(-time.Hour), old.Time), []dwell.TrackingChange(nil))
	wantEqual(t, "an empty range", state(t0.Add(time.Minute), t0.Add(time.Minute)), []dwell.TrackingChange(nil))
	got, err := s.ListTrackingState(ctx(), tenantB, "r2", t0, t0.Add(time.Hour))
	must(t, "ListTrackingState of a rep without changes", err)
	wantEqual(t, "a rep without changes", got, []dwell.TrackingChange(nil))
}
