package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

func runPrivacy(t *testing.T, h Harness) {
	t.Run("PruneFixes", func(t *testing.T) { testPruneFixes(t, h) })
	t.Run("PruneFixesLimit", func(t *testing.T) { testPruneFixesLimit(t, h) })
	t.Run("PruneActionFixes", func(t *testing.T) { testPruneActionFixes(t, h) })
	t.Run("PruneActionFixesLimit", func(t *testing.T) { testPruneActionFixesLimit(t, h) })
	t.Run("EraseRepHistory", func(t *testing.T) { testEraseRepHistory(t, h) })
	t.Run("EraseRefusesEarlierDerivations", func(t *testing.T) { testEraseRefusesEarlierDerivations(t, h) })
	t.Run("ListDataReps", func(t *testing.T) { testListDataReps(t, h) })
	t.Run("RetentionKeepsOldSummaries", func(t *testing.T) { testRetentionKeepsOldSummaries(t, h) })
}

func fixIDs(fs []dwell.Fix) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

func listFixIDs(t *testing.T, s store.Store, tenant dwell.TenantID, rep dwell.RepID) []string {
	t.Helper()
	fs, err := s.ListFixes(ctx(), tenant, rep, t0.Add(-time.Hour), t0.Add(24*time.Hour))
	must(t, "ListFixes", err)
	return fixIDs(fs)
}

func testPruneFixes(t *testing.T, h Harness) {
	s := h.Open(t)
	all := fixes("r1", 0, 10) // one a second from t0
	_, err := s.AppendFixes(ctx(), tenantA, "r1", all)
	must(t, "AppendFixes", err)
	_, err = s.AppendFixes(ctx(), tenantB, "r1", all)
	must(t, "AppendFixes tenant B", err)

	wantHorizon(t, s, "before any prune", tenantA, "r1", time.Time{})
	n, more, err := s.PruneFixes(ctx(), tenantA, "r1", t0.Add(4*time.Second), 100)
	must(t, "PruneFixes", err)
	if n != 4 || more {
		t.Fatalf("PruneFixes before the 5th fix = %d, more %v, want 4, false", n, more)
	}
	wantEqual(t, "fixes left", listFixIDs(t, s, tenantA, "r1"), fixIDs(all[4:]))
	wantEqual(t, "the other tenant's fixes", listFixIDs(t, s, tenantB, "r1"), fixIDs(all))
	wantHorizon(t, s, "after the prune", tenantA, "r1", t0.Add(4*time.Second))
	wantHorizon(t, s, "the other tenant's", tenantB, "r1", time.Time{})
	wantHorizon(t, s, "another rep's", tenantA, "r2", time.Time{})
	_, err = s.PrunedBefore(ctx(), tenantA, "")
	wantKind(t, "PrunedBefore without a rep", err, dwell.Invalid)

	// Nothing older is left: a second prune deletes nothing.
	n, more, err = s.PruneFixes(ctx(), tenantA, "r1", t0.Add(4*time.Second), 100)
	must(t, "PruneFixes again", err)
	if n != 0 || more {
		t.Fatalf("PruneFixes again = %d, %v, want 0, false", n, more)
	}
	wantHorizon(t, s, "after a prune of nothing", tenantA, "r1", t0.Add(4*time.Second))
	// Fixes kept are still known by id; new ones are stored.
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", slices.Concat(all[4:6], fixes("r1", 10, 2)))
	must(t, "AppendFixes after prune", err)
	wantStored(t, "after prune", stored, []bool{false, false, true, true})

	// A rep or tenant without fixes prunes nothing, without error.
	for _, c := range []struct {
		tenant dwell.TenantID
		rep    dwell.RepID
	}{{tenantA, "nobody"}, {"no-such-tenant", "r1"}} {
		n, more, err := s.PruneFixes(ctx(), c.tenant, c.rep, t0.Add(time.Hour), 10)
		if err != nil || n != 0 || more {
			t.Fatalf("PruneFixes(%s, %s) = %d, %v, %v, want 0, false, nil", c.tenant, c.rep, n, more, err)
		}
	}
	_, _, err = s.PruneFixes(ctx(), tenantA, "r1", t0, 0)
	wantKind(t, "PruneFixes with limit 0", err, dwell.Invalid)
	_, _, err = s.PruneFixes(ctx(), tenantA, "", t0, 10)
	wantKind(t, "PruneFixes without a rep", err, dwell.Invalid)
}

