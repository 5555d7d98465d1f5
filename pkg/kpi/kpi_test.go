package kpi

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

var (
	jakarta = mustLoad("Asia/Jakarta")
	berlin  = mustLoad("Europe/Berlin")
)

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func date(m time.Month, d int) dwell.Date { return dwell.Date{Year: 2026, Month: m, Day: d} }

// at returns local time h:mm on day d (March 2026) in loc.
func at(loc *time.Location, d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, loc) }

// The clients of the golden week: P1..P4 prospects, C1 a customer.
var kinds = map[dwell.ClientID]dwell.ClientKind{
	"P1": dwell.ClientKindProspect, "P2": dwell.ClientKindProspect, "P3": dwell.ClientKindProspect,
	"P4": dwell.ClientKindProspect, "C1": dwell.ClientKindCustomer,
}

func kindOf(c dwell.ClientID) dwell.ClientKind { return kinds[c] }

// gv is a visit of the golden scenario: client, local start, minutes, the
// outcome given at its check-out (at its end) and the follow-up day or
// rejection reason.
type gv struct {
	client   dwell.ClientID
	h, m     int
	min      int
	outcome  dwell.Outcome
	followUp dwell.Date
	reason   dwell.RejectionReason
}

// gc is a call: client, local start, talk seconds, outcome.
type gc struct {
	client dwell.ClientID
	h, m   int
	talk   int64
	out    dwell.CallOutcome
}

// day builds the summary of rep's day d of March 2026 in loc: the visits
// (each with a check-out), one idle, one travel and one gap segment of the
// given minutes (none when 0), travel of km kilometres, and the calls.
func day(rep dwell.RepID, loc *time.Location, d int, visits []gv, idleMin, travelMin int, km float64, gapMin int, calls []gc) *Day {
	out := &Day{Rep: rep, Date: date(3, d)}
	for i, v := range visits {
		start := at(loc, d, v.h, v.m)
		end := start.Add(time.Duration(v.min) * time.Minute)
		in, co := string(rep)+"-in", string(rep)+"-out"
		in, co = in+string(rune('a'+d))+string(rune('a'+i)), co+string(rune('a'+d))+string(rune('a'+i))
		out.Segments = append(out.Segments, timeline.Segment{Kind: timeline.KindVisit, Start: start, End: end, Client: v.client})
		out.Visits = append(out.Visits, Visit{Visit: timeline.Visit{Client: v.client, Start: start, End: end,
			Source: timeline.SourceBoth, Verification: dwell.VerificationVerified, CheckInRequestID: in},
			Kind: kindOf(v.client), CheckOutRequestID: co, Outcome: v.outcome})
		out.CheckOuts = append(out.CheckOuts, CheckOut{RequestID: co, Client: v.client, Kind: kindOf(v.client), Time: end,
			Outcome: v.outcome, FollowUpDate: v.followUp, RejectionReason: v.reason})
		if kindOf(v.client) == dwell.ClientKindCustomer {
			out.Totals.VisitCustomerS += int64(v.min) * 60
		} else {
			out.Totals.VisitProspectS += int64(v.min) * 60
		}
	}
	seg := func(k timeline.Kind, h, min int, m float64) {
		if min == 0 {
			return
		}
		s := at(loc, d, h, 0)
		out.Segments = append(out.Segments, timeline.Segment{Kind: k, Start: s, End: s.Add(time.Duration(min) * time.Minute), DistanceM: m})
	}
	seg(timeline.KindIdle, 12, idleMin, 0)
	if idleMin > 0 {
		out.IdleSegments = 1
	}
	seg(timeline.KindTravel, 17, travelMin, km*1000)
	seg(timeline.KindGap, 19, gapMin, 0)
	out.Totals.IdleS, out.Totals.TravelS, out.Totals.GapS = int64(idleMin)*60, int64(travelMin)*60, int64(gapMin)*60
	out.Totals.DistanceM = km * 1000
	for _, sg := range out.Segments {
		if out.Start.IsZero() || sg.Start.Before(out.Start) {
			out.Start = sg.Start
		}
		if sg.End.After(out.End) {
			out.End = sg.End
		}
	}
	for _, c := range calls {
		out.Calls = append(out.Calls, Call{Client: c.client, Kind: kindOf(c.client), StartTime: at(loc, d, c.h, c.m), TalkSeconds: c.talk, Outcome: c.out})
	}
	return out
}

const (
	pos = dwell.OutcomePositive
	fu  = dwell.OutcomeFollowUp
	won = dwell.OutcomeWon
	rej = dwell.OutcomeRejected
	nod = dwell.OutcomeNoDecision
)

