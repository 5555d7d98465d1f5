package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// runSales runs the conformance cases of store.Sales and store.Summaries.
func runSales(t *testing.T, h Harness) {
	t.Run("Appointments", func(t *testing.T) { testAppointments(t, h) })
	t.Run("Opportunities", func(t *testing.T) { testOpportunities(t, h) })
	t.Run("Quotas", func(t *testing.T) { testQuotas(t, h) })
	t.Run("QuotaOverlaps", func(t *testing.T) { testQuotaOverlaps(t, h) })
	t.Run("QuotaOverlapsConcurrent", func(t *testing.T) { testQuotaOverlapsConcurrent(t, h) })
	t.Run("RepSales", func(t *testing.T) { testRepSales(t, h) })
	t.Run("DayMarks", func(t *testing.T) { testDayMarks(t, h) })
	t.Run("ClaimMarksDayBefore", func(t *testing.T) { testClaimMarksDayBefore(t, h) })
	t.Run("DaySummaries", func(t *testing.T) { testDaySummaries(t, h) })
	t.Run("DaySummariesAnyRepOrder", func(t *testing.T) { testDaySummariesAnyRepOrder(t, h) })
	t.Run("TenantChangeMarks", func(t *testing.T) { testTenantChangeMarks(t, h) })
	t.Run("RaisedRetentionMarks", func(t *testing.T) { testRaisedRetentionMarks(t, h) })
	t.Run("RepChangeMarks", func(t *testing.T) { testRepChangeMarks(t, h) })
	t.Run("RederiveAll", func(t *testing.T) { testRederiveAll(t, h) })
	t.Run("RepZoneEdgeMarks", func(t *testing.T) { testRepZoneEdgeMarks(t, h) })
}

func appointment(id, rep, requestID string, start time.Time) dwell.Appointment {
	return dwell.Appointment{ID: dwell.AppointmentID(id), Rep: dwell.RepID(rep), Client: "c1",
		PlannedStart: start, PlannedEnd: start.Add(45 * time.Minute), RequestID: requestID, CreateTime: t0}
}

func testAppointments(t *testing.T, h Harness) {
	s := h.Open(t)
	a1 := appointment("a1", "r1", "req-1", t0.Add(2*time.Hour))
	got, existed, err := s.CreateAppointment(ctx(), tenantA, a1)
	must(t, "CreateAppointment", err)
	if existed {
		t.Fatal("first CreateAppointment: existed = true")
	}
	wantEqual(t, "created", got, a1)
	// A retry with the same request id returns the stored appointment,
	// whatever else it says.
	retry := appointment("a-other", "r1", "req-1", t0)
	got, existed, err = s.CreateAppointment(ctx(), tenantA, retry)
	must(t, "CreateAppointment retry", err)
	if !existed {
		t.Fatal("retry: existed = false")
	}
	wantEqual(t, "retried", got, a1)
	_, err = s.GetAppointment(ctx(), tenantA, "a-other")
	wantKind(t, "GetAppointment of the retried id", err, dwell.NotFound)
	_, _, err = s.CreateAppointment(ctx(), tenantA, appointment("a1", "r1", "req-2", t0))
	wantKind(t, "CreateAppointment of a taken id", err, dwell.AlreadyExists)

	a0 := appointment("a0", "r1", "req-0", t0)
	a2 := appointment("a2", "r1", "", t0.Add(26*time.Hour))
	other := appointment("b1", "r2", "req-3", t0.Add(time.Hour))
	for _, a := range []dwell.Appointment{a0, a2, other} {
		_, _, err := s.CreateAppointment(ctx(), tenantA, a)
		must(t, "CreateAppointment "+string(a.ID), err)
	}
	list, err := s.ListAppointments(ctx(), tenantA, "r1", t0, t0.Add(24*time.Hour))
	must(t, "ListAppointments", err)
	wantEqual(t, "r1's appointments of the first day", list, []dwell.Appointment{a0, a1})
	list, err = s.ListAppointments(ctx(), tenantB, "r1", t0, t0.Add(48*time.Hour))
	must(t, "ListAppointments other tenant", err)
	wantEqual(t, "other tenant's", len(list), 0)

	must(t, "DeleteAppointment", s.DeleteAppointment(ctx(), tenantA, "a1"))
	wantKind(t, "DeleteAppointment again", s.DeleteAppointment(ctx(), tenantA, "a1"), dwell.NotFound)
	list, err = s.ListAppointments(ctx(), tenantA, "r1", t0, t0.Add(48*time.Hour))
	must(t, "ListAppointments after delete", err)
	wantEqual(t, "after delete", list, []dwell.Appointment{a0, a2})
	// The request id of a deleted appointment is spent: a retry must not
	// resurrect it.
	_, _, err = s.CreateAppointment(ctx(), tenantA, a1)
	wantKind(t, "retry after delete", err, dwell.FailedPrecondition)
	// Nor answered with another appointment created under its id by
	// another request since.
	other1 := appointment("a1", "r2", "req-4", t0.Add(3*time.Hour))
	_, existed, err = s.CreateAppointment(ctx(), tenantA, other1)
	must(t, "CreateAppointment a1 again under another request id", err)
	if existed {
		t.Fatal("CreateAppointment a1 again: existed = true")
	}
	_, _, err = s.CreateAppointment(ctx(), tenantA, a1)
	wantKind(t, "retry after delete and a create of its id by another request", err, dwell.FailedPrecondition)
	got, err = s.GetAppointment(ctx(), tenantA, "a1")
	must(t, "GetAppointment a1 created again", err)
	wantEqual(t, "a1 created again, after the refused retry", got, other1)
	got, existed, err = s.CreateAppointment(ctx(), tenantA, other1)
	must(t, "CreateAppointment retry of the later request", err)
	if !existed {
		t.Fatal("retry of the later request: existed = false")
	}
	wantEqual(t, "the later request retried", got, other1)
}

