package kpi

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// part is what Compute reads of a day: the day's sums, and of its records
// only what the joins need (each visit's client and span, the follow-ups,
// the calls' clients and starts). It is encoded at the front of a summary
// so that a team query decodes it and skips the full records.
//
// The visits and calls name their client by an index into clients, a
// table shared by the days decoded together (a rep's, by DecodeSummaries):
// Compute then resolves each client of a rep once (its wins, whether a
// join asks about it) instead of hashing a client id per visit, which
// cost more than the rest of the KPIs over a team month.
type part struct {
	visits, prospects, customers, customerVisits int
	prospectS, customerS                         int64
	hist                                         [5]int
	calls, connected, customerCalls              int
	talk                                         int64
	checkOuts, withOutcome, rejections, positive int
	// noMeeting counts the check-outs with an outcome that are of no
	// meeting (meetingOutcomes, lateMeetings): KPIs 6 and 7 leave them
	// out. Compute sums it; a day's own part leaves it 0 and keeps those
	// check-outs in loose.
	noMeeting int
	reasons   [dwell.RejectionOther + 1]int
	// loose are the day's check-outs with an outcome that closed no
	// check-in of the day and were made before any visit of their client
	// that day (meetingOutcomes), in time order. One may be the outcome
	// of a meeting of the day before, the rep gone from the client before
	// midnight (lateMeetings), else of its fallback meeting of the day,
	// if any: Compute decides, as it reads the day before.
	loose []looseOut
	// lateCloses are the request ids of the next day's check-outs that
	// closed a check-in of the day (timeline.Input); lateKnown reports
	// that they are known (summary format 8 and later).
	lateCloses []string
	lateKnown  bool
	// tails are, of each client, the end of its last visit of the day
	// when no check-out of the day is of it, but for a loose one whose
	// fallback meeting it is (visitEnd.by), and no check-in of it was
	// closed (meetingOutcomes), by client (summary format 9 and later):
	// a check-out of the next day may be its outcome (lateMeetings).
	tails     []visitEnd
	clients   *clientTable
	spans     []clientSpan
	followUps []followUp
	callAt    []clientAt
	// carryOut reports that the day's last visit runs to the day's end
	// (nothing but paused or off-hours time after it), carryIn that its
	// first visit begins the day (nothing but that before it), and
	// carryInCustomer that this first visit is at a customer. A first
	// visit that begins its day at the client of the day before's last
	// visit, which ran to that day's end, at most timeline.StayGapMax
	// after it ended, carries that stay on: one meeting across the rep's
	// midnight, as package events tells it ("Across midnight"), which
	// Compute counts once (continues).
	carryOut, carryIn, carryInCustomer bool
}

// clientSpan is a visit's client (an index into part.clients), time
// (Unix nanoseconds, which are smaller and quicker to compare than
// time.Time) and the nanoseconds within it that its length leaves out:
// paused and off hours (timeline.Visit.Paused and OffHours), which never
// overlap.
type clientSpan struct {
	client                int32
	start, end, untracked int64
}

// followUp is a FOLLOW_UP check-out.
type followUp struct {
	client dwell.ClientID
	at     time.Time
	due    dwell.Date
}

// looseOut is a check-out with an outcome that is of no meeting of its
// day: its request id, outcome and rejection reason, and its client,
// time and follow-up day as a followUp.
type looseOut struct {
	requestID string
	outcome   dwell.Outcome
	reason    dwell.RejectionReason
	fu        followUp
	// fallback tells which meeting of its own day it is of when it is of
	// none of the day before (fallbackNone...).
	fallback uint8
}

// visitEnd is the end of a client's last visit of a day (part.tails).
type visitEnd struct {
	client dwell.ClientID
	end    time.Time
	// by is the request id of the day's loose check-out whose fallback
	// meeting the visit is (fallbackOwn), empty if none (summary format
	// 10 and later): the visit has no outcome, and a check-out of the
	// next day may be its, only if that check-out turns out to be of a
	// meeting of the day before (lateMeetings), which Compute decides as
	// it reads that day.
	by string
}

// clientAt is a call's client (an index into part.clients) and start (Unix
// nanoseconds).
type clientAt struct {
	client int32
	at     int64
}

// clientTable lists the clients of one or more parts' visits and calls,
// each once.
type clientTable struct {
	ids []dwell.ClientID
	// idx indexes ids once there are more than a few; until then they are
	// searched in order (a day names a handful of clients).
	idx map[string]int32
}