// goldenWeek is Monday 2 to Friday 6 March 2026 of team ani + bob, both in
// Jakarta (UTC+7, no daylight saving).
//
//	ani Mon  P1 09:00 30m POSITIVE; idle 20m, travel 60m 30 km, gap 10m; call P1 connected 120 s
//	ani Tue  P1 10:00 45m FOLLOW_UP due Wed; C1 14:00 10m NO_DECISION; idle 40m, travel 30m 10 km;
//	         calls C1 connected 0 s, P2 no answer
//	ani Wed  P1 09:00 60m WON; P2 11:00 20m FOLLOW_UP due Thu; travel 40m 20 km
//	ani Thu  nothing
//	ani Fri  P3 09:00 4m REJECTED (price); C1 10:00 50m POSITIVE; idle 10m, travel 20m 5 km
//	bob Mon  P4 09:00 20m FOLLOW_UP due Tue; idle 30m, travel 50m 25 km
//	bob Tue  idle 60m, travel 10m 2 km; call P2 voicemail
//	bob Wed  P2 09:00 8m POSITIVE; P4 15:00 90m REJECTED (competitor); travel 30m 8 km, gap 20m;
//	         call C1 connected 300 s
//
// Opportunities: O1 ani/P1 WON 5,000 EUR opened Mon 08:00, closed Wed
// 11:00 (three meetings: Mon, Tue, Wed); O3 ani/C1 WON 3,000 opened Thu
// 12:00, closed Fri 12:00 (one meeting: Fri; Tue's is before the open);
// O6 bob/P2 WON 2,000 opened Fri 27 Feb 18:00, closed Wed 18:00 (one
// meeting); O4 bob/P4 LOST; O5 bob/P2 OPEN; O7 ani/P1 WON closed 10 March,
// outside the week. Quotas: ani 31,000 EUR for March (5 of its 31 days in
// range: 5,000), bob 4,000 EUR for the week. Appointments: ani P1 Tue
// 10:15-11:00 (kept), ani P2 Thu 09:00-10:00 (not kept), bob P4 Wed
// 15:30-16:00 (kept), bob P3 9 March (outside).
func goldenWeek() Input {
	j := jakarta
	ani := Rep{ID: "ani", Loc: j, Days: []*Day{
		day("ani", j, 2, []gv{{client: "P1", h: 9, min: 30, outcome: pos}}, 20, 60, 30, 10,
			[]gc{{"P1", 10, 0, 120, dwell.CallConnected}}),
		day("ani", j, 3, []gv{{client: "P1", h: 10, min: 45, outcome: fu, followUp: date(3, 4)}, {client: "C1", h: 14, min: 10, outcome: nod}},
			40, 30, 10, 0, []gc{{"C1", 15, 0, 0, dwell.CallConnected}, {"P2", 16, 0, 0, dwell.CallNoAnswer}}),
		day("ani", j, 4, []gv{{client: "P1", h: 9, min: 60, outcome: won}, {client: "P2", h: 11, min: 20, outcome: fu, followUp: date(3, 5)}},
			0, 40, 20, 0, nil),
		day("ani", j, 6, []gv{{client: "P3", h: 9, min: 4, outcome: rej, reason: dwell.RejectionPrice}, {client: "C1", h: 10, min: 50, outcome: pos}},
			10, 20, 5, 0, nil),
	}}
	bob := Rep{ID: "bob", Loc: j, Days: []*Day{
		day("bob", j, 2, []gv{{client: "P4", h: 9, min: 20, outcome: fu, followUp: date(3, 3)}}, 30, 50, 25, 0, nil),
		day("bob", j, 3, nil, 60, 10, 2, 0, []gc{{"P2", 10, 0, 0, dwell.CallVoicemail}}),
		day("bob", j, 4, []gv{{client: "P2", h: 9, min: 8, outcome: pos}, {client: "P4", h: 15, min: 90, outcome: rej, reason: dwell.RejectionCompetitor}},
			0, 30, 8, 20, []gc{{"C1", 13, 0, 300, dwell.CallConnected}}),
	}}
	eur := func(n int64) dwell.Money { return dwell.Money{Currency: "EUR", AmountMinor: n} }
	o := func(id, rep, client string, st dwell.OpportunityStage, amt int64, open, close time.Time) dwell.Opportunity {
		return dwell.Opportunity{ID: dwell.OpportunityID(id), Rep: dwell.RepID(rep), Client: dwell.ClientID(client), Stage: st,
			Amount: eur(amt), OpenTime: open, CloseTime: close}
	}
	appt := func(rep, client string, start time.Time, min int) dwell.Appointment {
		return dwell.Appointment{Rep: dwell.RepID(rep), Client: dwell.ClientID(client), PlannedStart: start, PlannedEnd: start.Add(time.Duration(min) * time.Minute)}
	}
	return Input{
		Start: date(3, 2), End: date(3, 6),
		Reps: []Rep{ani, bob},
		Opportunities: []dwell.Opportunity{
			o("O1", "ani", "P1", dwell.StageWon, 500000, at(j, 2, 8, 0), at(j, 4, 11, 0)),
			o("O3", "ani", "C1", dwell.StageWon, 300000, at(j, 5, 12, 0), at(j, 6, 12, 0)),
			o("O4", "bob", "P4", dwell.StageLost, 100000, at(j, 2, 8, 0), at(j, 4, 17, 0)),
			o("O5", "bob", "P2", dwell.StageOpen, 100000, at(j, 2, 8, 0), time.Time{}),
			o("O6", "bob", "P2", dwell.StageWon, 200000, time.Date(2026, 2, 27, 18, 0, 0, 0, j), at(j, 4, 18, 0)),
			o("O7", "ani", "P1", dwell.StageWon, 700000, at(j, 5, 8, 0), at(j, 10, 8, 0)),
			o("X1", "zed", "P1", dwell.StageWon, 900000, at(j, 2, 8, 0), at(j, 3, 8, 0)), // not a rep of the input
		},
		Appointments: []dwell.Appointment{
			appt("ani", "P1", at(j, 3, 10, 15), 45), appt("ani", "P2", at(j, 5, 9, 0), 60),
			appt("bob", "P4", at(j, 4, 15, 30), 30), appt("bob", "P3", at(j, 9, 9, 0), 30),
		},
		Quotas: []dwell.Quota{
			{Rep: "ani", Start: date(3, 1), End: date(3, 31), Target: eur(3100000)},
			{Rep: "bob", Start: date(3, 2), End: date(3, 6), Target: eur(400000)},
		},
		ClientKind: kindOf,
	}
}

// near fails unless got is within 1e-9 of want.
func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantBasis(t *testing.T, what string, got Basis, days, records int) {
	t.Helper()
	if got != (Basis{Days: days, Records: records}) {
		t.Errorf("%s basis = %+v, want %d days, %d records", what, got, days, records)
	}
}