func opportunity(id, rep, client string, stage dwell.OpportunityStage, amount int64) dwell.Opportunity {
	o := dwell.Opportunity{ID: dwell.OpportunityID(id), Rep: dwell.RepID(rep), Client: dwell.ClientID(client), Stage: stage,
		Amount: dwell.Money{Currency: "EUR", AmountMinor: amount}, OpenTime: t0, ExternalID: "crm-" + id}
	if stage == dwell.StageWon || stage == dwell.StageLost {
		o.CloseTime = t0.Add(72 * time.Hour)
	}
	return o
}

func testOpportunities(t *testing.T, h Harness) {
	s := h.Open(t)
	var os []dwell.Opportunity
	for i := range 7 {
		os = append(os, opportunity(fmt.Sprintf("o%d", i), []string{"r1", "r2"}[i%2], []string{"c1", "c2", "c3"}[i%3],
			[]dwell.OpportunityStage{dwell.StageOpen, dwell.StageWon, dwell.StageLost}[i%3], int64(1000*i)))
	}
	existed, err := s.PutOpportunities(ctx(), tenantA, "put-1", os)
	must(t, "PutOpportunities", err)
	if existed {
		t.Fatal("first put: existed = true")
	}
	// A retry writes nothing.
	existed, err = s.PutOpportunities(ctx(), tenantA, "put-1", os)
	must(t, "PutOpportunities retry", err)
	if !existed {
		t.Fatal("retry: existed = false")
	}
	// Another batch under the same request id is refused, and writes
	// nothing: acknowledged, it would never be stored.
	changed := os[0]
	changed.Amount.AmountMinor = 99
	for _, batch := range [][]dwell.Opportunity{{changed}, append([]dwell.Opportunity{changed}, os[1:]...), slices.Concat(os[1:], os[:1])} {
		_, err = s.PutOpportunities(ctx(), tenantA, "put-1", batch)
		wantKind(t, "PutOpportunities of another batch under a used request id", err, dwell.Invalid)
	}
	got, err := s.GetOpportunity(ctx(), tenantA, "o0")
	must(t, "GetOpportunity", err)
	wantEqual(t, "o0 after the retry", got, os[0])
	// Request ids of opportunities and quotas are apart.
	_, err = s.PutQuotas(ctx(), tenantA, "put-1", []dwell.Quota{{Rep: "r1", Start: dwell.Date{Year: 2026, Month: 3, Day: 1}, End: dwell.Date{Year: 2026, Month: 3, Day: 31}, Target: dwell.Money{Currency: "IDR", AmountMinor: 5}}})
	must(t, "PutQuotas under an opportunities' request id", err)
	// Another request replaces it.
	_, err = s.PutOpportunities(ctx(), tenantA, "put-2", []dwell.Opportunity{changed})
	must(t, "PutOpportunities replace", err)
	got, err = s.GetOpportunity(ctx(), tenantA, "o0")
	must(t, "GetOpportunity", err)
	wantEqual(t, "o0 replaced", got, changed)
	_, err = s.GetOpportunity(ctx(), tenantB, "o0")
	wantKind(t, "GetOpportunity other tenant", err, dwell.NotFound)

	ids := func(f store.OpportunityFilter, limit int) []string {
		return pageAll(t, limit, func(p store.Page) ([]dwell.Opportunity, bool, error) {
			return s.ListOpportunities(ctx(), tenantA, f, p)
		}, func(o dwell.Opportunity) string { return string(o.ID) })
	}
	wantEqual(t, "all", ids(store.OpportunityFilter{}, 3), []string{"o0", "o1", "o2", "o3", "o4", "o5", "o6"})
	wantEqual(t, "r2's", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r2"}}, 2), []string{"o1", "o3", "o5"})
	wantEqual(t, "c1's of r1", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r1"}, Client: "c1"}, 1), []string{"o0", "o6"})
	wantEqual(t, "r1's and r2's", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r2", "r1"}}, 4), []string{"o0", "o1", "o2", "o3", "o4", "o5", "o6"})
	// A deal handed to another rep moves with it.
	moved := os[3]
	moved.Rep = "r1"
	_, err = s.PutOpportunities(ctx(), tenantA, "put-3", []dwell.Opportunity{moved})
	must(t, "PutOpportunities move", err)
	wantEqual(t, "r2's after the move", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r2"}}, 2), []string{"o1", "o5"})
	wantEqual(t, "r1's after the move", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r1"}}, 2), []string{"o0", "o2", "o3", "o4", "o6"})
	// One batch naming a deal twice: the last entry wins, and the deal is
	// listed under its last rep only.
	first, last := os[5], os[5]
	first.Rep, last.Rep = "r3", "r4"
	_, err = s.PutOpportunities(ctx(), tenantA, "put-4", []dwell.Opportunity{first, last})
	must(t, "PutOpportunities with a repeated id", err)
	got, err = s.GetOpportunity(ctx(), tenantA, "o5")
	must(t, "GetOpportunity", err)
	wantEqual(t, "o5 after a batch naming it twice", got, last)
	wantEqual(t, "r3's after the batch", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r3"}}, 2), []string(nil))
	wantEqual(t, "r4's after the batch", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r4"}}, 2), []string{"o5"})
	wantEqual(t, "r2's after the batch", ids(store.OpportunityFilter{Reps: []dwell.RepID{"r2"}}, 2), []string{"o1"})
}

func testQuotas(t *testing.T, h Harness) {
	s := h.Open(t)
	q := func(rep string, month time.Month, amount int64) dwell.Quota {
		end := dwell.Date{Year: 2025, Month: month + 1, Day: 1}.AddDays(-1)
		return dwell.Quota{Rep: dwell.RepID(rep), Start: dwell.Date{Year: 2025, Month: month, Day: 1}, End: end,
			Target: dwell.Money{Currency: "IDR", AmountMinor: amount}}
	}
	qs := []dwell.Quota{q("r1", 4, 100), q("r1", 3, 90), q("r2", 3, 50), q("r11", 3, 7)}
	_, err := s.PutQuotas(ctx(), tenantA, "q-1", qs)
	must(t, "PutQuotas", err)
	existed, err := s.PutQuotas(ctx(), tenantA, "q-1", qs)
	must(t, "PutQuotas retry", err)
	if !existed {
		t.Fatal("retry: existed = false")
	}
	_, err = s.PutQuotas(ctx(), tenantA, "q-1", []dwell.Quota{q("r1", 3, 1)})
	wantKind(t, "PutQuotas of another batch under a used request id", err, dwell.Invalid)
	_, err = s.PutQuotas(ctx(), tenantA, "q-2", []dwell.Quota{q("r1", 4, 120)})
	must(t, "PutQuotas replace", err)
	got, err := s.ListQuotas(ctx(), tenantA, "r1")
	must(t, "ListQuotas", err)
	wantEqual(t, "r1's quotas", got, []dwell.Quota{q("r1", 3, 90), q("r1", 4, 120)})
	got, err = s.ListQuotas(ctx(), tenantB, "r1")
	must(t, "ListQuotas other tenant", err)
	wantEqual(t, "other tenant's", len(got), 0)
}

// testQuotaOverlaps: a rep's quotas never overlap. A put that would leave
// two sharing a day is dwell.Invalid on the entry's start_date or
// end_date and writes nothing of its batch; a quota with a stored one's
// start replaces it, checked with its new end; DeleteQuota makes room.
func testQuotaOverlaps(t *testing.T, h Harness) {
	s := h.Open(t)
	idr := func(n int64) dwell.Money { return dwell.Money{Currency: "IDR", AmountMinor: n} }
	month := func(rep string, m time.Month) dwell.Quota {
		return dwell.Quota{Rep: dwell.RepID(rep), Start: dwell.Date{Year: 2026, Month: m, Day: 1},
			End: dwell.Date{Year: 2026, Month: m + 1, Day: 1}.AddDays(-1), Target: idr(1000000)}
	}
	oct, nov, dec := month("r1", 10), month("r1", 11), month("r1", 12)
	quarter := dwell.Quota{Rep: "r1", Start: oct.Start, End: dec.End, Target: idr(3000000)}
	_, err := s.PutQuotas(ctx(), tenantA, "months", []dwell.Quota{oct, nov, dec, month("r2", 10)})
	must(t, "PutQuotas of three months", err)
	list := func(what string, want ...dwell.Quota) {
		t.Helper()
		got, err := s.ListQuotas(ctx(), tenantA, "r1")
		must(t, "ListQuotas", err)
		wantEqual(t, what, got, append([]dwell.Quota{}, want...))
	}
	wantFields := func(what string, err error, fields ...string) {
		t.Helper()
		wantKind(t, what, err, dwell.Invalid)
		var got []string
		for _, v := range dwell.ViolationsOf(err) {
			got = append(got, v.Field)
		}
		wantEqual(t, what+": violations on", got, fields)
	}
	// The quarter has October's start: it would replace October and
	// overlap November and December.
	_, err = s.PutQuotas(ctx(), tenantA, "quarter", []dwell.Quota{quarter})
	wantFields("the quarter over stored months", err, "quotas[0].end_date")
	// A quota starting mid-October overlaps October; a batch holding a
	// good quota with it writes neither.
	mid := dwell.Quota{Rep: "r1", Start: dwell.Date{Year: 2026, Month: 10, Day: 15}, End: dwell.Date{Year: 2026, Month: 10, Day: 20}, Target: idr(1)}
	jan := dwell.Quota{Rep: "r1", Start: dwell.Date{Year: 2027, Month: 1, Day: 1}, End: dwell.Date{Year: 2027, Month: 1, Day: 31}, Target: idr(1)}
	_, err = s.PutQuotas(ctx(), tenantA, "mid", []dwell.Quota{jan, mid})
	wantFields("mid-October", err, "quotas[1].start_date")
	// Two quotas of one batch that overlap each other.
	_, err = s.PutQuotas(ctx(), tenantA, "pair", []dwell.Quota{jan, {Rep: "r1", Start: dwell.Date{Year: 2027, Month: 1, Day: 31}, End: dwell.Date{Year: 2027, Month: 2, Day: 27}, Target: idr(1)}})
	wantFields("two overlapping quotas of a batch", err, "quotas[1].start_date")
	list("r1's quotas after the refused puts", oct, nov, dec)
	// The refused request ids were not spent: the same id with a good
	// batch is stored.
	_, err = s.PutQuotas(ctx(), tenantA, "mid", []dwell.Quota{jan})
	must(t, "PutQuotas under a refused batch's request id", err)
	// A replacement keeps the rule too: October to mid-November no, a
	// shorter October yes.
	longOct := oct
	longOct.End = dwell.Date{Year: 2026, Month: 11, Day: 15}
	_, err = s.PutQuotas(ctx(), tenantA, "", []dwell.Quota{longOct})
	wantFields("October stretched into November", err, "quotas[0].end_date")
	shortOct := oct
	shortOct.End, shortOct.Target = dwell.Date{Year: 2026, Month: 10, Day: 30}, idr(900000)
	_, err = s.PutQuotas(ctx(), tenantA, "", []dwell.Quota{shortOct})
	must(t, "PutQuotas of a shorter October", err)
	// Another rep's quotas, and another tenant's, do not count.
	_, err = s.PutQuotas(ctx(), tenantB, "", []dwell.Quota{quarter})
	must(t, "PutQuotas of the quarter in another tenant", err)
	_, err = s.PutQuotas(ctx(), tenantA, "", []dwell.Quota{{Rep: "r2", Start: nov.Start, End: dec.End, Target: idr(5)}})
	must(t, "PutQuotas of r2's November-December", err)
	// Deleting November and December makes room for the quarter, which
	// replaces October.
	must(t, "DeleteQuota November", s.DeleteQuota(ctx(), tenantA, "r1", nov.Start))
	must(t, "DeleteQuota December", s.DeleteQuota(ctx(), tenantA, "r1", dec.Start))
	wantKind(t, "DeleteQuota again", s.DeleteQuota(ctx(), tenantA, "r1", dec.Start), dwell.NotFound)
	wantKind(t, "DeleteQuota of a day no quota starts on", s.DeleteQuota(ctx(), tenantA, "r1", dwell.Date{Year: 2026, Month: 10, Day: 2}), dwell.NotFound)
	wantKind(t, "DeleteQuota of another tenant's", s.DeleteQuota(ctx(), tenantB, "r1", nov.Start), dwell.NotFound)
	_, err = s.PutQuotas(ctx(), tenantA, "quarter", []dwell.Quota{quarter})
	must(t, "PutQuotas of the quarter", err)
	list("r1's quotas", quarter, jan)
	got, err := s.ListQuotas(ctx(), tenantA, "r2")
	must(t, "ListQuotas r2", err)
	wantEqual(t, "r2's quotas", len(got), 2)
}

// testQuotaOverlapsConcurrent: puts of quotas that overlap each other,
// each alone valid, race; the check is in the write's transaction, so
// exactly one is stored and the others are dwell.Invalid.
func testQuotaOverlapsConcurrent(t *testing.T, h Harness) {
	s := h.Open(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := dwell.Quota{Rep: "r1", Start: dwell.Date{Year: 2026, Month: 10, Day: 1 + i}, End: dwell.Date{Year: 2026, Month: 12, Day: 31},
				Target: dwell.Money{Currency: "IDR", AmountMinor: int64(i)}}
			_, errs[i] = s.PutQuotas(ctx(), tenantA, fmt.Sprint("race-", i), []dwell.Quota{q})
		}()
	}
	wg.Wait()
	stored := 0
	for i, err := range errs {
		switch {
		case err == nil:
			stored++
		case !dwell.Is(dwell.Invalid, err):
			t.Fatalf("put %d: %v, want stored or dwell.Invalid", i, err)
		}
	}
	got, err := s.ListQuotas(ctx(), tenantA, "r1")
	must(t, "ListQuotas", err)
	if stored != 1 || len(got) != 1 {
		t.Fatalf("%d of %d overlapping puts stored, %d quotas listed (%v); want exactly one", stored, n, len(got), got)
	}
}

// testRepSales checks that ListRepSales answers what the single-rep reads
// answer, rep by rep in the spans' order.
func testRepSales(t *testing.T, h Harness) {
	s := h.Open(t)
	for i, a := range []dwell.Appointment{
		appointment("a1", "r1", "", t0.Add(2*time.Hour)), appointment("a0", "r1", "", t0),
		appointment("a2", "r1", "", t0.Add(26*time.Hour)), appointment("b1", "r2", "", t0.Add(time.Hour)),
		appointment("c1", "r11", "", t0.Add(time.Hour)),
	} {
		_, _, err := s.CreateAppointment(ctx(), tenantA, a)
		must(t, fmt.Sprintf("CreateAppointment %d", i), err)
	}
	q := func(rep string, month time.Month) dwell.Quota {
		return dwell.Quota{Rep: dwell.RepID(rep), Start: dwell.Date{Year: 2025, Month: month, Day: 1},
			End: dwell.Date{Year: 2025, Month: month, Day: 28}, Target: dwell.Money{Currency: "IDR", AmountMinor: 10}}
	}
	_, err := s.PutQuotas(ctx(), tenantA, "", []dwell.Quota{q("r1", 4), q("r1", 3), q("r2", 3), q("r11", 5)})
	must(t, "PutQuotas", err)
	spans := []store.RepSpan{
		{Rep: "r2", From: t0, To: t0.Add(48 * time.Hour)},
		{Rep: "r1", From: t0.Add(time.Hour), To: t0.Add(48 * time.Hour)},
		{Rep: "r9", From: t0, To: t0.Add(48 * time.Hour)},
		{Rep: "r11", From: t0.Add(2 * time.Hour), To: t0},
	}
	var wantAs []dwell.Appointment
	var wantQs []dwell.Quota
	for _, sp := range spans {
		as, err := s.ListAppointments(ctx(), tenantA, sp.Rep, sp.From, sp.To)
		must(t, "ListAppointments", err)
		qs, err := s.ListQuotas(ctx(), tenantA, sp.Rep)
		must(t, "ListQuotas", err)
		wantAs, wantQs = append(wantAs, as...), append(wantQs, qs...)
	}
	if len(wantAs) != 3 || len(wantQs) != 4 {
		t.Fatalf("single-rep reads found %d appointments and %d quotas, want 3 and 4", len(wantAs), len(wantQs))
	}
	as, qs, err := s.ListRepSales(ctx(), tenantA, spans)
	must(t, "ListRepSales", err)
	wantEqual(t, "appointments", as, wantAs)
	wantEqual(t, "quotas", qs, wantQs)
	as, qs, err = s.ListRepSales(ctx(), tenantB, spans)
	must(t, "ListRepSales other tenant", err)
	wantEqual(t, "other tenant's", len(as)+len(qs), 0)
	_, _, err = s.ListRepSales(ctx(), tenantA, []store.RepSpan{{Rep: "", From: t0, To: t0.Add(time.Hour)}})
	wantKind(t, "ListRepSales with an empty rep", err, dwell.Invalid)
}

// dirtyDays returns every dirty mark of the store.
func dirtyDays(t *testing.T, s store.Store) []store.DayVersion {
	t.Helper()
	var out []store.DayVersion
	var after store.DayKey
	for {
		page, err := s.ListDirtyDays(ctx(), after, 2)
		must(t, "ListDirtyDays", err)
		out = append(out, page...)
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1].DayKey
	}
}

// dirtyDates returns the dates of dirtyDays, in its order.
func dirtyDates(t *testing.T, s store.Store) []dwell.Date {
	t.Helper()
	var out []dwell.Date
	for _, m := range dirtyDays(t, s) {
		out = append(out, m.Date)
	}
	return out
}

// summarizeDirty stores a summary of every dirty day, so that no day is
// dirty and the marks of what a test does next stand alone.
func summarizeDirty(t *testing.T, s store.Store) {
	t.Helper()
	for _, m := range dirtyDays(t, s) {
		_, _, err := s.PutDaySummary(ctx(), m.Tenant, m.Rep, m.Date, m.Version, []byte("x"), nil)
		must(t, "PutDaySummary", err)
	}
}

func day(y int, m time.Month, d int) dwell.Date { return dwell.Date{Year: y, Month: m, Day: d} }

func testDayMarks(t *testing.T, h Harness) {
	s := h.Open(t)
	// r1 works in Jakarta (UTC+7): 2025-03-14T16:59Z is still the 14th
	// there, 17:00Z is the 15th. r9 is not in the directory: UTC days.
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, rep("r1", "")))
	at := func(h, m int) time.Time { return time.Date(2025, 3, 14, h, m, 0, 0, time.UTC) }
	fs := []dwell.Fix{
		{ID: "f1", Time: at(16, 59), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1},
		{ID: "f2", Time: at(17, 0), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1},
	}
	_, err := s.AppendFixes(ctx(), tenantA, "r1", fs)
	must(t, "AppendFixes", err)
	_, err = s.AppendFixes(ctx(), tenantA, "r9", fs[1:])
	must(t, "AppendFixes r9", err)
	_, _, err = s.RecordCall(ctx(), tenantB, call("r1", "call-1", at(3, 0)))
	must(t, "RecordCall", err)
	k := func(tn dwell.TenantID, r string, d dwell.Date, v uint64) store.DayVersion {
		return store.DayVersion{DayKey: store.DayKey{Tenant: tn, Rep: dwell.RepID(r), Date: d}, Version: v}
	}
	want := []store.DayVersion{k(tenantA, "r1", day(2025, 3, 14), 1), k(tenantA, "r1", day(2025, 3, 15), 1),
		k(tenantA, "r9", day(2025, 3, 14), 1), k(tenantB, "r1", day(2025, 3, 14), 1)}
	wantEqual(t, "dirty after the first writes", dirtyDays(t, s), want)

	// Duplicates change nothing; a new fix, check-in and check-out bump.
	_, err = s.AppendFixes(ctx(), tenantA, "r1", fs)
	must(t, "AppendFixes again", err)
	wantEqual(t, "dirty after duplicates", dirtyDays(t, s), want)
	_, _, err = s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-1", at(2, 0)))
	must(t, "RecordCheckIn", err)
	_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "co-1", at(3, 0)))
	must(t, "RecordCheckOut", err)
	_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "co-1", at(3, 0)))
	must(t, "RecordCheckOut again", err)
	want[0].Version = 3
	wantEqual(t, "dirty after check-in and check-out", dirtyDays(t, s), want)

	if h.Reopen != nil {
		s = h.Reopen(t, s)
		wantEqual(t, "dirty after reopen", dirtyDays(t, s), want)
	}
}