// clientTableScan is how many clients a table holds before it indexes them.
const clientTableScan = 8

// find returns the index of id, if the table holds it.
func (t *clientTable) find(id string) (int32, bool) {
	if t.idx != nil {
		i, ok := t.idx[id]
		return i, ok
	}
	for i, x := range t.ids {
		if string(x) == id {
			return int32(i), true
		}
	}
	return 0, false
}

// add returns the index of id, adding it if new.
func (t *clientTable) add(id string) int32 {
	if i, ok := t.find(id); ok {
		return i
	}
	i := int32(len(t.ids))
	t.ids = append(t.ids, dwell.ClientID(id))
	switch {
	case t.idx != nil:
		t.idx[id] = i
	case len(t.ids) > clientTableScan:
		t.idx = make(map[string]int32, 2*len(t.ids))
		for j, x := range t.ids {
			t.idx[string(x)] = int32(j)
		}
	}
	return i
}

// part returns d's part, computing it from the records the first time (a
// Day built in memory); a decoded Day has it already. It is not safe for
// concurrent first use.
func (d *Day) part() *part {
	if d.p == nil {
		d.p = computePart(d)
		d.lastDue = d.p.lastDue()
	}
	return d.p
}

// lastDue returns the latest due day of p's follow-ups, and of its loose
// check-outs' (which may be a meeting's, lateMeetings), zero if none.
func (p *part) lastDue() dwell.Date {
	var last dwell.Date
	for _, f := range p.followUps {
		if last.Before(f.due) {
			last = f.due
		}
	}
	for _, o := range p.loose {
		if o.outcome == dwell.OutcomeFollowUp && last.Before(o.fu.due) {
			last = o.fu.due
		}
	}
	return last
}

// count counts one meeting's outcome o, rejected for reason r, and its
// follow-up fu (FOLLOW_UP) if keep.
func (p *part) count(o dwell.Outcome, r dwell.RejectionReason, fu followUp, keep bool) {
	p.withOutcome++
	switch o {
	case dwell.OutcomeRejected:
		p.rejections++
		if r >= 0 && int(r) < len(p.reasons) {
			p.reasons[r]++
		}
	case dwell.OutcomePositive:
		p.positive++
	case dwell.OutcomeFollowUp:
		if keep {
			p.followUps = append(p.followUps, fu)
		}
	}
}

// lateMeetings returns the loose check-outs of p (a day's part) that
// KPIs 6 and 7 count: the outcomes of meetings of the day before (prev,
// nil if not read) and of the day's own. A loose check-out is of a
// meeting of the day before, the rep having left the client before
// midnight, when it closed a check-in of that day (prev.lateCloses),
// when that day's last visit of its client, of which no check-out of
// that day is, ended at most timeline.StayGapMax before it (prev.tails:
// a visit without check-in checked out after midnight; a loose
// check-out of that day whose fallback meeting that visit is leaves it
// without an outcome only if prevBefore reports it of a meeting of the
// day before that day, else it is that visit's outcome), or when that
// day's summary does not tell its late check-outs (format 7 and older:
// it is counted, as format 7 did); a later one of the same client at
// most timeline.StayGapMax after it is that meeting's too (a double
// tap: the latest counts). Else it is of its fallback meeting of its own
// day (the first visit of its client after it): counted if it is that
// meeting's outcome, not if a later check-out is. none counts the
// others, of no meeting; before lists the request ids of the loose
// check-outs of a meeting of the day before (what prevBefore reports of
// prev's, for the day after).
func lateMeetings(p, prev *part, prevBefore func(requestID string) bool) (outs []*looseOut, none int, before []string) {
	type closing struct {
		i  int       // the meeting's index in outs
		at time.Time // the time of the check-out that closed it
	}
	var at map[dwell.ClientID]closing
	for i := range p.loose {
		o := &p.loose[i]
		if c, ok := at[o.fu.client]; ok && o.fu.at.Sub(c.at) <= timeline.StayGapMax {
			outs[c.i] = o
			before = append(before, o.requestID)
			continue
		}
		if prev.closesLate(o, prevBefore) {
			if at == nil {
				at = map[dwell.ClientID]closing{}
			}
			at[o.fu.client] = closing{len(outs), o.fu.at}
			outs = append(outs, o)
			before = append(before, o.requestID)
			continue
		}
		switch o.fallback {
		case fallbackOwn:
			outs = append(outs, o)
		case fallbackNone:
			none++
		}
	}
	return outs, none, before
}

