package geofence

import (
	"cmp"
	"hash/maphash"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/golang/geo/s2"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Defaults of Options.
const (
	// DefaultMarginM is the margin used when Options.MarginM is 0.
	DefaultMarginM = 100.0
	// DefaultMaxAccuracyM is the accuracy clamp used when
	// Options.MaxAccuracyM is 0.
	DefaultMaxAccuracyM = 500.0
	// maxMarginM bounds Options.MarginM and Options.MaxAccuracyM.
	maxMarginM = 5000.0
)

// Options configure an Index. The zero value is ready to use.
type Options struct {
	// MarginM is how far outside a fence, in metres, a fix still matches
	// it, as RelationNear. 0 means DefaultMarginM; a negative value means
	// no margin (only fences the fix is inside or within its accuracy of).
	// At most 5000.
	MarginM float64
	// MaxAccuracyM clamps a fix's accuracy radius in metres: a fix reported
	// less accurate than this is treated as accurate to MaxAccuracyM. 0
	// means DefaultMaxAccuracyM. At most 5000.
	MaxAccuracyM float64
}

// Relation is how a fix stands to a fence.
type Relation int

// Relations. The zero value is not returned by queries.
const (
	RelationNone Relation = iota
	// RelationInside means the fix's position is inside the fence or on
	// its boundary: DistanceM <= 0.
	RelationInside
	// RelationMaybeInside means the position is outside but the boundary is
	// within the fix's accuracy: 0 < DistanceM <= accuracy.
	RelationMaybeInside
	// RelationNear means the position is outside, beyond its accuracy but
	// within the margin: accuracy < DistanceM <= MarginM.
	RelationNear
)

var relationNames = [...]string{"none", "inside", "maybe_inside", "near"}

// String returns "inside", "maybe_inside", "near" or "none".
func (r Relation) String() string {
	if r < 0 || int(r) >= len(relationNames) {
		return "Relation(" + strconv.Itoa(int(r)) + ")"
	}
	return relationNames[r]
}

// Match is one fence a fix is in or near.
type Match struct {
	// ID is the fence's id as given to Put.
	ID string
	// DistanceM is the signed great-circle distance in metres from the fix
	// to the fence's boundary: negative inside, positive outside. It agrees
	// with Shape.SignedDistanceM within 1 mm.
	DistanceM float64
	// Relation classifies DistanceM against the fix's accuracy and the
	// index's margin.
	Relation Relation
}

// Fence is one entry of a bulk load.
type Fence struct {
	ID       string
	Geofence dwell.Geofence
}

// Tiers: the near tier serves queries whose reach (the larger of the
// clamped accuracy and the margin) is at most its buffer; the far tier
// serves the rest, up to the largest reach.
const (
	tierNear = iota
	tierFar
	numTiers
)

// Cover coarseness per tier: a fence's cover uses the finest resolution
// whose average edge is at least reach/ratio.
var tierRatio = [numTiers]float64{4, 2}

// minNearBufferM is the least buffer of the near tier, so that fixes of
// ordinary accuracy take the near tier even with a small margin.
const minNearBufferM = 50.0

// Index is an H3-indexed set of geofences. Queries never block and never
// wait on writers; writers (Put, PutAll, Delete) are serialized among
// themselves. All methods are safe for concurrent use.
type Index struct {
	marginM      float64
	maxAccuracyM float64

	mu   sync.Mutex        // serializes writers
	byID map[string]*fence // guarded by mu
	n    atomic.Int64
	// seed keys the fences' fingerprints (fence.sum), so that no one can
	// choose two geometries whose fingerprints collide.
	seed maphash.Seed

	tiers [numTiers]tier

	shapes map[string]*Shape // oracle shapes, tests only; guarded by mu
}

// tier is one cell index: fences stored under the cells of their covers.
type tier struct {
	bufferM float64
	// mask has bit r set when some fence's cover has resolution r.
	mask   atomic.Uint32
	counts [maxRes + 1]int // fences per resolution; guarded by Index.mu
	shards [numShards]atomic.Pointer[shard]
}

// New returns an empty index.
func New(opts Options) *Index {
	ix := &Index{marginM: opts.MarginM, maxAccuracyM: opts.MaxAccuracyM, byID: make(map[string]*fence), seed: maphash.MakeSeed()}
	switch {
	case ix.marginM == 0 || math.IsNaN(ix.marginM):
		ix.marginM = DefaultMarginM
	case ix.marginM < 0:
		ix.marginM = 0
	}
	if !(ix.maxAccuracyM > 0) {
		ix.maxAccuracyM = DefaultMaxAccuracyM
	}
	ix.marginM = min(ix.marginM, maxMarginM)
	ix.maxAccuracyM = min(ix.maxAccuracyM, maxMarginM)
	ix.tiers[tierNear].bufferM = max(ix.marginM, minNearBufferM)
	ix.tiers[tierFar].bufferM = max(ix.marginM, ix.maxAccuracyM, ix.tiers[tierNear].bufferM)
	return ix
}

// MarginM returns the margin in metres the index matches fences within.
func (ix *Index) MarginM() float64 { return ix.marginM }

// MaxAccuracyM returns the accuracy clamp in metres.
func (ix *Index) MaxAccuracyM() float64 { return ix.maxAccuracyM }

// Len returns the number of fences.
func (ix *Index) Len() int { return int(ix.n.Load()) }

const opPut = dwell.Op("geofence.Put")
const opPutAll = dwell.Op("geofence.PutAll")

// validate checks one fence for Put and PutAll; field prefixes the
// violations' paths.
func validate(field, id string, g dwell.Geofence) []dwell.Violation {
	var vs []dwell.Violation
	if id == "" {
		vs = append(vs, dwell.Violation{Field: field + "id", Description: "a fence id is required"})
	}
	return append(vs, dwell.ValidateGeofence(field+"geofence", g)...)
}

// Put adds the fence id, or replaces it. An invalid geofence (see
// dwell.ValidateGeofence) or an empty id is an error of kind dwell.Invalid
// with violations on "id" and "geofence...", and changes nothing. A
// replacement is published shard by shard, like every change: a query that
// runs while it is published may see the old shape in some cells and the
// new one in others, so it may, that once, answer with both or neither; a
// fence unchanged for the whole of a query is always found. Putting the
// geometry the index holds for id already costs a fingerprint of it and
// changes nothing.
func (ix *Index) Put(id string, g dwell.Geofence) error {
	if vs := validate("", id, g); vs != nil {
		return dwell.E(opPut, dwell.Invalid, "invalid fence", vs)
	}
	sum := ix.fingerprint(g)
	ix.mu.Lock()
	old, ok := ix.byID[id]
	ix.mu.Unlock()
	if ok && old.sum == sum {
		return nil
	}
	f := ix.prepare(id, g, newGeomCache())
	f.f.sum = sum
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.apply([]*prepared{f})
	return nil
}

// fingerprint returns a 64-bit hash of g's geometry, keyed by the index's
// seed: two geofences with the same circle, or the same rings in the same
// order, have the same fingerprint; two others have the same one with a
// probability of 2^-64.
func (ix *Index) fingerprint(g dwell.Geofence) uint64 {
	var h maphash.Hash
	h.SetSeed(ix.seed)
	f := func(v float64) { maphash.WriteComparable(&h, math.Float64bits(v)) }
	ll := func(p dwell.LatLng) { f(p.Lat); f(p.Lng) }
	switch {
	case g.Circle != nil:
		h.WriteByte('c')
		ll(g.Circle.Center)
		f(g.Circle.RadiusM)
	case g.Polygon != nil:
		h.WriteByte('p')
		for i, r := range append([][]dwell.LatLng{g.Polygon.Shell}, g.Polygon.Holes...) {
			maphash.WriteComparable(&h, uint64(i)<<32|uint64(len(r)))
			for _, p := range r {
				ll(p)
			}
		}
	}
	return h.Sum64()
}

// PutAll adds or replaces many fences at once, in parallel and publishing
// each shard of the index once: the fast path for loading a tenant at
// startup. Later entries win over earlier ones with the same id. If any
// entry is invalid, PutAll returns an error of kind dwell.Invalid with
// violations on "fences[i]..." and changes nothing. Readers see the
// fences appear shard by shard. Entries with the geometry the index holds
// for their id already cost a fingerprint each and change nothing.
func (ix *Index) PutAll(fences []Fence) error {
	_, _, err := ix.putAll(opPutAll, fences, false)
	return err
}

// SetAll makes the index hold exactly fences: it puts those whose id is
// new or whose geometry changed, as PutAll does, and deletes every fence
// whose id is not among them, publishing each shard once for the
// deletions. It returns how many fences it put and how many it deleted.
// Fences it holds already with the same geometry cost a fingerprint each
// and are not touched, so bringing a large index back in step with its
// source after missed changes costs about the changes, not a new build
// (a new index of a million fences takes seconds of every core and
// doubles the memory while it is built). Validation is PutAll's: an
// invalid entry changes nothing. Writers running at the same time
// interleave with it as with separate calls of PutAll and Delete.
func (ix *Index) SetAll(fences []Fence) (put, deleted int, err error) {
	return ix.putAll(opSetAll, fences, true)
}

const opSetAll = dwell.Op("geofence.SetAll")

// putAll is PutAll, and SetAll when only is set.
func (ix *Index) putAll(op dwell.Op, fences []Fence, only bool) (put, deleted int, err error) {
	var vs []dwell.Violation
	for i, fe := range fences {
		vs = append(vs, validate("fences["+strconv.Itoa(i)+"].", fe.ID, fe.Geofence)...)
	}
	if vs != nil {
		return 0, 0, dwell.E(op, dwell.Invalid, "invalid fences", vs)
	}
	// Keep the last of duplicate ids.
	last := make(map[string]int, len(fences))
	for i, fe := range fences {
		last[fe.ID] = i
	}
	sums := make([]uint64, len(fences))
	parallel(len(fences), func(i int, _ *geomCache) {
		if last[fences[i].ID] == i {
			sums[i] = ix.fingerprint(fences[i].Geofence)
		}
	})
	var gone []string
	ix.mu.Lock()
	if only {
		for id := range ix.byID {
			if _, ok := last[id]; !ok {
				gone = append(gone, id)
			}
		}
	}
	// Look up the entries, not range over the index: a PutAll of a few
	// fences into a large index costs the few.
	for id, i := range last {
		if f, ok := ix.byID[id]; ok && f.sum == sums[i] {
			delete(last, id) // held already
		}
	}
	ix.mu.Unlock()
	if len(gone) > 0 {
		slices.Sort(gone) // the order of the deletions does not depend on the map's
		deleted = ix.deleteAll(gone)
	}
	// Order the fences on the ground, by the cell of their anchors, then
	// prepare them in that order into one slab, so that fences near each
	// other on the ground, which queries test together, are near each other
	// in memory, and each worker's cell-geometry cache stays hot. A slab
	// stays allocated while any of its fences is referenced.
	type item struct {
		key uint64
		src int
	}
	items := make([]item, 0, len(last))
	for i, fe := range fences {
		if j, ok := last[fe.ID]; ok && j == i {
			items = append(items, item{src: i})
		}
	}
	if len(items) == 0 {
		return 0, deleted, nil
	}
	parallel(len(items), func(i int, _ *geomCache) {
		items[i].key = cellOf(anchorOf(fences[items[i].src].Geofence).Vector, localityRes)
	})
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.key, b.key) })
	slab := make([]fence, len(items))
	// The polygons' planar records of each run of plRun fences go into
	// one arena in the same order. (One arena for the whole load, taken
	// before the covers, raised the build's peak memory by about 95 MiB.)
	ps := make([]prepared, len(items))
	prep := make([]*prepared, len(items))
	parallel((len(items)+plRun-1)/plRun, func(r int, gc *geomCache) {
		lo, hi := r*plRun, min(len(items), (r+1)*plRun)
		var off [plRun + 1]int
		for i := lo; i < hi; i++ {
			off[i-lo+1] = off[i-lo] + plSize(fences[items[i].src].Geofence)
		}
		arena := make([]float64, off[hi-lo])
		for i := lo; i < hi; i++ {
			fe := &fences[items[i].src]
			initFence(&slab[i], fe.ID, fe.Geofence, arena[off[i-lo]:off[i-lo]:off[i-lo+1]])
			slab[i].sum = sums[items[i].src]
			ps[i].f = &slab[i]
			ix.cover(&ps[i], gc)
			prep[i] = &ps[i]
		}
	})
	put = len(items)
	items = nil
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.apply(prep)
	return put, deleted, nil
}