// testClaimMarksDayBefore: a check-in or check-out also marks the rep's
// local day before its own, when that day has a data version (a check-out
// after midnight may close a check-in of that day, and a check-in between
// changes which one it closes); a call marks its own day alone, and a day
// with no data version is not given one.
func testClaimMarksDayBefore(t *testing.T, h Harness) {
	s := h.Open(t)
	// r1 works in Jakarta (UTC+7): 2025-03-14T16:30Z is 23:30 on the 14th
	// there, 17:35Z is 00:35 on the 15th.
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, rep("r1", "")))
	at := func(d, h, m int) time.Time { return time.Date(2025, 3, d, h, m, 0, 0, time.UTC) }
	d14, d15, d17, d18 := day(2025, 3, 14), day(2025, 3, 15), day(2025, 3, 17), day(2025, 3, 18)
	_, err := s.AppendFixes(ctx(), tenantA, "r1", []dwell.Fix{
		{ID: "f1", Time: at(14, 16, 30), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}})
	must(t, "AppendFixes", err)
	_, _, err = s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-1", at(14, 16, 35)))
	must(t, "RecordCheckIn", err)
	wantEqual(t, "dirty after the day's fix and check-in", dirtyDates(t, s), []dwell.Date{d14})
	summarizeDirty(t, s)
	before, err := listDays(s, "r1", d14, d14)
	must(t, "ListDaySummaries", err)

	_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "co-1", at(14, 17, 35)))
	must(t, "RecordCheckOut", err)
	wantEqual(t, "dirty after a check-out after midnight", dirtyDates(t, s), []dwell.Date{d14, d15})
	after, err := listDays(s, "r1", d14, d14)
	must(t, "ListDaySummaries", err)
	if len(before) != 1 || len(after) != 1 || after[0].Version != before[0].Version+1 || after[0].Current() {
		t.Fatalf("the 14th before %+v and after %+v the check-out: want its data version bumped and its summary stale", before, after)
	}
	summarizeDirty(t, s)
	_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "co-1", at(14, 17, 35)))
	must(t, "RecordCheckOut again", err)
	wantEqual(t, "dirty after a repeated check-out", dirtyDates(t, s), []dwell.Date(nil))

	_, _, err = s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "ci-2", at(15, 1, 0)))
	must(t, "RecordCheckIn the next day", err)
	wantEqual(t, "dirty after a check-in the next day", dirtyDates(t, s), []dwell.Date{d14, d15})
	summarizeDirty(t, s)
	_, _, err = s.RecordCall(ctx(), tenantA, call("r1", "call-1", at(15, 2, 0)))
	must(t, "RecordCall", err)
	wantEqual(t, "dirty after a call", dirtyDates(t, s), []dwell.Date{d15})
	summarizeDirty(t, s)

	// The 17th has no data version: a check-out on the 18th marks its own
	// day alone.
	_, _, err = s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "co-2", at(18, 2, 0)))
	must(t, "RecordCheckOut on the 18th", err)
	wantEqual(t, "dirty after a check-out after a day without data", dirtyDates(t, s), []dwell.Date{d18})
	if list, err := listDays(s, "r1", d17, d17); err != nil || len(list) != 0 {
		t.Fatalf("the 17th, without data, lists %+v (%v): want nothing", list, err)
	}
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		wantEqual(t, "dirty after reopen", dirtyDates(t, s), []dwell.Date{d18})
	}
}