// closesLate reports whether loose check-out o of the next day is of a
// meeting of p, the day before (lateMeetings); p nil is a day not read.
// before reports whether a loose check-out of p, by request id, is of a
// meeting of the day before p (nil: none is, that day not read): a tail
// of p whose fallback check-out (visitEnd.by) is not is that check-out's
// meeting, with an outcome.
func (p *part) closesLate(o *looseOut, before func(requestID string) bool) bool {
	if p == nil {
		return false
	}
	if !p.lateKnown || slices.Contains(p.lateCloses, o.requestID) {
		return true
	}
	return slices.ContainsFunc(p.tails, func(e visitEnd) bool {
		return e.client == o.fu.client && !o.fu.at.Before(e.end) && o.fu.at.Sub(e.end) <= timeline.StayGapMax &&
			(e.by == "" || before != nil && before(e.by))
	})
}

func computePart(d *Day) *part {
	p := &part{visits: len(d.Visits), calls: len(d.Calls), checkOuts: len(d.CheckOuts), clients: &clientTable{}}
	if len(d.Visits) > 0 {
		p.spans = make([]clientSpan, len(d.Visits))
	}
	for i, v := range d.Visits {
		dur := v.Duration()
		if v.Kind == dwell.ClientKindCustomer {
			p.customerS += int64(dur / time.Second)
			p.customers++
			p.customerVisits++
		} else {
			p.prospectS += int64(dur / time.Second)
			p.prospects++
		}
		p.hist[histBucket(int64(dur))]++
		p.spans[i] = clientSpan{p.clients.add(string(v.Client)), v.Start.UnixNano(), v.End.UnixNano(), int64(v.Paused + v.OffHours)}
	}
	for _, c := range d.Calls {
		if c.Outcome == dwell.CallConnected {
			p.connected++
			p.talk += c.TalkSeconds
		}
		if c.Kind == dwell.ClientKindCustomer {
			p.customerCalls++
		}
		p.callAt = append(p.callAt, clientAt{p.clients.add(string(c.Client)), c.StartTime.UnixNano()})
	}
	// A day without segments (built by hand) tells nothing of its ends.
	if n := len(d.Visits); n > 0 && len(d.Segments) > 0 {
		p.carryOut = timeline.PausedAfter(d.Segments, d.Visits[n-1].End)
		p.carryIn = !d.Visits[0].Start.Before(d.Start) && timeline.PausedBefore(d.Segments, d.Visits[0].Start)
		p.carryInCustomer = p.carryIn && d.Visits[0].Kind == dwell.ClientKindCustomer
	}
	m := meetingOutcomes(d)
	for _, co := range m.outs {
		p.count(co.Outcome, co.RejectionReason, followUp{co.Client, co.Time, co.FollowUpDate}, true)
	}
	for i, co := range m.loose {
		p.loose = append(p.loose, looseOut{co.RequestID, co.Outcome, co.RejectionReason, followUp{co.Client, co.Time, co.FollowUpDate}, m.fallback[i]})
	}
	p.tails, p.lateKnown = m.tails, true
	// A check-in closed by a check-out that is not the day's was closed
	// by one of the next day's (Summarize's laterOuts).
	for _, ci := range d.CheckIns {
		if id := ci.CheckOutRequestID; id != "" && !slices.ContainsFunc(d.CheckOuts, func(co CheckOut) bool { return co.RequestID == id }) {
			p.lateCloses = append(p.lateCloses, id)
		}
	}
	return p
}

// meetingKey names a meeting of a day: a check-in (checkIn, whether or not
// a visit backs it), or, for a visit that no check-in began, that visit
// (an index into Day.Visits; checkIn empty).
type meetingKey struct {
	visit   int
	checkIn string
}

// The meetings of its own day a loose check-out is of when it is of no
// meeting of the day before (looseOut.fallback, lateMeetings).
const (
	// fallbackNone: no visit of its client that day after it either.
	fallbackNone = iota
	// fallbackTaken: the meeting of the visit of its client after it,
	// which a later check-out gave its outcome (the latest counts).
	fallbackTaken
	// fallbackOwn: the meeting of the visit of its client after it,
	// whose outcome it is.
	fallbackOwn
)