// parallel runs fn(i) for i in [0, n) on GOMAXPROCS workers, in chunks of
// consecutive i, each worker with its own geometry cache.
func parallel(n int, fn func(i int, gc *geomCache)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/64))
	var wg sync.WaitGroup
	var next atomic.Int64
	const chunk = 256
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gc := newGeomCache()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(i, gc)
				}
			}
		}()
	}
	wg.Wait()
}

// Delete removes the fence id and reports whether it was there.
func (ix *Index) Delete(id string) bool {
	return ix.deleteAll([]string{id}) == 1
}

// deleteAll removes the fences of ids that are there, rebuilding each
// shard they touch once, and returns how many it removed. The covers to
// remove are computed again (the index keeps none), on every core when
// there are many.
func (ix *Index) deleteAll(ids []string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	olds := make([]*fence, 0, len(ids))
	for _, id := range ids {
		if f, ok := ix.byID[id]; ok {
			olds = append(olds, f)
			delete(ix.byID, id)
		}
	}
	if len(olds) == 0 {
		return 0
	}
	type cover struct {
		res   int
		cells []uint64
	}
	covers := make([][numTiers]cover, len(olds))
	each := func(i int, gc *geomCache) {
		for t := range ix.tiers {
			res, cells := computeCover(olds[i], ix.tiers[t].bufferM, tierRatio[t], gc)
			covers[i][t] = cover{res, cells}
		}
	}
	if len(olds) > 64 {
		parallel(len(olds), each)
	} else {
		gc := newGeomCache()
		for i := range olds {
			each(i, gc)
		}
	}
	var chs changeSet
	for i, f := range olds {
		for t := range ix.tiers {
			chs.add(t, f, covers[i][t].cells, false)
			ix.tiers[t].counts[covers[i][t].res]--
		}
	}
	for t := range ix.tiers {
		tr := &ix.tiers[t]
		for sh, list := range chs.byShard(t) {
			tr.shards[sh].Store(tr.shards[sh].Load().with(list, nil))
		}
	}
	ix.publishMasks()
	ix.n.Add(-int64(len(olds)))
	return len(olds)
}

