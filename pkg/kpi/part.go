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
	// loose are the day's check-outs with an outcome that are of no
	// meeting of the day (meetingOutcomes), in time order. One may close
	// a check-in of the day before, the rep gone from the client before
	// midnight: Compute counts it as that meeting's outcome when the day
	// before names it in lateCloses (lateMeetings).
	loose []looseOut
	// lateCloses are the request ids of the next day's check-outs that
	// closed a check-in of the day (timeline.Input).
	lateCloses []string
	clients    *clientTable
	spans      []clientSpan
	followUps  []followUp
	callAt     []clientAt
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

// lateMeetings returns the loose check-outs of p (a day's part) that are
// the outcome of a meeting of the day before (prev, nil if not read):
// one that closed a check-in of that day (prev.lateCloses), the rep
// having left before midnight, and a later one of the same client at
// most timeline.StayGapMax after it, which is that meeting's too (a
// double tap: the latest counts). none counts the others, of no meeting.
func lateMeetings(p, prev *part) (outs []*looseOut, none int) {
	type closing struct {
		i  int       // the meeting's index in outs
		at time.Time // the time of the check-out that closed it
	}
	var at map[dwell.ClientID]closing
	for i := range p.loose {
		o := &p.loose[i]
		if c, ok := at[o.fu.client]; ok && o.fu.at.Sub(c.at) <= timeline.StayGapMax {
			outs[c.i] = o
			continue
		}
		if prev != nil && slices.Contains(prev.lateCloses, o.requestID) {
			if at == nil {
				at = map[dwell.ClientID]closing{}
			}
			at[o.fu.client] = closing{len(outs), o.fu.at}
			outs = append(outs, o)
			continue
		}
		none++
	}
	return outs, none
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
	outs, loose := meetingOutcomes(d)
	for _, co := range outs {
		p.count(co.Outcome, co.RejectionReason, followUp{co.Client, co.Time, co.FollowUpDate}, true)
	}
	for _, co := range loose {
		p.loose = append(p.loose, looseOut{co.RequestID, co.Outcome, co.RejectionReason, followUp{co.Client, co.Time, co.FollowUpDate}})
	}
	// A check-in closed by a check-out that is not the day's was closed
	// by one of the next day's (Summarize's laterOuts).
	for _, ci := range d.CheckIns {
		if id := ci.CheckOutRequestID; id != "" && !slices.ContainsFunc(d.CheckOuts, func(co CheckOut) bool { return co.RequestID == id }) {
			p.lateCloses = append(p.lateCloses, id)
		}
	}
	return p
}

// meetingKey names a meeting of a day: one of its visits (an index into
// Day.Visits), or, for a check-in that no visit backs (the fixes put the
// rep elsewhere), that check-in (visit -1).
type meetingKey struct {
	visit   int
	checkIn string
}

// meetingOutcomes returns the check-outs of d with an outcome that KPIs 6
// and 7 count, one per meeting, and how many are of no meeting. A
// check-out is of the meeting of the check-in it closed
// (timeline.CheckInResult.CheckOutRequestID): the visit that check-in
// began, else the visit of its client it was made in, else the check-in
// itself (a meeting the rep claimed and the fixes do not back). A
// check-out that closed no check-in is of the visit of its client that
// day nearest to it in time (the one it was made in, if any; ties to the
// earlier). A check-out tapped again for one meeting (a new request id,
// as a double tap sends) is one outcome: of a meeting's check-outs the
// latest counts (by time, then request id), so a correction wins. A
// check-out with no check-in and no visit of its client that day (a rep
// who never met the client that day, or one who left it before midnight
// and closes a check-in of the day before: lateMeetings) is of no
// meeting of the day: loose, in time order. outs are in the order of
// each meeting's first check-out.
func meetingOutcomes(d *Day) (outs, loose []*CheckOut) {
	var order []int
	for i := range d.CheckOuts {
		if d.CheckOuts[i].Outcome != dwell.OutcomeUnspecified {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return nil, nil
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
	at := make(map[meetingKey]int, len(order)) // a meeting's index in outs
	for _, i := range order {
		co := &d.CheckOuts[i]
		k, ok := meetingOf(d, co, closed)
		switch j, seen := at[k]; {
		case !ok:
			loose = append(loose, co)
		case seen:
			outs[j] = co
		default:
			at[k] = len(outs)
			outs = append(outs, co)
		}
	}
	return outs, loose
}

// meetingOf returns the meeting of d that check-out co is of, if any
// (meetingOutcomes); closed maps a check-out's request id to the check-in
// it closed.
func meetingOf(d *Day, co *CheckOut, closed map[string]*timeline.CheckInResult) (meetingKey, bool) {
	if ci, ok := closed[co.RequestID]; ok && co.RequestID != "" {
		for i := range d.Visits {
			if d.Visits[i].CheckInRequestID == ci.RequestID {
				return meetingKey{visit: i}, true
			}
		}
		for i := range d.Visits {
			if v := &d.Visits[i]; v.Client == ci.Client && !ci.Time.Before(v.Start) && !ci.Time.After(v.End) {
				return meetingKey{visit: i}, true
			}
		}
		return meetingKey{visit: -1, checkIn: ci.RequestID}, true
	}
	best, bestGap := -1, time.Duration(0)
	for i := range d.Visits {
		v := &d.Visits[i]
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
		if best < 0 || gap < bestGap {
			best, bestGap = i, gap
		}
	}
	return meetingKey{visit: best}, best >= 0
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
	// summaryV8): none was loose.
	p.noMeeting, p.loose, p.lateCloses = 0, nil, nil
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
