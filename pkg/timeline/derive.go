package timeline

import (
	"cmp"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// Thresholds of the derivation. They are constants, not settings: they
// describe phones, not a tenant's policy.
const (
	// MaxSpeedMPS is the speed beyond which a fix that must be reached
	// from both its neighbours, or a leg of more than multipathMaxM, is
	// impossible (180 km/h).
	MaxSpeedMPS = 50.0
	// GapMin is the least silence between two fixes at different places
	// that makes a GAP rather than travel.
	GapMin = 10 * time.Minute
	// MaxAccuracyM clamps a fix's reported accuracy; a missing or negative
	// accuracy counts as this too.
	MaxAccuracyM = 500.0
	// MaxFixAge is how far a check-in's or check-out's fix may be dated
	// from the action's own time, before or after it, and still stand for
	// where the rep was then. The app sends the fix it had when the rep
	// tapped: the last fix of its stream (a moving phone samples every
	// 30 s; a still one, at a client, as seldom as every 300 s, the
	// longest stationary interval GetTrackingConfig sends) or a fresh one
	// acquired in seconds to a minute after the tap. Ten minutes is
	// twice that longest interval, so a still phone that missed one
	// sample is not called stale; a fix dated further off says where the
	// phone was at another time (a cached last-known location, or a
	// position replayed with an old date), and its check-in is
	// VerificationStaleFix, its check-out no claim.
	MaxFixAge = 10 * time.Minute

	// outlierRun is the longest run of fixes dropped as one multipath jump.
	outlierRun = 3
	// outlierSpan is the longest time between the fixes around a jump.
	outlierSpan = 30 * time.Minute
	// outlierMinM is the least deviation of a jump, in metres.
	outlierMinM = 120.0
	// multipathMaxM is the longest multipath error, in metres beyond the
	// fixes' accuracies (DESIGN: jumps of hundreds of metres; the
	// simulator's harsh profile reaches 1.5 km): an impossible jump
	// (impossibleLeg) is longer.
	multipathMaxM = 2000.0
	// strayJumpM is how far beyond both accuracies one clean fix of the
	// stream must place the rep from an action's fix dated after the
	// action, too fast to cover, to condemn it alone (strays): past the
	// tens of metres a Wi-Fi or network fix of the stream is off from a
	// GPS one, and short of the kilometre a spoofer may choose, so that a
	// spoof 1-2 km from the rep dated next to a silence of the phone is
	// still held to the fix seconds from it. A multipath jump of the
	// stream longer than this next to an honest fix dated after the tap,
	// while the rep was out of reach at the tap, would condemn it: rarer.
	strayJumpM = 500.0
	// maxExcursionRuns bounds the runs, in a row, that one excursion (see
	// dropRuns) may span, so that finding them stays linear in the fixes.
	maxExcursionRuns = 32

	// stayBaseM and stayMaxM shape a fix's distance allowance to a stop's
	// centre: stayBaseM + its accuracy, at least stayMinM, at most stayMaxM.
	stayBaseM = 30.0
	stayMinM  = 40.0
	stayMaxM  = 130.0
	// coreMinM is the least allowance of a stop's core fixes, which time
	// its start and end.
	coreMinM = 25.0
	// confirmFixes and confirmWithin are the hysteresis of leaving a stop:
	// a fix outside followed by a fix back inside among the next
	// confirmFixes fixes within confirmWithin does not end it.
	confirmFixes  = 3
	confirmWithin = 10 * time.Minute
	// walkMPS is the pace assumed, in m/s, when nothing tells how fast the
	// rep arrived or left.
	walkMPS = 1.25
	// durSlack is the timing uncertainty of a stop's estimated length
	// allowed when comparing it with VisitMin and IdleMin.
	durSlack = 30 * time.Second
	// movingMPS is the reported speed, in m/s, from which a fix is taken
	// as moving: it is never a stop's core fix.
	movingMPS = 0.5
	// fastMPS is the reported speed, in m/s, that shows the rep moving on
	// its own; between movingMPS and fastMPS a neighbouring fix within
	// corroborateWithin must report movingMPS too.
	fastMPS           = 1.0
	corroborateWithin = 90 * time.Second
	// accPerMPS scales the speed that shows movement with the fix's
	// accuracy: weak signals spoil the Doppler speed as they spoil the
	// position, so a fix of accuracy a metres shows movement from a/accPerMPS
	// m/s (1 m/s at 30 m, 1.7 m/s at 50 m).
	accPerMPS = 30.0
	// lendCourse is how far apart in time a walking fix may be from a fix
	// with no speed next to a stop and still lend it its course.
	lendCourse = time.Minute
	// settle is how long a stop's first (last) core fix must stand before
	// (after) any moving fix.
	settle = 2 * time.Minute
	// mergeWithin and mergeM join two stops of the same client (or two
	// idle stops) separated by so little time and distance.
	mergeWithin = 3 * time.Minute
	mergeM      = 50.0
	// splitMinM, splitK and splitMinFixes decide when a stop's fixes are
	// two places (see splitAt).
	splitMinM     = 20.0
	splitK        = 2.5
	splitMinFixes = 3

	// checkInTolMinM and checkInTolMaxM bound the distance, in metres,
	// from a check-in fix to its site's boundary that still verifies it:
	// twice the fix's accuracy within these bounds.
	checkInTolMinM = 30.0
	checkInTolMaxM = 150.0
	// lowAccuracyM is the accuracy beyond which a check-in that is not
	// verified but within twice its accuracy of the site is LOW_ACCURACY.
	lowAccuracyM = 150.0
	// claimLead is how far before a verified check-in its claimed visit
	// may start: back to the start of the stop it was made in.
	claimLead = 5 * time.Minute
	// maxVoteCandidates bounds the fences the fixes of a stop whose centre
	// is at no site are asked about.
	maxVoteCandidates = 4
	// checkInLead is how long before a visit found from the fixes an
	// unverified check-in for the same client still belongs to it (a
	// check-in from the car park before walking over).
	checkInLead = 15 * time.Minute
)

// minNano and maxNano bound the instants a fix may have: Unix nanoseconds
// in an int64 (years 1678 to 2262).
var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// earthRadiusM is the mean Earth radius in metres.
const earthRadiusM = 6371008.8

// fixP is a usable fix with its position in the day's local plane.
type fixP struct {
	t     int64 // Unix nanoseconds
	ll    dwell.LatLng
	x, y  float64
	accM  float64
	speed float64 // reported speed in m/s, or -1
	// ux, uy is the unit vector of the reported course (east, north), or
	// zero if unknown.
	ux, uy float64
	// moving is whether the reported speed shows the rep moving (see
	// markMoving).
	moving bool
}

// at returns the fix's time.
func (p fixP) at() time.Time { return time.Unix(0, p.t).UTC() }

// stay is a stop found in the fixes.
type stay struct {
	first, last int // indices of the first and last core fix in the clean fixes
	start, end  time.Time
	outer       time.Duration // from the fix before the core to the fix after
	centre      dwell.LatLng
	cx, cy      float64
	accM        float64 // uncertainty of the centre
	posM        float64 // uncertainty of the centre from its fixes' correlated errors (see posUnc)
	// coreA, coreB and icx, icy are, until findStays keeps the stop, what
	// makeStay chose the core from: the members from coreA to coreB
	// within their core reach of (icx, icy).
	coreA, coreB int
	icx, icy     float64
	prevEnd      time.Time // end of the stop before, if any
	meanAccM     float64   // mean accuracy of the stop's fixes
	client       dwell.ClientID
	kind         Kind
}

// claim is one labelled interval of the overlay that builds the segments.
type claim struct {
	start, end time.Time
	kind       Kind
	client     dwell.ClientID
	prio       int
	key        int // tells apart stops of the same kind and client
}

// Derive returns the timeline of one rep-day. It is a pure function of
// the sets of in.Fixes, in.CheckIns and in.CheckOuts (order and repeats do
// not matter) and of the fences, clients and settings; see the package
// doc for the algorithm.
func Derive(in Input) Day {
	if len(in.Tracking) > 0 || len(in.Windows) > 1 {
		return deriveLaidOver(in)
	}
	return derive(in, nil, nil)
}

// derive is Derive for a day without tracking changes, whose fixes leave
// out the paused spans ps and the breaks bs between working-hours windows
// (see deriveLaidOver): no stop is inferred across a pause
// (silenceStays), and no stop's length counts either (lasts).
func derive(in Input, ps, bs []span) Day {
	st := in.Settings
	def := dwell.DefaultSettings()
	if st.VisitMin <= 0 {
		st.VisitMin = def.VisitMin
	}
	if st.IdleMin <= 0 {
		st.IdleMin = def.IdleMin
	}
	lo, hi := bounds(in)
	var day Day
	clean := day.clean(in.Fixes, prepare(in.Fixes, lo, hi))

	d := deriver{st: st, fixes: clean, paused: ps, breaks: bs}
	d.in, d.laterIns, d.laterOuts, d.dayEnd = splitLater(in)
	d.stays = d.findStays()
	d.checkIns = d.judgeCheckIns(&day)
	d.relabel()
	d.classify()
	d.closeForgotten()
	d.endAtLeaving()
	d.dropContradicted()
	if len(clean) == 0 {
		return day
	}
	day.Start, day.End = clean[0].at(), clean[len(clean)-1].at()
	d.build(&day)
	return day
}

// splitLater returns in with only the claims made before the end of its
// local day, the check-ins and check-outs of the next local day apart,
// and the day's end. Claims after the next day are dropped: a check-in
// still open at its day's end is closed by a check-out up to the end of
// the next local day (judgeCheckIns), never later, so the day does not
// depend on how far ahead a caller reads. A zero Day bounds nothing: every
// claim stays in the input, and none is later.
func splitLater(in Input) (Input, []dwell.CheckIn, []dwell.CheckOut, time.Time) {
	if in.Day.IsZero() {
		return in, nil, nil, time.Time{}
	}
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	end, next := in.Day.AddDays(1).Start(loc), in.Day.AddDays(2).Start(loc)
	var laterIns []dwell.CheckIn
	var laterOuts []dwell.CheckOut
	if slices.ContainsFunc(in.CheckIns, func(c dwell.CheckIn) bool { return !c.Time.Before(end) }) {
		cis := make([]dwell.CheckIn, 0, len(in.CheckIns))
		for _, c := range in.CheckIns {
			switch {
			case c.Time.Before(end):
				cis = append(cis, c)
			case c.Time.Before(next):
				laterIns = append(laterIns, c)
			}
		}
		in.CheckIns = cis
	}
	if slices.ContainsFunc(in.CheckOuts, func(c dwell.CheckOut) bool { return !c.Time.Before(end) }) {
		cos := make([]dwell.CheckOut, 0, len(in.CheckOuts))
		for _, c := range in.CheckOuts {
			switch {
			case c.Time.Before(end):
				cos = append(cos, c)
			case c.Time.Before(next):
				laterOuts = append(laterOuts, c)
			}
		}
		in.CheckOuts = cos
	}
	return in, laterIns, laterOuts, end
}

// Unpaused returns the fixes not taken while the rep had paused tracking:
// those outside every PAUSED segment of segs (a derived day's segments, in
// time order). The rep asked not to be tracked then, so what a phone sent
// anyway is never shown; Derive leaves those fixes out the same way. It
// returns fixes itself when segs has no PAUSED segment.
func Unpaused(fixes []dwell.Fix, segs []Segment) []dwell.Fix {
	var ps []span
	for _, sg := range segs {
		if sg.Kind == KindPaused {
			ps = append(ps, span{sg.Start, sg.End})
		}
	}
	if len(ps) == 0 {
		return fixes
	}
	out := make([]dwell.Fix, 0, len(fixes))
	for _, f := range fixes {
		if !inSpans(f.Time, ps) {
			out = append(out, f)
		}
	}
	return out
}

// bounds returns the day's limits: the local day intersected with the
// window and with the span of the windows. A zero Day bounds nothing.
func bounds(in Input) (lo, hi time.Time) {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	if !in.Day.IsZero() {
		lo, hi = in.Day.Start(loc), in.Day.AddDays(1).Start(loc)
	}
	within := func(w Window) {
		if !w.Start.IsZero() && (lo.IsZero() || w.Start.After(lo)) {
			lo = w.Start
		}
		if !w.End.IsZero() && (hi.IsZero() || w.End.Before(hi)) {
			hi = w.End
		}
	}
	within(in.Window)
	if ws := windowSpans(in.Windows); len(ws) > 0 {
		within(Window{Start: ws[0].start, End: ws[len(ws)-1].end})
	}
	return lo, hi
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// fixRef is what prepare sorts: a fix's time, its index in the input and
// the hash of its ID, 16 bytes, so that sorting and deduplicating
// thousands of fixes moves little memory and reads the fixes (in the
// sorted order, scattered over the input) only where IDs may repeat.
type fixRef struct {
	t int64  // Unix nanoseconds
	i int32  // index in the input
	h uint32 // hash of the ID (see prepare)
}

// compareFixContent orders two fixes of the same time by position,
// accuracy, speed, bearing and mock flag.
func compareFixContent(a, b *dwell.Fix) int {
	return cmp.Or(cmp.Compare(a.Pos.Lat, b.Pos.Lat), cmp.Compare(a.Pos.Lng, b.Pos.Lng),
		cmp.Compare(a.AccuracyM, b.AccuracyM), cmp.Compare(a.SpeedMPS, b.SpeedMPS),
		cmp.Compare(a.BearingDeg, b.BearingDeg), cmpBool(a.Mock, b.Mock))
}

// compareFixPtr orders two optional fixes: none first, then by time, ID
// and content.
func compareFixPtr(a, b *dwell.Fix) int {
	if a == nil || b == nil {
		return cmpBool(a != nil, b != nil)
	}
	return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.ID, b.ID), compareFixContent(a, b))
}