func testDaySummaries(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, rep("r1", "")))
	d := dwell.DateOf(t0, time.UTC) // 2025-03-14 09:26 UTC is 16:26 in Jakarta
	_, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 0, 3))
	must(t, "AppendFixes", err)
	marks := dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Date != d {
		t.Fatalf("marks = %+v, want one of %v", marks, d)
	}
	v := marks[0].Version
	list, err := listDays(s, "r1", d.AddDays(-3), d.AddDays(3))
	must(t, "ListDaySummaries", err)
	wantEqual(t, "before any summary", list, []store.DaySummary{{Date: d, Version: v}})
	if list[0].Current() {
		t.Fatal("a day without a summary is current")
	}

	// Data arrives while the summary of v is derived: the summary is
	// stored but the mark stays.
	_, err = s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 3, 1))
	must(t, "AppendFixes", err)
	prev, prevDetail, err := s.PutDaySummary(ctx(), tenantA, "r1", d, v, []byte("sum-1"), []byte("det-1"))
	must(t, "PutDaySummary", err)
	wantEqual(t, "prev of the first summary", prev, []byte(nil))
	wantEqual(t, "prev detail of the first summary", prevDetail, []byte(nil))
	marks = dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Version != v+1 {
		t.Fatalf("marks after a stale put = %+v, want version %d", marks, v+1)
	}
	list, err = listDays(s, "r1", d, d)
	must(t, "ListDaySummaries", err)
	wantEqual(t, "stale summary", list, []store.DaySummary{{Date: d, Version: v + 1, SummaryVersion: v, Summary: []byte("sum-1")}})
	if list[0].Current() {
		t.Fatal("a stale summary is current")
	}

	got, gotDetail, err := s.GetDaySummary(ctx(), tenantA, "r1", d)
	must(t, "GetDaySummary stale", err)
	wantEqual(t, "GetDaySummary stale", got, store.DaySummary{Date: d, Version: v + 1, SummaryVersion: v, Summary: []byte("sum-1")})
	wantEqual(t, "GetDaySummary stale detail", gotDetail, []byte("det-1"))
	if got.Current() {
		t.Fatal("GetDaySummary: a stale summary is current")
	}
	got, gotDetail, err = s.GetDaySummary(ctx(), tenantB, "r1", d)
	must(t, "GetDaySummary other tenant", err)
	wantEqual(t, "GetDaySummary other tenant", got, store.DaySummary{Date: d})
	wantEqual(t, "GetDaySummary other tenant detail", gotDetail, []byte(nil))
	got, _, err = s.GetDaySummary(ctx(), tenantA, "r1", d.AddDays(1))
	must(t, "GetDaySummary day without data", err)
	wantEqual(t, "GetDaySummary day without data", got, store.DaySummary{Date: d.AddDays(1)})
	if _, _, err := s.GetDaySummary(ctx(), tenantA, "", d); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("GetDaySummary with an empty rep: err = %v, want Invalid", err)
	}

	prev, prevDetail, err = s.PutDaySummary(ctx(), tenantA, "r1", d, v+1, []byte("sum-2"), []byte("det-2"))
	must(t, "PutDaySummary current", err)
	got, gotDetail, err = s.GetDaySummary(ctx(), tenantA, "r1", d)
	must(t, "GetDaySummary current", err)
	wantEqual(t, "GetDaySummary current", got, store.DaySummary{Date: d, Version: v + 1, SummaryVersion: v + 1, Summary: []byte("sum-2")})
	wantEqual(t, "GetDaySummary current detail", gotDetail, []byte("det-2"))
	wantEqual(t, "prev", prev, []byte("sum-1"))
	wantEqual(t, "prev detail", prevDetail, []byte("det-1"))
	wantEqual(t, "marks after a current put", len(dirtyDays(t, s)), 0)
	// An older derivation finishing late does not overwrite a newer one.
	_, _, err = s.PutDaySummary(ctx(), tenantA, "r1", d, v, []byte("sum-old"), nil)
	must(t, "PutDaySummary old", err)
	list, err = listDays(s, "r1", d, d)
	must(t, "ListDaySummaries", err)
	if !list[0].Current() || string(list[0].Summary) != "sum-2" {
		t.Fatalf("after an old put: %+v, want the current sum-2", list)
	}
	list, err = listDays(s, "r1", d.AddDays(1), d.AddDays(9))
	must(t, "ListDaySummaries other days", err)
	wantEqual(t, "other days", len(list), 0)
}