func TestGoldenWeekTeam(t *testing.T) {
	r := Compute(goldenWeek())
	// Field days: ani Mon, Tue, Wed, Fri (Thu has nothing) + bob Mon, Tue,
	// Wed = 7.
	const days = 7

	// 1. Idle = 20+40+0+10 + 30+60+0 = 160 min = 9,600 s; per day 9,600/7.
	// Field time: ani 120+125+120+84 = 449, bob 100+70+148 = 318: 767 min
	// = 46,020 s; share 160/767. Travel 60+30+40+20+50+10+30 = 240 min = 14,400 s over
	// 30+10+20+5+25+2+8 = 100 km. Idle segments: ani Mon, Tue, Fri, bob
	// Mon, Tue = 5.
	wantBasis(t, "idle", r.Idle.Basis, days, 5)
	if r.Idle.IdleS != 9600 || r.Idle.TravelS != 14400 {
		t.Errorf("idle %d s, travel %d s; want 9600 and 14400", r.Idle.IdleS, r.Idle.TravelS)
	}
	near(t, "idle per day", r.Idle.IdleSPerDay, 9600.0/7)
	near(t, "idle share", r.Idle.IdleShare, 160.0/767)
	near(t, "travel m", r.Idle.TravelM, 100000)

	// 2. Prospect visits 30+45+60+20+4 (ani) + 20+8+90 (bob) = 277 min =
	// 16,620 s over 8 visits: 2,077.5 s. Customer C1 10+50 = 60 min =
	// 3,600 s over 2: 1,800 s. Histogram: <5 {4}; 5-15 {10, 8}; 15-30 {20,
	// 20}; 30-60 {30, 45, 50}; 60+ {60, 90}. Won clients (a WON
	// opportunity closed at or after the visit): P1 (O1, O7), C1 (O3), P2
	// (O6, any rep): 30+45+60+10+50+20+8 = 223 min over 7 = 1,911.43 s;
	// not won P3, P4: 4+20+90 = 114 min over 3 = 2,280 s.
	wantBasis(t, "visit time", r.VisitTime.Basis, days, 10)
	if r.VisitTime.ProspectS != 16620 || r.VisitTime.CustomerS != 3600 {
		t.Errorf("prospect %d s, customer %d s; want 16620 and 3600", r.VisitTime.ProspectS, r.VisitTime.CustomerS)
	}
	near(t, "prospect mean", r.VisitTime.ProspectMeanS, 2077.5)
	near(t, "customer mean", r.VisitTime.CustomerMeanS, 1800)
	if r.VisitTime.Histogram != [5]int{1, 2, 2, 3, 2} {
		t.Errorf("histogram %v, want [1 2 2 3 2]", r.VisitTime.Histogram)
	}
	near(t, "won mean", r.VisitTime.WonMeanS, 223.0*60/7)
	near(t, "not won mean", r.VisitTime.NotWonMeanS, 2280)

	// 3. 10 visits over 7 field days. Appointments in the week: ani P1 Tue
	// (visit 10:00-10:45 overlaps 10:15-11:00: kept), ani P2 Thu (no
	// visit), bob P4 Wed (visit 15:00-16:30 overlaps 15:30-16:00: kept);
	// bob P3 on 9 March is outside. Records 10 visits + 3 appointments.
	wantBasis(t, "meetings", r.Meetings.Basis, days, 13)
	near(t, "visits per day", r.Meetings.VisitsPerDay, 10.0/7)
	if r.Meetings.Planned != 3 || r.Meetings.Kept != 2 {
		t.Errorf("appointments %d planned, %d kept; want 3 and 2", r.Meetings.Planned, r.Meetings.Kept)
	}

	// 4. Calls: ani P1 connected 120 s, C1 connected 0 s, P2 no answer;
	// bob P2 voicemail, C1 connected 300 s: 5 calls, 3 connected,
	// (120+0+300)/3 = 140 s.
	wantBasis(t, "calls", r.Calls.Basis, days, 5)
	if r.Calls.Calls != 5 || r.Calls.Connected != 3 {
		t.Errorf("calls %d, connected %d; want 5 and 3", r.Calls.Calls, r.Calls.Connected)
	}
	near(t, "mean talk", r.Calls.MeanTalkS, 140)

	// 5. Wins closed in the week: O1 (3 meetings), O3 (1), O6 (1); O7
	// closes on the 10th, X1 is not the team's. 3 wins / 5 meetings = 0.6;
	// one win of three had 2+ meetings.
	wantBasis(t, "win ratio", r.WinRatio.Basis, days, 3)
	if r.WinRatio.Wins != 3 || r.WinRatio.Meetings != 5 {
		t.Errorf("wins %d, meetings %d; want 3 and 5", r.WinRatio.Wins, r.WinRatio.Meetings)
	}
	near(t, "win ratio", r.WinRatio.Ratio, 0.6)
	near(t, "multi-meeting share", r.WinRatio.MultiMeetingShare, 1.0/3)

	// 6. 10 check-outs with an outcome, 2 rejected (ani P3 price, bob P4
	// competitor): 0.2.
	wantBasis(t, "rejection", r.Rejection.Basis, days, 10)
	if r.Rejection.WithOutcome != 10 || r.Rejection.Rejections != 2 {
		t.Errorf("outcomes %d, rejections %d; want 10 and 2", r.Rejection.WithOutcome, r.Rejection.Rejections)
	}
	near(t, "rejection rate", r.Rejection.Rate, 0.2)
	if want := []ReasonCount{{dwell.RejectionPrice, 1}, {dwell.RejectionCompetitor, 1}}; !reflect.DeepEqual(r.Rejection.Reasons, want) {
		t.Errorf("reasons %v, want %v", r.Rejection.Reasons, want)
	}

	// 7. POSITIVE: ani Mon P1, ani Fri C1, bob Wed P2 = 3 over 7 days.
	// Follow-ups due in the week: ani Tue P1 due Wed, done Wed (on time, 1
	// day); ani Wed P2 due Thu, never (ani's P2 call was on Tue, before);
	// bob Mon P4 due Tue, done Wed (late, 2 days). Done 1 of 3; median of
	// {1, 2} = 1.5.
	wantBasis(t, "cadence", r.Cadence.Basis, days, 3)
	near(t, "positive per day", r.Cadence.PositivePerDay, 3.0/7)
	if r.Cadence.Due != 3 || r.Cadence.Done != 1 {
		t.Errorf("follow-ups due %d, done %d; want 3 and 1", r.Cadence.Due, r.Cadence.Done)
	}
	near(t, "follow-up rate", r.Cadence.Rate, 1.0/3)
	near(t, "median days to follow up", r.Cadence.MedianDays, 1.5)

	// 8. Customer visits: ani Tue C1, Fri C1 = 2; customer calls: ani Tue
	// C1 (0 s), bob Wed C1 = 2. Won: 5,000 (P1) + 3,000 (C1) + 2,000 (P2)
	// EUR; from customers 3,000 / 10,000 = 0.3. Records 2 + 2 + 3 wins.
	wantBasis(t, "engagement", r.Engagement.Basis, days, 7)
	if r.Engagement.CustomerVisits != 2 || r.Engagement.CustomerCalls != 2 {
		t.Errorf("customer visits %d, calls %d; want 2 and 2", r.Engagement.CustomerVisits, r.Engagement.CustomerCalls)
	}
	near(t, "customer won share", r.Engagement.CustomerWonShare, 0.3)

	// 9. Cycles: O1 Mon 08:00 to Wed 11:00 = 51 h = 2.125 d; O3 24 h = 1 d;
	// O6 27 Feb 18:00 to 4 Mar 18:00 = 5 d (2026 is no leap year). Mean
	// 8.125/3; median 2.125; rep means ani (2.125+1)/2 = 1.5625, bob 5:
	// population deviation |5-1.5625|/2 = 1.71875.
	wantBasis(t, "sales cycle", r.SalesCycle.Basis, days, 3)
	near(t, "mean cycle", r.SalesCycle.MeanDays, 8.125/3)
	near(t, "median cycle", r.SalesCycle.MedianDays, 2.125)
	near(t, "team spread", r.SalesCycle.TeamSpreadDays, 1.71875)

	// 10. Won 10,000 EUR; quota ani 31,000 × 5/31 = 5,000 + bob 4,000 =
	// 9,000: attainment 10/9. Records 3 wins + 2 quotas.
	wantBasis(t, "quota", r.Quota.Basis, days, 5)
	if r.Quota.Won != (dwell.Money{Currency: "EUR", AmountMinor: 1000000}) || r.Quota.Quota != (dwell.Money{Currency: "EUR", AmountMinor: 900000}) {
		t.Errorf("won %v, quota %v; want 10,000.00 and 9,000.00 EUR", r.Quota.Won, r.Quota.Quota)
	}
	near(t, "attainment", r.Quota.Attainment, 10.0/9)
}

