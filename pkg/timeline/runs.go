package timeline

import (
	"math"
	"time"
)

// impossibleLeg reports whether going between the fixes p and q is an
// impossible jump: it needs more than MaxSpeedMPS even allowing both
// accuracies, and it is longer than any multipath error (multipathMaxM
// beyond them). Accuracy is a 68 % radius, so fixes a few metres beyond
// it taken seconds (or no time) apart are common and say nothing; a jump
// is kilometres. Fixes more than GapMin apart never make one: across a
// silence that long the rep may have flown, or taken a fast train, with
// the phone off.
func impossibleLeg(p, q *fixP) bool {
	dt := time.Duration(q.t - p.t)
	if dt < 0 {
		dt = -dt
	}
	if dt > GapMin {
		return false
	}
	d := math.Sqrt(dist2(p, q)) - p.accM - q.accM
	return d > multipathMaxM && d > MaxSpeedMPS*dt.Seconds()
}

// reachable reports whether the rep could go between the fixes p and q
// at MaxSpeedMPS, allowing both accuracies, however long apart they are.
func reachable(p, q *fixP) bool {
	return !tooFast(math.Sqrt(dist2(p, q))-p.accM-q.accM, q.t-p.t)
}

// tooFast reports whether covering beyondM metres (a distance less both
// fixes' accuracies) in dt nanoseconds (either sign) needs more than
// MaxSpeedMPS: the one statement of the speed rule, for the fixes of the
// stream and a check-in's fix alike.
func tooFast(beyondM float64, dt int64) bool {
	return beyondM > MaxSpeedMPS*math.Abs(float64(dt)/1e9)
}

// fixRun is a run of kept fixes with no impossible jump inside it: the
// fixes keep[lo:hi] that are not dropped, n of them, between its
// neighbouring live runs prev and next (-1 for none). A run that was
// dropped has n == 0.
type fixRun struct {
	lo, hi     int
	n          int
	prev, next int
}

// dropRuns drops the fixes (those not dropped yet) that lie beyond an
// impossible jump, marking them in drop, and returns how many it
// dropped: DESIGN's mock locations by impossible speed, from a spoofing
// app that does not set the OS flag. The kept fixes are cut into runs at
// every impossible jump (impossibleLeg) between two in a row.
//
// First, excursions: a run, or several in a row, reached by an
// impossible jump and left by another, whose outside ends (the last fix
// before it, the first fix after it) are reachable from each other, and
// which lasts no longer than the two runs around it together (each from
// its first fix to its last), is dropped, and the runs around it are one
// again: the rep stayed on the way around it while a location went
// somewhere and back at an impossible speed. A run of one fix is the
// single-fix case, which clean drops before. Excursions are found in
// time order, each the shortest from its first run, spanning at most
// maxExcursionRuns runs.
//
// Then, while a jump is left, all of them one-way, the shortest run in
// time (then the one of fewer fixes, then the earlier) is dropped, and
// its neighbours are joined unless the leg between them is itself an
// impossible jump. The fixes cannot tell which side of a one-way jump is
// real, and a visit must not rest on fixes that may be fake: the longer
// side is kept as evidence (a spoof switched on or off near the start or
// end of the day, or a phone's stale cold-start position, is short), so
// one jump costs at most the shorter side of the day.
func dropRuns(ps []fixP, drop []bool) int {
	keep := make([]int, 0, len(ps))
	for i := range ps {
		if !drop[i] {
			keep = append(keep, i)
		}
	}
	var rs []fixRun
	for k := range keep {
		if k > 0 && !impossibleLeg(&ps[keep[k-1]], &ps[keep[k]]) {
			rs[len(rs)-1].hi++
			rs[len(rs)-1].n++
			continue
		}
		rs = append(rs, fixRun{lo: k, hi: k + 1, n: 1, prev: len(rs) - 1, next: -1})
		if len(rs) > 1 {
			rs[len(rs)-2].next = len(rs) - 1
		}
	}
	if len(rs) < 2 {
		return 0
	}
	first := func(r int) *fixP { return &ps[keep[rs[r].lo]] }
	last := func(r int) *fixP { return &ps[keep[rs[r].hi-1]] }
	dur := func(r int) int64 { return last(r).t - first(r).t }
	dropped := 0
	// kill drops run r and unlinks it from its neighbours.
	kill := func(r int) {
		for _, i := range keep[rs[r].lo:rs[r].hi] {
			if !drop[i] {
				drop[i] = true
				dropped++
			}
		}
		p, q := rs[r].prev, rs[r].next
		if p >= 0 {
			rs[p].next = q
		}
		if q >= 0 {
			rs[q].prev = p
		}
		rs[r].n = 0
	}
	// join makes run p and the run after it one, unless the leg between
	// them is impossible.
	join := func(p int) {
		q := rs[p].next
		if q < 0 || impossibleLeg(last(p), first(q)) {
			return
		}
		rs[p].hi, rs[p].n, rs[p].next = rs[q].hi, rs[p].n+rs[q].n, rs[q].next
		if rs[q].next >= 0 {
			rs[rs[q].next].prev = p
		}
		rs[q].n = 0
	}

	// Excursions. Run 0 has no jump before it and is never one.
	for i := rs[0].next; i >= 0; {
		p, q := rs[i].prev, rs[i].next
		for k := 1; q >= 0 && k < maxExcursionRuns && !reachable(last(p), first(q)); k++ {
			q = rs[q].next
		}
		// The excursion must be the shorter side in time: no longer than
		// the runs around it. A long run between two short ones is the
		// rest of the day, whatever the short ones' positions, and is
		// left to the one-way rule, which drops the short ones.
		if q < 0 || !reachable(last(p), first(q)) || last(rs[q].prev).t-first(i).t > dur(p)+dur(q) {
			i = rs[i].next
			continue
		}
		for r := i; r != q; {
			next := rs[r].next
			kill(r)
			r = next
		}
		join(p)
		i = rs[p].next
	}

	// One-way jumps.
	head := 0
	for rs[head].next >= 0 {
		best := head
		for r := rs[head].next; r >= 0; r = rs[r].next {
			if d, b := dur(r), dur(best); d < b || d == b && rs[r].n < rs[best].n {
				best = r
			}
		}
		p, next := rs[best].prev, rs[best].next
		kill(best)
		if p < 0 {
			head = next
		} else {
			join(p)
		}
	}
	return dropped
}