// prepared is a fence with its covers, ready to be published.
type prepared struct {
	f     *fence
	cells [numTiers][]uint64
}

// plRun is how many consecutive fences of a bulk load share one arena of
// planar records.
const plRun = 256

// localityRes is the resolution by which PutAll orders fences. H3 indexes
// hold their digits coarse to fine, so sorting by the cell at a fine
// resolution keeps the fences of each coarser cell together and orders
// them within it along H3's own hierarchy: the fences a query reads (those
// within a couple of hundred metres) lie on fewer pages than when ordered
// by a coarse cell alone.
const localityRes = maxRes

func (ix *Index) prepare(id string, g dwell.Geofence, gc *geomCache) *prepared {
	p := &prepared{f: newFence(id, g)}
	ix.cover(p, gc)
	return p
}

// cover computes p's covers in every tier.
func (ix *Index) cover(p *prepared, gc *geomCache) {
	for t := range ix.tiers {
		res, cells := computeCover(p.f, ix.tiers[t].bufferM, tierRatio[t], gc)
		p.f.res[t] = int8(res)
		p.cells[t] = cells
	}
}

// apply publishes prepared fences, replacing fences of the same ids. The
// caller holds ix.mu. Each touched shard is rebuilt once per tier.
func (ix *Index) apply(ps []*prepared) {
	var removals changeSet
	gc := newGeomCache()
	for _, p := range ps {
		if old, ok := ix.byID[p.f.id]; ok {
			for t := range ix.tiers {
				res, cells := computeCover(old, ix.tiers[t].bufferM, tierRatio[t], gc)
				removals.add(t, old, cells, false)
				ix.tiers[t].counts[res]--
			}
		} else {
			ix.n.Add(1)
		}
		ix.byID[p.f.id] = p.f
		for t := range ix.tiers {
			ix.tiers[t].counts[p.f.res[t]]++
		}
	}
	for t := range ix.tiers {
		// Counting sort of the additions by shard, one range of shards at
		// a time into one reused buffer: a million fences' additions are
		// hundreds of megabytes at once, the build's peak memory, while a
		// range's are an eighth of it (a pass over the cover cells per
		// range is the price, well under a second for a million fences).
		var count [numShards + 1]int32
		for _, p := range ps {
			for _, c := range p.cells[t] {
				count[shardOf(c&^interiorFlag)+1]++
			}
		}
		for s := 1; s <= numShards; s++ {
			count[s] += count[s-1]
		}
		per := numShards / applyRanges
		rem := removals.byShard(t)
		var buf []change
		for lo := 0; lo < numShards; lo += per {
			hi := lo + per
			base := count[lo]
			if n := int(count[hi] - base); cap(buf) < n {
				buf = make([]change, n)
			}
			adds := buf[:count[hi]-base]
			fill := count
			for _, p := range ps {
				for _, c := range p.cells[t] {
					if s := shardOf(c &^ interiorFlag); s >= lo && s < hi {
						adds[fill[s]-base] = change{key: c, f: p.f}
						fill[s]++
					}
				}
			}
			ix.buildShards(t, lo, hi, adds, count[lo:hi+1], rem, gc)
		}
		for _, p := range ps {
			p.cells[t] = nil
		}
	}
	ix.publishMasks()
}

