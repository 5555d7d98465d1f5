// Package events detects what WatchEvents reports from the derived
// timeline of a rep-day: Diff compares the day as it was derived before
// some data arrived with the day derived after, and returns the facts that
// are new. It is pure: no clock, no I/O, no state; the server persists what
// it returns in the tenant's event log (store.EventLog) and streams it.
//
// # What each event means
//
//   - VISIT_STARTED: a visit of the day (timeline.Visit, however it was
//     established) that the previous derivation did not have, or that it
//     told of only as the continuation of a stay from the day before and
//     late data now part from that stay. Time is the visit's start, or
//     the start of the stay it carries on from the day before (see
//     "Across midnight").
//   - VISIT_ENDED: a visit that has really ended: the fixes show the rep
//     away from the site for SettleAfter, or stopped elsewhere after
//     travelling (an open last stop right at the visit's end does not
//     count: it may be the same visit seen through noisy fixes). A visit
//     still going at the last fix of the observed span is open and gets no
//     VISIT_ENDED until a later derivation shows the rep gone that long. A
//     visit still open at its day's end (the rep at the site, paused there,
//     or gone for less than SettleAfter, when working hours ended or the
//     phone was switched off) gets none from that day: the rep's next day
//     with data ends it, at its end as its own day has it, unless that
//     day begins at the same client and carries the stay on, whose end is
//     then the stay's end ("Across midnight"). Waiting for the departure
//     to settle is what keeps "ended" from being said of a visit the rep
//     is still at (a multipath jump at the end of the span looks like a
//     departure until the next fixes arrive). A visit whose rep paused
//     tracking there has not ended while the pause lasts: the rep may
//     resume at the client, and the pause is then inside the one visit;
//     a later day with data elsewhere ends it, at the pause's start. Time
//     is the visit's end as estimated when the event is sent.
//   - GEOFENCE_ENTERED and GEOFENCE_EXITED: the same for the visits the
//     fixes back (source GEOFENCE or BOTH), not for a visit resting on a
//     check-in and check-out alone. "Entered" is not the first fix inside
//     a fence: a phone's fixes jitter across a boundary by tens of metres,
//     so the timeline's stop detection is the hysteresis: the rep entered
//     when a stop at the site began that lasted visit_min, and exited when
//     sustained evidence showed the rep gone (one stray fix does neither).
//     A walk through a fence without stopping is no event.
//   - CHECK_IN_UNVERIFIED: a check-in judged OUTSIDE_GEOFENCE,
//     LOW_ACCURACY, MOCK_LOCATION, NO_FIX or STALE_FIX that was not judged
//     so before.
//     Time is the check-in's device time.
//   - IDLE_STARTED: an idle segment (a stop of idle_min away from sites)
//     that overlaps no idle segment of the previous derivation. Time is
//     its start, or the start of the idle stop it carries on from the day
//     before (see "Across midnight"). An idle stop across a split shift's
//     break (IDLE, OFF_HOURS, IDLE at one place: timeline.KindOffHours) is
//     one stop, whose part after the break starts nothing.
//   - REP_SILENT is not detected here: it needs a clock (the server's
//     sweeper, which also names it with SilenceKey).
//
// # Identity and idempotence
//
// A visit of the new day is the same as one of the old day when they
// overlap in time at the same client: late fixes move boundaries, and a
// moved boundary is not a new fact. Visits pair one to one (pair), so
// that each has one start and, once over, one end: when late fixes split
// a visit (the rep walked away in a silence at the client and came
// back), one part is the visit told of before, the one that starts where
// it started, else the one that overlaps it most, and the others are new
// visits, started and ended on their own. An idle segment is the same as
// any of the old day it overlaps. So Diff(d, d) is empty, a day that only
// refined its boundaries yields nothing, and a day that grew yields only
// what is new. Every event carries a Key naming the fact (type, rep,
// client and the instant the fact is anchored at: the visit's or idle
// stop's start, or the start of the stay a visit or the idle stop an idle
// segment carries on; the check-in's request id); a visit's start and end
// share its anchor. The event log appends a key once, which also keeps a
// re-derivation from scratch (prev nil) from repeating what was
// published, as long as the starts the keys name have not moved since.
//
// # Across midnight
//
// A rep's days are cut at local midnight (or bounded by working hours),
// and a stay at a client can run from one day into the next: the first
// day's visit runs to that day's end (nothing after it but paused time),
// so it has not ended there, and the next day's first visit begins at
// that day's start (nothing before it but paused time) at the same
// client. Paused time is PAUSED and OFF_HOURS, and the GAP of at most
// timeline.GapMin between the last fix and a pause, or between a resume
// and the first fix (a rep who paused tracking at the client overnight
// and resumed there is at one visit, started once, whose pause is inside
// it). That is one stay and one visit to the stream when the next day's
// part begins at most timeline.StayGapMax (30 minutes) after the first
// day's part ended (Stay.End), the bound by which package kpi counts one
// meeting: a stay observed across midnight (a phone at a client sends a
// fix every few minutes), or paused for a few minutes across it, or a day
// filled wholly by the stay. A rep at a client when one day's working
// hours end and again when the next day's begin (a merchandiser
// stationed there: a visit a day, not one of a week), or whose phone was
// off there overnight, or who paused tracking there overnight (the rep's
// night), made two visits, however their ends look: the first day's is
// ended at its end by the next day's data, and the next day's starts on
// its own. What the previous day hands on (CarryOut: the client
// and where its stay began) is passed to the next day's Diff as
// Options.Carry; the next day's first visit, when it continues that stay,
// is anchored at the stay's start: its VISIT_STARTED is the one the
// previous day published (same key and time: whichever day is derived
// first publishes it, the log keeps it once), and its VISIT_ENDED, when
// the next day shows the rep gone, is the stay's one end. A stay that
// fills whole days carries on from where it began, and so does one whose
// last day began with it and ends with it open, though Left (the caller
// follows it back across the days that CarriesOn: its end, whichever day
// tells it, is under the one anchor where the stay began, as its start).
// Fence stays carry the same way, over the days' fix-backed visits.
//
// An idle stop carries the same way (a rep idle at a café from 23:30 to
// 00:40): the first day's last idle segment runs to its end (nothing
// after it but paused time), and the next day's first segment that is
// not paused time is idle, from that day's start, at most StayGapMax
// after the first day's ended (IdleStay.End), within IdleSameM (50 m,
// the distance within which the timeline joins two idle stops) of the
// first day's: one idle stop and one IDLE_STARTED, at
// where it began on the first day, under that day's key, whichever day
// is derived first. CarryOut hands it on as Carry.Idle (where the rep
// stood and since when), and a day that is one idle stop from its start
// to its end CarriesOn too. An idle segment that begins the next day
// elsewhere, or after travel, or hours after the first day's (a car
// parked overnight with the phone off or tracking paused: one stop a
// day), is a new idle stop.
//
// A visit open at its day's end that the next day does not carry on
// ends there: the rep's next day with data (a segment that is not
// PAUSED or OFF_HOURS: Tracked; days without any between, such as a
// weekend with the phone off, are passed over) shows the rep did not
// continue the stay (its first visit of the kind is at another client,
// or after travel, or more than StayGapMax after the stay's end, or
// there is none: idle, travelling), once it shows
// enough of the rep to tell (decisive: tracked for SettleAfter past
// visit_min, or its first stop reached by travel or followed by more;
// the rep's first minutes back at the client are no visit yet). The
// stay then gets its VISIT_ENDED (and GEOFENCE_EXITED, for the fence
// stay) under the key its own day would have given it (anchored where
// the stay began, so a stay carried across several midnights ends once),
// at its end as that day has it (Stay.End). A stay carries on across one
// midnight only: after days without data between (Carry.Gap), or after
// the day showed the rep leaving (Stay.Left), the later day at the same
// client from its start ends it and starts a visit of its own. Either
// day may be derived first: the later day reads what the earlier one
// hands on (Options.Carry, with the stay's end), and the earlier one,
// when a derivation newly ends it with an open stay, reads the later day
// (Options.Later); the log keeps the end once. A day's last visit that
// pairs with the one its previous derivation ended with (late fixes moved
// its start) is the same stay, not a newly open one: as within a day, a
// moved boundary of a visit whose end was told tells nothing new, and
// the end keeps the key it was told under.
//
// Late data can part the next day's first visit from the stay it was
// told of as continuing, whose VISIT_STARTED was the stay's alone: the
// next day's late fixes move its start past StayGapMax after the stay's
// end (a pause recorded late), or put travel (the rep left and came
// back) or another visit before it; or the first day's late data show
// the rep leaving the stay (Left) or the stay ending earlier (a pause
// recorded late). The stay then ends, at its end as the first day has
// it, and the visit starts on its own (parted), at its start, under its
// own anchor (the key a derivation that never carried it gives it too,
// so it is told once), by the derivation that first shows them parted:
// the next day's, which reads the carry (NeedsCarry), or the first
// day's, which reads the next day (NeedsLater). Its VISIT_ENDED, when the
// rep leaves, is under the same anchor and pairs with that start. A
// visit whose end was told before the late data was told whole, as the
// stay's start and end, and stays so.
//
// NeedsCarry says when Diff reads the carry: when it has something new
// to say of a first visit that begins its day, or of an idle segment that
// begins it, or when the day's data first decides a stay carried in, or
// moves the first visit that began the day (it may part from the stay),
// so the caller reads the previous day only then; NeedsLater says when
// it reads the later day: when the day newly ends with an open stay, or
// with its open stay now Left or ending earlier.
//
// # Late events
//
// An event is late when it was detected more than LateAfter after it could
// first have been: detect time minus event time, less the time the
// derivation needs to see it at all (visit_min for a visit start or fence
// entry, idle_min for an idle start), exceeds LateAfter. Late events are
// published like the others, marked. The end of a visit open at its
// day's end could first have been told once the next day's data decided
// it: its delay is counted from the later day's first tracked instant
// plus the time a day needs to decide (SettleAfter past visit_min), not
// from the visit's end. So a rep whose phone comes on at 08:00 and
// uploads as it goes gets an end that is not late, hours after the
// visit's end, and one whose next day's data sat on the phone gets a late
// one: Late tells that data came late, which a night off the clock is
// not.
//
// # Caveats
//
// Detection is as good as the derivation it reads: a visit that a later
// derivation drops (fixes that arrived late showed a stop elsewhere) is
// not retracted, and two visits a later derivation joins stay two starts
// and, if both had ended, two ends. So does a stay or idle stop across
// midnight whose second day was told of before any of the first day's
// part arrived (its start was then the second day's). A visit that has
// not ended by its day's end is ended only by a later day with data
// within the few days the caller looks (the server: 7), and only the
// day's last visit of a kind is such a stay (an earlier one left open by
// a last stop right at its end, with no travel between, gets no end). A
// day that has no data yet counts as a day without data: if the later
// day's data arrives first and ends the stay, data of a day between
// arriving later that would have carried it on does not retract the end.
// The end time of a
// VISIT_ENDED is the estimate at the time it was sent; late fixes inside
// the departure can move the day's estimate by a few minutes without a
// new event.
package events

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// LateAfter is how much later than possible an event may be detected and
// still not be late. Phones upload every 1 to 15 minutes and the timeline
// needs a fix or two after a boundary to place it, so half an hour beyond
// the derivation's own delay means the data sat on a phone offline.
const LateAfter = 30 * time.Minute

