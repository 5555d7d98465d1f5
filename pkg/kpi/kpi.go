// Package kpi computes the ten sales KPIs of DESIGN.md ("The ten KPIs") and
// the time breakdowns, as pure functions of per rep-day summaries (Day),
// the reps' opportunities, appointments and quotas, over a range of local
// days. It does no I/O and keeps no state; the server feeds it from the
// store.
//
// # Definitions
//
// Days are the reps' local calendar days, each rep in its own time zone
// (Rep.Loc): a record belongs to the day its instant falls on there, so a
// team spread across zones is cut right, and durations are measured
// between instants, so a day of 23 or 25 hours (a daylight-saving change)
// counts its real length; KPI 9's days are the rep's calendar days (see
// there), so a week is 7 days across such a change. A field day is a rep-day in the range with an
// observed span, a visit, a check-out or a call; a day whose span is all
// paused time (tracking paused before it and resumed after) is none.
// Every KPI carries its
// Basis: the field days of the reps in the range and the records counted;
// a KPI over nothing is zero with a zero Basis, never NaN.
//
// A meeting across the rep's midnight is derived as two visits, one on
// each day (each day's timeline covers that day), and counted as one: when
// a day's first visit begins the day (nothing but paused or off-hours time
// before it, or the short GAP between a resume and the first fix) at the
// client of the day before's last visit, which ran to that day's end
// (nothing but such time after it, or the short GAP between the last fix
// and a pause), and begins at most timeline.StayGapMax (30 minutes) after
// it ended, it carries that meeting on (a chain of such days is one
// meeting). Package events tells the live stream the same stay by the
// same bound ("Across midnight"): a rep at a client when one day's
// working hours end and again when the next day's begin, or paused there
// overnight, is two visits to the stream and two meetings here. Where both days are in the
// range, the KPIs that count visits (2, 3, 8) count it once, its length
// (KPI 2's mean, histogram bucket and sweet spot, judged from where it
// began) the sum of its parts; KPI 5 counts it once where the day before
// is read too (the range or its look-back), as starting where it began; a
// range that begins on the second day counts that day's part as a visit
// of its own. The meeting's outcome is its check-in's check-out's, made on
// either day (timeline.Input), and carried by the first day's visit; KPIs
// 6 and 7 count the check-out on its own day, and KPI 7 takes the second
// day's part for no contact (a follow-up given in the meeting is not done
// by its going on past midnight). Summaries written before
// this was told (kpi's summary format 6) count each part as a visit, and
// those written before the GAP after a resume was passed over count a
// meeting resumed at the client after a pause across midnight, its first
// fix a few seconds after the resume, as two.
//
//  1. Idle: idle seconds, per field day, and as a share of field time (the
//     observed span: visit, idle, travel and gap seconds); travel seconds
//     and metres beside it. Records: idle segments.
//  2. Visit time: seconds and mean visit length with prospects and (apart)
//     with customers, by the client's kind when the day was derived (a
//     client of unknown kind counts as a prospect; the server derives a
//     tenant's last 35 days again on every client change, so for those
//     days it is the current kind, for older days the kind then); a
//     histogram of visit lengths (under 5, 5-15, 15-30, 30-60, 60 and
//     more minutes); the sweet spot: the mean length of visits to clients
//     with a WON opportunity (of any rep of the input, so a rep's visit to
//     a client a teammate won counts as won in the team's figure and not
//     in the rep's own) closed at or after the visit's start, and of the
//     other visits. A visit's length leaves out the time tracking was
//     paused within it (timeline.Visit.Paused: a pause in a meeting leaves
//     one meeting) and the time between two working-hours windows within
//     it (timeline.Visit.OffHours: a meeting across a split shift's break
//     is one meeting). Records: visits.
//  3. Meetings: visits per field day (every derived visit is verified: it
//     rests on the fixes or on a check-in verified at the site; an
//     unverified check-in the fixes do not back is no visit);
//     appointments planned in the range (by the planned start's local
//     day) and kept (a visit of the rep to the client overlapping the
//     planned time, also after the range's end: an appointment planned
//     late on its last day is kept by a visit after midnight, read in the
//     look-ahead, see Rep.Days). Records: visits and appointments.
//  4. Calls: calls logged, connected, mean talk seconds per connected call
//     (a connected call of 0 seconds counts). Records: calls.
//  5. Win ratio: wins are the WON opportunities closed in the range (the
//     close's local day in the owner's zone); the meetings of a win are
//     the owner's visits to its client starting between its open and
//     close times, in the range or its look-back (Input.Since: a meeting
//     before the look-back is not seen); ratio = wins / meetings, where
//     meetings counts each visit once, however many wins it is a meeting
//     of (two deals won with one client at once were won in the same
//     meetings); the share of wins with two or more meetings. Records:
//     wins.
//  6. Rejections: meetings with an outcome, REJECTED among them, their
//     rate and the count per reason (reasons given, in enum order). A
//     check-out with an outcome is of a meeting (part.go,
//     meetingOutcomes, lateMeetings): a check-out that closed a check-in
//     is of that check-in's meeting (two check-ins with one client in one
//     stay, each checked out, are two meetings), whether a visit backs
//     it or not. One that closed no check-in of its day is, in this
//     order: of the meeting of the check-out of its client before it, if
//     at most timeline.StayGapMax (30 minutes) before with no check-in of
//     that client and no visit of it begun between (a double tap, a
//     correction); if made before any visit of its client that day
//     begins, of a meeting of the day before when that day is in the
//     input and the check-out closed a check-in of that day (the rep gone
//     from the client before midnight), or that day's last visit of its
//     client, of which no check-out of that day is and whose check-in no
//     check-out closed, ended at most timeline.StayGapMax before it (a
//     visit without check-in checked out after midnight; a check-out of
//     that day made before that visit is of it only when it is itself of
//     no meeting of the day before that day: one made after midnight
//     that closed a check-in of that day before, for instance, leaves
//     the visit without an outcome), or that day's summary is of format
//     7 or older (which does not tell: counted, as format 7 counted it),
//     a later one of that client up to timeline.StayGapMax after it
//     being that meeting's too; else of
//     the visit of its client that day nearest to it in time (the one it
//     was made in, if any; ties to the earlier), namely of the latest
//     check-in of its client made in that visit before it, else of the
//     visit's check-in, else of the visit. A meeting's check-outs are
//     one outcome: the latest (by time, then request id) wins. A
//     check-out of no meeting (none of these: no check-in closed, no
//     visit of its client that day, none the day before it could close)
//     counts in none of KPIs 6 and 7, and apart, in WithoutMeeting; it
//     still makes a field day.
//     Outcomes count on the check-out's day, so a meeting across midnight
//     checked out on both days, the rep at the client after midnight,
//     counts an outcome on each. A visit's own Outcome stays that of the
//     check-out that closed its check-in. Summaries written before
//     this (format 7 and older) count every check-out with an outcome,
//     and those of format 8 do not keep a day's last visits' ends (a
//     visit without check-in checked out after midnight is of no meeting
//     there), nor those of format 9 the end of a last visit that a
//     check-out made before it was the outcome of when the day was
//     summarized (the next day's check-out is of no meeting there, even
//     when that earlier one turns out to be of a meeting of the day
//     before). Records: meetings with an outcome.
//  7. Cadence: POSITIVE outcomes of meetings (one per meeting, as KPI 6
//     counts them) per field day; follow-ups due in the range (meetings'
//     FOLLOW_UP outcomes whose due day is in the range, given in the
//     range or in its look-back, Input.Since), done when the rep visited
//     or called the client after the check-out and on or before the due
//     day (a visit's part that carries on a meeting across midnight is
//     that meeting, begun before, not a visit after it); the median of the days from the check-out's local day to the
//     first later contact, over the follow-ups with one by the range's
//     end (late ones included). Records: follow-ups due, which may be
//     more than zero over a range with no field day. A follow-up due more
//     than the look-back after it was given counts in no range that
//     starts after the look-back has passed it, so with the server's 60
//     days a range's count can depend on where the range starts.
//  8. Engagement: visits and calls to existing customers; the share of the
//     won amount (KPI 5's wins in KPI 10's currency) from clients that are
//     customers now. Records: those visits, calls and wins.
//  9. Sales cycle: mean and median days from open to close of the wins,
//     and the population standard deviation of the reps' mean cycles
//     across the reps with a win (0 for fewer than two). Records: wins.
//     A win's days are counted in the owner rep's zone, as the rep lives
//     them: the local calendar days from the open's date to the close's,
//     plus the difference of their local clock times over 24 hours. A deal
//     opened at 09:00 and won at 09:00 a week later took 7 days, across a
//     daylight-saving change too; 09:00 to 21:00 the same day is 0.5. A
//     close is never before its open (the API refuses it), but in the
//     hour a fall-back repeats its clock can read earlier: such a cycle
//     is 0, never negative.
//  10. Quota: won amount of the wins over the quota for the range; a quota
//     period that overlaps the range counts for its overlapping days
//     (target × overlap days / period days, rounded to the nearest minor
//     unit). A rep's quotas never overlap (the store refuses it), so no
//     day's target counts twice. Records: the wins and quotas counted,
//     those in the KPI's currency (a win in another currency is left out
//     of the amount and of the count).
//
// Money is summed in one currency: that of the first quota (by rep, then
// start day) whose period overlaps the range, else the first win's (by
// close time); a quota that counts for no day of the range does not
// choose it. Amounts in other currencies are left out; Dwell does not
// convert currencies. Amounts are at most dwell.MaxAmountMinor each; the
// won and quota sums saturate at math.MaxInt64 rather than wrap (over
// 9,000 of the largest amounts), and attainment and KPI 8's won share
// divide float64 sums, so they stay right even then.
package kpi

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Rep is one rep's part of the input: its zone and its day summaries.
type Rep struct {
	ID dwell.RepID
	// Loc is the rep's time zone; nil means UTC.
	Loc *time.Location
	// Days are the rep's summaries; those before Input.Since (or Start)
	// are ignored, and those of the look-back serve only the joins (see
	// Input.Since). Those after End are ignored but for the look-ahead:
	// the days up to the local day of the latest planned end of the rep's
	// appointments planned in the range, read only for KPI 3's kept
	// appointments (an appointment lasts up to dwell.MaxAppointment, so
	// one planned late on End is kept by a visit after midnight; the
	// caller gives the days up to LookAhead(End)). Nothing else of those
	// days counts: not their visits, calls, field days or totals, nor
	// their contacts for KPI 7. Reps are computed in parallel: a Day must
	// not appear under two reps.
	Days []*Day
}

