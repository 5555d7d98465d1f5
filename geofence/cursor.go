package geofence

import (
	"math/bits"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Cursor answers the queries of one stream of fixes (one rep's phone),
// reusing the cell work of recent fixes: consecutive fixes of a rep mostly
// come from the same few places. A Cursor remembers the last cursorSlots
// cells it looked up with their fence lists; a fix whose finest cell is one
// of them (decided by a pure-Go port of H3's position-to-face-and-hex step,
// about 40 ns, instead of h3-go's cgo LatLngToCell at about 1.4 µs) skips
// the cell computation and the lookups and runs only the exact tests.
//
// Cursor.Query returns exactly what Index.Query returns for the same
// arguments against the same state of the index. A remembered list is used
// only while the index's resolution mask and the shards it came from are
// unchanged (pointer equality with the shards published now), so a Put or
// Delete that touches those cells is seen at the next query. If the port
// and h3-go disagree on a position within rounding of a cell boundary, the
// remembered cell is still one whose query region holds the position (the
// kappa margin), so the candidate list is still complete and the exact
// tests make the answer the same.
//
// A Cursor is not safe for concurrent use; use one per stream. It holds
// references to the fence lists it remembers, so a cursor kept after a
// fence is deleted keeps that memory until its slot is reused.
type Cursor struct {
	ix    *Index
	slots [cursorSlots]cursorSlot
	next  int
}

// cursorSlots is how many cells a cursor remembers: a stationary phone's
// jitter spans a cell and its neighbours.
const cursorSlots = 4

type cursorSlot struct {
	valid bool
	tier  int8
	mask  uint32
	key   faceIJK
	n     int
	// Per resolution in mask, finest last: the shard the list came from
	// (nil if empty) and the list (nil if the cell had none).
	shardIx [maxRes + 1]int32
	shards  [maxRes + 1]*shard
	lists   [maxRes + 1]*cellList
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
	key := faceIJKOf(q.Vector, fine)
	var s *cursorSlot
	for i := range c.slots {
		if cs := &c.slots[i]; cs.valid && cs.key == key && cs.mask == mask && int(cs.tier) == t && cs.fresh(tr) {
			s = cs
			break
		}
	}
	if s == nil {
		s = &c.slots[c.next]
		c.next = (c.next + 1) % cursorSlots
		*s = cursorSlot{valid: true, tier: int8(t), mask: mask, key: key}
		cell := faceIJKToCell(key, fine)
		for m := mask; m != 0; m &= m - 1 {
			pc := cellParent(cell, bits.TrailingZeros32(m))
			si := shardOf(pc)
			sh := tr.shards[si].Load()
			s.shardIx[s.n], s.shards[s.n], s.lists[s.n] = int32(si), sh, sh.lookup(pc)
			s.n++
		}
	}
	for _, cl := range s.lists[:s.n] {
		if cl != nil {
			buf = cl.eval(q, acc, reach, buf)
		}
	}
	sortMatches(buf)
	return buf
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