// SettleAfter is how long the rep must have been seen away from a site
// (the observed span going on past the visit) before its end is reported,
// unless a stop elsewhere shows it sooner. The derivation drops a run of
// up to 3 fixes far off as a multipath jump and joins stops of the same
// client less than 3 minutes apart, but only once the fixes after the run
// have arrived; a phone that samples every 2 to 5 minutes when still needs
// about 10 minutes for those fixes. An earlier "ended" was contradicted by
// the next uploads in the simulated days (TestReplay).
const SettleAfter = 10 * time.Minute

// Options are the parts of an event that the days do not say.
type Options struct {
	// Rep and Team name the rep the days belong to and its team.
	Rep  dwell.RepID
	Team dwell.TeamID
	// DetectTime is when the server learned of the new day.
	DetectTime time.Time
	// Settings give VisitMin and IdleMin, the derivation's own delay for
	// lateness; zero values take dwell.DefaultSettings.
	Settings dwell.Settings
	// Carry is what the rep's previous local day with data hands on to
	// this one (CarryOut of that day; Gap when days without data lie
	// between): the stays it ended with, which this day's first visits
	// may continue, or else end. Zero when that day ended with none, or
	// when NeedsCarry says Diff does not read it.
	Carry Carry
	// Later is the rep's next local day with data after this one (see
	// NeedsLater), which may end the stay this day ends with. Zero when
	// no later day has data, or when NeedsLater says Diff does not read
	// it.
	Later Later
}

