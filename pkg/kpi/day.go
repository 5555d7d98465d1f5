package kpi

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unsafe"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// Day is the summary of one rep-day: what the KPIs and breakdowns need of
// it, and enough of its derived timeline (segments, visits, check-in
// verdicts, totals, flags) to rebuild a *timeline.Day for listeners that
// compare a day before and after new data. The server keeps one per
// rep-day with data, re-derived whenever the day's data changes.
type Day struct {
	Rep  dwell.RepID
	Date dwell.Date
	// p is what Compute reads (part.go); lastDue is the latest due day of
	// its follow-ups (zero if none), set with p and kept beside Date, so
	// that a KPI range's look-back skips a day without reading its part.
	p       *part
	lastDue dwell.Date
	// Totals are the day's seconds per segment kind, visits split by the
	// client's kind when the day was derived.
	Totals Totals
	// Start and End bound the observed span; zero if no usable fix.
	Start, End time.Time
	Segments   []timeline.Segment
	Visits     []Visit
	CheckIns   []timeline.CheckInResult
	// CheckOuts and Calls are the day's records (by device time in the
	// rep's zone), with the client's kind when the day was derived.
	CheckOuts []CheckOut
	Calls     []Call
	Flags     timeline.Flags
	// FixCount is the number of fixes the day was derived from.
	FixCount int
	// IdleSegments is the number of IDLE segments (KPI 1's records), kept
	// apart so the KPIs need not decode the segments.
	IdleSegments int
	// OpenPause is the derived day's timeline.Day.OpenPause: its last
	// pause had no resume and no fix after it when it was derived.
	OpenPause bool
	// OpenFrom is, for a day whose open pause (OpenPause) ran to the end
	// of the day (or of its last working-hours window) when it was
	// derived, no fix having ended it, the start of the day's last
	// segment: PAUSED, from OpenFrom to End (timeline.Day.OpenPauseFrom,
	// which Summarize copies). Zero otherwise, and in summaries of
	// versions before 7. PausedUntil reads it.
	OpenFrom time.Time
}

// Totals are seconds per segment kind and metres travelled.
type Totals struct {
	VisitProspectS, VisitCustomerS, IdleS, TravelS, GapS int64
	// PausedS is the seconds the rep paused tracking: not field time.
	PausedS int64
	// DistanceM is the sum of the travel segments' distances in metres.
	DistanceM float64
}

// Add adds o to t.
func (t *Totals) Add(o Totals) {
	t.VisitProspectS += o.VisitProspectS
	t.VisitCustomerS += o.VisitCustomerS
	t.IdleS += o.IdleS
	t.TravelS += o.TravelS
	t.GapS += o.GapS
	t.PausedS += o.PausedS
	t.DistanceM += o.DistanceM
}

// FieldS returns the seconds of the observed span: visit, idle, travel and
// gap time. Paused time is the rep's own, not field time.
func (t Totals) FieldS() int64 {
	return t.VisitProspectS + t.VisitCustomerS + t.IdleS + t.TravelS + t.GapS
}

// Visit is one derived visit with its check-in and check-out, if any.
type Visit struct {
	timeline.Visit
	// Kind is the client's kind when the day was derived.
	Kind dwell.ClientKind
	// CheckOutRequestID names the check-out that closed the visit's
	// check-in; Outcome is that check-out's outcome.
	CheckOutRequestID string
	Outcome           dwell.Outcome
}

// CheckOut is a check-out as the KPIs read it.
type CheckOut struct {
	RequestID       string
	Client          dwell.ClientID
	Kind            dwell.ClientKind
	Time            time.Time
	Outcome         dwell.Outcome
	FollowUpDate    dwell.Date
	RejectionReason dwell.RejectionReason
}

// Call is a logged call as the KPIs read it.
type Call struct {
	Client      dwell.ClientID
	Kind        dwell.ClientKind
	StartTime   time.Time
	TalkSeconds int64
	Outcome     dwell.CallOutcome
}

// Field reports whether the day is a field day: it has an observed span,
// a visit, a check-out or a call. A span that is all paused time (a rep
// who paused tracking before the day and resumed after it) is not
// observed: the derivation lays PAUSED over the day, but the rep was not
// in the field.
func (d *Day) Field() bool {
	p := d.part()
	observed := !d.Start.IsZero() && (d.Totals.PausedS == 0 || d.Totals.FieldS() > 0)
	return observed || p.visits > 0 || p.checkOuts > 0 || p.calls > 0
}