// applyRanges is how many ranges of shards apply builds one after the
// other.
const applyRanges = 8

// buildShards rebuilds shards lo to hi-1 of tier t with their additions:
// shard s's are adds[count[s-lo]-count[0] : count[s-lo+1]-count[0]],
// which with sorts in place; rem holds each shard's removals. Shards are
// independent, so many changes are applied on all cores.
func (ix *Index) buildShards(t, lo, hi int, adds []change, count []int32, rem map[int][]change, gc *geomCache) {
	tr := &ix.tiers[t]
	build := func(s int, gc *geomCache) {
		chs := adds[count[s-lo]-count[0] : count[s-lo+1]-count[0]]
		if len(rem[s]) > 0 {
			chs = append(rem[s], chs...)
		}
		if len(chs) > 0 {
			tr.shards[s].Store(tr.shards[s].Load().with(chs, gc))
		}
	}
	if len(adds) > 1<<15 {
		parallel(hi-lo, func(i int, gc *geomCache) { build(lo+i, gc) })
		return
	}
	for s := lo; s < hi; s++ {
		build(s, gc)
	}
}

// publishMasks updates the resolution masks after the shards are
// published: a bit is set once its cells are there and cleared when no
// fence is left at its resolution, so a reader never misses a fence that
// was in the index for the whole of its query. The caller holds ix.mu.
func (ix *Index) publishMasks() {
	for t := range ix.tiers {
		tr := &ix.tiers[t]
		var mask uint32
		for r, n := range tr.counts {
			if n > 0 {
				mask |= 1 << r
			}
		}
		tr.mask.Store(mask)
	}
}