// prepare returns the day's fixes as references into in, in the order in
// which to read them: once per ID (the least by time, position,
// accuracy, speed and mock flag if an ID repeats with different content), with a
// valid position, within [lo, hi), sorted by time then ID.
func prepare(in []dwell.Fix, lo, hi time.Time) []fixRef {
	rs := make([]fixRef, 0, len(in))
	hasLo, hasHi := !lo.IsZero(), !hi.IsZero()
	// IDs are hashed with maphash, a word or more at a time (a byte-wise
	// hash costs four times as much on the 36-byte UUIDs phones send).
	// Its seed is random, but the hash only finds repeats: the fixes kept
	// do not depend on it.
	seed := maphash.MakeSeed()
	for i := range in {
		f := &in[i]
		if !(f.Pos.Lat >= -90 && f.Pos.Lat <= 90 && f.Pos.Lng >= -180 && f.Pos.Lng <= 180) {
			continue
		}
		if (hasLo && f.Time.Before(lo)) || (hasHi && !f.Time.Before(hi)) {
			continue
		}
		if (!hasLo || !hasHi) && (f.Time.Before(minNano) || f.Time.After(maxNano)) {
			continue // beyond int64 nanoseconds: no phone sends that
		}
		rs = append(rs, fixRef{t: f.Time.UnixNano(), i: int32(i), h: uint32(maphash.String(seed, f.ID))})
	}
	sortByTime(rs)
	// Fixes of the same time, by ID then content: sorted by time, ID and
	// content, the first fix of each ID is the least by content.
	byIDContent := func(x, y fixRef) int {
		a, b := &in[x.i], &in[y.i]
		return cmp.Or(strings.Compare(a.ID, b.ID), compareFixContent(a, b))
	}
	for a := 0; a < len(rs); {
		b := a + 1
		for b < len(rs) && rs[b].t == rs[a].t {
			b++
		}
		if b-a > 1 {
			slices.SortFunc(rs[a:b], byIDContent)
		}
		a = b
	}
	// Keep the first fix of each ID, with an open-addressing set of
	// positions in out keyed by the hash of the ID (equal hashes compare
	// IDs).
	size := 16
	for size < 2*len(rs) {
		size *= 2
	}
	set := make([]int32, size)
	out := rs[:0]
	for _, r := range rs {
		dup := false
		for slot := r.h & uint32(size-1); ; slot = (slot + 1) & uint32(size-1) {
			e := set[slot]
			if e == 0 {
				set[slot] = int32(len(out)) + 1
				break
			}
			if o := out[e-1]; o.h == r.h && in[o.i].ID == in[r.i].ID {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}

// sortByTime sorts rs by time in place; the order of equal times is
// unspecified (prepare sorts them itself). A day's fixes mostly arrive in
// order from the store, so sorted input is checked for first; other input
// goes through a radix sort of the times' offsets from the earliest (see
// radixSort): linear in the fixes, where a comparison sort of thousands
// of them costs a dozen comparisons each, and with no scratch copy.
func sortByTime(rs []fixRef) {
	if len(rs) < 2 || slices.IsSortedFunc(rs, func(a, b fixRef) int { return cmp.Compare(a.t, b.t) }) {
		return
	}
	lo, hi := rs[0].t, rs[0].t
	for _, r := range rs[1:] {
		lo, hi = min(lo, r.t), max(hi, r.t)
	}
	radixSort(rs, lo, bits.Len64(uint64(hi)-uint64(lo)))
}

// radixSort sorts rs in place by the offsets of their times from lo,
// which agree above their low width bits: it deals them into 256 buckets
// by the top byte of those bits (an American flag sort: cycles of swaps,
// no scratch copy) and sorts each bucket by the bits below the same way,
// down to buckets small enough for an insertion sort. The fixes of a day
// spread over it, so the top byte leaves a dozen or so per bucket: one
// pass over the fixes to count, one to deal, then insertion sorts of a
// dozen.
func radixSort(rs []fixRef, lo int64, width int) {
	if len(rs) <= 32 || width <= 0 {
		for i := 1; i < len(rs); i++ {
			for j := i; j > 0 && rs[j].t < rs[j-1].t; j-- {
				rs[j], rs[j-1] = rs[j-1], rs[j]
			}
		}
		return
	}
	shift := max(width-8, 0)
	digit := func(r fixRef) int { return int((uint64(r.t)-uint64(lo))>>shift) & 0xff }
	var next, end [256]int32
	for _, r := range rs {
		end[digit(r)]++
	}
	var sum int32
	for b := range end {
		next[b] = sum
		sum += end[b]
		end[b] = sum
	}
	for b := range next {
		for next[b] < end[b] {
			v := rs[next[b]]
			for d := digit(v); d != b; d = digit(v) {
				v, rs[next[d]] = rs[next[d]], v
				next[d]++
			}
			rs[next[b]] = v
			next[b]++
		}
	}
	start := int32(0)
	for b := range end {
		if end[b]-start > 1 {
			radixSort(rs[start:end[b]], lo, shift)
		}
		start = end[b]
	}
}

func clampAcc(a float64) float64 {
	if !(a >= 0) || a > MaxAccuracyM {
		return MaxAccuracyM
	}
	return max(a, 1)
}

// clean drops mock fixes, multipath jumps and impossible-speed fixes
// (one fix reached too fast, or runs beyond impossible jumps: dropRuns),
// counting them in day.Flags, notes the last fix kept (Day.LastFix), and
// projects the rest on the plane tangent at the first fix.
func (day *Day) clean(in []dwell.Fix, refs []fixRef) []fixP {
	ps := make([]fixP, 0, len(refs))
	var pl plane
	for _, r := range refs {
		f := &in[r.i]
		if f.Mock {
			day.Flags.MockFixes++
			continue
		}
		if len(ps) == 0 {
			pl = newPlane(f.Pos)
		}
		x, y := pl.xy(f.Pos)
		p := fixP{t: r.t, ll: f.Pos, x: x, y: y, accM: clampAcc(f.AccuracyM), speed: f.SpeedMPS}
		if f.BearingDeg >= 0 && f.BearingDeg <= 360 {
			sin, cos := math.Sincos(f.BearingDeg * math.Pi / 180)
			p.ux, p.uy = sin, cos
		}
		ps = append(ps, p)
	}
	drop := make([]bool, len(ps))
	dropped := 0
	// Multipath jumps: a run of up to outlierRun fixes far from where the
	// fixes around it say the rep was.
	for i := 1; i < len(ps)-1; i++ {
		if drop[i] {
			continue
		}
		b := i - 1
		for b >= 0 && drop[b] {
			b--
		}
		if b < 0 {
			continue
		}
		for run := 1; run <= outlierRun && i+run < len(ps); run++ {
			a := i + run
			if isJump(ps, b, i, a) {
				if oddAnchor(ps, drop, b, i, a) {
					break
				}
				// A run reached and left by impossible jumps (longer
				// than any multipath error) is a spoofed location, not
				// a reflection, and is counted as such.
				spoof := impossibleLeg(&ps[b], &ps[i]) && impossibleLeg(&ps[a-1], &ps[a])
				for k := i; k < a; k++ {
					drop[k] = true
					dropped++
					if spoof {
						day.Flags.ImpossibleSpeedFixes++
					} else {
						day.Flags.OutlierFixes++
					}
				}
				break
			}
		}
	}
	// Impossible speed: reaching the fix from both kept neighbours needs
	// more than MaxSpeedMPS.
	prev := -1
	for i := range ps {
		if drop[i] {
			continue
		}
		next := i + 1
		for next < len(ps) && drop[next] {
			next++
		}
		fast := func(j int) bool {
			return j < 0 || j >= len(ps) || !reachable(&ps[i], &ps[j])
		}
		if (prev >= 0 || next < len(ps)) && fast(prev) && fast(next) {
			drop[i] = true
			dropped++
			day.Flags.ImpossibleSpeedFixes++
			continue
		}
		prev = i
	}
	// Runs of fixes beyond impossible jumps (a spoofing app that does not
	// set the OS flag): see dropRuns.
	if n := dropRuns(ps, drop); n > 0 {
		dropped += n
		day.Flags.ImpossibleSpeedFixes += n
	}
	// The last fix kept, as the input has it (LastFix): ps holds the
	// fixes of refs that are not mock, in order.
	for k, j := len(ps)-1, len(refs)-1; k >= 0 && j >= 0; j-- {
		f := &in[refs[j].i]
		if f.Mock {
			continue
		}
		if !drop[k] {
			day.lastFix, day.hasLastFix = *f, true
			break
		}
		k--
	}
	out := ps
	if dropped > 0 {
		out = ps[:0]
		for i, p := range ps {
			if !drop[i] {
				out = append(out, p)
			}
		}
	}
	markMoving(out)
	return out
}

// markMoving decides which fixes show the rep moving. A reported speed
// of fastMPS or more does; a slower one from movingMPS up only when a fix
// within corroborateWithin of it reports movingMPS or more too: a still
// phone indoors reports a wandering Doppler speed, now and then over
// movingMPS but seldom twice in a row, while a rep walking off is sampled
// again soon and still walking.
func markMoving(ps []fixP) {
	slow := func(k int) bool { return ps[k].speed >= max(movingMPS, ps[k].accM/accPerMPS) }
	for i := range ps {
		switch {
		case ps[i].speed >= max(fastMPS, ps[i].accM/accPerMPS):
			ps[i].moving = true
		case slow(i):
			prev := i > 0 && slow(i-1) && time.Duration(ps[i].t-ps[i-1].t) <= corroborateWithin
			next := i+1 < len(ps) && slow(i+1) && time.Duration(ps[i+1].t-ps[i].t) <= corroborateWithin
			ps[i].moving = prev || next
		}
	}
}

// oddAnchor reports whether a fix around the run ps[i:a], rather than
// the run, is the odd one. A jump towards the road the rep came in on
// lands near a fix taken on the way in, and the first fixes at the stop
// then look off the path between the two: one fix off (farther than
// outlierMinM from the stop, and dropped in its turn, or nearer, and
// kept as noise) must not take a run of good fixes with it (DESIGN: one
// bad fix must not split a visit or end a stop). The anchor ps[a] is the
// odd one when, set aside, the run is no jump between ps[b] and the fix
// after ps[a], and either the run and the two fixes after ps[a] are at
// one place (each within its stop allowance of their centre), or the run
// has two or three fixes, ps[a] alone is a jump between the run's last
// fix and the fix after it, and that last fix and the two after ps[a]
// are at one place (the run's first fixes may be the walk in). The
// anchor ps[b] is the odd one when, set aside, the run is no jump
// between the kept fix before it and ps[a], and the run and the two kept
// fixes before ps[b] are at one place. Three fixes at one place outvote
// one, and a reflection that recurs between good fixes (far, far, good,
// far, good) is still dropped as before: its good fix is not at one place
// with the two after it. The fixes after ps[a] have not been judged yet;
// those before ps[b] are the kept ones.
func oddAnchor(ps []fixP, drop []bool, b, i, a int) bool {
	if a+2 < len(ps) && !isJumpTo(ps, b, i, a, a+1) {
		// Two of the (at most) three fixes after ps[a]: one of them may
		// be a jump of its own.
		for _, after := range [][2]int{{a + 1, a + 2}, {a + 1, a + 3}, {a + 2, a + 3}} {
			if after[1] >= len(ps) {
				break
			}
			if a-i >= 2 && isJump(ps, a-1, a, a+1) && cluster(ps, a-1, a, after[:]) {
				return true
			}
			if cluster(ps, i, a, after[:]) {
				return true
			}
		}
	}
	var before [2]int
	n := 0
	for p := b - 1; p >= 0 && n < len(before); p-- {
		if !drop[p] {
			before[n] = p
			n++
		}
	}
	return n == len(before) && !isJump(ps, before[0], i, a) && cluster(ps, i, a, before[:])
}

// cluster reports whether the fixes ps[i:a] and ps[extra] are at one
// place: each within its stop allowance of their weighted centre.
func cluster(ps []fixP, i, a int, extra []int) bool {
	var c centroid
	for _, k := range extra {
		c.add(ps[k])
	}
	for k := i; k < a; k++ {
		c.add(ps[k])
	}
	for _, k := range extra {
		if !c.within(ps[k]) {
			return false
		}
	}
	for k := i; k < a; k++ {
		if !c.within(ps[k]) {
			return false
		}
	}
	return true
}

// isJump reports whether the fixes ps[i:a] are a multipath jump between
// ps[b] and ps[a]: each far from the straight path between them, farther
// than their accuracies allow and farther than the length of that path
// (a corner of a real route deviates from its chord by at most half the
// chord; a jump taken for an anchor makes the chord as long as the jump).
func isJump(ps []fixP, b, i, a int) bool { return isJumpTo(ps, b, i, a, a) }

// isJumpTo is isJump with the run ps[i:a] anchored on ps[b] and ps[e]
// (e >= a: the fixes from a to e set aside).
func isJumpTo(ps []fixP, b, i, a, e int) bool {
	pb, pa := &ps[b], &ps[e]
	span := pa.t - pb.t
	cx, cy := pa.x-pb.x, pa.y-pb.y
	chord2 := cx*cx + cy*cy
	// A longer silence is a jump's span only when the fixes around it
	// are at one place (both within their stop allowance of one centre):
	// a silence there belongs to that stop (DESIGN), and one fix far off
	// within it must not end the stop.
	if span <= 0 || (span > int64(outlierSpan) && !hypotAtMost(cx, cy, allowance(pb.accM)+allowance(pa.accM))) {
		return false
	}
	// A jump deviates by more than outlierMinM and than the chord, so its
	// first fix is more than outlierMinM/2 from b or from a.
	const half2 = outlierMinM * outlierMinM / 4
	if dist2(&ps[i], pb) <= half2 && dist2(&ps[i], pa) <= half2 {
		return false
	}
	for k := i; k < a; k++ {
		p := &ps[k]
		f := float64(p.t-pb.t) / float64(span)
		dx, dy := p.x-(pb.x+cx*f), p.y-(pb.y+cy*f)
		dev2 := dx*dx + dy*dy
		lim := max(outlierMinM, 60+p.accM+(pb.accM+pa.accM)/2)
		if dev2 <= lim*lim || dev2 <= chord2 {
			return false
		}
	}
	return true
}

func dist2(a, b *fixP) float64 {
	dx, dy := a.x-b.x, a.y-b.y
	return dx*dx + dy*dy
}

func dist(a, b fixP) float64 {
	dx, dy := a.x-b.x, a.y-b.y
	return math.Sqrt(dx*dx + dy*dy)
}

func allowance(accM float64) float64 { return min(max(stayBaseM+accM, stayMinM), stayMaxM) }

// centroid is an accuracy-weighted running mean of positions.
type centroid struct{ sw, sx, sy, sacc float64 }

// weight returns fix p's weight in a stop's centre. Weights fall with the
// square of the accuracy, floored so that a few over-confident fixes do
// not pin the centre, and a moving fix (walking in or out) hardly counts.
func weight(p fixP) float64 {
	a := max(p.accM, 10)
	w := 1 / (a * a)
	if p.moving {
		w *= 0.05
	}
	return w
}

func (c *centroid) add(p fixP) {
	w := weight(p)
	c.sw += w
	c.sx += w * p.x
	c.sy += w * p.y
	c.sacc += p.accM
}

func (c *centroid) at() (x, y float64) { return c.sx / c.sw, c.sy / c.sw }

func (c *centroid) within(p fixP) bool {
	x, y := c.at()
	return hypotAtMost(p.x-x, p.y-y, allowance(p.accM))
}

// hypotAtMost reports whether math.Hypot(dx, dy) <= r. It decides from
// dx²+dy² against r² when they differ by more than rounding could
// (relative errors of a few 1e-16, far below the 1e-9 margin), and calls
// math.Hypot, a call and a division, only within that margin, so that
// the answer is always the one math.Hypot gives.
func hypotAtMost(dx, dy, r float64) bool {
	if s, r2 := dx*dx+dy*dy, r*r; r2 >= 1e-290 { // r² normal: s is exact enough
		if s < r2*(1-1e-9) {
			return true
		}
		if s > r2*(1+1e-9) {
			return false
		}
	}
	return math.Hypot(dx, dy) <= r
}

type deriver struct {
	in       Input
	st       dwell.Settings
	fixes    []fixP
	stays    []stay
	checkIns []judged
	buf      []geofence.Match
	claimT   []claimAt    // the times of claimIns and claimOuts, sorted
	local    []localFence // fences weighed for a stop's site (see weigh)
	paused   []span       // the day's paused spans, sorted (see pause.go)
	breaks   []span       // the breaks between its working-hours windows, sorted, apart from paused (offhours.go)
	// claimIns and claimOuts are the day's check-ins and check-outs that
	// count as claims (claims): not made with a spoofed or stale fix.
	claimIns  []dwell.CheckIn
	claimOuts []dwell.CheckOut
	// laterIns and laterOuts are the check-ins and check-outs of the next
	// local day (splitLater): they only pair the day's check-ins with
	// their check-outs (judgeCheckIns), nothing else reads them.
	laterIns  []dwell.CheckIn
	laterOuts []dwell.CheckOut
	// dayEnd is the end of the local day (zero for a zero Input.Day): a
	// check-out at or after it closes a check-in of the day from the next
	// day.
	dayEnd time.Time
}

// findStays clusters the clean fixes into stops (stay points with an
// accuracy-aware radius and a one-fix hysteresis), times each by its core
// fixes, names the site it is at and keeps those long enough to be a
// visit or an idle stop.
func (d *deriver) findStays() []stay {
	fs := d.fixes
	n := len(fs)
	minStay := min(d.st.VisitMin, d.st.IdleMin)
	d.claimIns, d.claimOuts = d.claims()
	d.claimT = claimTimes(d.claimIns, d.claimOuts)
	var out []stay
	var members []int // reused from anchor to anchor
	for i := 0; i < n; {
		if fs[i].moving {
			i++ // a moving fix does not start a stop
			continue
		}
		var c centroid
		c.add(fs[i])
		last := i
		members = append(members[:0], i)
		for j := i + 1; j < n; j++ {
			if d.walksOff(j) {
				break
			}
			if c.within(fs[j]) {
				c.add(fs[j])
				members = append(members, j)
				last = j
				continue
			}
			back := false
			for k := j + 1; k < n && k <= j+confirmFixes && time.Duration(fs[k].t-fs[j].t) <= confirmWithin; k++ {
				if c.within(fs[k]) {
					back = true
					break
				}
			}
			if back {
				continue // out and back in: noise, not a departure
			}
			break
		}
		k := d.splitAt(members, minStay)
		if k == 0 {
			k = d.splitAtClaim(c, members, minStay)
		}
		if k > 0 {
			// Two places one after the other, the walk between them
			// unsampled: keep the first; the loop grows the second.
			members = members[:k]
			last = members[k-1]
			c = centroid{}
			for _, m := range members {
				c.add(fs[m])
			}
		}
		if time.Duration(fs[min(last+1, n-1)].t-fs[max(i-1, 0)].t) < minStay {
			i++
			continue
		}
		lo := 0
		if len(out) > 0 {
			lo = out[len(out)-1].last + 1
		}
		s := d.makeStay(c, members, lo)
		if !d.lasts(&s, minStay) {
			i++ // the core is too short: the anchor was not at the stop
			continue
		}
		s.posM = d.posUncOf(&s, members)
		if len(out) > 0 {
			s.prevEnd = out[len(out)-1].end
		}
		out = append(out, s)
		i = max(last, s.last) + 1
	}
	out = d.silenceStays(out)
	for k := range out {
		d.site(&out[k])
	}
	return out
}

// disjoin makes two stops in a row, p then s, which makeStay's estimates
// of their ends make overlap, meet instead, before either is judged on its
// length. Two stops whose fixes are next to each other across a silence
// (the phone silent at one place, back at another tens of metres away)
// have their ends estimated each from the other's fix: the stop before
// runs on until the walk to the first fix after the silence, and the stop
// after reaches back to the walk from the last fix before it, so the two
// overlap by the whole silence less the walks. The rep was at one of them
// at a time. The stop before keeps the silence (it runs on into it for as
// long as the way would take, as it does with travel after it) unless the
// stop after is at a site and it is not: then the site's stop keeps it,
// as the overlay would give it (a phone goes silent indoors, at the
// client). The other stop is judged on the time it can have lasted: a
// stop of a minute after a silence of an hour is no visit, and its
// segment no sliver of one.
func disjoin(p, s *stay) {
	if !s.start.Before(p.end) {
		return
	}
	if s.client != "" && p.client == "" {
		p.end = maxT(s.start, p.start)
		return
	}
	s.start = minT(p.end, s.end)
}

// silenceStays adds to the stops found (in time order) a stop for each
// silence at one place (see oneSpot) that none of them spans: the rep
// walked in, the phone got no fix indoors, and the rep walked out, so no
// fix still at the place anchors a stop. The stop lies inside the silence:
// it starts when the fix before it, and ends when the fix after it, puts
// the rep at its centre (the two fixes' weighted centre), timed as
// makeStay times a stop's ends. It is kept only if it lasts the shorter
// of VisitMin and IdleMin; classify then makes it a visit, idle or travel
// by the rules for every stop.
func (d *deriver) silenceStays(out []stay) []stay {
	fs := d.fixes
	minStay := min(d.st.VisitMin, d.st.IdleMin)
	var add []stay
	for k, next := 1, 0; k < len(fs); k++ {
		if !d.oneSpot(k) {
			continue
		}
		for next < len(out) && out[next].last < k-1 {
			next++
		}
		if next < len(out) && out[next].first <= k {
			continue // a stop spans the silence, or starts in it
		}
		var c centroid
		c.add(fs[k-1])
		c.add(fs[k])
		cx, cy := c.at()
		meanAcc := c.sacc / 2
		s := stay{first: k - 1, last: k, cx: cx, cy: cy, centre: d.latLng(cx, cy), meanAccM: meanAcc,
			accM: centreUnc(meanAcc, 0), outer: time.Duration(fs[k].t - fs[k-1].t)}
		var u posUnc
		u.add(fs[k-1])
		u.add(fs[k])
		s.posM = u.radius()
		silence := float64(fs[k].t-fs[k-1].t) / 1e9
		p, q := fs[k-1], fs[k]
		m := d.courseFix(k-1, -1)
		mu, sd := s.approach(fs[m], -1, d.speedAt(m, m-1))
		mu -= float64(p.t-fs[m].t) / 1e9
		s.start = p.at().Add(truncMedian(mu, sd, 0, silence))
		m = d.courseFix(k, 1)
		mu, sd = s.approach(fs[m], 1, d.speedAt(m, m+1))
		mu -= float64(fs[m].t-q.t) / 1e9
		s.end = maxT(q.at().Add(-truncMedian(mu, sd, 0, silence)), s.start)
		if s.lasts(minStay) {
			add = append(add, s)
		}
	}
	if len(add) == 0 {
		return out
	}
	out = append(out, add...)
	slices.SortStableFunc(out, func(a, b stay) int { return cmp.Compare(a.first, b.first) })
	for k := 1; k < len(out); k++ {
		out[k].prevEnd = out[k-1].end
	}
	return out
}

// oneSpot reports whether the silence between fixes k-1 and k is one
// place's: longer than GapMin, with the two fixes within their stop
// allowances of one centre (as in clean), and each confirmed by its
// neighbour away from the silence, which is at that place too, allowing
// for the way the rep could go between the two (see way). DESIGN: a
// silence at one place, same spot before and after, belongs to that
// stop. The neighbour keeps one noisy fix at an end (a multipath jump
// after the silence that lands back where the rep was before it) from
// making one place of two; a single fix far off at an end, with the
// fixes around it at one place, is dropped by clean as a jump. A silence
// a pause overlaps is not one place's: the pause explains it, and what
// the rep did then is not inferred (its stop's unpaused ends would be
// visits of seconds, and a travel across it would share its distance
// with the pause by time).
func (d *deriver) oneSpot(k int) bool {
	fs := d.fixes
	if k < 1 || k >= len(fs) || time.Duration(fs[k].t-fs[k-1].t) <= GapMin || overlaps(fs[k-1].at(), fs[k].at(), d.paused) {
		return false
	}
	a, b := &fs[k-1], &fs[k]
	at := func(p, q *fixP, reach float64) bool {
		return hypotAtMost(p.x-q.x, p.y-q.y, allowance(p.accM)+allowance(q.accM)+reach)
	}
	if !at(a, b, 0) {
		return false
	}
	if k >= 2 && !at(&fs[k-2], b, way(&fs[k-2], a)) {
		return false
	}
	return k+1 >= len(fs) || at(a, &fs[k+1], way(b, &fs[k+1]))
}

// way returns how far, in metres, the rep could go between fixes p and q:
// the faster of their reported speeds (at least walking pace) over the
// time between them.
func way(p, q *fixP) float64 {
	v := max(p.speed, q.speed, walkMPS)
	return v * math.Abs(float64(q.t-p.t)/1e9)
}

// splitAt returns where the members of a stop split into two places the
// rep stood at one after the other (a walk of tens of metres between two
// shops of a mall, sampled by no fix), or 0: the index k whose fixes
// before and after have centres farther apart than splitMinM and than
// splitK times the uncertainty of their difference, each part spanning
// at least minStay (from the fix before it to the fix after it). The
// largest ratio of distance to uncertainty wins.
func (d *deriver) splitAt(members []int, minStay time.Duration) int {
	fs := d.fixes
	n := len(members)
	if n < 2*splitMinFixes {
		return 0
	}
	// The centroid of the fixes before k, kept as k grows, and of those
	// from k on, as the whole less it.
	var all, head centroid
	for _, m := range members {
		all.add(fs[m])
	}
	unc := func(sacc float64, a, b int) float64 {
		return centreUnc(sacc/float64(b-a), time.Duration(fs[members[b-1]].t-fs[members[a]].t))
	}
	best, bestR := 0, 1.0
	for k := 0; k <= n-splitMinFixes; k++ {
		if k >= splitMinFixes &&
			time.Duration(fs[members[k]].t-fs[members[0]].t) >= minStay &&
			time.Duration(fs[members[n-1]].t-fs[members[k-1]].t) >= minStay {
			tw := all.sw - head.sw
			dx := head.sx/head.sw - (all.sx-head.sx)/tw
			dy := head.sy/head.sw - (all.sy-head.sy)/tw
			if hypotAtMost(dx, dy, splitMinM) {
				// Not apart (most ks): the division and square root of
				// the ratio below are not needed.
			} else if dm := math.Hypot(dx, dy); dm > splitMinM {
				u := math.Hypot(unc(head.sacc, 0, k), unc(all.sacc-head.sacc, k, n))
				if r := dm / (splitK * u); r > bestR {
					best, bestR = k, r
				}
			}
		}
		head.add(fs[members[k]])
	}
	return best
}

// centreUnc returns the uncertainty in metres (a 68 % radius) of the
// centre of a stop's fixes of mean accuracy meanAccM spanning span: the
// mean accuracy over the square root of the number of independent errors,
// one per 3 min (indoor errors correlate over minutes), within 5..30 m.
func centreUnc(meanAccM float64, span time.Duration) float64 {
	nEff := 1 + span.Minutes()/3
	return min(max(meanAccM/math.Sqrt(nEff), 5), 30)
}

// posUnc accumulates the uncertainty of a centroid's position when the
// errors of its fixes are correlated in time: each fix's error is its
// accuracy (a 68 % radius) times a unit error that follows an
// Ornstein-Uhlenbeck process of time constant errTau, as indoor errors
// do. Fixes are added in time order, with the centroid's weights.
type posUnc struct {
	sw float64 // sum of the weights
	ss float64 // sum over pairs of w_i a_i w_j a_j exp(-|t_i - t_j| / errTau)
	r  float64 // sum over earlier fixes of w_j a_j exp(-(t - t_j) / errTau)
	t  int64   // time of the last fix added
}

// errTau is the time constant of indoor position errors.
const errTau = 3 * time.Minute

func (u *posUnc) add(p fixP) {
	w := weight(p)
	wa := w * p.accM
	if u.sw > 0 {
		u.r *= math.Exp(-float64(p.t-u.t) / float64(errTau))
	}
	u.ss += wa*wa + 2*wa*u.r
	u.r += wa
	u.sw += w
	u.t = p.t
}

// radius returns the 68 % radius in metres of the centroid's error.
func (u *posUnc) radius() float64 { return math.Sqrt(u.ss) / u.sw }

// posUncOf returns the uncertainty (posUnc) of the centre of stop s, made
// from members, from the fixes its centre was taken from (makeStay's
// core), else s.accM. It is computed once a stop is kept, not for every
// stop tried.
func (d *deriver) posUncOf(s *stay, members []int) float64 {
	var u posUnc
	for _, k := range members[s.coreA : s.coreB+1] {
		if p := d.fixes[k]; !p.moving && math.Hypot(p.x-s.icx, p.y-s.icy) <= coreMinM+2*p.accM {
			u.add(p)
		}
	}
	if u.sw == 0 {
		return s.accM
	}
	return u.radius()
}

// walksOff reports whether fix j starts a walk that ends the stop being
// grown: it and the next fix are moving. One moving fix can be a still
// phone's noisy speed; two in a row are the rep walking off, even where
// the fixes stay within reach of the stop (the next shop of a mall is
// tens of metres away, indoor errors as large).
func (d *deriver) walksOff(j int) bool {
	fs := d.fixes
	return fs[j].moving && j+1 < len(fs) && fs[j+1].moving
}

// relabel gives a stop the client of a verified check-in made during it
// (or up to checkInLead before it) when the stop's centre is at that
// client's site too, allowing for the centre's uncertainty, unless the
// centre is inside both sites: where fences are close together (a
// shop street, a mall) the rep's claim settles which of the nearby sites
// it was.
func (d *deriver) relabel() {
	for _, j := range d.checkIns {
		if j.res.Verification != dwell.VerificationVerified {
			continue
		}
		for k := range d.stays {
			s := &d.stays[k]
			if j.ci.Time.Before(s.start.Add(-checkInLead)) || j.ci.Time.After(s.end) || s.client == j.ci.Client {
				continue
			}
			if k > 0 && j.ci.Time.Before(d.stays[k-1].end) {
				continue // made during the stop before: it names that one
			}
			dm, ok := d.fenceDist(j.ci.Client, s.centre, s.accM)
			if !ok || dm > tolerance(s.accM) {
				continue
			}
			if s.client != "" && dm <= 0 {
				// Inside both sites (a store in a mall): DESIGN's tie rule,
				// which named the stop's client, stands.
				if cur, ok := d.fenceDist(s.client, s.centre, s.accM); ok && cur <= 0 {
					continue
				}
			}
			s.client = j.ci.Client
		}
	}
}

// classify joins stops of the same place that a short break split (and
// a stop at no site to a neighbouring stop at a site within reach of it)
// and decides each stop's kind from its site and length.
func (d *deriver) classify() {
	merged := d.stays[:0]
	for _, s := range d.stays {
		if m := len(merged) - 1; m >= 0 {
			p := &merged[m]
			gap, apart := s.start.Sub(p.end), math.Hypot(p.cx-s.cx, p.cy-s.cy)
			// Two stops at one site whose estimated times overlap (each
			// reaching into the silence between them) are one visit
			// however far apart on the site: the rep was there throughout.
			same := p.client == s.client && gap <= mergeWithin && (apart <= mergeM || (s.client != "" && gap < 0))
			// A stop at no site next to a stop at a site whose fence is
			// within reach of it: one visit whose fixes drifted (indoor
			// errors are correlated for minutes).
			site := (p.client == "") != (s.client == "") && gap <= mergeWithin && apart <= 2*mergeM &&
				(d.atSite(*p, s.client) || d.atSite(s, p.client))
			if same || site {
				if p.client == "" {
					p.client, p.centre, p.cx, p.cy, p.accM = s.client, s.centre, s.cx, s.cy, s.accM
				}
				p.outer += s.outer + gap
				p.last, p.end = s.last, s.end
				continue
			}
		}
		merged = append(merged, s)
	}
	for k := 1; k < len(merged); k++ {
		disjoin(&merged[k-1], &merged[k])
	}
	for k := range merged {
		s := &merged[k]
		// A stop at a site too short for a visit but lasting IdleMin (a
		// tenant's VisitMin above its IdleMin) is idle: the rep stood
		// still, and DESIGN's TRAVEL takes only stops shorter than
		// IdleMin. It keeps its client for the claims (a check-in made in
		// it reaches back to its start), but its segment names none.
		switch {
		case s.client != "" && d.lasts(s, d.st.VisitMin):
			s.kind = KindVisit
		case d.lasts(s, d.st.IdleMin):
			s.kind = KindIdle
		default:
			s.kind = KindTravel
		}
	}
	d.stays = merged
}

// atSite reports whether stop s, at no site, is within reach of client
// c's fence: within tolerance of its centre's uncertainty.
func (d *deriver) atSite(s stay, c dwell.ClientID) bool {
	if s.client != "" || c == "" {
		return false
	}
	dm, ok := d.fenceDist(c, s.centre, s.accM)
	return ok && dm <= tolerance(s.accM)
}

// closeForgotten ends the claim of a verified check-in without check-out,
// or with one made on the next local day (closedLater), when the rep left
// the site: at the end of the visit stop it was made in, else at the last
// fix at the site before two fixes away from it.
func (d *deriver) closeForgotten() {
	for k := range d.checkIns {
		j := &d.checkIns[k]
		if j.res.Verification != dwell.VerificationVerified || (j.res.CheckOutRequestID != "" && !j.closedLater) {
			continue
		}
		j.claimEnd = time.Time{}
		for _, s := range d.stays {
			if s.kind == KindVisit && s.client == j.ci.Client && !j.ci.Time.Before(s.start.Add(-checkInLead)) && j.ci.Time.Before(s.end) {
				j.claimEnd = s.end
				break
			}
		}
		if j.claimEnd.IsZero() {
			j.claimEnd = d.leftSite(j.ci, j.next)
		}
	}
}

// makeStay times a stop: its core fixes are the members within their
// (tighter) core allowance of the final centre; the stop runs from the
// first to the last core fix, reaching out by half the time to the fix
// before and after, at most edgeMax.
func (d *deriver) makeStay(c centroid, members []int, lo int) stay {
	fs := d.fixes
	cx, cy := c.at()
	core := func(k int) bool {
		p := fs[k]
		return !p.moving && hypotAtMost(p.x-cx, p.y-cy, coreMinM+2*p.accM)
	}
	// The core's first and last fixes are ones the rep was still at: a
	// fix shortly before a moving fix is the rep still on the way in (a
	// pause at the car, then the walk to the door), one shortly after a
	// moving fix the rep already on the way out.
	movingWithin := func(k, dir int) bool {
		for j := k + dir; j >= 0 && j < len(fs) && time.Duration(max(fs[j].t-fs[k].t, fs[k].t-fs[j].t)) <= settle; j += dir {
			if fs[j].moving {
				return true
			}
		}
		return false
	}
	a, b := 0, len(members)-1
	for a < b && (!core(members[a]) || movingWithin(members[a], 1)) {
		a++
	}
	for b > a && (!core(members[b]) || movingWithin(members[b], -1)) {
		b--
	}
	first, last := members[a], members[b]
	// The stop is where the rep stood: its centre is that of the core
	// fixes, not of the fixes on the way in or out (a walking fix with a
	// good accuracy would pull it far).
	var cc centroid
	for _, k := range members[a : b+1] {
		if core(k) {
			cc.add(fs[k])
		}
	}
	coreA, coreB, icx, icy := a, b, cx, cy
	if cc.sw > 0 {
		cx, cy = cc.at()
	}
	// A fix just outside the stop, not moving but too far to be a member,
	// next to a moving fix whose course and speed put the rep at the stop
	// after it (or before it, arriving), was taken at the stop: a large
	// indoor error, not the rep gone.
	for last+2 < len(fs) && d.stillThere(cx, cy, last+1, last+2, 1) {
		last++
	}
	for first-2 >= lo && d.stillThere(cx, cy, first-1, first-2, -1) {
		first--
	}
	// Conversely a core fix whose phone gave no speed, moments after (before)
	// a walking fix whose course and speed put the rep at the stop only
	// after it (before it), was taken on the way in (out).
	for a < b && first == members[a] && d.onTheWay(cx, cy, first, -1) {
		a++
		first = members[a]
	}
	for b > a && last == members[b] && d.onTheWay(cx, cy, last, 1) {
		b--
		last = members[b]
	}
	s := stay{first: first, last: last, start: fs[first].at(), end: fs[last].at(), cx: cx, cy: cy}
	s.coreA, s.coreB, s.icx, s.icy = coreA, coreB, icx, icy
	s.outer = time.Duration(fs[min(last+1, len(fs)-1)].t - fs[max(first-1, 0)].t)
	meanAcc := c.sacc / float64(len(members))
	s.meanAccM = meanAcc
	s.accM = centreUnc(meanAcc, time.Duration(fs[last].t-fs[first].t))
	// The rep arrived between the fix before the core and the first core
	// fix, and left between the last core fix and the fix after. The
	// fix outside says when, from how far it is from the centre and how
	// fast the rep moved there; that estimate is uncertain by the fix's and
	// the centre's errors, so the instant taken is the median of its
	// (normal) error truncated to the interval the two fixes bound.
	// A fix with no speed next to the stop borrows the course of the
	// walking fix before (after) it, taken moments earlier (later).
	if first > 0 {
		p := fs[first-1]
		m := d.courseFix(first-1, -1)
		v := d.speedAt(m, m-1)
		mu, sd := s.approach(fs[m], -1, v)
		mu -= float64(p.t-fs[m].t) / 1e9
		s.start = p.at().Add(truncMedian(mu, sd, 0, float64(fs[first].t-p.t)/1e9))
	}
	if last+1 < len(fs) {
		q := fs[last+1]
		m := d.courseFix(last+1, 1)
		v := d.speedAt(m, m+1)
		mu, sd := s.approach(fs[m], 1, v)
		mu -= float64(fs[m].t-q.t) / 1e9
		s.end = q.at().Add(-truncMedian(mu, sd, 0, float64(q.t-fs[last].t)/1e9))
	}
	s.centre = d.latLng(cx, cy)
	return s
}

// latLng returns the position of (x, y) in the day's plane, back in
// degrees through the plane of the first fix.
func (d *deriver) latLng(x, y float64) dwell.LatLng {
	p0 := d.fixes[0]
	kx := math.Cos(p0.ll.Lat * math.Pi / 180)
	lat := p0.ll.Lat + (y-p0.y)/mPerDeg
	lng := p0.ll.Lng + (x-p0.x)/(mPerDeg*kx)
	if lng > 180 {
		lng -= 360
	} else if lng < -180 {
		lng += 360
	}
	return dwell.LatLng{Lat: lat, Lng: lng}
}

// stillThere reports whether fix q, not moving and within its core reach
// of the stop's centre (cx, cy), was taken at the stop, from moving fix m
// next to it (after it, sign 1, or before it, sign -1): m's offset from
// the centre along its course, over its speed, puts the rep at the centre
// after q (sign 1) or before it (sign -1).
func (d *deriver) stillThere(cx, cy float64, q, m, sign int) bool {
	fq := &d.fixes[q]
	return !fq.moving && hypotAtMost(fq.x-cx, fq.y-cy, coreMinM+2*fq.accM) && d.projected(cx, cy, q, m, sign) > 0
}

// projected tells from moving fix m whether the rep was at the stop's
// centre (cx, cy) when fix q was taken, q before m (sign 1, leaving) or
// after it (sign -1, arriving): m's offset from the centre along its
// course, over its speed, says when the rep left (arrived); 1 if that was
// after q (before q), -1 if not, 0 if m has no course.
func (d *deriver) projected(cx, cy float64, q, m, sign int) int {
	fq, fm := &d.fixes[q], &d.fixes[m]
	if !hasCourse(fm) {
		return 0
	}
	along := float64(sign) * ((fm.x-cx)*fm.ux + (fm.y-cy)*fm.uy)
	at := fm.t - int64(float64(sign)*along/fm.speed*1e9) // when the rep was at the centre
	if float64(sign)*float64(at-fq.t) > 0 {
		return 1
	}
	return -1
}

// onTheWay reports whether fix i, which has no speed, was taken on the
// way to (dir -1) or from (dir 1) the stop centred at (cx, cy): the walking
// fix before (after) it, within lendCourse, puts the rep at the centre
// only after (before) it, and fix i itself is farther from the centre
// than its accuracy (a fix within it was as likely taken at the stop: the
// walking fix's own error moves its estimate by seconds).
func (d *deriver) onTheWay(cx, cy float64, i, dir int) bool {
	fs := d.fixes
	m := d.courseFix(i, dir)
	return fs[i].speed < 0 && m != i && d.projected(cx, cy, i, m, dir) < 0 && math.Hypot(fs[i].x-cx, fs[i].y-cy) > fs[i].accM
}

// hasCourse reports whether fix p shows the rep moving along a reported
// course.
func hasCourse(p *fixP) bool { return p.moving && (p.ux != 0 || p.uy != 0) }

// courseFix returns the fix whose course times a stop's end: fix i next to
// the stop if its phone gave a speed, else fix i+dir (dir -1 arriving, 1
// leaving) if that one shows a course and is within lendCourse of fix i (a
// fix with no speed between a walking fix and the stop), else i.
func (d *deriver) courseFix(i, dir int) int {
	fs := d.fixes
	j := i + dir
	if fs[i].speed >= 0 || j < 0 || j >= len(fs) || !hasCourse(&fs[j]) ||
		time.Duration(max(fs[i].t-fs[j].t, fs[j].t-fs[i].t)) > lendCourse {
		return i
	}
	return j
}

// approach estimates how long before (sign 1, leaving) or after (sign -1,
// arriving) fix p the rep was at the stop's centre, in seconds, at speed v,
// with the standard deviation of that estimate. A fix moving along a
// reported course counts the part of its offset from the centre along
// that course: the part across it is the fix's and the centre's error,
// which the straight distance would add. Otherwise the straight distance,
// less half the centre's uncertainty, is all there is.
func (s *stay) approach(p fixP, sign, v float64) (mu, sd float64) {
	dx, dy := p.x-s.cx, p.y-s.cy
	r := math.Hypot(dx, dy)
	along := max(r-s.accM/2, 0)
	if p.moving && (p.ux != 0 || p.uy != 0) {
		along = sign * (dx*p.ux + dy*p.uy)
	}
	// Accuracy is a radius holding 68 % of a 2-D normal error: 1.515
	// standard deviations per axis.
	sdM := math.Hypot(p.accM, s.accM) / 1.515
	return along / v, sdM / v
}

// truncMedian returns the median of a normal (mu, sd) truncated to
// [lo, hi]: the estimate mu weighed against the bounds the fixes set.
func truncMedian(mu, sd, lo, hi float64) time.Duration {
	x := mu
	if sd > 0 && hi > lo {
		ea := math.Erf((lo - mu) / (sd * math.Sqrt2))
		eb := math.Erf((hi - mu) / (sd * math.Sqrt2))
		x = mu + sd*math.Sqrt2*math.Erfinv((ea+eb)/2)
	}
	if !(x >= lo) { // NaN too
		x = lo
	}
	x = min(x, hi)
	return time.Duration(math.Round(x*1e3)) * time.Millisecond
}

// lasts reports whether the stop lasted at least min: its estimated
// length is within durSlack of min (the timing of its ends is uncertain
// by about half a sampling interval) and the fixes around it are at
// least min apart.
func (s *stay) lasts(min time.Duration) bool {
	return s.end.Sub(s.start)+durSlack >= min && s.outer >= min
}

// lasts is stay.lasts on the stop's working, unpaused time: a pause or a
// split shift's break inside a stop
// (the rep at one place before and after it) is not time at the stop, so
// it makes no short stop an idle stop or a visit (DESIGN: paused time is
// never idle).
func (d *deriver) lasts(s *stay, min time.Duration) bool {
	if len(d.paused) == 0 && len(d.breaks) == 0 {
		return s.lasts(min)
	}
	p := pausedWithin(d.paused, s.start, s.end) + pausedWithin(d.breaks, s.start, s.end)
	return s.end.Sub(s.start)-p+durSlack >= min && s.outer-p >= min
}

// speedAt returns the rep's speed in m/s at fix i: the reported speed, or
// the speed from fix j (its neighbour away from the stop) if it is close in
// time, or walking pace; within [0.5, 40].
func (d *deriver) speedAt(i, j int) float64 {
	fs := d.fixes
	v := fs[i].speed
	if !(v > 0.5) && j >= 0 && j < len(fs) {
		if dt := math.Abs(float64(fs[i].t-fs[j].t) / 1e9); dt > 0 && dt <= 120 {
			v = dist(fs[i], fs[j]) / dt
		}
	}
	if !(v > 0.5) {
		v = walkMPS
	}
	return min(v, 40)
}

func clampT(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// site names the client of a stop from its centre: among the fences that
// contain it, the one with the nearest centre; else the nearest fence
// within the centre's uncertainty; else the site most of the stop's core
// fixes are at (within voteTolerance); else none.
func (d *deriver) site(s *stay) {
	if d.in.Fences == nil {
		return
	}
	d.buf = d.in.Fences.Query(s.centre, s.accM, d.buf)
	if s.client = d.pick(s.centre, s.accM, d.buf); s.client != "" {
		s.client = d.likeliest(s, s.client)
		return
	}
	// The centre is at no site, but indoor errors are correlated for
	// minutes and can pull it off: ask the fixes. A fence within the vote
	// tolerance of the fixes' mean accuracy of the centre wins if most of
	// the stop's core fixes are at it, each within the vote tolerance of
	// its own accuracy (the most such fixes wins, ties to the nearest
	// centre).
	reach := voteTolerance(s.meanAccM)
	d.buf = d.in.Fences.Query(s.centre, reach, d.buf)
	best, bestN, bestD := dwell.ClientID(""), 0, math.Inf(1)
	for k, m := range d.buf {
		if k == maxVoteCandidates || m.DistanceM > reach {
			break
		}
		c, ok := d.client(dwell.ClientID(m.ID))
		if !ok || (c.Fence.Circle == nil && c.Fence.Polygon == nil) {
			continue
		}
		sh := geofence.NewShape(c.Fence)
		n := 0
		for _, p := range d.fixes[s.first : s.last+1] {
			if sh.SignedDistanceM(p.ll) <= voteTolerance(p.accM) {
				n++
			}
		}
		cd := haversineM(s.centre, c.Fence.Center())
		if n > bestN || (n == bestN && n > 0 && cd < bestD) {
			best, bestN, bestD = c.ID, n, cd
		}
	}
	if 2*bestN > s.last-s.first+1 {
		s.client = best
	}
}

// client looks a client up in the input's source, if any.
func (d *deriver) client(id dwell.ClientID) (dwell.Client, bool) {
	if d.in.Clients == nil {
		return dwell.Client{}, false
	}
	return d.in.Clients.Client(id)
}

// pick chooses among matches by DESIGN's rule (see site).
func (d *deriver) pick(p dwell.LatLng, accM float64, ms []geofence.Match) dwell.ClientID {
	best, bestD := "", math.Inf(1)
	for _, m := range ms {
		if m.DistanceM > accM {
			continue
		}
		cd := max(m.DistanceM, 0)
		if c, ok := d.client(dwell.ClientID(m.ID)); ok {
			cd = haversineM(p, c.Fence.Center())
		}
		if cd < bestD || (cd == bestD && m.ID < best) {
			best, bestD = m.ID, cd
		}
	}
	return dwell.ClientID(best)
}

func haversineM(a, b dwell.LatLng) float64 {
	const r = math.Pi / 180
	dlat, dlng := (b.Lat-a.Lat)*r, (b.Lng-a.Lng)*r
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Lat*r)*math.Cos(b.Lat*r)*math.Sin(dlng/2)*math.Sin(dlng/2)
	return 2 * earthRadiusM * math.Asin(math.Sqrt(min(h, 1)))
}

// judged is a check-in with its verification and the visit it claims.
type judged struct {
	ci       dwell.CheckIn
	res      CheckInResult
	claimEnd time.Time // zero unless verified
	next     time.Time // the next verified check-in's time (any client), or zero
	from, to time.Time // the claim as build lays it, [from, to); empty if none
	used     bool
	// closedLater is set for a verified check-in whose check-out was made
	// on the next local day: its claim ends as a forgotten one's does.
	closedLater bool
}

// judgeCheckIns verifies each check-in against its client's fence, pairs
// it with its check-out and, for a verified one, decides the end of the
// visit it claims (the check-out, or the fixes for a forgotten one).
func (d *deriver) judgeCheckIns(day *Day) []judged {
	// The next day's claims take part in the pairing only: a check-in of
	// the day still open at its end is closed by the client's first
	// check-out after it, also on the next day, unless the rep checked in
	// at that client again first (nextSame).
	cis := slices.Concat(d.in.CheckIns, d.laterIns)
	// A request id repeated with other content keeps the least, as a fix
	// ID does (prepare), so that the order of arrival does not decide.
	slices.SortFunc(cis, func(a, b dwell.CheckIn) int {
		return cmp.Or(cmp.Compare(a.RequestID, b.RequestID), a.Time.Compare(b.Time), cmp.Compare(a.Client, b.Client),
			compareFixPtr(a.Fix, b.Fix))
	})
	cis = slices.CompactFunc(cis, func(a, b dwell.CheckIn) bool { return a.RequestID == b.RequestID })
	slices.SortFunc(cis, func(a, b dwell.CheckIn) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.RequestID, b.RequestID))
	})
	cos := slices.Concat(d.in.CheckOuts, d.laterOuts)
	slices.SortFunc(cos, func(a, b dwell.CheckOut) int {
		return cmp.Or(cmp.Compare(a.RequestID, b.RequestID), a.Time.Compare(b.Time), cmp.Compare(a.Client, b.Client))
	})
	cos = slices.CompactFunc(cos, func(a, b dwell.CheckOut) bool { return a.RequestID == b.RequestID })
	slices.SortFunc(cos, func(a, b dwell.CheckOut) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.RequestID, b.RequestID))
	})
	lo, hi := d.checkInBounds()
	// Each check-in's verdict first: the next check-in that ends a claim
	// is the next verified one (a check-in the fixes do not back changes
	// nothing), whatever the client.
	vers := make([]dwell.Verification, len(cis))
	dists := make([]float64, len(cis))
	for k, ci := range cis {
		if (lo.IsZero() || !ci.Time.Before(lo)) && (hi.IsZero() || ci.Time.Before(hi)) {
			vers[k], dists[k] = d.verify(ci)
		}
	}
	usedOut := make([]bool, len(cos))
	var out []judged
	for k, ci := range cis {
		if (!lo.IsZero() && ci.Time.Before(lo)) || (!hi.IsZero() && !ci.Time.Before(hi)) {
			continue
		}
		j := judged{ci: ci, res: CheckInResult{RequestID: ci.RequestID, Client: ci.Client, Time: ci.Time}}
		j.res.Verification, j.res.DistanceM = vers[k], dists[k]
		var next, nextSame time.Time
		for m := k + 1; m < len(cis); m++ {
			if vers[m] == dwell.VerificationVerified {
				next = cis[m].Time
				break
			}
		}
		for _, c := range cis[k+1:] {
			if c.Client == ci.Client {
				nextSame = c.Time
				break
			}
		}
		// A check-out closes the client's check-in before it, though the
		// rep may have checked in at the next site first (a mall); the
		// next verified check-in still ends the visit (build).
		var co *dwell.CheckOut
		for m := range cos {
			c := &cos[m]
			if usedOut[m] || c.Client != ci.Client || c.Time.Before(ci.Time) {
				continue
			}
			if !nextSame.IsZero() && !c.Time.Before(nextSame) {
				break
			}
			usedOut[m] = true
			co = c
			break
		}
		if co != nil {
			j.res.CheckOutRequestID = co.RequestID
		} else {
			day.Flags.ForgottenCheckOuts++
		}
		switch {
		case j.res.Verification != dwell.VerificationVerified:
			day.Flags.UnverifiedCheckIns++
		case co != nil && !d.dayEnd.IsZero() && !co.Time.Before(d.dayEnd):
			// Closed on the next day: the outcome is the visit's, and the
			// claim ends within the day as the fixes show (closeForgotten),
			// the day's fixes being the evidence of its part.
			j.closedLater = true
		case co != nil:
			j.claimEnd = co.Time
		}
		j.next = next
		day.CheckIns = append(day.CheckIns, j.res)
		out = append(out, j)
	}
	return out
}