// onlyRep returns in restricted to one rep, as a rep query sees it.
func onlyRep(in Input, id dwell.RepID) Input {
	for _, r := range in.Reps {
		if r.ID == id {
			in.Reps = []Rep{r}
		}
	}
	return in
}

func TestGoldenWeekRepQuotaHalfMet(t *testing.T) {
	r := Compute(onlyRep(goldenWeek(), "bob"))
	// bob: field days Mon, Tue, Wed; won O6 2,000 of a 4,000 quota: half.
	wantBasis(t, "quota", r.Quota.Basis, 3, 2)
	near(t, "attainment", r.Quota.Attainment, 0.5)
	// One rep: no spread. O6's cycle is 5 days.
	near(t, "team spread", r.SalesCycle.TeamSpreadDays, 0)
	near(t, "mean cycle", r.SalesCycle.MeanDays, 5)
	// Idle 30+60 = 90 min over 3 days; field time 100+70+148 = 318 min.
	near(t, "idle per day", r.Idle.IdleSPerDay, 5400.0/3)
	near(t, "idle share", r.Idle.IdleShare, 90.0/318)
}

func TestEmptyRangeIsExplicitZero(t *testing.T) {
	in := goldenWeek()
	in.Start, in.End = date(3, 16), date(3, 20) // nothing happened that week
	in.Quotas = nil
	r := Compute(in)
	want := Result{Quota: Quota{}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("Compute over an empty week = %+v, want all zero", r)
	}
	// No input at all.
	if r := Compute(Input{Start: date(3, 2), End: date(3, 2)}); !reflect.DeepEqual(r, Result{}) {
		t.Fatalf("Compute of nothing = %+v, want all zero", r)
	}
	// A quota but no data: attainment 0 of a prorated quota, never NaN.
	in = goldenWeek()
	in.Start, in.End = date(3, 16), date(3, 16)
	r = Compute(in)
	if r.Quota.Quota.AmountMinor != 100000 || r.Quota.Attainment != 0 || r.Idle.Basis.Days != 0 {
		t.Fatalf("quota KPI of an empty day = %+v, want 1,000.00 EUR, attainment 0, 0 days", r.Quota)
	}
}

func TestSingleDay(t *testing.T) {
	in := onlyRep(goldenWeek(), "ani")
	in.Start, in.End = date(3, 3), date(3, 3)
	r := Compute(in)
	// ani Tue: one field day; idle 40 min; calls C1 connected 0 s and P2
	// no answer: mean talk 0 over 1 connected call; the follow-up given
	// that day is due Wed, outside; no win closes Tue; quota 31,000 × 1/31.
	wantBasis(t, "idle", r.Idle.Basis, 1, 1)
	near(t, "idle per day", r.Idle.IdleSPerDay, 2400)
	if r.Calls.Calls != 2 || r.Calls.Connected != 1 || r.Calls.MeanTalkS != 0 {
		t.Errorf("calls %+v, want 2 calls, 1 connected, 0 s", r.Calls)
	}
	if r.Cadence.Due != 0 || r.WinRatio.Wins != 0 || r.Quota.Quota.AmountMinor != 100000 {
		t.Errorf("due %d, wins %d, quota %v; want 0, 0, 1,000.00", r.Cadence.Due, r.WinRatio.Wins, r.Quota.Quota)
	}
	near(t, "visits per day", r.Meetings.VisitsPerDay, 2)
}