// Input is what the KPIs of a rep or team over a range rest on.
type Input struct {
	// Start and End are the first and last local day, inclusive.
	Start, End dwell.Date
	Reps       []Rep
	// Opportunities, Appointments and Quotas are the reps' (others are
	// ignored), in any order.
	Opportunities []dwell.Opportunity
	Appointments  []dwell.Appointment
	Quotas        []dwell.Quota
	// ClientKind gives a client's current kind (KPI 8's won share); nil
	// means every client is a prospect.
	ClientKind func(dwell.ClientID) dwell.ClientKind
	// Since is the first local day of the look-back: the reps' days in
	// [Since, Start) are read only for what the range's records join
	// with, the follow-ups given then and due in the range (KPI 7), the
	// contacts after them, and the meetings of the range's wins (KPI 5).
	// Zero, or a day after Start, means no look-back.
	Since dwell.Date
}

// LookAhead returns the last local day in loc that an appointment planned
// on or before end (its planned start's local day) can reach, so the last
// day a visit that keeps it can begin on: the day of the instant
// dwell.MaxAppointment after day end's last instant. That is the day
// after end, or the one after that when the day after is cut short by a
// daylight-saving change. A caller gives Compute a rep's days up to it
// (Rep.Days) so that a range's kept appointments do not depend on where
// it ends.
func LookAhead(end dwell.Date, loc *time.Location) dwell.Date {
	return dwell.DateOf(end.AddDays(1).Start(loc).Add(dwell.MaxAppointment-time.Nanosecond), loc)
}