// Timeline rebuilds the derived timeline the summary was made from. Fix
// flags beyond those kept (mock, impossible speed, outliers, unverified
// check-ins, forgotten check-outs) are all kept, so the result equals the
// derivation's Day.
func (d *Day) Timeline() *timeline.Day {
	td := &timeline.Day{Start: d.Start, End: d.End, Segments: d.Segments, CheckIns: d.CheckIns, Flags: d.Flags, OpenPause: d.OpenPause}
	for _, v := range d.Visits {
		td.Visits = append(td.Visits, v.Visit)
	}
	td.Totals = td.SumTotals()
	return td
}

// PausedUntil returns d as if its open pause ended at t rather than at
// End: the summary of the same derivation with timeline.Input.OpenUntil
// t, for t after OpenFrom and before End (it panics otherwise). Such a
// derivation differs from d's only in the end of the last segment, the
// open pause's, and so in End and the paused seconds (each segment's
// whole seconds, as Summarize counts them); its OpenFrom is zero, since
// the pause no longer runs to the day's end. The server serves a report
// over the day that holds the present so, when d is current and the pause
// has lasted until now (see its refresh.go, liveDay). d is not
// modified; the result shares its records (and segments, but the last).
func (d *Day) PausedUntil(t time.Time) *Day {
	if d.OpenFrom.IsZero() || !t.After(d.OpenFrom) || !t.Before(d.End) {
		panic("kpi: PausedUntil outside the open pause")
	}
	e := *d
	e.Totals.PausedS += int64(t.Sub(d.OpenFrom)/time.Second) - int64(d.End.Sub(d.OpenFrom)/time.Second)
	e.End, e.OpenFrom = t, time.Time{}
	if n := len(d.Segments); n > 0 {
		e.Segments = append(d.Segments[:n-1:n-1], d.Segments[n-1])
		e.Segments[n-1].End = t
	}
	return &e
}

// Summarize builds the summary of a derived day. kind gives a client's
// kind; checkOuts and calls are the day's records. laterOuts are the
// check-outs of the next local day the day was derived with: one may
// close a check-in of the day still open at its end (timeline.Input), and
// the visit of that check-in then carries its outcome; they are not the
// day's records (KPIs 6 and 7 count a check-out on its own day).
func Summarize(rep dwell.RepID, date dwell.Date, day *timeline.Day, fixCount int, checkOuts, laterOuts []dwell.CheckOut, calls []dwell.Call, kind func(dwell.ClientID) dwell.ClientKind) *Day {
	d := &Day{Rep: rep, Date: date, Start: day.Start, End: day.End, Segments: day.Segments, CheckIns: day.CheckIns,
		Flags: day.Flags, FixCount: fixCount, OpenPause: day.OpenPause}
	d.OpenFrom, _ = day.OpenPauseFrom()
	for _, s := range day.Segments {
		secs := int64(s.Duration() / time.Second)
		switch s.Kind {
		case timeline.KindVisit:
			if kind(s.Client) == dwell.ClientKindCustomer {
				d.Totals.VisitCustomerS += secs
			} else {
				d.Totals.VisitProspectS += secs
			}
		case timeline.KindIdle:
			d.Totals.IdleS += secs
			d.IdleSegments++
		case timeline.KindTravel:
			d.Totals.TravelS += secs
			d.Totals.DistanceM += s.DistanceM
		case timeline.KindGap:
			d.Totals.GapS += secs
		case timeline.KindPaused:
			d.Totals.PausedS += secs
		}
	}
	closedBy := make(map[string]string, len(day.CheckIns))
	for _, ci := range day.CheckIns {
		closedBy[ci.RequestID] = ci.CheckOutRequestID
	}
	outcomes := make(map[string]dwell.Outcome, len(checkOuts))
	for _, co := range checkOuts {
		if _, dup := outcomes[co.RequestID]; dup && co.RequestID != "" {
			continue
		}
		outcomes[co.RequestID] = co.Outcome
		d.CheckOuts = append(d.CheckOuts, CheckOut{RequestID: co.RequestID, Client: co.Client, Kind: kind(co.Client), Time: co.Time,
			Outcome: co.Outcome, FollowUpDate: co.FollowUpDate, RejectionReason: co.RejectionReason})
	}
	for _, co := range laterOuts {
		if _, dup := outcomes[co.RequestID]; !dup || co.RequestID == "" {
			outcomes[co.RequestID] = co.Outcome
		}
	}
	for _, v := range day.Visits {
		kv := Visit{Visit: v, Kind: kind(v.Client)}
		if v.CheckInRequestID != "" {
			kv.CheckOutRequestID = closedBy[v.CheckInRequestID]
			if kv.CheckOutRequestID != "" {
				kv.Outcome = outcomes[kv.CheckOutRequestID]
			}
		}
		d.Visits = append(d.Visits, kv)
	}
	for _, c := range calls {
		d.Calls = append(d.Calls, Call{Client: c.Client, Kind: kind(c.Client), StartTime: c.StartTime, TalkSeconds: c.TalkSeconds, Outcome: c.Outcome})
	}
	return d
}