func testTenantChangeMarks(t *testing.T, h Harness) {
	s := h.Open(t)
	// The store's clock is the wall clock here: a day of last week is
	// re-derived after a change, a day of last year is not.
	recent := time.Now().Add(-7 * 24 * time.Hour)
	old := time.Now().Add(-400 * 24 * time.Hour)
	for i, at := range []time.Time{recent, old} {
		_, _, err := s.RecordCall(ctx(), tenantA, call("r9", fmt.Sprintf("call-%d", i), at))
		must(t, "RecordCall", err)
	}
	summarizeDirty(t, s)
	wantEqual(t, "marks after summaries", len(dirtyDays(t, s)), 0)
	st := dwell.DefaultSettings()
	st.IdleMin = 7 * time.Minute
	must(t, "PutSettings", s.PutSettings(ctx(), tenantA, st))
	marks := dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Date != dwell.DateOf(recent, time.UTC) || marks[0].Version != 2 {
		t.Fatalf("marks after a settings change = %+v, want the recent day at version 2", marks)
	}
	_, _, err := s.PutDaySummary(ctx(), tenantA, "r9", marks[0].Date, 2, []byte("y"), nil)
	must(t, "PutDaySummary", err)
	must(t, "CreateClient", s.CreateClient(ctx(), tenantA, client("c1", dwell.ClientKindProspect)))
	marks = dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Version != 3 {
		t.Fatalf("marks after a client change = %+v, want the recent day at version 3", marks)
	}
}