// lookBack returns the first day Compute reads: Since, or Start.
func (in *Input) lookBack() dwell.Date {
	if in.Since.IsZero() || in.Start.Before(in.Since) {
		return in.Start
	}
	return in.Since
}

// Basis says what a KPI rests on.
type Basis struct {
	// Days is the number of field days; Records the records counted.
	Days, Records int
}

// Idle is KPI 1.
type Idle struct {
	Basis
	IdleS       int64
	IdleSPerDay float64
	// IdleShare is idle seconds over field seconds, 0 to 1.
	IdleShare float64
	TravelS   int64
	TravelM   float64
}

// Histogram bucket upper bounds in minutes, the last open-ended.
var histogramBoundsMin = [...]float64{5, 15, 30, 60}

// VisitTime is KPI 2.
type VisitTime struct {
	Basis
	ProspectS     int64
	ProspectMeanS float64
	CustomerS     int64
	CustomerMeanS float64
	// Histogram counts visits under 5, 5-15, 15-30, 30-60 and 60+ minutes.
	Histogram   [5]int
	WonMeanS    float64
	NotWonMeanS float64
}

// Meetings is KPI 3.
type Meetings struct {
	Basis
	VisitsPerDay  float64
	Planned, Kept int
}

// Calls is KPI 4.
type Calls struct {
	Basis
	Calls, Connected int
	MeanTalkS        float64
}

// WinRatio is KPI 5.
type WinRatio struct {
	Basis
	Wins, Meetings    int
	Ratio             float64
	MultiMeetingShare float64
}

// ReasonCount is how often one rejection reason was given.
type ReasonCount struct {
	Reason dwell.RejectionReason
	Count  int
}

// Rejection is KPI 6.
type Rejection struct {
	Basis
	WithOutcome, Rejections int
	// WithoutMeeting counts the check-outs with an outcome that were of
	// no meeting (no check-in and no visit of their client that day),
	// left out of WithOutcome and Rejections and of KPI 7.
	WithoutMeeting int
	Rate           float64
	Reasons        []ReasonCount
}

// Cadence is KPI 7.
type Cadence struct {
	Basis
	PositivePerDay float64
	Due, Done      int
	Rate           float64
	MedianDays     float64
}

// Engagement is KPI 8.
type Engagement struct {
	Basis
	CustomerVisits, CustomerCalls int
	CustomerWonShare              float64
}

// SalesCycle is KPI 9.
type SalesCycle struct {
	Basis
	MeanDays, MedianDays, TeamSpreadDays float64
}

// Quota is KPI 10.
type Quota struct {
	Basis
	Won, Quota dwell.Money
	Attainment float64
}

// Result holds the ten KPIs.
type Result struct {
	Idle       Idle
	VisitTime  VisitTime
	Meetings   Meetings
	Calls      Calls
	WinRatio   WinRatio
	Rejection  Rejection
	Cadence    Cadence
	Engagement Engagement
	SalesCycle SalesCycle
	Quota      Quota
}

// ratio returns a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return ratio(sum, float64(len(xs)))
}