// meetings is what meetingOutcomes finds of a day's check-outs.
type meetings struct {
	// outs are the check-outs with an outcome that KPIs 6 and 7 count, one
	// per meeting of the day, in the order of each meeting's first
	// check-out.
	outs []*CheckOut
	// loose are the check-outs with an outcome made before any visit of
	// their client that day, and of no check-in of the day, in time order,
	// with their fallback (fallbackNone...).
	loose    []*CheckOut
	fallback []uint8
	// tails are, of each client, the end of its last visit of the day
	// when no check-out of the day is of that visit's meetings, but for a
	// loose one whose fallback meeting it is (visitEnd.by).
	tails []visitEnd
}

// meetingOutcomes returns the check-outs of d with an outcome by meeting.
// A check-out that closed a check-in of the day
// (timeline.CheckInResult.CheckOutRequestID) is of that check-in's
// meeting, whether a visit backs it or not (the fixes put the rep
// elsewhere): two meetings with one client in one stay, each with its
// own check-in and check-out, are two. One that closed none is, in this
// order: of the meeting of the check-out of its client before it, if at
// most timeline.StayGapMax before and with no check-in of that client
// between (a double tap, a correction); loose if no visit of its client
// that day begins at or before it (it may be of a meeting of the day
// before: lateMeetings, else of the first visit of its client after it,
// its fallback); else of the visit of its client nearest to it in time
// (the one it was made in, if any; ties to the earlier): of the latest
// check-in of that client made within that visit before it, else of
// the visit's own check-in, else of the visit. Of a meeting's check-outs
// the latest counts (by time, then request id), so a correction wins.
func meetingOutcomes(d *Day) meetings {
	var m meetings
	var order []int
	for i := range d.CheckOuts {
		if d.CheckOuts[i].Outcome != dwell.OutcomeUnspecified {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		m.tails = tails(d, nil, nil)
		return m
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ca, cb := &d.CheckOuts[a], &d.CheckOuts[b]
		if c := ca.Time.Compare(cb.Time); c != 0 {
			return c
		}
		return strings.Compare(ca.RequestID, cb.RequestID)
	})
	closed := make(map[string]*timeline.CheckInResult, len(d.CheckIns))
	for i := range d.CheckIns {
		if ci := &d.CheckIns[i]; ci.CheckOutRequestID != "" {
			closed[ci.CheckOutRequestID] = ci
		}
	}
	// keyIn returns the meeting of visit i that a check-out at t that
	// closed no check-in is of.
	keyIn := func(i int, t time.Time) meetingKey {
		v := &d.Visits[i]
		last := ""
		var lastAt time.Time
		for j := range d.CheckIns {
			ci := &d.CheckIns[j]
			if ci.Client == v.Client && !ci.Time.Before(v.Start) && !ci.Time.After(t) && !ci.Time.After(v.End) && !ci.Time.Before(lastAt) {
				last, lastAt = ci.RequestID, ci.Time
			}
		}
		if last == "" {
			last = v.CheckInRequestID
		}
		if last != "" {
			return meetingKey{visit: -1, checkIn: last}
		}
		return meetingKey{visit: i}
	}
	type previous struct {
		at    time.Time
		key   meetingKey
		loose int // its index in m.loose, -1 if not loose
	}
	prev := map[dwell.ClientID]previous{}
	at := make(map[meetingKey]int, len(order)) // a meeting's index in m.outs
	looseKey := map[meetingKey]int{}           // a fallback meeting's latest loose check-out
	var keys []meetingKey                      // the loose check-outs' fallback meetings
	counted := map[int]bool{}                  // the visits a meeting with an outcome is of
	var fallbackOf map[int]string              // the visits a loose check-out alone gave an outcome, its request id
	visitOf := func(k meetingKey) int {
		if k.checkIn == "" {
			return k.visit
		}
		for i := range d.Visits {
			if d.Visits[i].CheckInRequestID == k.checkIn {
				return i
			}
		}
		for i := range d.CheckIns {
			if ci := &d.CheckIns[i]; ci.RequestID == k.checkIn {
				for j := range d.Visits {
					if v := &d.Visits[j]; v.Client == ci.Client && !ci.Time.Before(v.Start) && !ci.Time.After(v.End) {
						return j
					}
				}
			}
		}
		return -1
	}
	for _, i := range order {
		co := &d.CheckOuts[i]
		var k meetingKey
		looseAt := -1
		if ci, ok := closed[co.RequestID]; ok && co.RequestID != "" {
			k = meetingKey{visit: -1, checkIn: ci.RequestID}
		} else if p, ok := prev[co.Client]; ok && co.Time.Sub(p.at) <= timeline.StayGapMax && !meetingBetween(d, co.Client, p.at, co.Time) {
			k, looseAt = p.key, p.loose
		} else {
			best, bestGap, before := -1, time.Duration(0), false
			for j := range d.Visits {
				v := &d.Visits[j]
				if v.Client != co.Client {
					continue
				}
				var gap time.Duration
				switch {
				case co.Time.Before(v.Start):
					gap = v.Start.Sub(co.Time)
				case co.Time.After(v.End):
					gap = co.Time.Sub(v.End)
				}
				before = before || !v.Start.After(co.Time)
				if best < 0 || gap < bestGap {
					best, bestGap = j, gap
				}
			}
			switch {
			case best < 0:
				k, looseAt = meetingKey{visit: -1}, 0
			case !before:
				k, looseAt = keyIn(best, co.Time), 0
			default:
				k = keyIn(best, co.Time)
			}
		}
		if looseAt >= 0 {
			prev[co.Client] = previous{co.Time, k, len(m.loose)}
			m.loose = append(m.loose, co)
			m.fallback = append(m.fallback, fallbackNone)
			keys = append(keys, k)
			looseKey[k] = len(m.loose) - 1
			continue
		}
		prev[co.Client] = previous{co.Time, k, -1}
		if j, seen := at[k]; seen {
			m.outs[j] = co
		} else {
			at[k] = len(m.outs)
			m.outs = append(m.outs, co)
			counted[visitOf(k)] = true
		}
	}
	// A loose check-out's fallback meeting, unless a check-out of the day
	// not loose gave it an outcome, takes the latest loose one's. Its
	// visit keeps its tail, with that check-out's request id: the
	// check-out may turn out to be of a meeting of the day before
	// (lateMeetings), which leaves the visit without an outcome for a
	// check-out of the next day to give.
	for i, k := range keys {
		if k == (meetingKey{visit: -1}) {
			continue
		}
		if _, ok := at[k]; ok || looseKey[k] != i {
			m.fallback[i] = fallbackTaken
			continue
		}
		m.fallback[i] = fallbackOwn
		if id := m.loose[i].RequestID; id != "" {
			if fallbackOf == nil {
				fallbackOf = map[int]string{}
			}
			fallbackOf[visitOf(k)] = id
		} else {
			counted[visitOf(k)] = true
		}
	}
	m.tails = tails(d, counted, fallbackOf)
	return m
}