// testRederiveAll: a new derivation version marks the recent days of every
// tenant (not the old ones), once: the same or a lower version marks
// nothing, a higher one marks again, and the recorded version survives a
// restart.
func testRederiveAll(t *testing.T, h Harness) {
	s := h.Open(t)
	// A new store has no days to mark: it records the version quietly.
	if marked, err := s.RederiveAll(ctx(), 2); err != nil || marked {
		t.Fatalf("RederiveAll(2) of a new store = %v, %v; want false, nil", marked, err)
	}
	// The store's clock is the wall clock here.
	recent := time.Now().Add(-7 * 24 * time.Hour)
	old := time.Now().Add(-400 * 24 * time.Hour)
	for _, tn := range []dwell.TenantID{tenantA, tenantB} {
		for i, at := range []time.Time{recent, old} {
			_, _, err := s.RecordCall(ctx(), tn, call("r9", fmt.Sprintf("call-%d", i), at))
			must(t, "RecordCall", err)
		}
	}
	summarizeDirty(t, s)
	wantEqual(t, "marks after summaries", len(dirtyDays(t, s)), 0)

	marked, err := s.RederiveAll(ctx(), 3)
	must(t, "RederiveAll(3)", err)
	marks := dirtyDays(t, s)
	if !marked || len(marks) != 2 || marks[0].Tenant == marks[1].Tenant ||
		marks[0].Date != dwell.DateOf(recent, time.UTC) || marks[1].Date != dwell.DateOf(recent, time.UTC) {
		t.Fatalf("RederiveAll(3) = %v, marks %+v; want true and the recent day of each tenant", marked, marks)
	}
	summarizeDirty(t, s)
	for _, v := range []uint64{3, 2, 0} {
		marked, err := s.RederiveAll(ctx(), v)
		must(t, "RederiveAll", err)
		if marks := dirtyDays(t, s); marked || len(marks) != 0 {
			t.Errorf("RederiveAll(%d) after 3 = %v, marks %+v; want false and none", v, marked, marks)
		}
	}
	if h.Reopen != nil {
		s = h.Reopen(t, s)
		marked, err := s.RederiveAll(ctx(), 3)
		must(t, "RederiveAll(3) after a restart", err)
		if marked {
			t.Errorf("RederiveAll(3) after a restart marked again: the recorded version was lost")
		}
	}
	marked, err = s.RederiveAll(ctx(), 4)
	must(t, "RederiveAll(4)", err)
	if marks := dirtyDays(t, s); !marked || len(marks) != 2 {
		t.Errorf("RederiveAll(4) = %v, marks %+v; want true and the two recent days", marked, marks)
	}
}