func testPruneFixesLimit(t *testing.T, h Harness) {
	s := h.Open(t)
	// Three fixes at each of four instants.
	var all []dwell.Fix
	for i := range 12 {
		f := fixes("r1", i, 1)[0]
		f.Time = t0.Add(time.Duration(i/3) * time.Second)
		all = append(all, f)
	}
	_, err := s.AppendFixes(ctx(), tenantA, "r1", all)
	must(t, "AppendFixes", err)
	// A limit of 4 ends inside the second instant: its fixes all go.
	n, more, err := s.PruneFixes(ctx(), tenantA, "r1", t0.Add(time.Hour), 4)
	must(t, "PruneFixes", err)
	if n != 6 || !more {
		t.Fatalf("PruneFixes limit 4 = %d, %v, want 6 (two whole instants), true", n, more)
	}
	// Only the fixes of the first two instants are gone so far.
	wantHorizon(t, s, "after a prune cut short", tenantA, "r1", t0.Add(2*time.Second))
	total := n
	for more {
		n, more, err = s.PruneFixes(ctx(), tenantA, "r1", t0.Add(time.Hour), 4)
		must(t, "PruneFixes", err)
		total += n
	}
	wantEqual(t, "fixes pruned in all", total, 12)
	wantEqual(t, "fixes left", len(listFixIDs(t, s, tenantA, "r1")), 0)
}

// wantHorizon checks PrunedBefore.
func wantHorizon(t *testing.T, s store.Store, what string, tenant dwell.TenantID, rep dwell.RepID, want time.Time) {
	t.Helper()
	got, err := s.PrunedBefore(ctx(), tenant, rep)
	must(t, "PrunedBefore "+what, err)
	if !got.Equal(want) {
		t.Fatalf("PrunedBefore %s = %v, want %v", what, got, want)
	}
}

