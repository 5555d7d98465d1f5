package kpi

import (
	"sort"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// part is what Compute reads of a day: the day's sums, and of its records
// only what the joins need (each visit's client and span, the follow-ups,
// the calls' clients and starts). It is encoded at the front of a summary
// so that a team query decodes it and skips the full records.
type part struct {
	visits, prospects, customers, customerVisits int
	prospectS, customerS                         int64
	hist                                         [5]int
	calls, connected, customerCalls              int
	talk                                         int64
	checkOuts, withOutcome, rejections, positive int
	reasons                                      [dwell.RejectionOther + 1]int
	spans                                        []clientSpan
	followUps                                    []followUp
	callAt                                       []clientAt
}

// clientSpan is a visit's client and time (Unix nanoseconds, which are
// smaller and quicker to compare than time.Time).
type clientSpan struct {
	client     dwell.ClientID
	start, end int64
}

// followUp is a FOLLOW_UP check-out.
type followUp struct {
	client dwell.ClientID
	at     time.Time
	due    dwell.Date
}

// clientAt is a call's client and start (Unix nanoseconds).
type clientAt struct {
	client dwell.ClientID
	at     int64
}

// part returns d's part, computing it from the records the first time (a
// Day built in memory); a decoded Day has it already. It is not safe for
// concurrent first use.
func (d *Day) part() *part {
	if d.p == nil {
		d.p = computePart(d)
	}
	return d.p
}

func computePart(d *Day) *part {
	p := &part{visits: len(d.Visits), calls: len(d.Calls), checkOuts: len(d.CheckOuts)}
	if len(d.Visits) > 0 {
		p.spans = make([]clientSpan, len(d.Visits))
	}
	for i, v := range d.Visits {
		dur := v.End.Sub(v.Start)
		if v.Kind == dwell.ClientKindCustomer {
			p.customerS += int64(dur / time.Second)
			p.customers++
			p.customerVisits++
		} else {
			p.prospectS += int64(dur / time.Second)
			p.prospects++
		}
		p.hist[sort.SearchFloat64s(histogramBoundsMin[:], dur.Minutes()+1e-9)]++
		p.spans[i] = clientSpan{v.Client, v.Start.UnixNano(), v.End.UnixNano()}
	}
	for _, c := range d.Calls {
		if c.Outcome == dwell.CallConnected {
			p.connected++
			p.talk += c.TalkSeconds
		}
		if c.Kind == dwell.ClientKindCustomer {
			p.customerCalls++
		}
		p.callAt = append(p.callAt, clientAt{c.Client, c.StartTime.UnixNano()})
	}
	for _, co := range d.CheckOuts {
		if co.Outcome == dwell.OutcomeUnspecified {
			continue
		}
		p.withOutcome++
		switch co.Outcome {
		case dwell.OutcomeRejected:
			p.rejections++
			if co.RejectionReason >= 0 && int(co.RejectionReason) < len(p.reasons) {
				p.reasons[co.RejectionReason]++
			}
		case dwell.OutcomePositive:
			p.positive++
		case dwell.OutcomeFollowUp:
			p.followUps = append(p.followUps, followUp{co.Client, co.Time, co.FollowUpDate})
		}
	}
	return p
}

func (w *writer) part(p *part) {
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
		w.str(string(s.client))
		w.int(s.start)
		w.int(s.end)
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
		w.str(string(c.client))
		w.int(c.at)
	}
}

func (r *reader) part(p *part, a *arena) {
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
			p.spans[i] = clientSpan{dwell.ClientID(r.str()), r.int(), r.int()}
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
			p.callAt[i] = clientAt{dwell.ClientID(r.str()), r.int()}
		}
	}
}