// checkInBounds returns the instants [lo, hi) within which a check-in is
// judged: the day's bounds (bounds), with lo brought checkInLead earlier
// when a working-hours window starts the day after its local midnight
// (never before midnight, so that no check-in is judged on two days). The
// server refuses fixes outside working hours but not check-ins: a rep who
// arrives before the window and checks in just before it starts names the
// visit the fixes show from its start (the claim is clamped to the
// observed span, which starts in the window), as a check-in made up to
// checkInLead before any stop does.
func (d *deriver) checkInBounds() (lo, hi time.Time) {
	lo, hi = bounds(d.in)
	if lo.IsZero() {
		return lo, hi
	}
	early := lo.Add(-checkInLead)
	if !d.in.Day.IsZero() {
		loc := d.in.Loc
		if loc == nil {
			loc = time.UTC
		}
		early = maxT(early, d.in.Day.Start(loc))
	}
	return minT(early, lo), hi
}

// tolerance is how far outside a fence a fix of accuracy accM may be and
// still count as at the site.
func tolerance(accM float64) float64 { return min(max(2*accM, checkInTolMinM), checkInTolMaxM) }

// voteTolerance is how far outside a fence, in metres, a stop's fix of
// accuracy accM may be and still vote for the site when the stop's centre
// is at none (site): twice the accuracy, at most checkInTolMaxM, without
// tolerance's floor of checkInTolMinM. A check-in's fix is one reading
// taken at the door, where a floor forgives a rep who taps a few metres
// early; a stop's fixes are many readings of where the rep stood, and
// with good ones (5 m) a floor of 30 m would make a visit of a café next
// door, a car parked in front or a courtyard that is a hole of the
// client's polygon (DESIGN: "inside that client's site (accuracy-aware)").
func voteTolerance(accM float64) float64 { return min(2*accM, checkInTolMaxM) }