// Version bytes of the two encoded parts of a Day. A summary of version 2
// adds the paused seconds after the other totals; version 3 adds each
// visit's paused time after its outcome; version 4 adds each visit's
// off-hours time (timeline.Visit.OffHours, a split shift's break) after
// its paused time; version 5 adds whether the day's last pause is open
// (Day.OpenPause) after the paused seconds. Versions 1 (written before
// pauses existed), 2, 3 and 4 are still read, as days without pauses,
// without pauses inside visits and without breaks inside visits, and a
// day of version 2 to 4 with paused time as one whose pause may be open:
// a report then derives it again if it holds the present, as it did
// before version 5 told. Version 6 adds, at the end of the part, whether
// the day's last visit runs to its end and its first begins it (part.
// carryOut, carryIn): a summary of an earlier version has each visit a
// meeting of its own. Version 7 adds where the open pause that runs to
// the day's end begins (Day.OpenFrom) after whether it is open: a summary
// of an earlier version has none, and the report derives its day again
// while the pause lasts. Version 8 counts one outcome per meeting in the
// part (meetingOutcomes: a check-out tapped twice for one meeting counts
// once, one with no check-in and no visit of its client that day is of
// no meeting) and adds, at its end, how many check-outs were of no
// meeting: a summary of an earlier version counts every check-out with
// an outcome, as KPIs 6 and 7 did then, and none of no meeting.
// Version 9 keys a meeting by its check-in (two check-ins with one client
// in one visit are two meetings) and adds, at its end, each loose
// check-out's fallback meeting of its day and the ends of the day's last
// visits of each client that no check-out of the day is of
// (part.tails): a summary of version 8 has neither, so a loose check-out
// that closed no check-in of the day before is of no meeting there.
// Version 10 keeps the end of a last visit whose only outcome is a loose
// check-out's, before it (its fallback meeting), with that check-out's
// request id after the end (visitEnd.by): that check-out may be of a
// meeting of the day before, which leaves the visit without an outcome
// for a check-out of the next day to give. A summary of version 9 has no
// such end, so there the next day's check-out is of no meeting.
const (
	summaryV1  = 1
	summaryV2  = 2
	summaryV3  = 3
	summaryV4  = 4
	summaryV5  = 5
	summaryV6  = 6
	summaryV7  = 7
	summaryV8  = 8
	summaryV9  = 9
	summaryV10 = 10
	detailV1   = 1
)

// EncodeSummary returns the compact binary form of the part of d that the
// KPIs, breakdowns and visit listings read (varints, instants as Unix
// nanoseconds): everything but the segments and check-in verdicts, which
// EncodeDetail holds. A team query decodes tens of thousands of
// summaries, so the part it reads is kept small.
func (d *Day) EncodeSummary() []byte { return d.encodeSummary(summaryV10) }