func testEraseRepHistory(t *testing.T, h Harness) {
	s := h.Open(t)
	day1 := dwell.DateOf(t0, time.UTC)
	for _, r := range []string{"r1", "r2"} {
		_, err := s.AppendFixes(ctx(), tenantA, dwell.RepID(r), fixes(r, 0, 50))
		must(t, "AppendFixes", err)
		_, _, err = s.RecordCheckIn(ctx(), tenantA, checkIn(r, "ci-1", t0.Add(time.Minute)))
		must(t, "RecordCheckIn", err)
		_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut(r, "co-1", t0.Add(20*time.Minute)))
		must(t, "RecordCheckOut", err)
		_, _, err = s.RecordCall(ctx(), tenantA, call(r, "call-1", t0.Add(30*time.Minute)))
		must(t, "RecordCall", err)
		_, _, err = s.RecordTrackingChange(ctx(), tenantA, trackingChange(r, "pause-1", t0.Add(40*time.Minute)))
		must(t, "RecordTrackingChange", err)
		_, err = s.AppendEvents(ctx(), tenantA, events(r, 0, 3))
		must(t, "AppendEvents", err)
	}
	_, _, err := s.PutDaySummary(ctx(), tenantA, "r1", day1, 1, []byte("sum"), []byte("detail"))
	must(t, "PutDaySummary", err)
	_, err = s.AppendFixes(ctx(), tenantB, "r1", fixes("r1", 0, 5))
	must(t, "AppendFixes tenant B", err)

	pre, _, err := s.GetDaySummary(ctx(), tenantA, "r1", day1)
	must(t, "GetDaySummary", err)
	got, err := s.EraseRepHistory(ctx(), tenantA, "r1")
	must(t, "EraseRepHistory", err)
	wantEqual(t, "erased", got, store.Erased{Fixes: 50, Actions: 4, Days: 1, Events: 3})

	wantVer := pre.Version + 1
	check := func(s store.Store) {
		t.Helper()
		wantEqual(t, "r1's fixes", len(listFixIDs(t, s, tenantA, "r1")), 0)
		wantEqual(t, "r2's fixes", len(listFixIDs(t, s, tenantA, "r2")), 50)
		wantEqual(t, "r1's fixes in tenant B", len(listFixIDs(t, s, tenantB, "r1")), 5)
		from, to := t0.Add(-time.Hour), t0.Add(time.Hour)
		for _, r := range []dwell.RepID{"r1", "r2"} {
			want := 0
			if r == "r2" {
				want = 1
			}
			cis, err := s.ListCheckIns(ctx(), tenantA, r, from, to)
			must(t, "ListCheckIns", err)
			cos, err := s.ListCheckOuts(ctx(), tenantA, r, from, to)
			must(t, "ListCheckOuts", err)
			calls, err := s.ListCalls(ctx(), tenantA, r, from, to)
			must(t, "ListCalls", err)
			pauses, err := s.ListTrackingChanges(ctx(), tenantA, r, from, to)
			must(t, "ListTrackingChanges", err)
			if len(cis) != want || len(cos) != want || len(calls) != want || len(pauses) != want {
				t.Fatalf("%s: %d check-ins, %d check-outs, %d calls, %d pauses, want %d each", r, len(cis), len(cos), len(calls), len(pauses), want)
			}
		}
		sum, detail, err := s.GetDaySummary(ctx(), tenantA, "r1", day1)
		must(t, "GetDaySummary", err)
		if sum.Summary != nil || sum.Version != wantVer || detail != nil {
			t.Fatalf("r1's day after erase = %+v, detail %q; want no summary, version %d (raised)", sum, detail, wantVer)
		}
		for _, m := range dirtyDays(t, s) {
			if m.Tenant == tenantA && m.Rep == "r1" {
				t.Fatalf("r1 still has a dirty day after erase: %+v", m)
			}
		}
		evs, err := s.ListEvents(ctx(), tenantA, 0, 100)
		must(t, "ListEvents", err)
		for _, e := range evs {
			if e.Rep == "r1" {
				t.Fatalf("event %+v of the erased rep is still listed", e)
			}
		}
		wantEqual(t, "events left", len(evs), 3)
	}
	check(s)
	// Erasing again finds nothing.
	got, err = s.EraseRepHistory(ctx(), tenantA, "r1")
	must(t, "EraseRepHistory again", err)
	wantEqual(t, "erased again", got, store.Erased{})
	wantVer++ // every erase raises the versions
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		check(s)
	}
	// The rep starts afresh: its old fix ids, request ids and event keys
	// are forgotten with it.
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 0, 3))
	must(t, "AppendFixes after erase", err)
	wantStored(t, "after erase", stored, allTrue(3))
	_, existed, err := s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-1", t0.Add(time.Minute)))
	must(t, "RecordCheckIn after erase", err)
	wantEqual(t, "check-in existed after erase", existed, false)
	seqs, err := s.AppendEvents(ctx(), tenantA, events("r1", 0, 1))
	must(t, "AppendEvents after erase", err)
	if seqs[0] == 0 {
		t.Fatalf("an event key of the erased rep is still taken")
	}
	_, err = s.EraseRepHistory(ctx(), tenantA, "")
	wantKind(t, "EraseRepHistory without a rep", err, dwell.Invalid)
}