// Query returns the fences within reach of the fix at p with the given
// accuracy radius in metres: every fence whose boundary is within
// max(accuracy, MarginM) of p or that contains p, with the signed distance
// and relation, nearest first (ties by id). The accuracy is clamped to
// [0, MaxAccuracyM]; NaN counts as 0. An invalid position (NaN, latitude
// beyond ±90 or longitude beyond ±180) matches nothing.
//
// The matches are appended to buf[:0]; Query allocates nothing when buf
// has room for them. Match.ID strings are shared with the index.
func (ix *Index) Query(p dwell.LatLng, accuracyM float64, buf []Match) []Match {
	buf = buf[:0]
	if !validLatLng(p) {
		return buf
	}
	acc, reach := ix.reach(accuracyM)
	tr := &ix.tiers[ix.tierFor(reach)]
	mask := tr.mask.Load()
	if mask == 0 {
		return buf
	}
	q := point(p)
	c := cellOf(q.Vector, bits.Len32(mask)-1)
	var lists [maxRes + 1]*cellList
	for _, cl := range tr.lookupAll(mask, c, &lists, nil) {
		buf = cl.eval(q, acc, reach, buf)
	}
	sortMatches(buf)
	return buf
}

// lookupAll returns the non-empty cell lists of the parents of c at every
// resolution in mask, in lists' array. It looks every list up before
// reading any, so the lookups' cache misses overlap, as do the lists' own
// (see touchRefs). If seen is not nil it is told each resolution's shard
// index and shard, the empty ones included, finest last.
func (tr *tier) lookupAll(mask uint32, c uint64, lists *[maxRes + 1]*cellList, seen func(si int, sh *shard)) []*cellList {
	n := 0
	for m := mask; m != 0; m &= m - 1 {
		pc := cellParent(c, bits.TrailingZeros32(m))
		si := shardOf(pc)
		sh := tr.shards[si].Load()
		if seen != nil {
			seen(si, sh)
		}
		if cl := sh.lookup(pc); cl != nil {
			lists[n] = cl
			n++
		}
	}
	if n > 1 {
		touchRefs(lists[:n])
	}
	return lists[:n]
}