// encodeSummary writes the summary in a version's format: older ones only
// for the tests of their decoding.
func (d *Day) encodeSummary(version byte) []byte {
	var w writer
	w.b = append(w.b, version)
	w.str(string(d.Rep))
	w.uint(uint64(d.Date.Year))
	w.uint(uint64(d.Date.Month))
	w.uint(uint64(d.Date.Day))
	t := d.Totals
	for _, x := range []int64{t.VisitProspectS, t.VisitCustomerS, t.IdleS, t.TravelS, t.GapS} {
		w.int(x)
	}
	if version >= summaryV2 {
		w.int(t.PausedS)
	}
	if version >= summaryV5 {
		w.bool(d.OpenPause)
	}
	if version >= summaryV7 {
		w.time(d.OpenFrom)
	}
	w.float(t.DistanceM)
	w.time(d.Start)
	w.time(d.End)
	w.uint(uint64(d.IdleSegments))
	f := d.Flags
	for _, x := range []int{f.MockFixes, f.ImpossibleSpeedFixes, f.OutlierFixes, f.UnverifiedCheckIns, f.ForgottenCheckOuts, d.FixCount} {
		w.uint(uint64(x))
	}
	w.part(computePart(d), version)
	// The full records follow, after their length, so that a reader of the
	// part alone skips them.
	head := len(w.b)
	w.uint(uint64(len(d.Visits)))
	for _, v := range d.Visits {
		w.str(string(v.Client))
		w.time(v.Start)
		w.time(v.End)
		w.uint(uint64(v.Source))
		w.uint(uint64(v.Verification))
		w.str(v.CheckInRequestID)
		w.uint(uint64(v.Kind))
		w.str(v.CheckOutRequestID)
		w.uint(uint64(v.Outcome))
		if version >= summaryV3 {
			w.int(int64(v.Paused))
		}
		if version >= summaryV4 {
			w.int(int64(v.OffHours))
		}
	}
	w.uint(uint64(len(d.CheckOuts)))
	for _, c := range d.CheckOuts {
		w.str(c.RequestID)
		w.str(string(c.Client))
		w.uint(uint64(c.Kind))
		w.time(c.Time)
		w.uint(uint64(c.Outcome))
		w.uint(uint64(c.FollowUpDate.Year))
		w.uint(uint64(c.FollowUpDate.Month))
		w.uint(uint64(c.FollowUpDate.Day))
		w.uint(uint64(c.RejectionReason))
	}
	w.uint(uint64(len(d.Calls)))
	for _, c := range d.Calls {
		w.str(string(c.Client))
		w.uint(uint64(c.Kind))
		w.time(c.StartTime)
		w.int(c.TalkSeconds)
		w.uint(uint64(c.Outcome))
	}
	full := w.b[head:]
	out := append(w.b[:head:head], binary.AppendUvarint(nil, uint64(len(full)))...)
	return append(out, full...)
}

// EncodeDetail returns the binary form of d's segments and check-in
// verdicts, which with the summary rebuild the derived timeline.
func (d *Day) EncodeDetail() []byte {
	var w writer
	w.b = append(w.b, detailV1)
	w.uint(uint64(len(d.Segments)))
	for _, s := range d.Segments {
		w.uint(uint64(s.Kind))
		w.time(s.Start)
		w.time(s.End)
		w.str(string(s.Client))
		w.uint(uint64(s.Source))
		w.uint(uint64(s.Verification))
		w.float(s.DistanceM)
		w.float(s.Location.Lat)
		w.float(s.Location.Lng)
	}
	w.uint(uint64(len(d.CheckIns)))
	for _, c := range d.CheckIns {
		w.str(c.RequestID)
		w.str(string(c.Client))
		w.time(c.Time)
		w.uint(uint64(c.Verification))
		w.float(c.DistanceM)
		w.str(c.CheckOutRequestID)
	}
	return w.b
}

// ErrCorrupt is the error of DecodeDay on bytes the encoders did not write.
var ErrCorrupt = errors.New("kpi: corrupt day summary")