// Later is the rep's next local day with data (Tracked) after a day, as
// the caller found it looking at most a few days on: Day nil if none.
// Gap tells that days without data lie between (the stay the earlier day
// ends with can then only end there, not carry on).
type Later struct {
	Day *timeline.Day
	Gap bool
}

// Diff returns the events that next shows and prev did not (among them
// the end of a stay open at a day's end that next, or o.Later, shows the
// rep did not carry on: "Across midnight"), ordered by event time (at one
// instant: exits and ends before idle starts, entries and starts, then
// check-ins), then client and key. prev nil means nothing was known of
// the day. Neither day is changed.
func Diff(prev, next *timeline.Day, o Options) []dwell.Event {
	if next == nil {
		return nil
	}
	if prev == nil {
		prev = &timeline.Day{}
	}
	def := dwell.DefaultSettings()
	visitMin, idleMin := o.Settings.VisitMin, o.Settings.IdleMin
	if visitMin <= 0 {
		visitMin = def.VisitMin
	}
	if idleMin <= 0 {
		idleMin = def.IdleMin
	}
	settle := SettleAfter + visitMin
	var out []dwell.Event
	add := func(t dwell.EventType, client dwell.ClientID, at time.Time, delay time.Duration, anchor string) {
		e := dwell.Event{
			Type: t, Rep: o.Rep, Team: o.Team, Client: client, Time: at, DetectTime: o.DetectTime,
			Key: Key(t, o.Rep, client, anchor),
		}
		e.Late = !o.DetectTime.IsZero() && o.DetectTime.Sub(at)-delay > LateAfter
		out = append(out, e)
	}

	// Visits and fence stays.
	for _, k := range stayKinds {
		pv, nv := k.of(prev), k.of(next)
		match := pair(pv, nv)
		in := o.Carry.stay(k.fence)
		for i, v := range nv {
			// A visit is anchored at its start, or, when it carries on a
			// stay the previous day ended with, at where that began: the
			// previous day published its start under that anchor.
			since := v.Start
			carried := i == 0 && o.Carry.continues(k.fence, next, v)
			if carried {
				since = in.Since
			}
			anchor := stamp(since)
			if match[i] < 0 || parted(prev, pv, match[i], carried, o.Carry, k) {
				add(k.start, v.Client, since, visitMin, anchor)
			}
			if ended(next, v.End) && (match[i] < 0 || !ended(prev, pv[match[i]].End)) {
				add(k.ended, v.Client, v.End, SettleAfter, anchor)
			}
		}
		// The stay the previous day with data ended with, open there,
		// ends when this day first shows the rep did not carry it on;
		// under its own anchor, at its end as that day has it. It could
		// first have been told settle after this day's first tracked
		// instant.
		if endsIn(next, o.Carry, k, settle) && !endsIn(prev, o.Carry, k, settle) {
			add(k.ended, in.Client, in.End, firstTracked(next).Sub(in.End)+settle, stamp(in.Since))
		}
		// The stay this day ends with, when the rep's next day with data
		// (o.Later) shows it did not carry it on: the later day was
		// derived first and could not tell (late upload of this day).
		// Told by the derivation of this day that first ends with this
		// stay so ended: not if prev ended with the same stay (its last
		// visit, open, paired with this one: late fixes that move its
		// start are no new stay, as within a day) and the later day
		// ended that too.
		if l := o.Later; l.Day != nil {
			now, was := CarryOut(next, o.Carry), CarryOut(prev, o.Carry)
			now.Gap, was.Gap = l.Gap, l.Gap
			s, w := now.stay(k.fence), was.stay(k.fence)
			same := !s.Since.IsZero() && !w.Since.IsZero() && match[len(nv)-1] == len(pv)-1 &&
				endsIn(l.Day, was, k, settle)
			if endsIn(l.Day, now, k, settle) && !same {
				add(k.ended, s.Client, s.End, firstTracked(l.Day).Sub(s.End)+settle, stamp(s.Since))
			}
			// The later day's first visit continued the stay prev ended
			// with, so its start was told only as that stay's; late data
			// of this day part them (the rep seen leaving, Left, or the
			// stay now ending more than timeline.StayGapMax before it):
			// it starts on its own, as a visit parted by late data of its
			// own day does (parted), unless its end was told already (as
			// the stay's).
			if lv := k.of(l.Day); len(lv) > 0 && was.continues(k.fence, l.Day, lv[0]) &&
				!now.continues(k.fence, l.Day, lv[0]) && !ended(l.Day, lv[0].End) {
				add(k.start, lv[0].Client, lv[0].Start, visitMin, stamp(lv[0].Start))
			}
		}
	}

	// Idle stops. The day's first one, when it carries on the idle stop
	// the previous day ended with, is anchored where that began: the
	// previous day published its start under that anchor.
	for i, s := range next.Segments {
		if s.Kind != timeline.KindIdle || timeline.AfterBreak(next.Segments, i) || seenIdle(prev, s) {
			continue
		}
		since := s.Start
		if !o.Carry.Gap && o.Carry.Idle.carries(next, i) {
			since = o.Carry.Idle.Since
		}
		add(dwell.EventIdleStarted, "", since, idleMin, stamp(since))
	}

	// Check-ins judged away from the site.
	for _, c := range next.CheckIns {
		if !unverified(c.Verification) {
			continue
		}
		id := checkInID(c)
		seen := false
		for _, u := range prev.CheckIns {
			if unverified(u.Verification) && checkInID(u) == id {
				seen = true
				break
			}
		}
		if !seen {
			add(dwell.EventCheckInUnverified, c.Client, c.Time, 0, id)
		}
	}

	slices.SortFunc(out, func(a, b dwell.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(rank[a.Type], rank[b.Type]),
			cmp.Compare(a.Client, b.Client), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// parted reports whether a visit of the new derivation, paired with
// visit j of prev's visits pv of kind k and not carried (it does not
// continue the stay c carries in), is one that prev told of as that
// stay's continuation (prev's first visit, continuing it) and whose end
// was not told: late fixes moved its start past timeline.StayGapMax after
// the stay's end, or put travel (the rep left and came back) or another
// visit before it. Its start was told only as the stay's, under the
// stay's anchor, which the stay's end now closes; so the visit starts on
// its own, under its own anchor (the key a derivation that never carried
// it gives it too), and its end pairs with that start. A visit whose end
// was told already was told as the stay's end, and stays as told.
func parted(prev *timeline.Day, pv []timeline.Visit, j int, carried bool, c Carry, k stayKind) bool {
	return j == 0 && !carried && c.continues(k.fence, prev, pv[0]) && !ended(prev, pv[0].End)
}

// stayKind is one of the two pairs of stay events: visits (however
// established) and fence stays (the visits the fixes back).
type stayKind struct {
	fence        bool
	start, ended dwell.EventType
}

var stayKinds = []stayKind{
	{false, dwell.EventVisitStarted, dwell.EventVisitEnded},
	{true, dwell.EventGeofenceEntered, dwell.EventGeofenceExited},
}

// of returns the visits of d of this kind, in the day's order.
func (k stayKind) of(d *timeline.Day) []timeline.Visit {
	if !k.fence {
		return d.Visits
	}
	var out []timeline.Visit
	for _, v := range d.Visits {
		if v.Source == timeline.SourceGeofence || v.Source == timeline.SourceBoth {
			out = append(out, v)
		}
	}
	return out
}

// pair matches the visits of next to those of prev, one to one: a visit
// of next is the same as the one of prev it is paired with, and a visit
// paired with none is new. Only visits of one client that overlap in time
// pair (late fixes move boundaries; a moved boundary is not a new fact).
// Pairs are taken greedily: first those that start at the same instant
// (their start events have the same key, so an unpaired one would start
// nothing the log does not hold already), then by greatest overlap, ties
// to the earlier visit of next, then of prev. So when late fixes split a
// visit, its first part keeps it (the same start), and the others are new
// visits, each started under its own key. It returns, for each visit of
// next, the index of its pair in prev, or -1.
func pair(prev, next []timeline.Visit) []int {
	type cand struct {
		i, j int
		same bool
		over time.Duration
	}
	var cs []cand
	for i, v := range next {
		for j, u := range prev {
			if u.Client == v.Client && overlap(u.Start, u.End, v.Start, v.End) {
				over := minTime(u.End, v.End).Sub(maxTime(u.Start, v.Start))
				cs = append(cs, cand{i, j, u.Start.Equal(v.Start), over})
			}
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.same != b.same {
			if a.same {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.over, a.over), next[a.i].Start.Compare(next[b.i].Start), cmp.Compare(a.i, b.i),
			prev[a.j].Start.Compare(prev[b.j].Start), cmp.Compare(a.j, b.j))
	})
	match := make([]int, len(next))
	for i := range match {
		match[i] = -1
	}
	taken := make([]bool, len(prev))
	for _, c := range cs {
		if match[c.i] < 0 && !taken[c.j] {
			match[c.i], taken[c.j] = c.j, true
		}
	}
	return match
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Stay is a visit open at the end of a rep's local day (not ended there:
// see ended): its client, the instant it began, which anchors its events
// (zero Since: none), and its end as that day has it (End: where its
// VISIT_ENDED is placed when a later day shows the rep gone; the next
// day's first visit continues the stay only if it begins at most
// timeline.StayGapMax after End). It began
// before that day when the day's visit itself carried on a stay of the
// day before. Left tells that the day shows the rep leaving after End
// (travel, for less than SettleAfter) rather than nothing but paused
// time: the next day can then end the stay but not carry it on.
type Stay struct {
	Client dwell.ClientID
	Since  time.Time
	End    time.Time
	Left   bool
}

// Carry is what a rep's local day hands on to the next: the stay its last
// visit is (Visit) and the one its last fix-backed visit is (Fence), if
// they were open at the day's end, and the idle stop its last idle
// segment is (Idle), if that ran to the day's end. A day whose first
// visit of a kind begins at its start (nothing before it but paused time)
// at the client of the stay carried in, at most timeline.StayGapMax after
// the stay's End, continues that stay, unless the stay was Left or Gap is
// set; a day whose first segment that is not paused time is idle, from
// its start, at most StayGapMax after the idle stop carried in ended and
// within IdleSameM of it, continues that stop, unless Gap is set. A day with data
// that does not continue the stay carried in ends it (see the package
// doc, "Across midnight").
//
// Gap tells that the carry comes from an earlier day than the one just
// before, across days without data (Tracked): its stays can end in the
// day handed them, not carry on (a stay carries across one midnight
// only), and its idle stop is not carried.
type Carry struct {
	Visit, Fence Stay
	Idle         IdleStay
	Gap          bool
}

// IdleStay is an idle stop still going at the end of a rep's local day:
// where the rep stood (the last idle segment's Location) and the instant
// the stop began, which anchors its IDLE_STARTED (zero Since: none). It
// began before that day when the day's idle stop itself carried on one
// of the day before.
type IdleStay struct {
	Location dwell.LatLng
	Since    time.Time
	// End is where the day's last idle segment ends: the next day's
	// first idle segment continues the stop only if it begins at most
	// timeline.StayGapMax after it.
	End time.Time
}

// IdleSameM is how far apart, in metres, the idle segments either side
// of a midnight may stand and still be one idle stop: the distance within
// which the timeline joins two idle stops a short break split (its stop
// centres are accuracy-weighted means of the fixes, so one stop derived
// as two parts has centres a few metres to tens of metres apart).
const IdleSameM = 50.0

// carries reports whether segment i of day d continues the idle stop s:
// it is the day's first segment that is not paused time, idle, from the
// day's start, within IdleSameM of s's place, and begins at most
// timeline.StayGapMax after s ended (a car parked overnight with the
// phone off or paused is two idle stops, one a day).
func (s IdleStay) carries(d *timeline.Day, i int) bool {
	if s.Since.IsZero() || i >= len(d.Segments) {
		return false
	}
	g := d.Segments[i]
	return g.Kind == timeline.KindIdle && startsDay(d, g.Start) && within(s.End, g.Start) &&
		distanceM(s.Location, g.Location) <= IdleSameM
}

// within reports whether next, the start of a day's first visit or idle
// segment, is at most timeline.StayGapMax after end, where the stay the
// day before ended with ended: the two parts are then one stay (see the
// package doc, "Across midnight").
func within(end, next time.Time) bool {
	return next.Sub(end) <= timeline.StayGapMax
}

// seenIdle reports whether idle segment s overlaps an idle segment of
// prev: the same stop, told of before.
func seenIdle(prev *timeline.Day, s timeline.Segment) bool {
	for _, u := range prev.Segments {
		if u.Kind == timeline.KindIdle && overlap(u.Start, u.End, s.Start, s.End) {
			return true
		}
	}
	return false
}

// firstIdle returns the index of d's first idle segment, if nothing but
// paused time comes before it (it begins the day: startsDay), else -1.
func firstIdle(d *timeline.Day) int {
	for i, s := range d.Segments {
		if !startsDay(d, s.Start) {
			break
		}
		if s.Kind == timeline.KindIdle {
			return i
		}
	}
	return -1
}

// lastIdle returns the index of d's last idle segment if nothing but
// paused time follows it (pausedAfter), else -1.
func lastIdle(d *timeline.Day) int {
	for i := len(d.Segments) - 1; i >= 0; i-- {
		s := d.Segments[i]
		if s.Kind == timeline.KindIdle {
			if pausedAfter(d, s.End) {
				return i
			}
			return -1
		}
	}
	return -1
}

// distanceM returns the distance in metres between a and b, on a plane
// tangent at their mean latitude: exact to well under a metre at the
// tens of metres IdleSameM compares it with.
func distanceM(a, b dwell.LatLng) float64 {
	const mPerDeg = 6371008.8 * math.Pi / 180 // mean Earth radius, metres per degree
	y := (a.Lat - b.Lat) * mPerDeg
	x := (a.Lng - b.Lng) * mPerDeg * math.Cos((a.Lat+b.Lat)/2*math.Pi/180)
	return math.Hypot(x, y)
}

func (c Carry) stay(fence bool) Stay {
	if fence {
		return c.Fence
	}
	return c.Visit
}

// carries reports whether v, the first visit of its kind of day d,
// continues s: s was not Left, v is at s's client, nothing but paused
// time is before it in d, and it begins at most timeline.StayGapMax after
// s's End (the hours between one day's working hours and the next's, or
// a night with the phone off or tracking paused, part two stays).
func (s Stay) carries(d *timeline.Day, v timeline.Visit) bool {
	return !s.Since.IsZero() && !s.Left && s.Client == v.Client && startsDay(d, v.Start) && within(s.End, v.Start)
}

// continues reports whether v, the first visit of its kind of day d,
// continues the stay of that kind c carries in (see Carry).
func (c Carry) continues(fence bool, d *timeline.Day, v timeline.Visit) bool {
	return !c.Gap && c.stay(fence).carries(d, v)
}

// endsIn reports whether day d ends the stay of kind k that c carries in:
// d shows enough of the rep to tell (decisive) and its first visit of
// that kind, if any, does not continue the stay (another client, idle,
// travel, the same client after travel, or the stay Left or across a
// Gap).
func endsIn(d *timeline.Day, c Carry, k stayKind, settle time.Duration) bool {
	if c.stay(k.fence).Since.IsZero() || !decisive(d, settle) {
		return false
	}
	vs := k.of(d)
	return len(vs) == 0 || !c.continues(k.fence, d, vs[0])
}

// Tracked reports whether d has data: a segment that is neither PAUSED
// nor OFF_HOURS. A day without (no fix, a lone fix, or paused whole)
// tells nothing of where the rep was: it neither continues nor ends a
// stay carried across it.
func Tracked(d *timeline.Day) bool {
	_, _, ok := trackedSpan(d)
	return ok
}

// trackedSpan returns the start of d's first segment that is neither
// PAUSED nor OFF_HOURS and the end of its last such segment.
func trackedSpan(d *timeline.Day) (first, last time.Time, ok bool) {
	if d == nil {
		return first, last, false
	}
	for _, s := range d.Segments {
		if !isPaused(s) {
			if !ok {
				first, ok = s.Start, true
			}
			last = s.End
		}
	}
	return first, last, ok
}

// firstTracked returns the start of d's first segment that is neither
// PAUSED nor OFF_HOURS (zero if none).
func firstTracked(d *timeline.Day) time.Time {
	first, _, _ := trackedSpan(d)
	return first
}

func isPaused(s timeline.Segment) bool {
	return s.Kind == timeline.KindPaused || s.Kind == timeline.KindOffHours
}

// decisive reports whether d shows enough of the rep, from its first
// tracked instant, to tell whether it carries on the stay the day before
// ended with: its tracked span is settle long (SettleAfter past the
// visit_min a visit from the day's start needs to be seen at all), or
// its first stop (a visit or idle segment) was reached by travel or is
// followed by more of the day, as ended asks of a stop elsewhere within a
// day. A day whose first minutes are too few to show a visit yet (the
// rep back at the client, not yet visit_min there) is not: it would end
// a stay it then carries on.
func decisive(d *timeline.Day, settle time.Duration) bool {
	first, last, ok := trackedSpan(d)
	if !ok {
		return false
	}
	if last.Sub(first) >= settle {
		return true
	}
	before := false
	for i, s := range d.Segments {
		if isPaused(s) {
			continue
		}
		if s.Kind == timeline.KindVisit || s.Kind == timeline.KindIdle {
			if before {
				return true
			}
			for _, t := range d.Segments[i+1:] {
				if !isPaused(t) {
					return true
				}
			}
			return false
		}
		before = true
	}
	return false
}

// settleFor is how long a day must be tracked before it decides a stay
// carried in (decisive): SettleAfter past the tenant's visit_min.
func settleFor(set dwell.Settings) time.Duration {
	v := set.VisitMin
	if v <= 0 {
		v = dwell.DefaultSettings().VisitMin
	}
	return SettleAfter + v
}

// startsDay reports whether nothing but paused time comes before start
// in d (timeline.PausedBefore: PAUSED, OFF_HOURS, or the short GAP
// between a resume and the first fix), the mirror of pausedAfter: a rep
// who resumes tracking where it paused is where the pause left it.
func startsDay(d *timeline.Day, start time.Time) bool {
	return !start.Before(d.Start) && timeline.PausedBefore(d.Segments, start)
}

// CarryOut returns what day d hands on to the next local day, given in,
// what the day before d handed on to d: for each kind, d's last visit if
// it has not ended in d (ended: the rep at the site to the day's end,
// paused there, or seen leaving for less than SettleAfter; Left for the
// last), since the instant in's stay began when that visit continues it,
// else since its own start. A nil d hands on nothing.
func CarryOut(d *timeline.Day, in Carry) Carry {
	var out Carry
	if d == nil {
		return out
	}
	for _, k := range stayKinds {
		vs := k.of(d)
		if len(vs) == 0 {
			continue
		}
		last := vs[len(vs)-1]
		if ended(d, last.End) {
			continue
		}
		s := Stay{Client: last.Client, Since: last.Start, End: last.End, Left: !pausedAfter(d, last.End)}
		if len(vs) == 1 && in.continues(k.fence, d, last) {
			s.Since = in.stay(k.fence).Since
		}
		if k.fence {
			out.Fence = s
		} else {
			out.Visit = s
		}
	}
	// The idle stop the day ends with: its last idle segment, back across
	// a split shift's break to where the stop began (AfterBreak), since
	// the instant in's idle stop began when that is the day's first and
	// continues it.
	if i := lastIdle(d); i >= 0 {
		first := i
		for first >= 2 && timeline.AfterBreak(d.Segments, first) {
			first -= 2
		}
		out.Idle = IdleStay{Location: d.Segments[i].Location, Since: d.Segments[first].Start, End: d.Segments[i].End}
		if !in.Gap && in.Idle.carries(d, first) {
			out.Idle.Since = in.Idle.Since
		}
	}
	return out
}

// CarriesOn reports whether what d hands on (CarryOut) may be a stay or
// idle stop d carries on from the day before, so depends on what d was
// handed, and the caller reads the day before d too: d is, for a kind,
// one visit from the day's start (nothing but paused time before it, and
// at most timeline.StayGapMax after the observed span's start: the day
// before ended no later) still open at its end (not ended: the rep at the site to the end,
// paused there, or seen leaving it less than SettleAfter before the end,
// Stay.Left), or one idle stop from its start to its end (parked all
// day). A day whose one visit began the day and which the rep left near
// its end hands on the stay carried in, Left: its end, whichever day
// tells it, is under the anchor where the stay began, as its start.
func CarriesOn(d *timeline.Day) bool {
	if d == nil {
		return false
	}
	if i := firstIdle(d); i >= 0 && within(d.Start, d.Segments[i].Start) {
		last := i
		for last+2 < len(d.Segments) && timeline.AfterBreak(d.Segments, last+2) {
			last += 2
		}
		if lastIdle(d) == last {
			return true
		}
	}
	for _, k := range stayKinds {
		if vs := k.of(d); len(vs) == 1 && startsDay(d, vs[0].Start) && within(d.Start, vs[0].Start) && !ended(d, vs[0].End) {
			return true
		}
	}
	return false
}

// NeedsCarry reports whether Diff(prev, next, o) reads o.Carry, with
// set the tenant's settings (o.Settings): next's first visit of a kind
// begins at the day's start, and Diff has something new to say of it (it
// is unpaired, or it has ended and its pair had not); or next begins with
// an idle segment (nothing but paused time before it) that no idle
// segment of prev overlaps, whose IDLE_STARTED may be the previous
// day's; or next may newly end the stay carried in: it is the first
// derivation of the day to show enough of the rep to tell (decisive), or
// its first visit of a kind no longer begins the day at the client
// prev's did, or begins later (timeline.StayGapMax after the stay's end,
// it no longer continues it); the last also before next shows enough of
// the rep, when prev's first visit, open, is still in next: it may no
// longer continue the stay, and then starts on its own (see "Across
// midnight"). The caller reads the previous day only then: not at every
// derivation of a day that begins at a client or idle, and once a day for
// the end of a stay (when the day's data first decides it).
func NeedsCarry(prev, next *timeline.Day, set dwell.Settings) bool {
	if next == nil {
		return false
	}
	if prev == nil {
		prev = &timeline.Day{}
	}
	if i := firstIdle(next); i >= 0 && !seenIdle(prev, next.Segments[i]) {
		return true
	}
	settle := settleFor(set)
	if decisive(next, settle) && !decisive(prev, settle) {
		return true
	}
	for _, k := range stayKinds {
		nv, pv := k.of(next), k.of(prev)
		// prev's first visit began the day (it may have continued the
		// stay carried in), and next's first visit no longer is that one
		// from the day's start, or begins later: the stay may end now,
		// once next shows enough of the rep to tell, and prev's first
		// visit, if still there and open, may no longer continue the stay
		// and then starts on its own (parted), at whatever derivation
		// first shows it moved.
		if len(pv) > 0 && startsDay(prev, pv[0].Start) &&
			(len(nv) == 0 || nv[0].Client != pv[0].Client || !startsDay(next, nv[0].Start) || nv[0].Start.After(pv[0].Start)) &&
			(decisive(next, settle) || !ended(prev, pv[0].End) && slices.Contains(pair(pv, nv), 0)) {
			return true
		}
		if len(nv) == 0 || !startsDay(next, nv[0].Start) {
			continue
		}
		j := pair(pv, nv)[0]
		if j < 0 || ended(next, nv[0].End) && !ended(prev, pv[j].End) {
			return true
		}
	}
	return false
}

// NeedsLater reports whether Diff(prev, next, o) reads o.Later: next
// ends with a stay (its last visit of a kind has not ended in it, see
// CarryOut) that prev did not end with (another visit: one that does not
// pair with prev's last, open, visit, see pair; or the same one now
// Left, or now ending earlier, as a pause recorded late makes it: the
// next day's first visit may no longer continue it, and then starts on
// its own, see "Across midnight"). A visit whose start late fixes moved is the same visit, and
// its end, told already or not, is not asked for again: within a day,
// a moved boundary is no new fact either. The caller reads the rep's
// later days only then: about twice
// per visit, when it is first seen open at the end of what is known of
// its day and when the rep is first seen leaving it, not at every
// derivation. (The later day's own derivations read this day when they
// first decide the stay: NeedsCarry. Between them, whichever of the two
// days is derived second tells the end.)
func NeedsLater(prev, next *timeline.Day) bool {
	if next == nil {
		return false
	}
	if prev == nil {
		prev = &timeline.Day{}
	}
	for _, k := range stayKinds {
		n, ok := openLast(next, k)
		if !ok {
			continue
		}
		p, ok := openLast(prev, k)
		if !ok || p.Left != n.Left || n.End.Before(p.End) {
			return true
		}
		if pv, nv := k.of(prev), k.of(next); pair(pv, nv)[len(nv)-1] != len(pv)-1 {
			return true
		}
	}
	return false
}

// openLast returns the client, start, end and Left of d's last visit of
// kind k if it has not ended in d.
func openLast(d *timeline.Day, k stayKind) (Stay, bool) {
	vs := k.of(d)
	if len(vs) == 0 {
		return Stay{}, false
	}
	last := vs[len(vs)-1]
	if ended(d, last.End) {
		return Stay{}, false
	}
	return Stay{Client: last.Client, Since: last.Start, End: last.End, Left: !pausedAfter(d, last.End)}, true
}

// rank orders the events of one instant: what ends before what begins.
var rank = map[dwell.EventType]int{
	dwell.EventGeofenceExited: 0, dwell.EventVisitEnded: 1, dwell.EventIdleStarted: 2,
	dwell.EventGeofenceEntered: 3, dwell.EventVisitStarted: 4, dwell.EventCheckInUnverified: 5, dwell.EventRepSilent: 6,
}

// ended reports whether a visit of day d that ends at end has ended: the
// day goes on SettleAfter past it, or a stop elsewhere (a visit or idle
// segment) begins after it, reached by travel or followed by more of the
// day; but not while the day is paused from end to its end (tracking
// paused at the client: a resume there keeps one visit).
func ended(d *timeline.Day, end time.Time) bool {
	if !end.Before(d.End) {
		return false
	}
	// Paused from the end on, to the end of what is known: the rep may
	// resume at the same client, and the pause is then inside one visit.
	if pausedAfter(d, end) {
		return false
	}
	if d.End.Sub(end) >= SettleAfter {
		return true
	}
	// A stop elsewhere counts once the rep travelled to it, or once it is
	// followed by more of the day: an open last stop right at the visit's
	// end may yet turn out to be the same visit, seen through a few noisy
	// indoor fixes.
	travelled := false
	for i, s := range d.Segments {
		if s.Start.Before(end) {
			continue
		}
		switch s.Kind {
		case timeline.KindTravel:
			travelled = true
		case timeline.KindVisit, timeline.KindIdle:
			if travelled || i < len(d.Segments)-1 {
				return true
			}
		}
	}
	return false
}

// pausedAfter reports whether d is paused from end on
// (timeline.PausedAfter): every segment from end on is PAUSED, or
// OFF_HOURS (a pause across a split shift's break), or the short GAP
// between the last fix and a pause (the rep paused where it was).
func pausedAfter(d *timeline.Day, end time.Time) bool {
	return timeline.PausedAfter(d.Segments, end)
}

// overlap reports whether the closed intervals [a0, a1] and [b0, b1] meet.
func overlap(a0, a1, b0, b1 time.Time) bool { return !a0.After(b1) && !b0.After(a1) }

func unverified(v dwell.Verification) bool {
	return v != dwell.VerificationUnspecified && v != dwell.VerificationVerified
}

// checkInID names a check-in by its request id, or by client and time when
// it has none.
func checkInID(c timeline.CheckInResult) string {
	if c.RequestID != "" {
		return "rid:" + c.RequestID
	}
	return "at:" + string(c.Client) + "@" + stamp(c.Time)
}

func stamp(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

// Key returns the key of a fact: its type, rep, client and anchor (what
// names it among the rep's facts of that type and client), joined by
// '|'. Ids cannot contain '|' (dwell.ValidateID), so keys of different
// facts differ; the event log is per tenant, so keys need not name it.
func Key(t dwell.EventType, rep dwell.RepID, client dwell.ClientID, anchor string) string {
	return t.String() + "|" + string(rep) + "|" + string(client) + "|" + anchor
}

// SilenceKey returns the key of a REP_SILENT event for a silence that
// began after the fix at lastFix: one event per silence, however often the
// sweeper looks.
func SilenceKey(rep dwell.RepID, lastFix time.Time) string {
	return Key(dwell.EventRepSilent, rep, "", stamp(lastFix))
}