// touchRefs loads one word of every cache line of the lists' entries, in
// a loop whose loads do not depend on each other, so that their cache
// misses overlap instead of coming one list at a time.
func touchRefs(lists []*cellList) {
	var sum uintptr
	for _, cl := range lists {
		for i := 0; i < len(cl.refs); i += 64 / int(unsafe.Sizeof(cellRef{})) {
			sum += uintptr(unsafe.Pointer(cl.refs[i].f))
		}
	}
	// The sum of aligned pointers is a multiple of 8, never 1: the test
	// only keeps the compiler from dropping the loads.
	if sum == 1 {
		lists[0] = nil
	}
}

// reach returns the clamped accuracy and the reach of a query.
func (ix *Index) reach(accuracyM float64) (acc, reach float64) {
	acc = accuracyM
	if !(acc > 0) {
		acc = 0
	}
	acc = min(acc, ix.maxAccuracyM)
	return acc, max(acc, ix.marginM)
}

func (ix *Index) tierFor(reach float64) int {
	if reach <= ix.tiers[tierNear].bufferM {
		return tierNear
	}
	return tierFar
}

func validLatLng(p dwell.LatLng) bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180
}

// eval appends the matches among the cell's fences. Candidates whose caps
// are beyond reach are dropped from the list alone; the rest go through a
// batch's exact tests.
func (cl *cellList) eval(q s2.Point, acc, reach float64, buf []Match) []Match {
	var b batch
	for i := 0; i < len(cl.refs); {
		for ; i < len(cl.refs) && b.n < candBatch; i++ {
			if r := &cl.refs[i]; !r.bound.beyond(q.X, q.Y, q.Z, reach) {
				b.add(r.f, i < int(cl.nInterior))
			}
		}
		buf = b.matches(q, acc, reach, buf)
	}
	return buf
}

// candBatch is how many candidates a batch holds.
const candBatch = 32

// batch is up to candBatch candidates whose exact distances from a
// position are computed together (see exact).
type batch struct {
	n        int
	f        [candBatch]*fence
	interior [candBatch]bool
	d        [candBatch]float64
}

func (b *batch) add(f *fence, interior bool) {
	b.f[b.n], b.interior[b.n] = f, interior
	b.n++
}

// matches appends to buf the batch's fences within reach of q, with their
// relation for accuracy acc, and empties the batch.
func (b *batch) matches(q s2.Point, acc, reach float64, buf []Match) []Match {
	b.exact(q)
	for j, f := range b.f[:b.n] {
		if d := b.d[j]; d <= reach {
			buf = append(buf, Match{ID: f.id, DistanceM: d, Relation: relationOf(d, acc)})
		}
	}
	b.n = 0
	return buf
}

// exact sets b.d[j] to the signed distance from q of b.f[j]. Cold, each
// fence costs a cache miss or two (the fence, a polygon's planar record),
// so it first runs two passes that only touch that memory: their loads do
// not depend on each other, and the processor overlaps the misses instead
// of taking them one exact test at a time.
func (b *batch) exact(q s2.Point) {
	fs := b.f[:b.n]
	touched := 0
	for _, f := range fs {
		touched += int(f.kind) + len(f.pl)
	}
	for _, f := range fs {
		if pl := f.pl; len(pl) > 0 {
			touched += int(pl[0]) + int(pl[len(pl)-1])
		}
	}
	for j, f := range fs {
		b.d[j] = f.signedDistM(q, b.interior[j])
	}
	if touched == -1 { // never: keeps the touching loads
		b.d[0] = 0
	}
}

// relationOf classifies a signed distance against a fix's accuracy.
func relationOf(d, acc float64) Relation {
	switch {
	case d <= 0:
		return RelationInside
	case d <= acc:
		return RelationMaybeInside
	}
	return RelationNear
}