func TestDaylightSavingDays(t *testing.T) {
	// Berlin springs forward on Sunday 29 March 2026 (02:00 -> 03:00, a
	// 23-hour day) and falls back on 25 October (a 25-hour day). A day
	// observed from local midnight to midnight is 23 h and 25 h long.
	for _, tc := range []struct {
		d     dwell.Date
		hours int64
	}{{dwell.Date{Year: 2026, Month: 3, Day: 29}, 23}, {dwell.Date{Year: 2026, Month: 10, Day: 25}, 25}, {dwell.Date{Year: 2026, Month: 3, Day: 30}, 24}} {
		from, to := tc.d.Start(berlin), tc.d.AddDays(1).Start(berlin)
		td := &timeline.Day{Start: from, End: to, Segments: []timeline.Segment{
			{Kind: timeline.KindIdle, Start: from, End: from.Add(3 * time.Hour)},
			{Kind: timeline.KindTravel, Start: from.Add(3 * time.Hour), End: to, DistanceM: 1000},
		}}
		sum := Summarize("lena", tc.d, td, 10, nil, nil, nil, kindOf)
		if got := sum.Totals.FieldS(); got != tc.hours*3600 {
			t.Errorf("%v: field seconds %d, want %d h", tc.d, got, tc.hours)
		}
		r := Compute(Input{Start: tc.d, End: tc.d, Reps: []Rep{{ID: "lena", Loc: berlin, Days: []*Day{sum}}}})
		near(t, tc.d.String()+" idle share", r.Idle.IdleShare, 3.0/float64(tc.hours))
	}
	// A deal closed at 00:30 local on the short day (28 March 23:30 UTC)
	// and an appointment at 23:30 local (21:30 UTC) both belong to the
	// 29th in Berlin.
	d := dwell.Date{Year: 2026, Month: 3, Day: 29}
	in := Input{Start: d, End: d, Reps: []Rep{{ID: "lena", Loc: berlin}},
		Opportunities: []dwell.Opportunity{{ID: "o", Rep: "lena", Client: "P1", Stage: dwell.StageWon,
			Amount: dwell.Money{Currency: "EUR", AmountMinor: 1}, OpenTime: time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC),
			CloseTime: time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC)}},
		Appointments: []dwell.Appointment{{Rep: "lena", Client: "P1", PlannedStart: time.Date(2026, 3, 29, 21, 30, 0, 0, time.UTC),
			PlannedEnd: time.Date(2026, 3, 29, 21, 45, 0, 0, time.UTC)}},
	}
	r := Compute(in)
	if r.WinRatio.Wins != 1 || r.Meetings.Planned != 1 {
		t.Errorf("wins %d, planned %d on the short day; want 1 and 1", r.WinRatio.Wins, r.Meetings.Planned)
	}
	// Open 27 March 01:00 to 29 March 00:30 in Berlin (00:00 and 23:30
	// UTC): 2 days less half an hour, in lena's days (KPI 9).
	near(t, "cycle across the change", r.SalesCycle.MeanDays, 47.5/24)
}

func TestRepsInDifferentZones(t *testing.T) {
	// One instant, 4 March 2026 20:00 UTC, is 5 March 03:00 in Jakarta and
	// 4 March 21:00 in Berlin. A team of ani (Jakarta) and lena (Berlin)
	// over 4 March counts lena's deal, appointment and follow-up due day
	// by Berlin's day and ani's by Jakarta's, whatever the manager's zone.
	instant := time.Date(2026, 3, 4, 20, 0, 0, 0, time.UTC)
	d := date(3, 4)
	eur := dwell.Money{Currency: "EUR", AmountMinor: 100}
	opp := func(rep dwell.RepID) dwell.Opportunity {
		return dwell.Opportunity{ID: dwell.OpportunityID(rep), Rep: rep, Client: "P1", Stage: dwell.StageWon, Amount: eur,
			OpenTime: instant.Add(-48 * time.Hour), CloseTime: instant}
	}
	appt := func(rep dwell.RepID) dwell.Appointment {
		return dwell.Appointment{Rep: rep, Client: "P1", PlannedStart: instant, PlannedEnd: instant.Add(time.Hour)}
	}
	in := Input{Start: d, End: d, Reps: []Rep{{ID: "ani", Loc: jakarta}, {ID: "lena", Loc: berlin}},
		Opportunities: []dwell.Opportunity{opp("ani"), opp("lena")},
		Appointments:  []dwell.Appointment{appt("ani"), appt("lena")}}
	r := Compute(in)
	if r.WinRatio.Wins != 1 || r.Meetings.Planned != 1 || r.Quota.Won.AmountMinor != 100 {
		t.Fatalf("wins %d, planned %d, won %v; want lena's only: 1, 1, 100", r.WinRatio.Wins, r.Meetings.Planned, r.Quota.Won)
	}
	in.Start, in.End = date(3, 5), date(3, 5)
	if r := Compute(in); r.WinRatio.Wins != 1 || r.Meetings.Planned != 1 {
		t.Fatalf("on the 5th: wins %d, planned %d; want ani's only", r.WinRatio.Wins, r.Meetings.Planned)
	}
}