// testRaisedRetentionMarks: a day that lost fixes to a short retention
// period keeps its summary when the period is raised afterwards (the fixes
// do not come back), while another rep's day of the same date, which lost
// nothing, is re-derived.
func testRaisedRetentionMarks(t *testing.T, h Harness) {
	s := h.Open(t)
	// The store's clock is the wall clock here.
	at := time.Now().Add(-10 * 24 * time.Hour)
	st := dwell.DefaultSettings()
	st.Retention = 3 * 24 * time.Hour
	must(t, "PutSettings", s.PutSettings(ctx(), tenantA, st))
	for _, rep := range []string{"r8", "r9"} {
		f := fixes(rep, 0, 3)
		for i := range f {
			f[i].Time = at.Add(time.Duration(i) * time.Minute)
		}
		_, err := s.AppendFixes(ctx(), tenantA, dwell.RepID(rep), f)
		must(t, "AppendFixes", err)
	}
	n, _, err := s.PruneFixes(ctx(), tenantA, "r9", time.Now().Add(-st.Retention), 100)
	must(t, "PruneFixes", err)
	wantEqual(t, "pruned", n, 3)
	summarizeDirty(t, s)
	st.Retention = 365 * 24 * time.Hour
	must(t, "PutSettings", s.PutSettings(ctx(), tenantA, st))
	marks := dirtyDays(t, s)
	if len(marks) != 1 || marks[0].Rep != "r8" {
		t.Fatalf("marks after raising the retention period = %+v, want r8's day only", marks)
	}
}

// testRepChangeMarks: a change of a rep's time zone or working hours
// marks its recent days dirty, and the days its data falls on in the new
// zone; a change of its name marks nothing, and old days stay.
func testRepChangeMarks(t *testing.T, h Harness) {
	s := h.Open(t)
	r := rep("r7", "")
	r.TimeZone = "UTC"
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, r))
	// The store's clock is the wall clock here: 20:00 UTC three days ago
	// is the next day in Tokyo; a fix of last year is an old day.
	y, m, d := time.Now().UTC().AddDate(0, 0, -3).Date()
	recent := time.Date(y, m, d, 20, 0, 0, 0, time.UTC)
	old := recent.AddDate(-1, 0, 0)
	fs := fixes("r7", 0, 2)
	fs[0].Time, fs[1].Time = recent, old
	_, err := s.AppendFixes(ctx(), tenantA, "r7", fs)
	must(t, "AppendFixes", err)
	dates := func(what string, want ...dwell.Date) {
		t.Helper()
		got := dirtyDates(t, s)
		if !slices.Equal(got, want) {
			t.Fatalf("marks after %s = %v, want %v", what, got, want)
		}
	}
	summarizeDirty(t, s)
	r.DisplayName = "Renamed"
	must(t, "UpdateRep name", s.UpdateRep(ctx(), tenantA, r))
	dates("a new name")
	utcDay := dwell.DateOf(recent, time.UTC)
	r.TimeZone = "Asia/Tokyo"
	must(t, "UpdateRep zone", s.UpdateRep(ctx(), tenantA, r))
	dates("a new zone", utcDay, utcDay.AddDays(1))
	summarizeDirty(t, s)
	r.WorkingHours = append(r.WorkingHours, dwell.WorkingHours{Weekday: time.Sunday, StartMinute: 0, EndMinute: 24 * 60})
	must(t, "UpdateRep working hours", s.UpdateRep(ctx(), tenantA, r))
	dates("new working hours", utcDay, utcDay.AddDays(1))
}

