package geofence

import (
	"cmp"
	"math"
	"slices"
	"unsafe"
)

// The cell map of a tier is split into numShards shards by a hash of the
// cell. Each shard is an immutable open-addressing table behind an atomic
// pointer: readers load the pointer and read; a writer builds a new table
// with its changes and swaps it in (copy on write, per shard). A fence
// change copies only the shards its cells fall in.

const numShardBits = 14
const numShards = 1 << numShardBits

// cellList is the fences stored under one cell: the first nInterior of refs
// are interior there. region is the cell's query region (its centre and
// rho), for a Cursor to tell how far a slot's anchor may move before it
// leaves the region.
type cellList struct {
	refs      []cellRef
	nInterior int32
	region    fenceCap
}

// regionOf returns the query region of cell c as a float32 cap, its radius
// rounded down: a cap holds less than the region, within the float32
// rounding of its centre (under 0.7 m, see capSlackM).
func regionOf(c uint64, gc *geomCache) fenceCap {
	g := gc.get(c)
	r := float32(g.rhoM)
	if float64(r) > g.rhoM {
		r = math.Nextafter32(r, 0)
	}
	return fenceCap{x: float32(g.center.X), y: float32(g.center.Y), z: float32(g.center.Z), radiusM: r}
}

// cellRef is one fence of a cell list with its bounding cap, so that a
// query reads the fence's own memory only when the cap is within reach.
type cellRef struct {
	f     *fence
	bound fenceCap
}

func refTo(f *fence) cellRef { return cellRef{f: f, bound: f.bound} }

// shardSlot is one entry of a shard's table; key 0 marks an empty slot (0
// is no H3 cell).
type shardSlot struct {
	key  uint64
	list cellList
}

type shard struct {
	// slots is the table: a cell's key next to its list, so a probe that
	// finds the cell has the list's header in the same cache line.
	slots []shardSlot
	mask  uint64
}

func mix(c uint64) uint64 {
	c ^= c >> 33
	c *= 0xff51afd7ed558ccd
	c ^= c >> 33
	c *= 0xc4ceb9fe1a85ec53
	c ^= c >> 33
	return c
}

func shardOf(c uint64) int { return int(mix(c) >> (64 - numShardBits)) }

// lookup returns the fences of cell c, or nil. s may be nil.
func (s *shard) lookup(c uint64) *cellList {
	if s == nil {
		return nil
	}
	for i := mix(c) & s.mask; ; i = (i + 1) & s.mask {
		switch sl := &s.slots[i]; sl.key {
		case c:
			return &sl.list
		case 0:
			return nil
		}
	}
}

// change adds or removes one fence at one cell: key is the cell with
// interiorFlag set for an interior addition and removeFlag for a removal
// (bits 63 and 62 are 0 in every H3 cell index). 16 bytes, since a bulk
// load holds one per cover cell.
type change struct {
	key uint64
	f   *fence
}

// removeFlag marks a removal in change.key.
const removeFlag = uint64(1) << 62

func newChange(c uint64, f *fence, add bool) change {
	if !add {
		c = c&^interiorFlag | removeFlag
	}
	return change{key: c, f: f}
}

func (ch *change) cell() uint64   { return ch.key &^ (interiorFlag | removeFlag) }
func (ch *change) add() bool      { return ch.key&removeFlag == 0 }
func (ch *change) interior() bool { return ch.key&interiorFlag != 0 }

// changeSet collects changes per tier.
type changeSet struct {
	chs [numTiers][]change
}

func (cs *changeSet) add(t int, f *fence, cells []uint64, add bool) {
	for _, c := range cells {
		cs.chs[t] = append(cs.chs[t], newChange(c, f, add))
	}
}

// byShard groups tier t's changes by shard.
func (cs *changeSet) byShard(t int) map[int][]change {
	m := make(map[int][]change)
	for _, ch := range cs.chs[t] {
		s := shardOf(ch.cell())
		m[s] = append(m[s], ch)
	}
	return m
}

// with returns a new shard: s (which may be nil) with the changes applied.
// Removals apply before additions, so a replacement in one batch works.
// gc gives the geometry of cells new to the shard; nil makes one when
// needed.
func (s *shard) with(chs []change, gc *geomCache) *shard {
	slices.SortFunc(chs, func(a, b change) int {
		switch {
		case a.cell() != b.cell():
			return cmp.Compare(a.cell(), b.cell())
		case a.add() != b.add(): // removals first
			return boolInt(a.add()) - boolInt(b.add())
		case a.interior() != b.interior(): // interior first
			return boolInt(b.interior()) - boolInt(a.interior())
		}
		// Then in memory order: a bulk load's slab is ordered on the
		// ground, so a query's exact tests walk the fences (and their
		// planar records) in address order, page by page.
		return cmp.Compare(uintptr(unsafe.Pointer(a.f)), uintptr(unsafe.Pointer(b.f)))
	})
	type entry struct {
		key uint64
		val cellList
	}
	var entries []entry
	nRefs := 0
	for i := range chs {
		if chs[i].add() {
			nRefs++
		}
	}
	if s != nil {
		for i := range s.slots {
			if k := s.slots[i].key; k != 0 {
				if _, found := slices.BinarySearchFunc(chs, k, func(c change, k uint64) int { return cmp.Compare(c.cell(), k) }); found {
					nRefs += len(s.slots[i].list.refs)
				} else {
					entries = append(entries, entry{k, s.slots[i].list})
				}
			}
		}
	}
	arena := make([]cellRef, 0, nRefs)
	for i := 0; i < len(chs); {
		j := i
		for j < len(chs) && chs[j].cell() == chs[i].cell() {
			j++
		}
		c := chs[i].cell()
		var old cellList
		if cl := s.lookup(c); cl != nil {
			old = *cl
		} else if chs[j-1].add() { // removals sort first: a new cell
			if gc == nil {
				gc = newGeomCache()
			}
			old.region = regionOf(c, gc)
		}
		group := chs[i:j]
		removed := func(f *fence) bool {
			for _, ch := range group {
				if ch.add() {
					return false
				}
				if ch.f == f {
					return true
				}
			}
			return false
		}
		lo := len(arena)
		for _, r := range old.refs[:old.nInterior] {
			if !removed(r.f) {
				arena = append(arena, r)
			}
		}
		for _, ch := range group {
			if ch.add() && ch.interior() {
				arena = append(arena, refTo(ch.f))
			}
		}
		nInt := len(arena) - lo
		for _, r := range old.refs[old.nInterior:] {
			if !removed(r.f) {
				arena = append(arena, r)
			}
		}
		for _, ch := range group {
			if ch.add() && !ch.interior() {
				arena = append(arena, refTo(ch.f))
			}
		}
		if len(arena) > lo {
			entries = append(entries, entry{c, cellList{refs: arena[lo:len(arena):len(arena)], nInterior: int32(nInt), region: old.region}})
		}
		i = j
	}
	if len(entries) == 0 {
		return nil
	}
	size := 4
	for size < 2*len(entries) {
		size *= 2
	}
	ns := &shard{slots: make([]shardSlot, size), mask: uint64(size - 1)}
	for _, e := range entries {
		i := mix(e.key) & ns.mask
		for ns.slots[i].key != 0 {
			i = (i + 1) & ns.mask
		}
		ns.slots[i] = shardSlot{key: e.key, list: e.val}
	}
	return ns
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