// DecodeDay decodes a Day from its summary and, if detail is not nil, its
// detail. Corrupt input gives ErrCorrupt, never a panic. The strings of the
// result share memory with summary and detail, which the caller must not
// modify afterwards.
func DecodeDay(summary, detail []byte) (*Day, error) {
	d := &Day{}
	if err := decodeSummary(summary, d, &arena{}, true); err != nil {
		return nil, err
	}
	if detail == nil {
		return d, nil
	}
	if err := decodeDetail(detail, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DecodeSummaries decodes what Compute and Breakdown read of many days'
// summaries (everything but the visit, check-out and call lists, which stay
// nil) into shared backing arrays: a team query decodes tens of thousands,
// and one allocation per day and list would dominate it.
//
// Unlike DecodeDay, the result does not share memory with summaries, which
// may be reused once it returns: strings are copied, each distinct one
// once (a rep's days name the same few clients over and over).
func DecodeSummaries(summaries [][]byte) ([]*Day, error) {
	days := make([]Day, len(summaries))
	parts := make([]part, len(summaries))
	out := make([]*Day, len(summaries))
	a := &arena{strs: map[string]string{}, clients: &clientTable{idx: map[string]int32{}}}
	for i, b := range summaries {
		days[i].p = &parts[i]
		if err := decodeSummary(b, &days[i], a, false); err != nil {
			return nil, err
		}
		out[i] = &days[i]
	}
	return out, nil
}

// DecodeSummariesByRep is DecodeSummaries for each rep's summaries, on up
// to GOMAXPROCS goroutines: days[i] and errs[i] are DecodeSummaries(in[i]).
func DecodeSummariesByRep(in [][][]byte) (days [][]*Day, errs []error) {
	days, errs = make([][]*Day, len(in)), make([]error, len(in))
	forEach(len(in), func(i int) { days[i], errs[i] = DecodeSummaries(in[i]) })
	return days, errs
}

// arena hands out sub-slices of larger arrays.
type arena struct {
	// strs, when not nil, interns the decoded strings: they are copied
	// once each instead of sharing the input's memory.
	strs   map[string]string
	visits []Visit
	cos    []CheckOut
	calls  []Call
	spans  []clientSpan
	callAt []clientAt
	// clients, when not nil, is the client table of every part decoded;
	// else each part gets its own.
	clients *clientTable
}

// take returns n elements of *pool. A full pool is replaced by a new one
// twice as large (64 to 4,096 elements, or n), so a small decode wastes
// little and a large one allocates rarely.
func take[T any](pool *[]T, n int) []T {
	if cap(*pool)-len(*pool) < n {
		*pool = make([]T, 0, max(n, min(2*cap(*pool), 4096), 64))
	}
	l := len(*pool)
	*pool = (*pool)[:l+n]
	return (*pool)[l : l+n : l+n]
}

// decodeSummary decodes a summary into d: the head and part always, the
// full records if full.
func decodeSummary(summary []byte, d *Day, a *arena, full bool) error {
	if len(summary) == 0 || summary[0] < summaryV1 || summary[0] > summaryV10 {
		return ErrCorrupt
	}
	r := reader{b: summary[1:], strs: a.strs}
	d.Rep = dwell.RepID(r.str())
	d.Date = dwell.Date{Year: int(r.uint()), Month: time.Month(r.uint()), Day: int(r.uint())}
	t := &d.Totals
	for _, x := range []*int64{&t.VisitProspectS, &t.VisitCustomerS, &t.IdleS, &t.TravelS, &t.GapS} {
		*x = r.int()
	}
	t.PausedS = 0
	if summary[0] >= summaryV2 {
		t.PausedS = r.int()
	}
	d.OpenPause = t.PausedS > 0
	if summary[0] >= summaryV5 {
		d.OpenPause = r.bool()
	}
	d.OpenFrom = time.Time{}
	if summary[0] >= summaryV7 {
		d.OpenFrom = r.time()
	}
	t.DistanceM = r.float()
	d.Start, d.End = r.time(), r.time()
	d.IdleSegments = int(r.uint())
	f := &d.Flags
	for _, x := range []*int{&f.MockFixes, &f.ImpossibleSpeedFixes, &f.OutlierFixes, &f.UnverifiedCheckIns, &f.ForgottenCheckOuts, &d.FixCount} {
		*x = int(r.uint())
	}
	if d.p == nil {
		d.p = &part{}
	}
	r.part(d.p, a, summary[0])
	d.lastDue = d.p.lastDue()
	n := r.uint()
	if r.bad || n != uint64(len(r.b)) {
		return ErrCorrupt
	}
	if !full {
		return nil
	}
	if n := r.count(); n > 0 {
		d.Visits = take(&a.visits, n)
		for i := range d.Visits {
			v := &d.Visits[i]
			v.Client = dwell.ClientID(r.str())
			v.Start, v.End = r.time(), r.time()
			v.Source = timeline.Source(r.uint())
			v.Verification = dwell.Verification(r.uint())
			v.CheckInRequestID = r.str()
			v.Kind = dwell.ClientKind(r.uint())
			v.CheckOutRequestID = r.str()
			v.Outcome = dwell.Outcome(r.uint())
			v.Paused, v.OffHours = 0, 0
			if summary[0] >= summaryV3 {
				v.Paused = time.Duration(r.int())
			}
			if summary[0] >= summaryV4 {
				v.OffHours = time.Duration(r.int())
			}
		}
	}
	if n := r.count(); n > 0 {
		d.CheckOuts = take(&a.cos, n)
		for i := range d.CheckOuts {
			c := &d.CheckOuts[i]
			c.RequestID = r.str()
			c.Client = dwell.ClientID(r.str())
			c.Kind = dwell.ClientKind(r.uint())
			c.Time = r.time()
			c.Outcome = dwell.Outcome(r.uint())
			c.FollowUpDate = dwell.Date{Year: int(r.uint()), Month: time.Month(r.uint()), Day: int(r.uint())}
			c.RejectionReason = dwell.RejectionReason(r.uint())
		}
	}
	if n := r.count(); n > 0 {
		d.Calls = take(&a.calls, n)
		for i := range d.Calls {
			c := &d.Calls[i]
			c.Client = dwell.ClientID(r.str())
			c.Kind = dwell.ClientKind(r.uint())
			c.StartTime = r.time()
			c.TalkSeconds = r.int()
			c.Outcome = dwell.CallOutcome(r.uint())
		}
	}
	if r.bad || len(r.b) != 0 {
		return ErrCorrupt
	}
	return nil
}

func decodeDetail(detail []byte, d *Day) error {
	if len(detail) == 0 || detail[0] != detailV1 {
		return ErrCorrupt
	}
	r := reader{b: detail[1:]}
	if n := r.count(); n > 0 {
		d.Segments = make([]timeline.Segment, n)
		for i := range d.Segments {
			s := &d.Segments[i]
			s.Kind = timeline.Kind(r.uint())
			s.Start, s.End = r.time(), r.time()
			s.Client = dwell.ClientID(r.str())
			s.Source = timeline.Source(r.uint())
			s.Verification = dwell.Verification(r.uint())
			s.DistanceM = r.float()
			s.Location = dwell.LatLng{Lat: r.float(), Lng: r.float()}
		}
	}
	if n := r.count(); n > 0 {
		d.CheckIns = make([]timeline.CheckInResult, n)
		for i := range d.CheckIns {
			c := &d.CheckIns[i]
			c.RequestID = r.str()
			c.Client = dwell.ClientID(r.str())
			c.Time = r.time()
			c.Verification = dwell.Verification(r.uint())
			c.DistanceM = r.float()
			c.CheckOutRequestID = r.str()
		}
	}
	if r.bad || len(r.b) != 0 {
		return ErrCorrupt
	}
	return nil
}

type writer struct{ b []byte }

func (w *writer) uint(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *writer) int(x int64)   { w.b = binary.AppendVarint(w.b, x) }
func (w *writer) bool(x bool) {
	if x {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *writer) float(x float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(x)) }
func (w *writer) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// time writes 0 for the zero time, else 1 + Unix nanoseconds (as a
// varint), so zero survives the trip.
func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.uint(0)
		return
	}
	w.uint(1)
	w.int(t.UnixNano())
}