func TestBreakdown(t *testing.T) {
	in := goldenWeek()
	rows := Breakdown(in.Reps, in.Start, in.End, false)
	// ani: visits P 30+45+60+20+4 = 159 min, C 60 min; idle 70; travel 150
	// (65 km); gap 10; 4 field days. bob: P 118; idle 90; travel 90 (35
	// km); gap 20; 3 days.
	want := []Row{
		{Rep: "ani", Totals: Totals{VisitProspectS: 159 * 60, VisitCustomerS: 3600, IdleS: 70 * 60, TravelS: 150 * 60, GapS: 600, DistanceM: 65000}, FieldDays: 4},
		{Rep: "bob", Totals: Totals{VisitProspectS: 118 * 60, IdleS: 90 * 60, TravelS: 90 * 60, GapS: 1200, DistanceM: 35000}, FieldDays: 3},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("by rep = %+v\nwant %+v", rows, want)
	}
	byDay := Breakdown(in.Reps, date(3, 3), date(3, 4), true)
	if len(byDay) != 4 || byDay[0].Date != date(3, 3) || byDay[3].Rep != "bob" || byDay[3].Totals.GapS != 1200 {
		t.Fatalf("by day = %+v, want ani Tue, Wed, bob Tue, Wed", byDay)
	}
}

// TestLookBack: the days before the range serve only the range's joins. A
// follow-up given before the range and due in it counts (and is done by a
// later visit in the range), and a win's meetings before the range are
// seen; every figure that rests on the range's own days stays as it was.
func TestLookBack(t *testing.T) {
	in := goldenWeek()
	in.Start, in.End = date(3, 4), date(3, 6) // Wed to Fri
	// ani calls P1 on Tuesday at 17:00, after that day's FOLLOW_UP
	// check-out: the follow-up is done in the look-back itself.
	tue := in.Reps[0].Days[1]
	tue.Calls = append(tue.Calls, Call{Client: "P1", Kind: kindOf("P1"), StartTime: at(jakarta, 3, 17, 0), TalkSeconds: 30, Outcome: dwell.CallConnected})
	without := Compute(in)
	in.Since = date(3, 2)
	with := Compute(in)
	// Follow-ups due Wed-Fri: ani's given Tue (P1, due Wed; look-back),
	// done by Tuesday's call that evening, the same day; ani's given Wed
	// (P2, due Thu), never followed up. bob's given Mon is due Tue,
	// outside.
	if without.Cadence.Due != 1 || without.Cadence.Done != 0 {
		t.Errorf("without a look-back: due %d, done %d; want 1, 0", without.Cadence.Due, without.Cadence.Done)
	}
	if with.Cadence.Due != 2 || with.Cadence.Done != 1 {
		t.Errorf("with a look-back: due %d, done %d; want 2, 1", with.Cadence.Due, with.Cadence.Done)
	}
	near(t, "median days to follow up", with.Cadence.MedianDays, 0)
	wantBasis(t, "cadence", with.Cadence.Basis, 3, 2)
	// Wins closed Wed-Fri: O1 (meetings Mon, Tue, Wed), O3 (Fri), O6
	// (bob's Wed). Without the look-back O1 has only Wednesday's.
	if without.WinRatio.Meetings != 3 || with.WinRatio.Meetings != 5 {
		t.Errorf("meetings %d without and %d with the look-back; want 3 and 5", without.WinRatio.Meetings, with.WinRatio.Meetings)
	}
	near(t, "multi-meeting share", with.WinRatio.MultiMeetingShare, 1.0/3)
	// The rest rests on the range alone.
	with.Cadence, with.WinRatio = without.Cadence, without.WinRatio
	if !reflect.DeepEqual(with, without) {
		t.Errorf("the look-back changed figures of the range's own days:\n with    %+v\n without %+v", with, without)
	}
	// A Since after Start is no look-back.
	in.Since = date(3, 5)
	if r := Compute(in); !reflect.DeepEqual(r, without) {
		t.Errorf("Since after Start: %+v, want %+v", r, without)
	}
}

// Two deals won with one client over the same visits were won in the same
// meetings: KPI 5 counts each visit once (wins / meetings held), while each
// win still counts its own meetings for the multi-meeting share.
func TestWinsShareMeetings(t *testing.T) {
	in := goldenWeek()
	j := jakarta
	eur := dwell.Money{Currency: "EUR", AmountMinor: 100000}
	in.Opportunities = []dwell.Opportunity{
		{ID: "A", Rep: "ani", Client: "P1", Stage: dwell.StageWon, Amount: eur, OpenTime: at(j, 2, 8, 0), CloseTime: at(j, 4, 11, 0)},
		{ID: "B", Rep: "ani", Client: "P1", Stage: dwell.StageWon, Amount: eur, OpenTime: at(j, 3, 8, 0), CloseTime: at(j, 4, 11, 0)},
		{ID: "C", Rep: "bob", Client: "P4", Stage: dwell.StageWon, Amount: eur, OpenTime: at(j, 2, 8, 0), CloseTime: at(j, 4, 18, 0)},
	}
	r := Compute(in).WinRatio
	// A: ani's P1 visits Mon, Tue, Wed; B: Tue, Wed (the same two); C:
	// bob's P4 visits Mon and Wed. Meetings held: 3 + 2.
	if r.Wins != 3 || r.Meetings != 5 {
		t.Errorf("wins %d, meetings %d; want 3 and 5 (each visit once)", r.Wins, r.Meetings)
	}
	near(t, "win ratio", r.Ratio, 3.0/5)
	near(t, "multi-meeting share", r.MultiMeetingShare, 1)
}