// testEraseRefusesEarlierDerivations: what was derived from a rep-day
// before its rep's history was erased (a refresher's derivation in flight,
// perhaps on another server) is neither stored as a summary nor appended
// as events after the erase, also after a reopen; data stored after the
// erase is derived, summarised and published as usual.
func testEraseRefusesEarlierDerivations(t *testing.T, h Harness) {
	s := h.Open(t)
	day := dwell.DateOf(t0, time.UTC)
	for _, r := range []string{"r1", "r2"} {
		_, err := s.AppendFixes(ctx(), tenantA, dwell.RepID(r), fixes(r, 0, 5))
		must(t, "AppendFixes", err)
	}
	version := func(rep dwell.RepID) uint64 {
		t.Helper()
		sum, _, err := s.GetDaySummary(ctx(), tenantA, rep, day)
		must(t, "GetDaySummary", err)
		return sum.Version
	}
	read := store.DayVersion{DayKey: store.DayKey{Tenant: tenantA, Rep: "r1", Date: day}, Version: version("r1")}
	_, err := s.EraseRepHistory(ctx(), tenantA, "r1")
	must(t, "EraseRepHistory", err)
	refused := func(what string) {
		t.Helper()
		_, _, err := s.PutDaySummary(ctx(), tenantA, "r1", day, read.Version, []byte("sum"), []byte("detail"))
		must(t, what+": PutDaySummary", err)
		if sum, _, err := s.GetDaySummary(ctx(), tenantA, "r1", day); err != nil || sum.Summary != nil {
			t.Fatalf("%s: summary derived before the erase stored after it: %+v, %v", what, sum, err)
		}
		seqs, err := s.AppendDayEvents(ctx(), read, events("r1", 0, 2))
		must(t, what+": AppendDayEvents", err)
		wantEqual(t, what+": seqs of events derived before the erase", seqs, []uint64{0, 0})
		evs, err := s.ListEvents(ctx(), tenantA, 0, 100)
		must(t, what+": ListEvents", err)
		wantEqual(t, what+": events in the log", len(evs), 0)
	}
	refused("after the erase")
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		refused("after a reopen")
	}
	// Another rep's day is not affected.
	r2 := store.DayVersion{DayKey: store.DayKey{Tenant: tenantA, Rep: "r2", Date: day}, Version: version("r2")}
	seqs, err := s.AppendDayEvents(ctx(), r2, events("r2", 0, 1))
	must(t, "AppendDayEvents of r2", err)
	wantEqual(t, "seqs of r2's events", seqs, []uint64{1})
	// New data after the erase is new history.
	_, err = s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 100, 2))
	must(t, "AppendFixes after the erase", err)
	var mark store.DayVersion
	for _, m := range dirtyDays(t, s) {
		if m.DayKey == read.DayKey {
			mark = m
		}
	}
	if mark.Version <= read.Version+1 {
		t.Fatalf("r1's day after new fixes: mark %+v, want one above the erased version %d", mark, read.Version+1)
	}
	seqs, err = s.AppendDayEvents(ctx(), mark, events("r1", 10, 2))
	must(t, "AppendDayEvents after new fixes", err)
	wantEqual(t, "seqs of events derived after the erase", seqs, []uint64{2, 3})
	_, _, err = s.PutDaySummary(ctx(), tenantA, "r1", day, mark.Version, []byte("new"), nil)
	must(t, "PutDaySummary after new fixes", err)
	sum, _, err := s.GetDaySummary(ctx(), tenantA, "r1", day)
	must(t, "GetDaySummary after new fixes", err)
	if string(sum.Summary) != "new" || !sum.Current() {
		t.Fatalf("r1's day summarised after new fixes = %+v, want the new summary, current", sum)
	}
	for _, m := range dirtyDays(t, s) {
		if m.DayKey == read.DayKey {
			t.Fatalf("r1's day still marked after its summary was stored: %+v", m)
		}
	}
	// A derivation of the erased version itself (no data read before the
	// erase) is not refused either.
	seqs, err = s.AppendDayEvents(ctx(), store.DayVersion{DayKey: read.DayKey, Version: read.Version + 1}, events("r1", 20, 1))
	must(t, "AppendDayEvents at the erased version", err)
	wantEqual(t, "seqs of events derived at the erased version", seqs, []uint64{4})
	for _, bad := range []store.DayVersion{
		{DayKey: store.DayKey{Tenant: tenantA, Date: day}},
		{DayKey: store.DayKey{Tenant: tenantA, Rep: "r1"}},
		{DayKey: store.DayKey{Rep: "r1", Date: day}},
	} {
		_, err := s.AppendDayEvents(ctx(), bad, events("r1", 30, 1))
		wantKind(t, fmt.Sprintf("AppendDayEvents(%+v)", bad), err, dwell.Invalid)
	}
}