// sortMatches orders matches nearest first, ties by id. A query's answer
// is often a hundred matches with distances spread evenly, and a
// comparison sort's branches are then a coin toss each: the processor
// mispredicts half of them, which cost as much as finding the matches.
// So answers of up to bucketMax matches are placed into bucketMax buckets
// by distance (no data-dependent branch), each crowded bucket is sorted,
// and one insertion pass, whose comparisons are nearly all "in order",
// settles the rest. Larger answers go to a quicksort with the comparison
// inlined (median-of-three pivots, Hoare partitions), which hands
// partitions of up to insertionMax matches to insertion sort; a partition
// that keeps splitting badly (depth beyond 2 log2 n) goes to
// slices.SortFunc, so the worst case stays O(n log n).
func sortMatches(ms []Match) {
	switch n := len(ms); {
	case n <= insertionMax:
		insertionSortMatches(ms)
	case n <= bucketMax:
		bucketSortMatches(ms)
	default:
		quickSortMatches(ms, 2*bits.Len(uint(n)))
	}
}

// insertionMax is the largest run sortMatches sorts by insertion.
const insertionMax = 16

// bucketMax is the largest answer sortMatches sorts by buckets (at most
// 255, the counts are bytes).
const bucketMax = 128

func bucketSortMatches(ms []Match) {
	// Plain comparisons: the builtin min and max order NaNs and signed
	// zeros, which costs more than the rest of this pass.
	lo, hi := ms[0].DistanceM, ms[0].DistanceM
	for i := range ms {
		if d := ms[i].DistanceM; d < lo {
			lo = d
		} else if d > hi {
			hi = d
		}
	}
	if !(hi > lo) { // all at one distance: the order is by id
		quickSortMatches(ms, 2*bits.Len(uint(len(ms))))
		return
	}
	// k(d) never decreases with d, so the buckets are in order.
	scale := (bucketMax - 0.5) / (hi - lo)
	var keys [bucketMax]uint8
	var end [bucketMax + 1]uint8
	for i := range ms {
		k := uint8((ms[i].DistanceM - lo) * scale)
		keys[i] = k
		end[k+1]++
	}
	sum := uint8(0)
	for k := range end {
		sum += end[k]
		end[k] = sum
	}
	var tmp [bucketMax]Match
	for i := range ms {
		k := keys[i]
		tmp[end[k]] = ms[i]
		end[k]++
	}
	copy(ms, tmp[:len(ms)])
	// end[k] is now the end of bucket k.
	start := 0
	for k := range bucketMax {
		e := int(end[k])
		if e-start > insertionMax {
			quickSortMatches(ms[start:e], 2*bits.Len(uint(e-start)))
		}
		start = e
	}
	insertionSortMatches(ms)
}

func insertionSortMatches(ms []Match) {
	for i := 1; i < len(ms); i++ {
		m := ms[i]
		j := i
		for ; j > 0 && matchLess(m, &ms[j-1]); j-- {
			ms[j] = ms[j-1]
		}
		ms[j] = m
	}
}

func quickSortMatches(ms []Match, depth int) {
	for len(ms) > insertionMax {
		if depth == 0 {
			slices.SortFunc(ms, compareMatches)
			return
		}
		depth--
		// Median of three to ms[0] <= ms[mid] <= ms[hi]: they bound both
		// scans below.
		mid, hi := len(ms)/2, len(ms)-1
		if matchLess(ms[mid], &ms[0]) {
			ms[mid], ms[0] = ms[0], ms[mid]
		}
		if matchLess(ms[hi], &ms[mid]) {
			ms[hi], ms[mid] = ms[mid], ms[hi]
			if matchLess(ms[mid], &ms[0]) {
				ms[mid], ms[0] = ms[0], ms[mid]
			}
		}
		p := ms[mid]
		i, j := 0, hi
		for {
			for matchLess(ms[i], &p) {
				i++
			}
			for matchLess(p, &ms[j]) {
				j--
			}
			if i >= j {
				break
			}
			ms[i], ms[j] = ms[j], ms[i]
			i++
			j--
		}
		// ms[:j+1] <= p <= ms[j+1:]; recurse into the smaller side.
		if j+1 < len(ms)-j-1 {
			quickSortMatches(ms[:j+1], depth)
			ms = ms[j+1:]
		} else {
			quickSortMatches(ms[j+1:], depth)
			ms = ms[:j+1]
		}
	}
	insertionSortMatches(ms)
}

// matchLess is compareMatches(a, *b) < 0 for the distances a query
// returns, which are never NaN.
func matchLess(a Match, b *Match) bool {
	return a.DistanceM < b.DistanceM || a.DistanceM == b.DistanceM && a.ID < b.ID
}

func compareMatches(a, b Match) int {
	switch {
	case a.DistanceM < b.DistanceM:
		return -1
	case a.DistanceM > b.DistanceM:
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}