// fenceDist returns the signed distance in metres from p to client id's
// fence, and whether it is known: from the client's fence when the input
// knows the client, else from the index, which answers it only out to
// max(tolerance(accM), 2 accM) (beyond, not known: away).
func (d *deriver) fenceDist(id dwell.ClientID, p dwell.LatLng, accM float64) (float64, bool) {
	if c, ok := d.client(id); ok && (c.Fence.Circle != nil || c.Fence.Polygon != nil) {
		return geofence.NewShape(c.Fence).SignedDistanceM(p), true
	}
	if d.in.Fences != nil {
		// Out to the farthest any caller judges a fix of accuracy accM at
		// (verify: twice a low accuracy), so that the answer is the known
		// client's up to there, whatever the index's margin.
		reach := max(tolerance(accM), 2*max(accM, 0))
		d.buf = d.in.Fences.Query(p, reach, d.buf)
		for _, m := range d.buf {
			if m.ID == string(id) && m.DistanceM <= reach {
				return m.DistanceM, true
			}
		}
	}
	return 0, false
}

// verify returns check-in ci's verdict and, for a fix judged by its
// position, the distance in metres from the fix to the client's fence (0
// inside).
func (d *deriver) verify(ci dwell.CheckIn) (dwell.Verification, float64) {
	if ci.Fix == nil {
		return dwell.VerificationNoFix, 0
	}
	if v := d.spoofed(ci.Fix, ci.Time); v != dwell.VerificationUnspecified {
		return v, 0
	}
	if !(ci.Fix.Pos.Lat >= -90 && ci.Fix.Pos.Lat <= 90 && ci.Fix.Pos.Lng >= -180 && ci.Fix.Pos.Lng <= 180) {
		return dwell.VerificationNoFix, 0 // no usable position
	}
	acc := clampAcc(ci.Fix.AccuracyM)
	dm, ok := d.fenceDist(ci.Client, ci.Fix.Pos, acc)
	if !ok {
		// Neither the client nor a fence within the index's margin: away.
		return dwell.VerificationOutsideGeofence, 0
	}
	dm = max(dm, 0)
	switch {
	case dm <= tolerance(acc):
		return dwell.VerificationVerified, dm
	case acc > lowAccuracyM && dm <= 2*acc:
		return dwell.VerificationLowAccuracy, dm
	}
	return dwell.VerificationOutsideGeofence, dm
}

