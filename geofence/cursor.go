package geofence

import (
	"math"
	"math/bits"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Cursor answers the queries of one stream of fixes (one rep's phone),
// reusing the work of recent fixes: consecutive fixes of a rep mostly come
// from the same few places. A Cursor remembers the last cursorSlots cells
// it looked up. For each it keeps the candidate fences of the cell's lists
// with their signed distances from the fix that filled the slot (the
// slot's anchor): exact where the fence's cap came within reach, else the
// cap's lower bound.
//
// A slot serves a fix q when q's finest cell is the slot's (decided by
// faceIJKOf, about 100 ns, without finishing the cell index or looking
// anything up), or when q is within B - reach + slack of the anchor, B the
// tier's buffer and slack = min over the slot's cells c of
// rho(c) - dist(anchor, centre(c)) (each cell list keeps its cell's centre
// and rho in float32; 2 m cover their rounding): then
// dist(q, centre(c)) <= rho(c) + B - reach, and every fence within reach
// of q is within B + rho(c) of centre(c), in c's cover. When a resolution
// had no list, so no centre, slack is taken as 0 less 1 cm:
// dist(anchor, centre(c)) <= rho(c) holds for every cell a position looks
// up. The chord costs a few nanoseconds, so a phone jittering around its
// anchor at a visit skips faceIJKOf as well as the lookups. Then only
// the candidates that may be within reach are tested: a signed distance
// to a boundary changes by at most the distance moved, so a candidate
// whose anchor distance exceeds reach + moved (+ 1 cm for rounding)
// cannot match. A stationary phone's fixes jitter by tens of metres around
// its anchor, so only the fences near the answer are tested. A fix served
// by distance may lie beyond rho(c) of a cell's centre, so the cells'
// interior flags (which promise insideness only within rho(c)) are not
// used for it: its polygons get their containment test.
//
// Cursor.Query returns exactly what Index.Query returns for the same
// arguments against the same state of the index: its candidates hold
// every fence within reach, it skips only ones that provably fail the
// reach test, and it runs the same exact test and sort. A remembered slot is used only while the index's
// resolution mask and the shards it came from are unchanged (pointer
// equality with the shards published now), so a Put or Delete that touches
// those cells is seen at the next query. If faceIJKOf and H3 disagree on a
// position within rounding of a cell boundary, the remembered cell is still
// one whose query region holds the position (the kappa margin), so the
// candidate list is still complete.
//
// A Cursor is not safe for concurrent use; use one per stream. It holds
// references to the fences it remembers, so a cursor kept after a fence is
// deleted keeps that memory until its slot is reused. Its candidate buffers
// grow to the largest cell it has seen and are then reused: queries
// allocate nothing once they have.
type Cursor struct {
	ix    *Index
	slots [cursorSlots]cursorSlot
	next  int
	// hits counts queries served from a slot, nearHits those of them
	// served by distance from another cell, skipped the candidates they
	// left untested; for tests.
	hits, nearHits, skipped int
}

// cursorSlots is how many cells a cursor remembers: a stationary phone's
// jitter spans a cell and its neighbours.
const cursorSlots = 4

// cursorSlackM is what a candidate's anchor distance must exceed
// reach + moved by to be skipped: far above the fast test's error (under
// 1 mm) and the rounding of the distance moved.
const cursorSlackM = 0.01

type cursorSlot struct {
	valid bool
	tier  int8
	mask  uint32
	key   faceIJK
	n     int
	// Per resolution in mask, finest last: the shard index and the shard
	// the list came from (nil if empty).
	shardIx [maxRes + 1]int32
	shards  [maxRes + 1]*shard
	// anchor is the fix that filled the slot; cands are the fences of the
	// slot's lists with their signed distances from anchor.
	anchor s2.Point
	cands  []cursorCand
	// regionSlackM is how far q may move from the anchor and stay within
	// the query region of every cell the slot looked up (less rounding
	// slack), or -Inf when a resolution had no list, hence no region.
	regionSlackM float64
}

type cursorCand struct {
	f *fence
	// dM is the signed distance from the slot's anchor if exact, else a
	// lower bound of it from the fence's cap.
	dM       float64
	bound    fenceCap // the fence's cap, for the same prefilter as eval
	exact    bool
	interior bool // the fence is interior in the cell it came from
}

// NewCursor returns a cursor over ix for one stream of fixes.
func (ix *Index) NewCursor() *Cursor { return &Cursor{ix: ix} }

// Query is Index.Query with the cursor's cache; see Index.Query for the
// contract.
func (c *Cursor) Query(p dwell.LatLng, accuracyM float64, buf []Match) []Match {
	buf = buf[:0]
	if !validLatLng(p) {
		return buf
	}
	ix := c.ix
	acc, reach := ix.reach(accuracyM)
	t := ix.tierFor(reach)
	tr := &ix.tiers[t]
	mask := tr.mask.Load()
	if mask == 0 {
		return buf
	}
	q := point(p)
	fine := bits.Len32(mask) - 1
	// A slot serves q if q is close enough to its anchor that the
	// anchor's cells hold every fence within reach of q (a chord, a few
	// nanoseconds: tried first), or if q is in its cell (faceIJKOf, about
	// 100 ns).
	var s *cursorSlot
	moved := 0.0
	// distrust: s serves q by the chord, from beyond the query region of
	// one of s's cells, where their interior flags (every position that
	// looks the cell up is inside the fence) do not hold.
	distrust := false
	for i := range c.slots {
		cs := &c.slots[i]
		if !cs.usable(t, mask) {
			continue
		}
		if near := tr.bufferM - reach + max(-cursorSlackM, cs.regionSlackM); near > 0 {
			if m := movedBoundM(cs.anchor, q); m <= near && cs.fresh(tr) {
				s, moved, distrust = cs, m, m > cs.regionSlackM
				c.nearHits++
				break
			}
		}
	}
	var key faceIJK
	if s == nil {
		key = faceIJKOf(q.Vector, fine)
		for i := range c.slots {
			if cs := &c.slots[i]; cs.usable(t, mask) && cs.key == key && cs.fresh(tr) {
				s = cs
				break
			}
		}
	}
	if s == nil {
		s = &c.slots[c.next]
		c.next = (c.next + 1) % cursorSlots
		s.fill(tr, t, mask, key, q, fine, reach)
	} else {
		c.hits++
	}
	limit := reach
	if q != s.anchor {
		if moved == 0 {
			moved = movedBoundM(s.anchor, q)
		}
		limit += moved + cursorSlackM
	}
	// The candidates that may be within reach; those whose distance is
	// not known go through batches.
	var b batch
	for i := range s.cands {
		cd := &s.cands[i]
		if cd.dM > limit || q != s.anchor && cd.bound.beyond(q.X, q.Y, q.Z, reach) {
			c.skipped++
			continue
		}
		if q == s.anchor && cd.exact {
			if d := cd.dM; d <= reach {
				buf = append(buf, Match{ID: cd.f.id, DistanceM: d, Relation: relationOf(d, acc)})
			}
			continue
		}
		b.add(cd.f, cd.interior && !distrust)
		if b.n == candBatch {
			buf = b.matches(q, acc, reach, buf)
		}
	}
	buf = b.matches(q, acc, reach, buf)
	sortMatches(buf)
	return buf
}

// fill makes s the slot of the fine cell with face coordinates key, with
// the candidates of its lists measured from q: exactly when their caps
// come within reach of q, else by the caps' lower bound.
func (s *cursorSlot) fill(tr *tier, t int, mask uint32, key faceIJK, q s2.Point, fine int, reach float64) {
	cands := s.cands[:0]
	*s = cursorSlot{valid: true, tier: int8(t), mask: mask, key: key, anchor: q}
	var lists [maxRes + 1]*cellList
	found := tr.lookupAll(mask, faceIJKToCell(key, fine), &lists, func(si int, sh *shard) {
		s.shardIx[s.n], s.shards[s.n] = int32(si), sh
		s.n++
	})
	// As cellList.eval: the candidates within reach get their exact
	// distance in batches.
	var b batch
	var at [candBatch]int
	for _, cl := range found {
		for i := 0; i < len(cl.refs); {
			for ; i < len(cl.refs) && b.n < candBatch; i++ {
				r := &cl.refs[i]
				cd := cursorCand{f: r.f, bound: r.bound, interior: i < int(cl.nInterior), dM: r.bound.lowerBoundM(q)}
				if cd.dM <= reach {
					at[b.n] = len(cands)
					b.add(r.f, cd.interior)
				}
				cands = append(cands, cd)
			}
			b.exact(q)
			for j, k := range at[:b.n] {
				cands[k].dM, cands[k].exact = b.d[j], true
			}
			b.n = 0
		}
	}
	s.cands = cands
	s.regionSlackM = math.Inf(-1)
	if len(found) == bits.OnesCount32(mask) {
		s.regionSlackM = math.Inf(1)
		for _, cl := range found {
			r := &cl.region
			s.regionSlackM = min(s.regionSlackM, float64(r.radiusM)-movedBoundM(s2.Point{Vector: r3.Vector{X: float64(r.x), Y: float64(r.y), Z: float64(r.z)}}, q)-capSlackM)
		}
	}
}

// movedBoundM returns an upper bound in metres of the great-circle
// distance between unit vectors a and b: the arc 2 asin(chord/2), rounded
// up.
func movedBoundM(a, b s2.Point) float64 {
	chord := a.Sub(b.Vector).Norm()
	if chord < 1e-3 {
		// 2 asin(c/2) = c (1 + c^2/24 + 3c^4/640 + ...) < c (1 + c^2/23)
		// for c < 1e-3: no Asin on the cursor's every fix.
		return chord*(1+chord*chord*(1.0/23))*EarthRadiusM*(1+1e-12) + 1e-9
	}
	return 2*math.Asin(min(1, chord/2))*EarthRadiusM*(1+1e-12) + 1e-9
}

// usable reports whether the slot was filled in tier t under the
// resolution mask mask.
func (s *cursorSlot) usable(t int, mask uint32) bool {
	return s.valid && s.mask == mask && int(s.tier) == t
}

// fresh reports whether every shard the slot read is still the published
// one.
func (s *cursorSlot) fresh(tr *tier) bool {
	for i := range s.n {
		if tr.shards[s.shardIx[i]].Load() != s.shards[i] {
			return false
		}
	}
	return true
}