// tails returns, of each client, the end of its last visit of d if no
// check-out of d is of it (counted, by index into d.Visits), but for a
// loose one whose fallback meeting it is (fallbackOf, by index into
// d.Visits: its request id, visitEnd.by), and none closed its check-in,
// by client: those that end at most timeline.StayGapMax before the
// day's observed end, as only they can be checked out by a check-out of
// the next day (lateMeetings).
func tails(d *Day, counted map[int]bool, fallbackOf map[int]string) []visitEnd {
	var out []visitEnd
	for i := range d.Visits {
		v := &d.Visits[i]
		if !d.End.IsZero() && d.End.Sub(v.End) > timeline.StayGapMax {
			continue
		}
		j := slices.IndexFunc(out, func(e visitEnd) bool { return e.client == v.Client })
		if counted[i] || v.CheckOutRequestID != "" {
			// A later visit of the client with an outcome leaves it none.
			if j >= 0 {
				out = slices.Delete(out, j, j+1)
			}
			continue
		}
		switch {
		case j < 0:
			out = append(out, visitEnd{v.Client, v.End, fallbackOf[i]})
		case out[j].end.Before(v.End):
			out[j].end, out[j].by = v.End, fallbackOf[i]
		}
	}
	slices.SortFunc(out, func(a, b visitEnd) int { return strings.Compare(string(a.client), string(b.client)) })
	return out
}