// firstFixFrom returns the index of the first of the fixes fs (in time
// order) taken at or after t, Unix nanoseconds: len(fs) if none.
func firstFixFrom(fs []fixP, t int64) int {
	i, _ := slices.BinarySearchFunc(fs, t, func(p fixP, t int64) int { return cmp.Compare(p.t, t) })
	return i
}

// spoofed judges fix f of a check-in or check-out made at t as evidence
// of where the rep was at t: VerificationMockLocation when the OS flagged
// it or it is a mock location by impossible speed (below),
// VerificationStaleFix when it is dated more than MaxFixAge from t (a
// fix without a time is the action's), else VerificationUnspecified (its
// position is judged). It is the one test of whether an action's fix
// voids its claim: a check-in or check-out whose fix it condemns names,
// splits and rules out no site (claims), and a check-in so judged is not
// verified (verify). DESIGN: mock locations (OS flag, or impossible
// speed) are never evidence of a visit, and a fix from another time is
// no evidence of the rep at the site when it checked in.
//
// Impossible speed: the rep's clean fixes around t cannot reach f
// (unreachable at t) and, for a fix dated after t, the rep's last clean
// fix before its date or the first at or after it cannot reach it either
// (strays). A fix dated at or before t is the one the phone had when the
// rep tapped, so it must still be within reach at t: a fix at the site
// taken minutes before, sent from a café kilometres away the rep has
// driven to since, is condemned. A fix dated after t was acquired after
// the tap, and the rep moves on meanwhile: one driving up at 20 m/s who
// taps 40 s before arriving is 800 m from the fix it acquires at the site
// a minute later, out of reach at t but within reach of its own
// neighbours. A real fix is always within reach of the phone's fixes just
// before and just after it; a spoofed one dated after the tap is
// condemned by both, or by either when it is a jump of over strayJumpM,
// also when it is dated next to a silence of the phone (the fix on the
// silence's far side minutes away, within reach of anywhere near): the
// one on the near side, seconds away, puts the rep elsewhere.
func (d *deriver) spoofed(f *dwell.Fix, t time.Time) dwell.Verification {
	if f == nil {
		return dwell.VerificationUnspecified
	}
	if f.Mock {
		return dwell.VerificationMockLocation
	}
	if !f.Time.IsZero() && (f.Time.Before(t.Add(-MaxFixAge)) || f.Time.After(t.Add(MaxFixAge))) {
		return dwell.VerificationStaleFix
	}
	if d.unreachable(f, t) && (!f.Time.After(t) || d.strays(f)) {
		return dwell.VerificationMockLocation
	}
	return dwell.VerificationUnspecified
}