// TestSalesCycleInTheRepsDays: KPI 9 counts a win's days in its owner's
// zone, whole local days between the dates plus the clock difference over
// 24 hours. Berlin springs forward on 29 March 2026 and falls back on 25
// October: a deal opened on a Monday at 09:00 and won the next Monday at
// 09:00 took 7 days across either change (elapsed hours / 24 read 6.958
// and 7.042); 09:00 to 21:00 is half a day. The same instants owned by a
// UTC rep are 6 days and 23 hours in that rep's days. A win whose close
// reads an earlier clock than its open within the hour the fall-back
// repeats is 0 days.
func TestSalesCycleInTheRepsDays(t *testing.T) {
	b := berlin
	for _, c := range []struct {
		name        string
		loc         *time.Location
		open, close time.Time
		want        float64
	}{
		{"a week across the spring change", b, time.Date(2026, 3, 23, 9, 0, 0, 0, b), time.Date(2026, 3, 30, 9, 0, 0, 0, b), 7},
		{"a week across the autumn change", b, time.Date(2026, 10, 19, 9, 0, 0, 0, b), time.Date(2026, 10, 26, 9, 0, 0, 0, b), 7},
		{"09:00 to 21:00 on the short day", b, time.Date(2026, 3, 29, 9, 0, 0, 0, b), time.Date(2026, 3, 29, 21, 0, 0, 0, b), 0.5},
		{"the same week owned in UTC", time.UTC, time.Date(2026, 3, 23, 9, 0, 0, 0, b), time.Date(2026, 3, 30, 9, 0, 0, 0, b), 6 + 23.0/24},
		{"within the repeated hour", b, time.Date(2026, 10, 25, 0, 50, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC), 0},
	} {
		o := dwell.Opportunity{ID: "o", Rep: "r", Client: "P1", Stage: dwell.StageWon, Amount: dwell.Money{Currency: "EUR", AmountMinor: 1},
			OpenTime: c.open, CloseTime: c.close}
		d := dwell.DateOf(c.close, c.loc)
		r := Compute(Input{Start: d, End: d, Reps: []Rep{{ID: "r", Loc: c.loc}}, Opportunities: []dwell.Opportunity{o}})
		if r.SalesCycle.Records != 1 {
			t.Fatalf("%s: %d wins, want 1", c.name, r.SalesCycle.Records)
		}
		near(t, c.name+": mean cycle", r.SalesCycle.MeanDays, c.want)
		near(t, c.name+": median cycle", r.SalesCycle.MedianDays, c.want)
	}
	// A team of both owners: the spread is between their own days.
	open, closed := time.Date(2026, 3, 23, 9, 0, 0, 0, b), time.Date(2026, 3, 30, 9, 0, 0, 0, b)
	win := func(id, rep dwell.RepID) dwell.Opportunity {
		return dwell.Opportunity{ID: dwell.OpportunityID(id), Rep: rep, Client: "P1", Stage: dwell.StageWon,
			Amount: dwell.Money{Currency: "EUR", AmountMinor: 1}, OpenTime: open, CloseTime: closed}
	}
	r := Compute(Input{Start: date(3, 30), End: date(3, 30), Reps: []Rep{{ID: "lena", Loc: b}, {ID: "uma", Loc: time.UTC}},
		Opportunities: []dwell.Opportunity{win("a", "lena"), win("b", "uma")}})
	near(t, "team mean cycle", r.SalesCycle.MeanDays, (7+6+23.0/24)/2)
	near(t, "team spread", r.SalesCycle.TeamSpreadDays, 1.0/48)
}

// TestAppointmentKeptAfterMidnight: an appointment planned on the range's
// last day, 23:30 to 00:30, is kept by a visit from 00:05 to 00:40 the
// next day, read in the look-ahead; whether it was kept does not depend
// on where the range ends, and the 20th's visit and field day count only
// in a range that holds the 20th.
func TestAppointmentKeptAfterMidnight(t *testing.T) {
	u := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	d20 := &timeline.Day{Start: u(20, 0, 0), End: u(20, 1, 0), Segments: []timeline.Segment{
		{Kind: timeline.KindTravel, Start: u(20, 0, 0), End: u(20, 0, 5)},
		{Kind: timeline.KindVisit, Start: u(20, 0, 5), End: u(20, 0, 40), Client: "P1", Source: timeline.SourceGeofence},
		{Kind: timeline.KindTravel, Start: u(20, 0, 40), End: u(20, 1, 0)},
	}, Visits: []timeline.Visit{{Client: "P1", Start: u(20, 0, 5), End: u(20, 0, 40), Source: timeline.SourceGeofence}}}
	days := []*Day{Summarize("r", dwell.Date{Year: 2026, Month: 11, Day: 20}, d20, 0, nil, nil, nil, kindOf)}
	appt := dwell.Appointment{Rep: "r", Client: "P1", PlannedStart: u(19, 23, 30), PlannedEnd: u(20, 0, 30)}
	d19 := dwell.Date{Year: 2026, Month: 11, Day: 19}
	for _, end := range []dwell.Date{d19, d19.AddDays(1)} {
		if LookAhead(end, time.UTC) != end.AddDays(1) {
			t.Fatalf("LookAhead(%v) in UTC = %v, want the next day", end, LookAhead(end, time.UTC))
		}
		r := Compute(Input{Start: d19, End: end, Reps: []Rep{{ID: "r", Days: days}}, Appointments: []dwell.Appointment{appt}, ClientKind: kindOf})
		if r.Meetings.Planned != 1 || r.Meetings.Kept != 1 {
			t.Errorf("range %v..%v: planned %d, kept %d; want 1 planned, 1 kept", d19, end, r.Meetings.Planned, r.Meetings.Kept)
		}
		if want := end.DaysSince(d19); r.Meetings.Days != want || r.VisitTime.Records != want {
			t.Errorf("range %v..%v: %d field days, %d visits; want %d and %d", d19, end, r.Meetings.Days, r.VisitTime.Records, want, want)
		}
	}
}