// cycleDays returns KPI 9's days from open to close in the owner rep's
// zone loc: the local calendar days between their dates plus the
// difference of their local clock times over 24 hours. A deal opened at
// 09:00 and won at 09:00 a week later took 7 days, across a daylight-saving
// change too (elapsed hours / 24 would read 6.958 or 7.042), and 09:00 to
// 21:00 the same day half a day. A close within the hour a fall-back
// repeats can read an earlier clock than its open: 0, not a negative
// cycle.
func cycleDays(open, close time.Time, loc *time.Location) float64 {
	o, c := open.In(loc), close.In(loc)
	days := dwell.DateOf(c, loc).DaysSince(dwell.DateOf(o, loc))
	return max(0, float64(days)+float64(clockOf(c)-clockOf(o))/float64(24*time.Hour))
}

// clockOf returns t's local clock time (in t's location) as the time since
// a midnight of 24 hours: 13:30 is 13.5 hours on any day, a
// daylight-saving change before it notwithstanding.
func clockOf(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

// inRange reports whether d is in [start, end].
func inRange(d, start, end dwell.Date) bool { return !d.Before(start) && !end.Before(d) }

// span is one visit's time in Unix nanoseconds, for the joins with deals
// and appointments; cont reports that it carries on the meeting of the
// day before's last visit (part.continues), which KPI 5 counted already.
type span struct {
	start, end int64
	cont       bool
}

// clientJoins are a rep's visits (if wantVisits) and contacts (visit and
// call starts, Unix nanoseconds, if wantContacts; not the start of a visit
// that carries on the day before's meeting) of one client a join asks
// about.
type clientJoins struct {
	wantVisits, wantContacts bool
	visits                   []span
	contacts                 []int64
}

// resolvedClient is what a rep's joins need of one client of a
// clientTable: the latest close of a WON deal with it, if any (won), and
// its clientJoins index in computeRep, or -1 if no join asks about it.
type resolvedClient struct {
	lastWon int64
	won     bool
	join    int32
}

// repAcc is what one rep contributes to the KPIs. Every join a KPI needs
// (a win and its meetings, an appointment and its visit, a follow-up and
// the next contact) is within one rep, so reps are computed apart, in
// parallel, and merged in input order (so float sums do not depend on
// scheduling).
type repAcc struct {
	fieldDays, idleSegs int
	totals              Totals
	sum                 part
	wonSum, notWonSum   float64
	nWon, nNotWon       int
	kept                int
	// meetings counts the meetings of each of the rep's wins, by id.
	meetings map[dwell.OpportunityID]int
	// winMeetings counts the rep's visits that are a meeting of at least
	// one of its wins, each once.
	winMeetings int
	due         int
	done        int
	toFollow    []float64
}

// computeRep accumulates rep's days in range, joined with its wins and
// appointments in the range and with its follow-ups due in the range, and
// reads the look-back's days for those joins alone, the look-ahead's for
// the appointments' alone; lastWon is, per client, the latest close of any
// WON deal of the input.
func computeRep(in *Input, rep Rep, loc *time.Location, wins []dwell.Opportunity, appts []dwell.Appointment, lastWon map[dwell.ClientID]int64) *repAcc {
	acc := &repAcc{}
	// The clients a join asks about, in joins[needed[client]]: the visits
	// of those a win or an appointment names, the contacts (visit and
	// call starts) of those a follow-up names.
	needed := map[dwell.ClientID]int32{}
	var joins []clientJoins
	need := func(c dwell.ClientID, visits bool) {
		k, ok := needed[c]
		if !ok {
			k = int32(len(joins))
			needed[c] = k
			joins = append(joins, clientJoins{})
		}
		if visits {
			joins[k].wantVisits = true
		} else {
			joins[k].wantContacts = true
		}
	}
	for _, o := range wins {
		need(o.Client, true)
	}
	for _, a := range appts {
		need(a.Client, true)
	}
	// The look-back's days matter from the first day a join can use: the
	// earliest open of a win opened before the range, the earliest day a
	// follow-up due in the range was given on.
	since := in.lookBack()
	useful := in.Start
	for _, o := range wins {
		if od := dwell.DateOf(o.OpenTime, loc); od.Before(useful) {
			useful = od
		}
	}
	// The parts of the rep's days by date, once a day has a check-out of
	// no meeting of its own, which may close a check-in of the day before
	// (lateMeetings), and what lateMeetings found of each day read: the
	// day before's findings tell whether a visit of that day whose only
	// outcome is a loose check-out's (visitEnd.by) still has it.
	type lateFound struct {
		outs   []*looseOut
		none   int
		before []string
	}
	var (
		partOf  map[dwell.Date]*part
		foundOf map[dwell.Date]*lateFound
		lateOn  func(dwell.Date) *lateFound
	)
	lateOn = func(date dwell.Date) *lateFound {
		if f, ok := foundOf[date]; ok {
			return f
		}
		f := &lateFound{}
		if p := partOf[date]; p != nil && len(p.loose) > 0 {
			// A day's findings ask only the days before it: no cycle.
			dayBefore := date.AddDays(-1)
			f.outs, f.none, f.before = lateMeetings(p, partOf[dayBefore], func(id string) bool {
				return slices.Contains(lateOn(dayBefore).before, id)
			})
		}
		foundOf[date] = f
		return f
	}
	late := func(d *Day) (outs []*looseOut, none int) {
		if len(d.part().loose) == 0 {
			return nil, 0
		}
		if partOf == nil {
			partOf = make(map[dwell.Date]*part, len(rep.Days))
			foundOf = make(map[dwell.Date]*lateFound, len(rep.Days))
			for _, d := range rep.Days {
				partOf[d.Date] = d.part()
			}
		}
		f := lateOn(d.Date)
		return f.outs, f.none
	}
	// The follow-ups due in the range. A day whose follow-ups are all due
	// before the range (or that has none) is skipped without reading its
	// part.
	var due []*followUp
	consider := func(f *followUp, given dwell.Date) {
		if inRange(f.due, in.Start, in.End) {
			need(f.client, false)
			due = append(due, f)
			if given.Before(useful) {
				useful = given
			}
		}
	}
	for _, d := range rep.Days {
		if inRange(d.Date, since, in.End) && (d.p == nil || !d.lastDue.Before(in.Start)) {
			p := d.part()
			for i := range p.followUps {
				consider(&p.followUps[i], d.Date)
			}
			outs, _ := late(d)
			for _, o := range outs {
				if o.outcome == dwell.OutcomeFollowUp {
					consider(&o.fu, d.Date)
				}
			}
		}
	}
	// The client table of the days (most often one for all a rep's days),
	// resolved once: what a visit's client index means to the joins.
	var (
		tab *clientTable
		res []resolvedClient
	)
	resolve := func(t *clientTable) []resolvedClient {
		if t == tab {
			return res
		}
		tab, res = t, slices.Grow(res[:0], len(t.ids))[:len(t.ids)]
		for i, c := range t.ids {
			r := &res[i]
			r.lastWon, r.won = lastWon[c]
			r.join = -1
			if k, ok := needed[c]; ok {
				r.join = k
			}
		}
		return res
	}
	// The look-ahead's days matter up to the last local day a visit that
	// keeps one of the rep's appointments can begin on: that of the
	// latest planned end (a visit from that instant on does not overlap).
	until := in.End
	for _, a := range appts {
		if d := dwell.DateOf(a.PlannedEnd.Add(-time.Nanosecond), loc); until.Before(d) {
			until = d
		}
	}
	read := func(d *Day) bool { return inRange(d.Date, since, until) && !d.Date.Before(useful) }
	// The parts of the days read, by date, once a day's first visit may
	// carry on the day before's last (part.continues): one meeting across
	// the rep's midnight.
	var byDate map[dwell.Date]*part
	for _, d := range rep.Days {
		if read(d) && d.part().carryIn {
			byDate = make(map[dwell.Date]*part, len(rep.Days))
			for _, d := range rep.Days {
				if read(d) {
					byDate[d.Date] = d.part()
				}
			}
			break
		}
	}
	// chain returns the start and the tracked length (Unix nanoseconds,
	// nanoseconds) of the meeting that the last visit of day date (part p)
	// belongs to, followed back across the days of the range it carries
	// on from.
	var chain func(date dwell.Date, p *part) (int64, int64)
	chain = func(date dwell.Date, p *part) (int64, int64) {
		last := p.spans[len(p.spans)-1]
		n := last.end - last.start - last.untracked
		if before := date.AddDays(-1); len(p.spans) == 1 && !before.Before(in.Start) && p.continues(byDate[before]) {
			start, m := chain(before, byDate[before])
			return start, m + n
		}
		return last.start, n
	}
	sum := &acc.sum
	for _, d := range rep.Days {
		// A day of the look-back (before Start) serves the joins alone.
		context := d.Date.Before(in.Start)
		if !read(d) {
			continue
		}
		p := d.part()
		if in.End.Before(d.Date) {
			// A day of the look-ahead (after End) serves the appointments'
			// join alone: its visits to their clients, no contact. A win's
			// client may be one of them, but a win closes by End, before
			// any such visit starts, so none is its meeting.
			rc := resolve(p.clients)
			for _, v := range p.spans {
				if c := rc[v.client]; c.join >= 0 && joins[c.join].wantVisits {
					joins[c.join].visits = append(joins[c.join].visits, span{start: v.start, end: v.end})
				}
			}
			continue
		}
		// joined: the day's first visit carries on the day before's last
		// (read too), one meeting for KPI 5; merged: both days are in the
		// range, so the KPIs that count visits count it once, its length
		// the sum of both parts. A range that begins on its second day
		// counts that day's part as a visit.
		before := d.Date.AddDays(-1)
		joined := p.continues(byDate[before])
		merged := joined && !context && !before.Before(in.Start)
		var from int64 // where the merged meeting began
		if !context {
			if d.Field() {
				acc.fieldDays++
			}
			acc.totals.Add(d.Totals)
			acc.idleSegs += d.IdleSegments
			sum.add(p)
			outs, none := late(d)
			sum.noMeeting += none
			for _, o := range outs {
				sum.count(o.outcome, o.reason, o.fu, false)
			}
			if merged {
				start, n := chain(before, byDate[before])
				from = start
				first := p.spans[0]
				m := first.end - first.start - first.untracked
				sum.visits--
				if p.carryInCustomer {
					sum.customers--
					sum.customerVisits--
				} else {
					sum.prospects--
				}
				sum.hist[histBucket(n)]--
				sum.hist[histBucket(m)]--
				sum.hist[histBucket(n+m)]++
			}
		}
		if len(p.spans)+len(p.callAt) == 0 {
			continue
		}
		rc := resolve(p.clients)
		for i, v := range p.spans {
			c := &rc[v.client]
			// carried: this visit carries on the meeting of the day
			// before's last visit (read too), so it is no meeting of its
			// own to KPI 5 (span.cont) nor a contact to KPI 7: the
			// meeting began the day before, and a follow-up given in it
			// is not done by its going on past midnight.
			carried := i == 0 && joined
			if !context {
				secs := float64(v.end-v.start-v.untracked) / 1e9
				// A merged part adds its time to the meeting it carries
				// on, judged by where that began.
				cont, start := carried && merged, v.start
				if cont {
					start = from
				}
				if c.won && c.lastWon >= start {
					acc.wonSum += secs
					if !cont {
						acc.nWon++
					}
				} else {
					acc.notWonSum += secs
					if !cont {
						acc.nNotWon++
					}
				}
			}
			if c.join >= 0 {
				j := &joins[c.join]
				if j.wantVisits {
					j.visits = append(j.visits, span{v.start, v.end, carried})
				}
				if j.wantContacts && !carried {
					j.contacts = append(j.contacts, v.start)
				}
			}
		}
		for _, v := range p.callAt {
			if c := &rc[v.client]; c.join >= 0 && joins[c.join].wantContacts {
				joins[c.join].contacts = append(joins[c.join].contacts, v.at)
			}
		}
	}
	visitsOf := func(c dwell.ClientID) []span { return joins[needed[c]].visits }
	for _, a := range appts {
		ps, pe := a.PlannedStart.UnixNano(), a.PlannedEnd.UnixNano()
		if slices.ContainsFunc(visitsOf(a.Client), func(v span) bool { return v.start < pe && ps < v.end }) {
			acc.kept++
		}
	}
	acc.meetings = make(map[dwell.OpportunityID]int, len(wins))
	// A visit within the windows of several wins with its client (two
	// deals won together) is one meeting held: winMeetings counts each
	// visit once, by the client's joins and the visit's index there.
	held := map[[2]int]bool{}
	for _, o := range wins {
		n := 0
		open, closed := o.OpenTime.UnixNano(), o.CloseTime.UnixNano()
		for i, v := range visitsOf(o.Client) {
			if open <= v.start && v.start <= closed && !v.cont {
				n++
				held[[2]int{int(needed[o.Client]), i}] = true
			}
		}
		acc.meetings[o.ID] = n
	}
	acc.winMeetings = len(held)
	acc.due = len(due)
	for _, f := range due {
		var first int64
		after := f.at.UnixNano()
		for _, at := range joins[needed[f.client]].contacts {
			if at > after && (first == 0 || at < first) {
				first = at
			}
		}
		if first == 0 {
			continue
		}
		fd := dwell.DateOf(time.Unix(0, first), loc)
		if !f.due.Before(fd) {
			acc.done++
		}
		acc.toFollow = append(acc.toFollow, float64(fd.DaysSince(dwell.DateOf(f.at, loc))))
	}
	return acc
}

// Compute returns the ten KPIs of in. Each rep's days are read once, on
// up to GOMAXPROCS goroutines, summing as they go and keeping the visits
// and contacts of only the clients a deal, an appointment or a follow-up
// asks about; the cost is linear in the input.
func Compute(in Input) Result {
	var r Result
	locs := make(map[dwell.RepID]*time.Location, len(in.Reps))
	for _, rep := range in.Reps {
		loc := rep.Loc
		if loc == nil {
			loc = time.UTC
		}
		locs[rep.ID] = loc
	}
	kind := in.ClientKind
	if kind == nil {
		kind = func(dwell.ClientID) dwell.ClientKind { return dwell.ClientKindProspect }
	}

	// Wins: WON opportunities of the reps closed in the range. lastWon is,
	// per client, the latest close of a WON deal: a visit up to it went on
	// to a win.
	var wins []dwell.Opportunity
	lastWon := map[dwell.ClientID]int64{}
	winsBy := map[dwell.RepID][]dwell.Opportunity{}
	for _, o := range in.Opportunities {
		loc, ok := locs[o.Rep]
		if !ok || o.Stage != dwell.StageWon {
			continue
		}
		if last, ok := lastWon[o.Client]; !ok || o.CloseTime.UnixNano() > last {
			lastWon[o.Client] = o.CloseTime.UnixNano()
		}
		if inRange(dwell.DateOf(o.CloseTime, loc), in.Start, in.End) {
			wins = append(wins, o)
			winsBy[o.Rep] = append(winsBy[o.Rep], o)
		}
	}
	slices.SortFunc(wins, func(a, b dwell.Opportunity) int {
		if c := a.CloseTime.Compare(b.CloseTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	planned := 0
	apptsBy := map[dwell.RepID][]dwell.Appointment{}
	for _, a := range in.Appointments {
		if loc, ok := locs[a.Rep]; ok && inRange(dwell.DateOf(a.PlannedStart, loc), in.Start, in.End) {
			apptsBy[a.Rep] = append(apptsBy[a.Rep], a)
			planned++
		}
	}

	// Each rep apart, then merged in input order.
	accs := make([]*repAcc, len(in.Reps))
	forEach(len(in.Reps), func(i int) {
		rep := in.Reps[i]
		accs[i] = computeRep(&in, rep, locs[rep.ID], winsBy[rep.ID], apptsBy[rep.ID], lastWon)
	})
	var (
		fieldDays, idleSegs, kept, dueN, done int
		totals                                Totals
		sum                                   part
		wonSum, notWonSum                     float64
		nWon, nNotWon                         int
		toFollow                              []float64
		meetings                              = map[dwell.OpportunityID]int{}
		winMeetings                           int
	)
	for _, a := range accs {
		fieldDays += a.fieldDays
		idleSegs += a.idleSegs
		totals.Add(a.totals)
		sum.add(&a.sum)
		for _, x := range [...][2]*int{{&kept, &a.kept}, {&dueN, &a.due}, {&done, &a.done}, {&nWon, &a.nWon}, {&nNotWon, &a.nNotWon}} {
			*x[0] += *x[1]
		}
		wonSum += a.wonSum
		notWonSum += a.notWonSum
		toFollow = append(toFollow, a.toFollow...)
		for id, n := range a.meetings {
			meetings[id] = n
		}
		winMeetings += a.winMeetings
	}
	days := float64(fieldDays)
	basis := func(records int) Basis { return Basis{Days: fieldDays, Records: records} }

	// 1. Idle.
	r.Idle = Idle{Basis: basis(idleSegs), IdleS: totals.IdleS, IdleSPerDay: ratio(float64(totals.IdleS), days),
		IdleShare: ratio(float64(totals.IdleS), float64(totals.FieldS())), TravelS: totals.TravelS, TravelM: totals.DistanceM}

	// 2. Visit time.
	nVisits := sum.visits
	vt := VisitTime{Basis: basis(nVisits), ProspectS: sum.prospectS, CustomerS: sum.customerS, Histogram: sum.hist}
	vt.ProspectMeanS = ratio(float64(vt.ProspectS), float64(sum.prospects))
	vt.CustomerMeanS = ratio(float64(vt.CustomerS), float64(sum.customers))
	vt.WonMeanS, vt.NotWonMeanS = ratio(wonSum, float64(nWon)), ratio(notWonSum, float64(nNotWon))
	r.VisitTime = vt

	// 3. Meetings.
	m := Meetings{VisitsPerDay: ratio(float64(nVisits), days), Planned: planned, Kept: kept}
	m.Basis = basis(nVisits + m.Planned)
	r.Meetings = m

	// 4. Calls.
	r.Calls = Calls{Basis: basis(sum.calls), Calls: sum.calls, Connected: sum.connected,
		MeanTalkS: ratio(float64(sum.talk), float64(sum.connected))}

	// 5. Win ratio, 9. sales cycle.
	wr := WinRatio{Basis: basis(len(wins)), Wins: len(wins), Meetings: winMeetings}
	multi := 0
	var cycles []float64
	perRep := map[dwell.RepID][]float64{}
	var repOrder []dwell.RepID
	for _, o := range wins {
		if meetings[o.ID] >= 2 {
			multi++
		}
		days := cycleDays(o.OpenTime, o.CloseTime, locs[o.Rep])
		cycles = append(cycles, days)
		if _, ok := perRep[o.Rep]; !ok {
			repOrder = append(repOrder, o.Rep)
		}
		perRep[o.Rep] = append(perRep[o.Rep], days)
	}
	wr.Ratio = ratio(float64(wr.Wins), float64(wr.Meetings))
	wr.MultiMeetingShare = ratio(float64(multi), float64(wr.Wins))
	r.WinRatio = wr
	sc := SalesCycle{Basis: basis(len(wins)), MeanDays: mean(cycles), MedianDays: median(cycles)}
	if len(repOrder) >= 2 {
		var means []float64
		for _, id := range repOrder {
			means = append(means, mean(perRep[id]))
		}
		mu := mean(means)
		var ss float64
		for _, x := range means {
			ss += (x - mu) * (x - mu)
		}
		sc.TeamSpreadDays = math.Sqrt(ss / float64(len(means)))
	}
	r.SalesCycle = sc

	// 6. Rejections, 7. cadence.
	rj := Rejection{WithOutcome: sum.withOutcome, Rejections: sum.rejections, WithoutMeeting: sum.noMeeting}
	cd := Cadence{Due: dueN, Done: done}
	rj.Basis = basis(rj.WithOutcome)
	rj.Rate = ratio(float64(rj.Rejections), float64(rj.WithOutcome))
	for reason := dwell.RejectionReasonUnspecified; reason <= dwell.RejectionOther; reason++ {
		if n := sum.reasons[reason]; n > 0 {
			rj.Reasons = append(rj.Reasons, ReasonCount{Reason: reason, Count: n})
		}
	}
	r.Rejection = rj
	cd.Basis = basis(cd.Due)
	cd.PositivePerDay = ratio(float64(sum.positive), days)
	cd.Rate = ratio(float64(cd.Done), float64(cd.Due))
	cd.MedianDays = median(toFollow)
	r.Cadence = cd

	// 10. Quota, 8. engagement (won share).
	quotas := slices.Clone(in.Quotas)
	slices.SortFunc(quotas, func(a, b dwell.Quota) int {
		if c := cmp.Compare(a.Rep, b.Rep); c != 0 {
			return c
		}
		return a.Start.DaysSince(b.Start)
	})
	// The quotas that count: the reps' whose period overlaps the range.
	quotas = slices.DeleteFunc(quotas, func(qt dwell.Quota) bool {
		_, ok := locs[qt.Rep]
		return !ok || qt.End.Before(in.Start) || in.End.Before(qt.Start)
	})
	currency := ""
	if len(quotas) > 0 {
		currency = quotas[0].Target.Currency
	} else if len(wins) > 0 {
		currency = wins[0].Amount.Currency
	}
	q := Quota{Won: dwell.Money{Currency: currency}, Quota: dwell.Money{Currency: currency}}
	// Won and quota amounts are summed saturating at math.MaxInt64 (see
	// addMinor); the ratios divide float64 sums, exact to 16 digits
	// however large.
	var wonF, customerWonF, quotaF float64
	nw := 0
	for _, o := range wins {
		if o.Amount.Currency != currency {
			continue
		}
		nw++
		q.Won.AmountMinor = addMinor(q.Won.AmountMinor, o.Amount.AmountMinor)
		wonF += float64(o.Amount.AmountMinor)
		if kind(o.Client) == dwell.ClientKindCustomer {
			customerWonF += float64(o.Amount.AmountMinor)
		}
	}
	nq := 0
	for _, qt := range quotas {
		if qt.Target.Currency != currency {
			continue
		}
		lo, hi := qt.Start, qt.End
		if lo.Before(in.Start) {
			lo = in.Start
		}
		if in.End.Before(hi) {
			hi = in.End
		}
		overlap := hi.DaysSince(lo) + 1
		period := qt.End.DaysSince(qt.Start) + 1
		nq++
		part := math.Round(float64(qt.Target.AmountMinor) * float64(overlap) / float64(period))
		q.Quota.AmountMinor = addMinor(q.Quota.AmountMinor, minorOf(part))
		quotaF += part
	}
	q.Basis = basis(nw + nq)
	q.Attainment = ratio(wonF, quotaF)
	r.Quota = q

	e := Engagement{CustomerVisits: sum.customerVisits, CustomerCalls: sum.customerCalls}
	e.CustomerWonShare = ratio(customerWonF, wonF)
	e.Basis = basis(e.CustomerVisits + e.CustomerCalls + nw)
	r.Engagement = e
	return r
}

// addMinor returns a+b, amounts in minor units, saturated at
// math.MaxInt64 (and math.MinInt64): an amount summed past int64's range
// reads as its largest value, never as a wrapped negative one. Amounts
// are at most dwell.MaxAmountMinor (10^15), so it takes over 9,000 of the
// largest to reach it; amounts stored before that bound was kept could
// be larger.
func addMinor(a, b int64) int64 {
	switch s := a + b; {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	default:
		return s
	}
}

// minorOf returns the rounded amount x as int64, saturated at
// math.MaxInt64 (a conversion out of range would be undefined).
func minorOf(x float64) int64 {
	switch {
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	default:
		return int64(x)
	}
}

// forEach calls f(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// returns when all calls have.
func forEach(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Row is one row of a time breakdown.
type Row struct {
	Rep dwell.RepID
	// Date is the day of a by-day row; zero in a by-rep row.
	Date   dwell.Date
	Totals Totals
	// FieldDays is the number of field days in the row.
	FieldDays int
}

// Breakdown returns the time breakdown of reps over [start, end]: one row
// per rep (byDay false; a rep without data has a zero row) or one per rep
// and day with data (byDay true), by rep in the given order, then day.
func Breakdown(reps []Rep, start, end dwell.Date, byDay bool) []Row {
	var rows []Row
	for _, rep := range reps {
		all := Row{Rep: rep.ID}
		days := slices.Clone(rep.Days)
		slices.SortFunc(days, func(a, b *Day) int { return a.Date.DaysSince(b.Date) })
		for _, d := range days {
			if !inRange(d.Date, start, end) {
				continue
			}
			row := Row{Rep: rep.ID, Date: d.Date, Totals: d.Totals}
			if d.Field() {
				row.FieldDays = 1
			}
			if byDay {
				rows = append(rows, row)
				continue
			}
			all.Totals.Add(row.Totals)
			all.FieldDays += row.FieldDays
		}
		if !byDay {
			rows = append(rows, all)
		}
	}
	return rows
}