// strays reports whether fix f's position is out of reach of the rep's
// clean fixes at its own date: the fixes just before and at or after its
// date (those that exist, at least one) each need more than MaxSpeedMPS
// to reach it after allowing both accuracies (unreachable at its own
// date); or either of them is a jump from it (within GapMin,
// more than strayJumpM beyond both accuracies, and too fast). spoofed asks it of a fix dated after the
// action, which the phone took between those two fixes: a real fix
// acquired after the tap, on the way in or at the site, is within reach
// of both, and one of them tens of metres off (a Wi-Fi fix of the stream
// next to a GPS one, a network fix the same second as a GPS fix) cannot
// condemn it alone; a spoofer who dates the fix next to a silence of the
// phone, the fix on its far side minutes away and in reach, is held to
// the one on the near side, seconds away and far off. False when
// the rep has no clean fix.
func (d *deriver) strays(f *dwell.Fix) bool {
	if d.unreachable(f, f.Time) {
		return true
	}
	tn := f.Time.UnixNano()
	acc := clampAcc(f.AccuracyM)
	jump := func(p fixP) bool {
		dt := tn - p.t
		if dt < 0 {
			dt = -dt
		}
		beyond := haversineM(f.Pos, p.ll) - acc - p.accM
		return time.Duration(dt) <= GapMin && beyond > strayJumpM && tooFast(beyond, tn-p.t)
	}
	i := firstFixFrom(d.fixes, tn)
	return i > 0 && jump(d.fixes[i-1]) || i < len(d.fixes) && jump(d.fixes[i])
}