// meetingBetween reports whether d has a check-in of client c, or a visit
// of c begins, after from and at or before to: a meeting begun between
// two check-outs.
func meetingBetween(d *Day, c dwell.ClientID, from, to time.Time) bool {
	in := func(t time.Time) bool { return t.After(from) && !t.After(to) }
	return slices.ContainsFunc(d.CheckIns, func(ci timeline.CheckInResult) bool { return ci.Client == c && in(ci.Time) }) ||
		slices.ContainsFunc(d.Visits, func(v Visit) bool { return v.Client == c && in(v.Start) })
}

// histBucket returns the histogram bucket of a visit of n nanoseconds.
func histBucket(n int64) int {
	return sort.SearchFloat64s(histogramBoundsMin[:], time.Duration(n).Minutes()+1e-9)
}

// continues reports whether p's first visit carries on the meeting of
// prev's last (see part.carryOut), prev being the part of the day before:
// same client, and the first begins at most timeline.StayGapMax after the
// last ends: the bound package events tells one stay across midnight by.
func (p *part) continues(prev *part) bool {
	if !p.carryIn || prev == nil || !prev.carryOut || len(p.spans) == 0 || len(prev.spans) == 0 {
		return false
	}
	first, last := p.spans[0], prev.spans[len(prev.spans)-1]
	return first.start-last.end <= int64(timeline.StayGapMax) && p.clients.ids[first.client] == prev.clients.ids[last.client]
}

// add adds o's counts and sums to p; the records (clients, spans,
// follow-ups, calls) stay p's.
func (p *part) add(o *part) {
	p.visits += o.visits
	p.prospects += o.prospects
	p.customers += o.customers
	p.customerVisits += o.customerVisits
	p.prospectS += o.prospectS
	p.customerS += o.customerS
	for i := range p.hist {
		p.hist[i] += o.hist[i]
	}
	p.calls += o.calls
	p.connected += o.connected
	p.customerCalls += o.customerCalls
	p.talk += o.talk
	p.checkOuts += o.checkOuts
	p.withOutcome += o.withOutcome
	p.rejections += o.rejections
	p.positive += o.positive
	p.noMeeting += o.noMeeting
	for i := range p.reasons {
		p.reasons[i] += o.reasons[i]
	}
}

func (w *writer) part(p *part, version byte) {
	for _, x := range []int{p.visits, p.prospects, p.customers, p.customerVisits, p.calls, p.connected, p.customerCalls,
		p.checkOuts, p.withOutcome, p.rejections, p.positive} {
		w.uint(uint64(x))
	}
	w.int(p.prospectS)
	w.int(p.customerS)
	w.int(p.talk)
	for _, x := range p.hist {
		w.uint(uint64(x))
	}
	for _, x := range p.reasons {
		w.uint(uint64(x))
	}
	w.uint(uint64(len(p.spans)))
	for _, s := range p.spans {
		w.str(string(p.clients.ids[s.client]))
		w.int(s.start)
		w.int(s.end)
		if version >= summaryV3 {
			w.int(s.untracked)
		}
	}
	w.uint(uint64(len(p.followUps)))
	for _, f := range p.followUps {
		w.str(string(f.client))
		w.time(f.at)
		w.uint(uint64(f.due.Year))
		w.uint(uint64(f.due.Month))
		w.uint(uint64(f.due.Day))
	}
	w.uint(uint64(len(p.callAt)))
	for _, c := range p.callAt {
		w.str(string(p.clients.ids[c.client]))
		w.int(c.at)
	}
	if version >= summaryV6 {
		var f uint64
		for i, b := range []bool{p.carryOut, p.carryIn, p.carryInCustomer} {
			if b {
				f |= 1 << i
			}
		}
		w.uint(f)
	}
	if version >= summaryV8 {
		w.uint(uint64(len(p.loose)))
		for _, o := range p.loose {
			w.str(o.requestID)
			w.uint(uint64(o.outcome))
			w.uint(uint64(o.reason))
			w.str(string(o.fu.client))
			w.time(o.fu.at)
			w.uint(uint64(o.fu.due.Year))
			w.uint(uint64(o.fu.due.Month))
			w.uint(uint64(o.fu.due.Day))
		}
		w.uint(uint64(len(p.lateCloses)))
		for _, id := range p.lateCloses {
			w.str(id)
		}
	}
	if version >= summaryV9 {
		for _, o := range p.loose {
			w.uint(uint64(o.fallback))
		}
		// Before version 10 a visit that a loose check-out gave an
		// outcome had no tail.
		tails := p.tails
		if version < summaryV10 {
			tails = slices.DeleteFunc(slices.Clone(tails), func(e visitEnd) bool { return e.by != "" })
		}
		w.uint(uint64(len(tails)))
		for _, e := range tails {
			w.str(string(e.client))
			w.time(e.end)
			if version >= summaryV10 {
				w.str(e.by)
			}
		}
	}
}