func testListDataReps(t *testing.T, h Harness) {
	s := h.Open(t)
	var want []store.RepRef
	for _, tenant := range []dwell.TenantID{tenantA, tenantB} {
		for i := range 3 {
			rep := dwell.RepID(fmt.Sprintf("r%d", i))
			want = append(want, store.RepRef{Tenant: tenant, Rep: rep})
			if i == 2 {
				_, _, err := s.RecordCall(ctx(), tenant, call(string(rep), "c", t0))
				must(t, "RecordCall", err)
				continue
			}
			_, err := s.AppendFixes(ctx(), tenant, rep, fixes(string(rep), 0, 2))
			must(t, "AppendFixes", err)
		}
	}
	// A rep in the directory without data is not listed.
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, rep("r9", "")))
	var got []store.RepRef
	var after store.RepRef
	for {
		page, err := s.ListDataReps(ctx(), after, 2)
		must(t, "ListDataReps", err)
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1]
	}
	wantEqual(t, "data reps", got, want)
	_, err := s.ListDataReps(ctx(), store.RepRef{}, 0)
	wantKind(t, "ListDataReps with limit 0", err, dwell.Invalid)
}

func testRetentionKeepsOldSummaries(t *testing.T, h Harness) {
	s := h.Open(t)
	// The store's clock is the wall clock: with 10 days of retention, a
	// day of last week is re-derived after a change, one of three weeks
	// ago (whose fixes may be gone) keeps its summary.
	st := dwell.DefaultSettings()
	st.Retention = 10 * 24 * time.Hour
	must(t, "PutSettings", s.PutSettings(ctx(), tenantA, st))
	recent := time.Now().Add(-5 * 24 * time.Hour)
	old := time.Now().Add(-21 * 24 * time.Hour)
	for i, at := range []time.Time{recent, old} {
		_, _, err := s.RecordCall(ctx(), tenantA, call("r9", fmt.Sprintf("call-%d", i), at))
		must(t, "RecordCall", err)
	}
	summarizeDirty(t, s)
	st.IdleMin = 7 * time.Minute
	must(t, "PutSettings", s.PutSettings(ctx(), tenantA, st))
	marks := dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Date != dwell.DateOf(recent, time.UTC) {
		t.Fatalf("marks after a settings change = %+v, want only the day inside retention, %v", marks, dwell.DateOf(recent, time.UTC))
	}
}

// fixedCheckOut is the checkOut fixture with the fix the phone had.
func fixedCheckOut(rep, requestID string, at time.Time) dwell.CheckOut {
	co := checkOut(rep, requestID, at)
	co.Fix = &dwell.Fix{Time: at.Add(-time.Second), Pos: dwell.LatLng{Lat: -6.21, Lng: 106.81}, AccuracyM: 12.5, SpeedMPS: 0.4, BearingDeg: 270, AltitudeM: 31, HasAltitude: true}
	return co
}

// repActions is what a rep's check-ins, check-outs, calls and tracking
// changes list as.
type repActions struct {
	CheckIns  []dwell.CheckIn
	CheckOuts []dwell.CheckOut
	Calls     []dwell.Call
	Tracking  []dwell.TrackingChange
}