// unreachable reports whether fix f's position cannot have been the
// rep's at t, given the clean fixes around t: reaching it from the
// nearest fix before t and from the nearest at or after it (those that
// exist, at least one) needs more than MaxSpeedMPS after allowing both
// accuracies, the rule clean drops a fix of the stream by. DESIGN counts
// an action's fix so condemned (at the action's time and, for one dated
// after it, by the fixes around its own date: spoofed, strays) as a
// mock location (impossible speed) though the OS set no flag: a
// check-in made with a spoofed position while every fix of the phone
// puts the rep elsewhere. An action's fix is sent with it, not as a fix
// of the stream, so the stream never judged it.
func (d *deriver) unreachable(f *dwell.Fix, t time.Time) bool {
	tn := t.UnixNano()
	acc := clampAcc(f.AccuracyM)
	fast := func(p fixP) bool { return tooFast(haversineM(f.Pos, p.ll)-acc-p.accM, tn-p.t) }
	i := firstFixFrom(d.fixes, tn)
	// d.fixes[i] is the first fix at or after t.
	if i > 0 && !fast(d.fixes[i-1]) {
		return false
	}
	if i < len(d.fixes) && !fast(d.fixes[i]) {
		return false
	}
	return len(d.fixes) > 0
}

// leftSite returns when the fixes show the rep left ci's site after a
// forgotten check-out: the last fix at the site before two fixes in a row
// away from it (or before next, the next verified check-in).
func (d *deriver) leftSite(ci dwell.CheckIn, next time.Time) time.Time {
	end := ci.Time
	out := 0
	at := d.atSiteFn(ci.Client)
	for _, p := range d.fixes {
		if !p.at().After(ci.Time) {
			continue
		}
		if !next.IsZero() && !p.at().Before(next) {
			break
		}
		if at(p) {
			end, out = p.at(), 0
			continue
		}
		if out++; out >= 2 {
			break
		}
	}
	return end
}