// part reads a part written in the summary format version.
func (r *reader) part(p *part, a *arena, version byte) {
	p.clients = a.clients
	if p.clients == nil {
		p.clients = &clientTable{}
	}
	for _, x := range []*int{&p.visits, &p.prospects, &p.customers, &p.customerVisits, &p.calls, &p.connected, &p.customerCalls,
		&p.checkOuts, &p.withOutcome, &p.rejections, &p.positive} {
		*x = int(r.uint())
	}
	p.prospectS, p.customerS, p.talk = r.int(), r.int(), r.int()
	for i := range p.hist {
		p.hist[i] = int(r.uint())
	}
	for i := range p.reasons {
		p.reasons[i] = int(r.uint())
	}
	if n := r.count(); n > 0 {
		p.spans = take(&a.spans, n)
		for i := range p.spans {
			p.spans[i] = clientSpan{client: r.client(p.clients), start: r.int(), end: r.int()}
			if version >= summaryV3 {
				p.spans[i].untracked = r.int()
			}
		}
	}
	if n := r.count(); n > 0 {
		p.followUps = make([]followUp, n)
		for i := range p.followUps {
			p.followUps[i] = followUp{client: dwell.ClientID(r.str()), at: r.time(),
				due: dwell.Date{Year: int(r.uint()), Month: time.Month(r.uint()), Day: int(r.uint())}}
		}
	}
	if n := r.count(); n > 0 {
		p.callAt = take(&a.callAt, n)
		for i := range p.callAt {
			p.callAt[i] = clientAt{r.client(p.clients), r.int()}
		}
	}
	// Before version 6 the ends were not told: such a day's visits are
	// each a meeting.
	p.carryOut, p.carryIn, p.carryInCustomer = false, false, false
	if version >= summaryV6 {
		f := r.uint()
		p.carryOut, p.carryIn, p.carryInCustomer = f&1 != 0, f&2 != 0, f&4 != 0
	}
	// Before version 8 every check-out with an outcome was counted (see
	// summaryV8): none was loose, and the next day's late check-outs are
	// not told. Before version 9 a loose check-out had no fallback and no
	// tails were told. Before version 10 a visit that a loose check-out
	// gave an outcome had no tail, so none has a fallback check-out.
	p.noMeeting, p.loose, p.lateCloses, p.lateKnown, p.tails = 0, nil, nil, version >= summaryV8, nil
	if version >= summaryV8 {
		if n := r.count(); n > 0 {
			p.loose = make([]looseOut, n)
			for i := range p.loose {
				o := &p.loose[i]
				o.requestID, o.outcome, o.reason = r.str(), dwell.Outcome(r.uint()), dwell.RejectionReason(r.uint())
				o.fu = followUp{client: dwell.ClientID(r.str()), at: r.time(),
					due: dwell.Date{Year: int(r.uint()), Month: time.Month(r.uint()), Day: int(r.uint())}}
			}
		}
		if n := r.count(); n > 0 {
			p.lateCloses = make([]string, n)
			for i := range p.lateCloses {
				p.lateCloses[i] = r.str()
			}
		}
	}
	if version >= summaryV9 {
		for i := range p.loose {
			p.loose[i].fallback = uint8(r.uint())
		}
		if n := r.count(); n > 0 {
			p.tails = make([]visitEnd, n)
			for i := range p.tails {
				p.tails[i] = visitEnd{client: dwell.ClientID(r.str()), end: r.time()}
				if version >= summaryV10 {
					p.tails[i].by = r.str()
				}
			}
		}
	}
}

// client reads a client id and returns its index in t, adding it if new
// (copied if r interns strings, else sharing the input's memory).
func (r *reader) client(t *clientTable) int32 {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return 0
	}
	b := r.b[:n]
	r.b = r.b[n:]
	if n == 0 {
		return t.add("")
	}
	if i, ok := t.find(unsafe.String(&b[0], n)); ok {
		return i
	}
	if r.strs != nil {
		return t.add(string(b))
	}
	return t.add(unsafe.String(&b[0], n))
}