func listActionsOf(t *testing.T, s store.Store, tenant dwell.TenantID, rep dwell.RepID) repActions {
	t.Helper()
	from, to := t0.Add(-24*time.Hour), t0.Add(24*time.Hour)
	var a repActions
	var err error
	a.CheckIns, err = s.ListCheckIns(ctx(), tenant, rep, from, to)
	must(t, "ListCheckIns", err)
	a.CheckOuts, err = s.ListCheckOuts(ctx(), tenant, rep, from, to)
	must(t, "ListCheckOuts", err)
	a.Calls, err = s.ListCalls(ctx(), tenant, rep, from, to)
	must(t, "ListCalls", err)
	a.Tracking, err = s.ListTrackingChanges(ctx(), tenant, rep, from, to)
	must(t, "ListTrackingChanges", err)
	return a
}

// withoutFixes returns a's records with the fixes of the check-ins and
// check-outs before cut cleared, and every other field as it was.
func withoutFixes(a repActions, cut time.Time) repActions {
	out := a
	out.CheckIns = slices.Clone(a.CheckIns)
	for i := range out.CheckIns {
		if out.CheckIns[i].Time.Before(cut) {
			out.CheckIns[i].Fix = nil
		}
	}
	out.CheckOuts = slices.Clone(a.CheckOuts)
	for i := range out.CheckOuts {
		if out.CheckOuts[i].Time.Before(cut) {
			out.CheckOuts[i].Fix = nil
		}
	}
	return out
}

// dayVersions returns the data version and summary version of each of the
// rep's days around t0.
func dayVersions(t *testing.T, s store.Store, tenant dwell.TenantID, rep dwell.RepID) []store.DaySummary {
	t.Helper()
	days, err := s.ListDaySummaries(ctx(), tenant, []dwell.RepID{rep}, dwell.DateOf(t0.Add(-24*time.Hour), time.UTC), dwell.DateOf(t0.Add(24*time.Hour), time.UTC))
	must(t, "ListDaySummaries", err)
	return days[0]
}

func pruneActionFixes(t *testing.T, s store.Store, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit, wantCleared int, wantMore bool) {
	t.Helper()
	n, more, err := s.PruneActionFixes(ctx(), tenant, rep, before, limit)
	must(t, "PruneActionFixes", err)
	if n != wantCleared || more != wantMore {
		t.Fatalf("PruneActionFixes(%s, %s, t0+%v, %d) = %d, more %v; want %d, %v", tenant, rep, before.Sub(t0), limit, n, more, wantCleared, wantMore)
	}
}