// endAtLeaving ends each claim where the fixes show the rep left the site
// for a stop elsewhere: an idle or visit stop that starts after the
// check-in and before the claim's end, named for no client or another,
// whose centre is beyond reach of the claimed site (as relabel judges
// reach) and at least leaveMinM from it. The claim then ends at the last clean fix at the site before
// that stop (at the check-in if none). A check-out tapped late, after the
// rep drove on to another client or home, so claims none of that time:
// the check-out is a claim, the fixes are evidence, and a visit found
// from the fixes at another site is never hidden by it. A rep who leaves
// and comes back within one check-in claims only the time before leaving.
func (d *deriver) endAtLeaving() {
	for k := range d.checkIns {
		j := &d.checkIns[k]
		if j.claimEnd.IsZero() {
			continue
		}
		var away time.Time
		for _, s := range d.stays {
			if s.kind == KindTravel || !s.start.After(j.ci.Time) || !s.start.Before(j.claimEnd) ||
				s.client == j.ci.Client || (!away.IsZero() && !s.start.Before(away)) {
				continue
			}
			if dm, ok := d.fenceDist(j.ci.Client, s.centre, s.accM); ok && (dm <= tolerance(s.accM) || dm <= leaveMinM) {
				continue
			}
			away = s.start
		}
		if away.IsZero() {
			continue
		}
		end := j.ci.Time
		at := d.atSiteFn(j.ci.Client)
		for _, p := range d.fixes {
			if t := p.at(); t.After(j.ci.Time) && t.Before(away) && at(p) {
				end = t
			}
		}
		j.claimEnd = end
	}
}

// leaveMinM is how far from a claimed site (metres from its fence) a stop
// must be for endAtLeaving to take it as the rep gone elsewhere. In a mall
// or a shop street the neighbouring sites are tens of metres apart and an
// indoor stop's centre drifts as far: a stop that near, right after the
// check-in, is as often the rep still at the claimed client with poor
// fixes as at the shop next door (TestEvaluate, 800 simulated days: a
// floor of 0 moved 5 claims at neighbouring sites and made the
// misallocated time worse, 2.70% to 2.71% and 3.91% to 3.93% in two
// profiles; 100 m changes no simulated day but the departures).
const leaveMinM = 100.0

// atSiteFn returns a test of whether a clean fix is at client c's site:
// within the tolerance of its accuracy of the site's fence (the exact
// shape when the client is known, else the index).
func (d *deriver) atSiteFn(c dwell.ClientID) func(p fixP) bool {
	if cl, ok := d.client(c); ok && (cl.Fence.Circle != nil || cl.Fence.Polygon != nil) {
		sh := geofence.NewShape(cl.Fence)
		return func(p fixP) bool { return sh.SignedDistanceM(p.ll) <= tolerance(p.accM) }
	}
	return func(p fixP) bool {
		dm, ok := d.fenceDist(c, p.ll, p.accM)
		return ok && dm <= tolerance(p.accM)
	}
}

// Verify decides whether a check-in made at t with fix f was at client c's
// site, and how far from the site's boundary it was (metres, 0 inside). It
// is the rule Derive applies, so the answer IngestService.CheckIn gives at
// once is the one the day's timeline keeps (a fix dated more than
// MaxFixAge from t is VerificationStaleFix in both), but for one thing
// Verify cannot know: Derive also holds the fix to the rep's fixes around
// t, and calls a fix they show impossible a mock location (unreachable).
func Verify(c dwell.Client, f *dwell.Fix, t time.Time) (dwell.Verification, float64) {
	d := deriver{in: Input{Clients: ClientMap{c.ID: c}}}
	return d.verify(dwell.CheckIn{Client: c.ID, Time: t, Fix: f})
}
