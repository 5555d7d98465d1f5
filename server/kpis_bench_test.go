package server_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// BenchmarkGetKpis measures GetKpis for a team of 1,000 reps over 30 days
// (30,000 rep-day summaries, and the 60,000 of the look-back before them,
// kpiLookBackDays) over loopback gRPC against a real bbolt file, beside
// baselines in the same run: the KPI aggregation alone (kpi.Compute in
// process on the same days, with and without the look-back) and GetKpis
// for one rep over the same 30 days. grpc-team-1000 asks again and again, as a dashboard
// does (the server's cache of decoded summaries serves the unchanged
// days); grpc-team-1000-cold empties that cache before each call, so every
// summary is read and decoded.
//
// The summaries are realistic (simulated days derived by the timeline,
// with their check-outs and two calls each), stored current: each rep-day
// gets a call (which gives it a data version) and the summary of that
// version, so the query reads summaries only, as it does once the
// refresher has caught up. Each rep also has two opportunities (one won
// in the range), a quota and an appointment.
//
//	go test -run '^$' -bench BenchmarkGetKpis -benchtime 20x ./server/
func BenchmarkGetKpis(b *testing.B) {
	const reps, days, lookBack = 1000, 30, 60
	e := newEnvSync(b, false)
	e.srv.Close() // the summaries are written below; no refresher needed
	ctx := b.Context()
	city, err := sim.NewCity(7, sim.CityConfig{})
	if err != nil {
		b.Fatal(err)
	}
	cs := city.Clients()
	if err := e.st.PutClients(ctx, acme, cs); err != nil {
		b.Fatal(err)
	}
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "big", "boss")
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	start := dwell.Date{Year: 2026, Month: 10, Day: 1}

	// Six simulated days, derived and summarised once, stand for all.
	ix, clients := localFences(b, cs)
	var protos []*kpi.Day
	for seed := uint64(1); len(protos) < 6; seed++ {
		res, err := sim.Day(seed, city, sim.Realistic(), sim.DayConfig{Rep: "r", Date: start, Loc: jakarta})
		if err != nil {
			continue
		}
		in := timeline.Input{Day: res.Date, Loc: jakarta, Fixes: res.AllFixes(), Fences: ix, Clients: clients}
		var cos []dwell.CheckOut
		for _, ci := range res.CheckIns {
			in.CheckIns = append(in.CheckIns, ci.CheckIn)
		}
		for _, co := range res.CheckOuts {
			cos = append(cos, co.CheckOut)
		}
		in.CheckOuts = cos
		day := timeline.Derive(in)
		calls := []dwell.Call{
			{Client: cs[0].ID, StartTime: res.Start.Add(time.Hour), TalkSeconds: 120, Outcome: dwell.CallConnected},
			{Client: cs[1].ID, StartTime: res.Start.Add(2 * time.Hour), Outcome: dwell.CallNoAnswer},
		}
		protos = append(protos, kpi.Summarize("r", res.Date, &day, len(res.AllFixes()), cos, nil, calls,
			func(id dwell.ClientID) dwell.ClientKind { return clients[id].Kind }))
	}

	// The team, its summaries and sales inputs, written concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < reps; i += 64 {
				if err := benchRep(e, i, start.AddDays(-lookBack), start, days, protos, cs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	end := start.AddDays(days - 1)
	boss := e.as(acme, dwell.RoleManager, "boss")
	req := &dwellv1.GetKpisRequest{Team: "teams/big", StartDate: pbDate(start.Year, int(start.Month), start.Day), EndDate: pbDate(end.Year, int(end.Month), end.Day)}
	want, err := e.report.GetKpis(boss, req)
	if err != nil {
		b.Fatal(err)
	}
	if want.GetIdle().GetBasis().GetDays() != reps*days || want.GetWinRatio().GetWins() != reps {
		b.Fatalf("GetKpis rests on %d days and %d wins, want %d and %d", want.GetIdle().GetBasis().GetDays(), want.GetWinRatio().GetWins(), reps*days, reps)
	}

	// The baseline input: the same days, decoded, with the same sales data
	// (but for the appointments and quotas, which cost little).
	since := start.AddDays(-lookBack)
	in := kpi.Input{Start: start, End: end, Since: since}
	var os []dwell.Opportunity
	for i := range reps {
		r := kpi.Rep{ID: dwell.RepID(fmt.Sprintf("rep%04d", i)), Loc: jakarta}
		for d := range lookBack + days {
			sum := redated(protos[(i+d)%len(protos)], r.ID, since.AddDays(d))
			r.Days = append(r.Days, &sum)
		}
		in.Reps = append(in.Reps, r)
		os = append(os, benchOpportunities(i, r.ID, start.Start(jakarta), cs)...)
	}
	in.Opportunities = os
	kpi.Compute(in) // the in-memory days compute their parts once, untimed
	b.Run("aggregate-only", func(b *testing.B) {
		for b.Loop() {
			if r := kpi.Compute(in); r.Idle.Days != reps*days {
				b.Fatalf("%d days", r.Idle.Days)
			}
		}
	})
	b.Run("aggregate-only-no-look-back", func(b *testing.B) {
		in := in
		in.Since = dwell.Date{}
		for b.Loop() {
			if r := kpi.Compute(in); r.Idle.Days != reps*days {
				b.Fatalf("%d days", r.Idle.Days)
			}
		}
	})
	b.Run("grpc-one-rep", func(b *testing.B) {
		one := &dwellv1.GetKpisRequest{Rep: "reps/rep0000", StartDate: req.StartDate, EndDate: req.EndDate}
		for b.Loop() {
			if _, err := e.report.GetKpis(boss, one); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grpc-team-1000-cold", func(b *testing.B) {
		for b.Loop() {
			server.ClearDayCache(e.srv)
			resp, err := e.report.GetKpis(boss, req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.GetIdle().GetIdleSeconds() != want.GetIdle().GetIdleSeconds() {
				b.Fatal("answers differ between runs")
			}
		}
	})
	// The background warm-up after a restart (WarmReports): the cold row's
	// decoding of the range, done once at start instead of by the first
	// dashboard. The clock moves to the range's last day, so the warm-up's
	// 35 days hold the range.
	b.Run("warm-up-1000", func(b *testing.B) {
		back := e.now().Sub(time.Date(end.Year, end.Month, end.Day, 12, 0, 0, 0, time.UTC))
		e.advance(-back)
		defer e.advance(back)
		for b.Loop() {
			server.ClearDayCache(e.srv)
			n, err := e.srv.WarmReports(b.Context(), []dwell.TenantID{acme})
			if err != nil || n < reps*days || n > reps*(lookBack+days) {
				b.Fatalf("WarmReports = %d, %v; want the range's %d days and at most the look-back's", n, err, reps*days)
			}
		}
	})
	b.Run("grpc-team-1000", func(b *testing.B) {
		for b.Loop() {
			resp, err := e.report.GetKpis(boss, req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.GetIdle().GetIdleSeconds() != want.GetIdle().GetIdleSeconds() {
				b.Fatal("answers differ between runs")
			}
		}
	})
}

// benchRep creates rep i of the benchmark team with current summaries for
// the days from `from` to the range's end (days days from start), two
// opportunities, a quota and an appointment in the range.
func benchRep(e *env, i int, from, start dwell.Date, days int, protos []*kpi.Day, cs []dwell.Client) error {
	ctx := e.t.(*testing.B).Context()
	id := dwell.RepID(fmt.Sprintf("rep%04d", i))
	if err := e.st.CreateRep(ctx, acme, dwell.Rep{ID: id, DisplayName: string(id), TimeZone: "Asia/Jakarta", Team: "big"}); err != nil {
		return err
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	for d := range start.DaysSince(from) + days {
		date := from.AddDays(d)
		c := dwell.Call{RequestID: "c" + date.String(), Rep: id, Client: cs[0].ID, StartTime: date.Start(jakarta).Add(10 * time.Hour),
			Outcome: dwell.CallNoAnswer}
		if _, _, err := e.st.RecordCall(ctx, acme, c); err != nil {
			return err
		}
		sum := redated(protos[(i+d)%len(protos)], id, date)
		if _, _, err := e.st.PutDaySummary(ctx, acme, id, date, 1, sum.EncodeSummary(), sum.EncodeDetail()); err != nil {
			return err
		}
	}
	open := start.Start(jakarta)
	os := benchOpportunities(i, id, open, cs)
	if _, err := e.st.PutOpportunities(ctx, acme, "", os); err != nil {
		return err
	}
	if _, err := e.st.PutQuotas(ctx, acme, "", []dwell.Quota{{Rep: id, Start: start, End: start.AddDays(days - 1),
		Target: dwell.Money{Currency: "IDR", AmountMinor: 10000}}}); err != nil {
		return err
	}
	_, _, err := e.st.CreateAppointment(ctx, acme, dwell.Appointment{ID: dwell.AppointmentID(fmt.Sprintf("a%04d", i)), Rep: id,
		Client: cs[0].ID, PlannedStart: open.Add(34 * time.Hour), PlannedEnd: open.Add(35 * time.Hour)})
	return err
}

// benchOpportunities returns rep i's opportunities: one won ten days after
// open, one still open.
func benchOpportunities(i int, id dwell.RepID, open time.Time, cs []dwell.Client) []dwell.Opportunity {
	return []dwell.Opportunity{
		{ID: dwell.OpportunityID(fmt.Sprintf("w%04d", i)), Rep: id, Client: cs[i%len(cs)].ID, Stage: dwell.StageWon,
			Amount: dwell.Money{Currency: "IDR", AmountMinor: 5000}, OpenTime: open, CloseTime: open.Add(10 * 24 * time.Hour)},
		{ID: dwell.OpportunityID(fmt.Sprintf("o%04d", i)), Rep: id, Client: cs[(i+1)%len(cs)].ID, Stage: dwell.StageOpen,
			Amount: dwell.Money{Currency: "IDR", AmountMinor: 7000}, OpenTime: open},
	}
}

// redated returns a copy of the simulated day p as rep's day date, its
// follow-ups due as many days after date as they were after p's own day
// (the instants stay p's: the KPIs' joins compare them only within a
// day). Without the shift every copy's follow-ups would fall due in the
// first days of October, so every look-back day would hold follow-ups due
// in the range, which no real rep's history does.
func redated(p *kpi.Day, rep dwell.RepID, date dwell.Date) kpi.Day {
	d := *p
	d.Rep, d.Date = rep, date
	shift := date.DaysSince(p.Date)
	d.CheckOuts = slices.Clone(p.CheckOuts)
	for i := range d.CheckOuts {
		if fu := &d.CheckOuts[i].FollowUpDate; !fu.IsZero() {
			*fu = fu.AddDays(shift)
		}
	}
	return d
}