// reader decodes what writer wrote; the first error sets bad and every
// later read returns zero values.
type reader struct {
	b   []byte
	bad bool
	// strs, when not nil, interns strings instead of aliasing b.
	strs map[string]string
}

func (r *reader) uint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return x
}

// bool reads a byte 0 or 1; any other is corrupt.
func (r *reader) bool() bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.bad, r.b = true, nil
		return false
	}
	x := r.b[0] == 1
	r.b = r.b[1:]
	return x
}

func (r *reader) int() int64 {
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *reader) float() float64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return x
}

func (r *reader) str() string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	if n == 0 {
		return ""
	}
	b := r.b[:n]
	r.b = r.b[n:]
	if r.strs != nil {
		if s, ok := r.strs[string(b)]; ok {
			return s
		}
		s := string(b)
		r.strs[s] = s
		return s
	}
	// The string shares the input's memory: decoding tens of thousands of
	// days must not allocate a string per client id (see DecodeDay).
	return unsafe.String(&b[0], n)
}

// count reads a slice length, bounded by the bytes left (every element
// takes at least one byte).
func (r *reader) count() int {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return 0
	}
	return int(n)
}

func (r *reader) time() time.Time {
	switch r.uint() {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, r.int()).UTC()
	}
	r.bad, r.b = true, nil
	return time.Time{}
}