// testRepZoneEdgeMarks: a change of a rep's zone to one ahead begins the
// first day it derives again (store.RederiveDays before the store's clock,
// less one for the zones ahead of UTC) before the old zone's day before it
// ends; that day, which has data, is marked too, so the instants both
// hold are not counted in two stored days. The day before it is not.
func testRepZoneEdgeMarks(t *testing.T, h Harness) {
	s := h.Open(t)
	r := rep("r9", "")
	r.TimeZone = "UTC"
	must(t, "CreateRep", s.CreateRep(ctx(), tenantA, r))
	// The store's clock is the wall clock here.
	since := dwell.DateOf(time.Now(), time.UTC).AddDays(-store.RederiveDays - 1)
	edge := since.AddDays(-1).Start(time.UTC).Add(20 * time.Hour) // since, 05:00 in Tokyo
	fs := fixes("r9", 0, 2)
	fs[0].Time, fs[1].Time = edge, edge.Add(-24*time.Hour)
	_, err := s.AppendFixes(ctx(), tenantA, "r9", fs)
	must(t, "AppendFixes", err)
	summarizeDirty(t, s)
	r.TimeZone = "Asia/Tokyo"
	must(t, "UpdateRep zone", s.UpdateRep(ctx(), tenantA, r))
	if got, want := dirtyDates(t, s), []dwell.Date{since.AddDays(-1), since}; !slices.Equal(got, want) {
		t.Fatalf("marks after a zone ahead = %v, want %v (the old zone's day holding since's start, and since)", got, want)
	}
	summarizeDirty(t, s)
	// Back to UTC, a zone behind: since begins after the old zone's day
	// before it ends, which holds no instant of since: only the days from
	// since on are marked (Tokyo's since-1 began before since in UTC).
	r.TimeZone = "UTC"
	must(t, "UpdateRep zone back", s.UpdateRep(ctx(), tenantA, r))
	if got := dirtyDates(t, s); slices.Contains(got, since.AddDays(-1)) || slices.Contains(got, since.AddDays(-2)) {
		t.Fatalf("marks after a zone behind = %v, want none before %v", got, since)
	}
}

// listDays returns one rep's summaries in tenantA, and checks that a read
// of several reps at once gives each the same.
func listDays(s store.Store, rep dwell.RepID, from, to dwell.Date) ([]store.DaySummary, error) {
	all, err := s.ListDaySummaries(ctx(), tenantA, []dwell.RepID{"zz-other", rep, "r0"}, from, to)
	if err != nil {
		return nil, err
	}
	one, err := s.ListDaySummaries(ctx(), tenantA, []dwell.RepID{rep}, from, to)
	if err != nil {
		return nil, err
	}
	if len(all) != 3 || len(one) != 1 || !equal(all[1], one[0]) {
		return nil, fmt.Errorf("a read of three reps gave %v for %s, a read of it alone %v", all, rep, one)
	}
	var viewed []store.DaySummary
	// want (when not nil) is told every day, in order, before its summary
	// is read; a day it takes comes as ListDaySummaries gives it, one it
	// refuses without its summary.
	for _, mode := range []string{"no want", "want taking all", "want refusing all"} {
		var asked []store.DaySummary
		var bad error
		var want func(int, store.DaySummary) bool
		if mode != "no want" {
			want = func(i int, d store.DaySummary) bool {
				if i != 0 || d.Summary != nil {
					bad = fmt.Errorf("want(%d, %+v): wrong rep index, or a summary given", i, d)
				}
				asked = append(asked, d)
				return mode == "want taking all"
			}
		}
		viewed = nil
		err = s.ViewDaySummaries(ctx(), tenantA, []dwell.RepID{rep}, from, to, want, func(days [][]store.DaySummary) error {
			for _, d := range days[0] {
				d.Summary = slices.Clone(d.Summary)
				viewed = append(viewed, d)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if bad != nil {
			return nil, bad
		}
		if want != nil && len(asked) != len(one[0]) {
			return nil, fmt.Errorf("ViewDaySummaries asked want of %d days, want %d", len(asked), len(one[0]))
		}
		for j, d := range asked {
			w := one[0][j]
			if d.Date != w.Date || d.Version != w.Version || (d.SummaryVersion != 0 && d.SummaryVersion != w.SummaryVersion) {
				return nil, fmt.Errorf("want told %+v, the day is %+v", d, w)
			}
		}
		expect := one[0]
		if mode == "want refusing all" && len(viewed) == len(one[0]) {
			expect = nil
			for _, w := range one[0] {
				expect = append(expect, store.DaySummary{Date: w.Date, Version: w.Version, SummaryVersion: viewed[len(expect)].SummaryVersion})
			}
		}
		if !equal(viewed, expect) {
			return nil, fmt.Errorf("ViewDaySummaries (%s) gave %v, want %v", mode, viewed, expect)
		}
	}
	return one[0], nil
}

// testDaySummariesAnyRepOrder: ListDaySummaries answers each rep with its
// own stored summaries whatever the order of the reps asked for (by id,
// as ListReps gives them: "rep-10" before "rep-9"; ids of other lengths).
func testDaySummariesAnyRepOrder(t *testing.T, h Harness) {
	s := h.Open(t)
	d := dwell.DateOf(t0, time.UTC)
	all := []dwell.RepID{"a", "bb", "c", "rep-10", "rep-9"}
	for _, r := range all {
		_, err := s.AppendFixes(ctx(), tenantA, r, fixes(string(r), 0, 1))
		must(t, "AppendFixes", err)
		_, _, err = s.PutDaySummary(ctx(), tenantA, r, d, 1, []byte("sum "+string(r)), nil)
		must(t, "PutDaySummary", err)
	}
	for _, reps := range [][]dwell.RepID{{"rep-10", "rep-9"}, {"rep-9", "rep-10"}, {"a", "bb", "c"}, {"c", "a"}, {"bb", "c"}, all} {
		days, err := s.ListDaySummaries(ctx(), tenantA, reps, d.AddDays(-1), d.AddDays(1))
		must(t, "ListDaySummaries", err)
		for i, r := range reps {
			if len(days[i]) != 1 || !days[i][0].Current() || string(days[i][0].Summary) != "sum "+string(r) {
				t.Errorf("ListDaySummaries(%v)[%d] = %+v, want the current summary %q", reps, i, days[i], "sum "+string(r))
			}
		}
	}
}