func testPruneActionFixes(t *testing.T, h Harness) {
	s := h.Open(t)
	type who struct {
		tenant dwell.TenantID
		rep    dwell.RepID
	}
	everyone := []who{{tenantA, "r1"}, {tenantA, "r2"}, {tenantB, "r1"}}
	mins := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	for _, w := range everyone {
		r := string(w.rep)
		for i, m := range []int{1, 10, 30} {
			_, _, err := s.RecordCheckIn(ctx(), w.tenant, checkIn(r, fmt.Sprintf("ci-%d", i), mins(m)))
			must(t, "RecordCheckIn", err)
		}
		// A check-in without a fix, before the cut: nothing to clear.
		bare := checkIn(r, "ci-bare", mins(2))
		bare.Fix = nil
		_, _, err := s.RecordCheckIn(ctx(), w.tenant, bare)
		must(t, "RecordCheckIn without a fix", err)
		for i, m := range []int{5, 20, 40} {
			_, _, err := s.RecordCheckOut(ctx(), w.tenant, fixedCheckOut(r, fmt.Sprintf("co-%d", i), mins(m)))
			must(t, "RecordCheckOut", err)
		}
		fu := fixedCheckOut(r, "co-fu", mins(6))
		fu.Outcome, fu.RejectionReason, fu.RejectionText = dwell.OutcomeFollowUp, 0, ""
		fu.FollowUpDate = dwell.DateOf(t0.Add(72*time.Hour), time.UTC)
		_, _, err = s.RecordCheckOut(ctx(), w.tenant, fu)
		must(t, "RecordCheckOut with a follow-up", err)
		_, _, err = s.RecordCall(ctx(), w.tenant, call(r, "call-1", mins(3)))
		must(t, "RecordCall", err)
		_, _, err = s.RecordTrackingChange(ctx(), w.tenant, trackingChange(r, "pause-1", mins(4)))
		must(t, "RecordTrackingChange", err)
	}
	// Summaries for every day: no day is dirty before the prune.
	summarizeDirty(t, s)
	wantEqual(t, "dirty days before the prune", len(dirtyDays(t, s)), 0)
	pre := map[who]repActions{}
	vers := map[who][]store.DaySummary{}
	for _, w := range everyone {
		pre[w] = listActionsOf(t, s, w.tenant, w.rep)
		vers[w] = dayVersions(t, s, w.tenant, w.rep)
		if len(pre[w].CheckIns) != 4 || len(pre[w].CheckOuts) != 4 || pre[w].CheckIns[0].Fix == nil || pre[w].CheckOuts[0].Fix == nil {
			t.Fatalf("%v before the prune: %+v, want 4 check-ins and 4 check-outs with fixes first", w, pre[w])
		}
	}

	// Before 25 min: the check-ins at 1 and 10 min and the check-outs at
	// 5, 6 and 20 min lose their fixes; the bare check-in is not counted.
	cut := mins(25)
	r1 := everyone[0]
	pruneActionFixes(t, s, tenantA, "r1", cut, 100, 5, false)
	check := func(s store.Store, what string) {
		t.Helper()
		wantEqual(t, what+": r1's actions", listActionsOf(t, s, tenantA, "r1"), withoutFixes(pre[r1], cut))
		for _, w := range everyone[1:] {
			wantEqual(t, fmt.Sprintf("%s: actions of %v", what, w), listActionsOf(t, s, w.tenant, w.rep), pre[w])
		}
		for _, w := range everyone {
			wantEqual(t, fmt.Sprintf("%s: day versions of %v", what, w), dayVersions(t, s, w.tenant, w.rep), vers[w])
		}
		wantEqual(t, what+": dirty days", len(dirtyDays(t, s)), 0)
	}
	check(s, "after the prune")
	// The days before the cut lost positions: PrunedBefore says so.
	wantHorizon(t, s, "after clearing check-ins' fixes", tenantA, "r1", cut)
	for _, w := range everyone[1:] {
		wantHorizon(t, s, fmt.Sprintf("of %v, not pruned", w), w.tenant, w.rep, time.Time{})
	}
	// Nothing is cleared or counted twice.
	pruneActionFixes(t, s, tenantA, "r1", cut, 100, 0, false)
	pruneActionFixes(t, s, tenantA, "r1", mins(7), 100, 0, false)
	check(s, "after pruning again")
	wantHorizon(t, s, "after clearing nothing", tenantA, "r1", cut)
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		check(s, "after a reopen")
	}

	// A retry of a cleared record returns it as stored, without its fix.
	ci, existed, err := s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-0", mins(1)))
	must(t, "RecordCheckIn retry", err)
	if !existed || !equal(ci, withoutFixes(pre[r1], cut).CheckIns[0]) {
		t.Fatalf("RecordCheckIn retry = %+v, existed %v; want the stored record without its fix, existed", ci, existed)
	}
	co, existed, err := s.RecordCheckOut(ctx(), tenantA, fixedCheckOut("r1", "co-0", mins(5)))
	must(t, "RecordCheckOut retry", err)
	if !existed || !equal(co, withoutFixes(pre[r1], cut).CheckOuts[0]) {
		t.Fatalf("RecordCheckOut retry = %+v, existed %v; want the stored record without its fix, existed", co, existed)
	}

	// A record stored later before an earlier cut is still cleared by the
	// next call, even with a cut before the earlier one (which PrunedBefore
	// keeps).
	_, _, err = s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-late", mins(8)))
	must(t, "RecordCheckIn late", err)
	pruneActionFixes(t, s, tenantA, "r1", mins(9), 100, 1, false)
	late, err := s.ListCheckIns(ctx(), tenantA, "r1", mins(8), mins(9))
	must(t, "ListCheckIns", err)
	if len(late) != 1 || late[0].Fix != nil || late[0].RequestID != "ci-late" {
		t.Fatalf("the late check-in after a prune = %+v, want it without its fix", late)
	}
	wantHorizon(t, s, "after a late record", tenantA, "r1", cut)
	// A later cut clears the rest, calls and tracking changes untouched.
	pruneActionFixes(t, s, tenantA, "r1", t0.Add(time.Hour), 100, 2, false)
	got := listActionsOf(t, s, tenantA, "r1")
	for _, c := range got.CheckIns {
		if c.Fix != nil {
			t.Fatalf("check-in %+v keeps its fix after a prune of everything", c)
		}
	}
	for _, c := range got.CheckOuts {
		if c.Fix != nil {
			t.Fatalf("check-out %+v keeps its fix after a prune of everything", c)
		}
	}
	wantEqual(t, "calls", got.Calls, pre[r1].Calls)
	wantEqual(t, "tracking changes", got.Tracking, pre[r1].Tracking)
	wantHorizon(t, s, "after clearing everything", tenantA, "r1", t0.Add(time.Hour))

	// A rep or tenant without records clears nothing, without error.
	for _, w := range []who{{tenantA, "nobody"}, {"no-such-tenant", "r1"}} {
		pruneActionFixes(t, s, w.tenant, w.rep, t0.Add(time.Hour), 10, 0, false)
	}
	_, err = s.AppendFixes(ctx(), tenantA, "r3", fixes("r3", 0, 3))
	must(t, "AppendFixes", err)
	pruneActionFixes(t, s, tenantA, "r3", t0.Add(time.Hour), 10, 0, false)
	_, _, err = s.PruneActionFixes(ctx(), tenantA, "r2", t0.Add(time.Hour), 0)
	wantKind(t, "PruneActionFixes with limit 0", err, dwell.Invalid)
	_, _, err = s.PruneActionFixes(ctx(), tenantA, "", t0.Add(time.Hour), 10)
	wantKind(t, "PruneActionFixes without a rep", err, dwell.Invalid)
	wantEqual(t, "r2's actions after invalid calls", listActionsOf(t, s, tenantA, "r2"), pre[everyone[1]])
}