// TestLookAhead: the day after the range serves only KPI 3's kept
// appointments. Over Monday to Wednesday of the golden week, with cyd
// (Jakarta) beside ani and bob: cyd visited P3 on Tuesday (FOLLOW_UP due
// Wednesday), won a deal with P3 on Wednesday, and had an appointment
// with P3 on Wednesday at 23:45 for an hour, kept by a visit on Thursday
// at 00:10; on Thursday cyd also called P3 and visited C1. Reading
// Thursday keeps the appointment; nothing else changes: Thursday's visits,
// call and field day do not count, its visit to P3 is no contact for the
// follow-up (still not done, with no days to follow up) and no meeting of
// the win. Bob's Thursday, which no appointment of his reaches, is not
// read at all.
func TestLookAhead(t *testing.T) {
	j := jakarta
	in := goldenWeek()
	in.Start, in.End = date(3, 2), date(3, 4)
	if la := LookAhead(in.End, j); la != date(3, 5) {
		t.Fatalf("LookAhead(%v) in Jakarta = %v, want the next day", in.End, la)
	}
	tue := day("cyd", j, 3, []gv{{client: "P3", h: 9, min: 20, outcome: fu, followUp: date(3, 4)}}, 0, 30, 10, 0, nil)
	thu := day("cyd", j, 5, []gv{{client: "P3", h: 0, m: 10, min: 30, outcome: pos}, {client: "C1", h: 10, min: 40, outcome: pos}}, 0, 20, 5, 0,
		[]gc{{"P3", 8, 0, 60, dwell.CallConnected}})
	in.Reps = append(in.Reps, Rep{ID: "cyd", Loc: j, Days: []*Day{tue}})
	in.Opportunities = append(in.Opportunities, dwell.Opportunity{ID: "C3", Rep: "cyd", Client: "P3", Stage: dwell.StageWon,
		Amount: dwell.Money{Currency: "EUR", AmountMinor: 1000}, OpenTime: at(j, 2, 8, 0), CloseTime: at(j, 4, 12, 0)})
	in.Appointments = append(in.Appointments, dwell.Appointment{Rep: "cyd", Client: "P3", PlannedStart: at(j, 4, 23, 45), PlannedEnd: at(j, 5, 0, 45)})
	without := Compute(in)
	in.Reps[2].Days = []*Day{tue, thu}
	in.Reps[1].Days = append(in.Reps[1].Days, day("bob", j, 5, []gv{{client: "P4", h: 0, m: 5, min: 30, outcome: pos}}, 10, 10, 1, 0, nil))
	with := Compute(in)
	// Planned Mon-Wed: ani P1 Tue (kept), bob P4 Wed (kept), cyd P3 Wed
	// (kept on Thursday).
	if without.Meetings.Planned != 3 || without.Meetings.Kept != 2 || with.Meetings.Kept != 3 {
		t.Errorf("planned %d, kept %d without and %d with the look-ahead; want 3 planned, 2 and 3 kept",
			without.Meetings.Planned, without.Meetings.Kept, with.Meetings.Kept)
	}
	// cyd's follow-up: due Wednesday, no contact by the range's end.
	// cyd's win: one meeting, Tuesday's.
	if with.Cadence.Due != 3 || with.WinRatio.Meetings != without.WinRatio.Meetings {
		t.Errorf("cadence %+v, win meetings %d; want 3 follow-ups due, %d meetings", with.Cadence, with.WinRatio.Meetings, without.WinRatio.Meetings)
	}
	with.Meetings.Kept = without.Meetings.Kept
	if !reflect.DeepEqual(with, without) {
		t.Errorf("the look-ahead changed figures other than the kept appointments:\n with    %+v\n without %+v", with, without)
	}
}

// TestLookAheadAcrossDaylightSaving: an appointment may last 24 hours, so
// one planned on the day before Berlin's short day (29 March 2026, 23
// hours) can end on the day after it; LookAhead reaches that day, and a
// visit then keeps it. Before the long day (25 October) and on other days
// it is the next day.
func TestLookAheadAcrossDaylightSaving(t *testing.T) {
	b := berlin
	for _, c := range []struct{ end, want dwell.Date }{
		{date(3, 28), date(3, 30)},
		{date(3, 29), date(3, 30)},
		{dwell.Date{Year: 2026, Month: 10, Day: 24}, dwell.Date{Year: 2026, Month: 10, Day: 25}},
		{date(3, 10), date(3, 11)},
	} {
		if got := LookAhead(c.end, b); got != c.want {
			t.Errorf("LookAhead(%v) in Berlin = %v, want %v", c.end, got, c.want)
		}
	}
	start := time.Date(2026, 3, 28, 23, 30, 0, 0, b)
	appt := dwell.Appointment{Rep: "lena", Client: "P1", PlannedStart: start, PlannedEnd: start.Add(dwell.MaxAppointment)}
	if vs := dwell.ValidateAppointment("appointment", dwell.Appointment{ID: "a", Rep: appt.Rep, Client: appt.Client,
		PlannedStart: appt.PlannedStart, PlannedEnd: appt.PlannedEnd}); vs != nil {
		t.Fatalf("the appointment is refused: %v", vs)
	}
	visit := day("lena", b, 30, []gv{{client: "P1", h: 0, m: 10, min: 20}}, 0, 0, 0, 0, nil)
	in := Input{Start: date(3, 28), End: date(3, 28), Reps: []Rep{{ID: "lena", Loc: b, Days: []*Day{visit}}},
		Appointments: []dwell.Appointment{appt}}
	if r := Compute(in); r.Meetings.Planned != 1 || r.Meetings.Kept != 1 || r.Meetings.Days != 0 {
		t.Errorf("planned %d, kept %d over %d field days; want 1 kept by the visit on the 30th, no field day", r.Meetings.Planned, r.Meetings.Kept, r.Meetings.Days)
	}
}
