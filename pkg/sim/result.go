package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// result converts the plan into the exported DayResult.
func (d *day) result() *DayResult {
	at := func(t int64) time.Time { return d.start.Add(time.Duration(t) * time.Millisecond) }
	ll := d.city.plane.latLng
	res := &DayResult{
		Seed: d.seed, Profile: d.p, Rep: d.cfg.Rep, Date: d.cfg.Date,
		Start: at(0), End: at(d.span), Home: ll(d.home), HiddenVisits: d.hidden,
	}
	for _, s := range d.segs {
		seg := Segment{Kind: s.kind, Start: at(s.t0), End: at(s.t1), DistanceM: round(s.distM, 10)}
		if s.kind == KindVisit || s.kind == KindIdle {
			seg.Pos = ll(s.pos)
		}
		if s.kind == KindVisit {
			seg.Client = d.city.Sites[s.site].ID
		}
		res.Segments = append(res.Segments, seg)
	}
	for _, si := range d.visits {
		s := res.Segments[si]
		res.Visits = append(res.Visits, Visit{Client: s.Client, Start: s.Start, End: s.End, Pos: s.Pos,
			Segment: si, CheckIn: -1, CheckOut: -1})
	}
	res.Track = make([]TrackPoint, len(d.track))
	for i, w := range d.track {
		res.Track[i] = TrackPoint{Time: at(w.t), Pos: ll(w.p)}
	}

	fixes := make([]dwell.Fix, len(d.obs))
	inFix := make([]int, len(d.ins))
	outFix := make([]int, len(d.outs))
	res.Observations = make([]Observation, len(d.obs))
	for i, o := range d.obs {
		f := dwell.Fix{
			ID: d.fixID(i), Time: at(o.t), Pos: ll(o.pos), AccuracyM: max(1, round(o.accM, 10)),
			SpeedMPS: -1, BearingDeg: -1, Mock: o.mock,
		}
		if o.speed >= 0 {
			f.SpeedMPS = round(o.speed, 100)
		}
		if o.bearing >= 0 {
			f.BearingDeg = round(o.bearing, 10)
			if f.BearingDeg >= 360 {
				f.BearingDeg = 0
			}
		}
		if o.hasAlt {
			f.HasAltitude, f.AltitudeM = true, round(o.altM, 10)
		}
		fixes[i] = f
		res.Observations[i] = Observation{Fix: f, Source: o.src, TruePos: ll(o.truth),
			ErrorM: round(o.pos.dist(o.truth), 100), Indoor: o.indoor, Outlier: o.outlier}
		switch o.src {
		case SourceCheckIn:
			inFix[o.claim] = i
		case SourceCheckOut:
			outFix[o.claim] = i
		}
	}

	byTime := func(cs []claim) []int {
		idx := make([]int, len(cs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(cs[a].t, cs[b].t) })
		return idx
	}
	inPos := make([]int, len(d.ins))
	for n, k := range byTime(d.ins) {
		c := d.ins[k]
		inPos[k] = n
		f := fixes[inFix[k]]
		site := &d.city.Sites[c.site]
		res.CheckIns = append(res.CheckIns, CheckIn{
			CheckIn: dwell.CheckIn{
				RequestID: fmt.Sprintf("%s-in-%03d", d.cfg.Rep, n+1), Rep: d.cfg.Rep, Client: site.ID,
				Time: at(c.t), Fix: &f, ReceiveTime: at(c.recv),
			},
			Mode: c.mode, Honest: c.honest, Visit: c.visit, TruePos: ll(c.truth),
			FenceDistanceM: round(site.shape.signed(c.obs.pos), 100),
		})
		if c.visit >= 0 {
			res.Visits[c.visit].CheckIn = n
		}
	}
	for n, k := range byTime(d.outs) {
		c := d.outs[k]
		f := fixes[outFix[k]]
		site := &d.city.Sites[c.site]
		res.CheckOuts = append(res.CheckOuts, CheckOut{
			CheckOut: dwell.CheckOut{
				RequestID: fmt.Sprintf("%s-out-%03d", d.cfg.Rep, n+1), Rep: d.cfg.Rep, Client: site.ID,
				Time: at(c.t), Fix: &f, Outcome: c.outcome.o, FollowUpDate: c.outcome.follow,
				RejectionReason: c.outcome.reason, RejectionText: c.outcome.text, ReceiveTime: at(c.recv),
			},
			Honest: c.honest, CheckIn: inPos[c.in], Visit: c.visit, TruePos: ll(c.truth),
			FenceDistanceM: round(site.shape.signed(c.obs.pos), 100),
		})
		if c.visit >= 0 {
			res.Visits[c.visit].CheckOut = n
		}
	}

	for _, b := range d.batches {
		fs := make([]dwell.Fix, len(b.obs))
		for i, o := range b.obs {
			fs[i] = fixes[o]
		}
		res.Uploads = append(res.Uploads, Batch{ArriveAt: at(b.at), Fixes: fs, Resent: b.resent})
	}
	intervals := func(ws []window) []Interval {
		var out []Interval
		for _, w := range ws {
			out = append(out, Interval{Start: at(w.t0), End: at(w.t1)})
		}
		return out
	}
	res.PhoneOff, res.Silences, res.Offline = intervals(d.gaps), intervals(d.silences), intervals(d.offline)
	return res
}