func testPruneActionFixesLimit(t *testing.T, h Harness) {
	s := h.Open(t)
	// At each of four instants two check-ins and a check-out; the third
	// instant's check-out has no fix.
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Second)
		for _, x := range []string{"a", "b"} {
			_, _, err := s.RecordCheckIn(ctx(), tenantA, checkIn("r1", fmt.Sprintf("ci-%d%s", i, x), at))
			must(t, "RecordCheckIn", err)
		}
		co := fixedCheckOut("r1", fmt.Sprintf("co-%d", i), at)
		if i == 2 {
			co.Fix = nil
		}
		_, _, err := s.RecordCheckOut(ctx(), tenantA, co)
		must(t, "RecordCheckOut", err)
	}
	pre := listActionsOf(t, s, tenantA, "r1")
	// A limit of 4 ends inside the second instant: its records all go,
	// check-ins and check-out alike, and the later ones keep their fixes.
	pruneActionFixes(t, s, tenantA, "r1", t0.Add(time.Hour), 4, 6, true)
	wantEqual(t, "actions after the first call", listActionsOf(t, s, tenantA, "r1"), withoutFixes(pre, t0.Add(2*time.Second)))
	// The next goes over the last two instants, five of whose six records
	// have a fix.
	pruneActionFixes(t, s, tenantA, "r1", t0.Add(time.Hour), 4, 5, false)
	wantEqual(t, "actions after the second call", listActionsOf(t, s, tenantA, "r1"), withoutFixes(pre, t0.Add(time.Hour)))
	pruneActionFixes(t, s, tenantA, "r1", t0.Add(time.Hour), 4, 0, false)
}
