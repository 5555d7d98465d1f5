package boltstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The fix-id index.
//
// Each rep's fix-id index maps the hash of every stored fix's id to the
// fix's time key, so a re-sent fix is found by id alone, whatever time it
// carries, and the stored fix is one Get away. The hash is the first 16
// bytes of SHA-256 of the id: fixed-size entries that compare fast and pack
// densely; finding two ids with one hash takes about 2^64 hashes, so not
// even a hostile phone can make two of its fixes collide.
//
// Fix ids are random (UUIDs, hex). A B+tree keyed by them would take a
// different page for nearly every insert, and since bbolt copies every
// page it changes, each commit would rewrite and fsync about one 4 KiB page
// per fix: ten times the cost of storing the fix. The index is therefore a
// small log-structured merge tree inside two buckets of the rep:
//
//   - "fixids.log", the pending log: each request appends one record of its
//     new fixes' entries (hash, time key), in the same transaction as the
//     fixes, so the entries are exactly as durable as the fixes. One
//     sequential write per request.
//   - "fixids", the runs: sorted arrays of entries, one per key. When the
//     pending log reaches its threshold (mergeMin entries, or 1/mergeRatio of
//     the rep's merged entries if more), the committer sorts it into a new
//     run and empties it; when there are more than maxRuns runs, it merges
//     them all into one (each entry is rewritten a few times in its life).
//
// The committer keeps, per rep, the pending hashes in a map and the first
// 8 bytes of every merged hash in a sorted slice: a new fix (the common
// case) is known to be new from memory alone, and a match in the slice is
// confirmed by a binary search of the runs on disk. This view is loaded from
// the file the first time a rep is written after Open, and views are
// dropped, least recently used first, when they hold more than indexBudget
// entries in all.
//
// Only the committer goroutine touches the views. A transaction updates the
// views of the reps it writes as it goes; if it then fails or is rolled
// back, those views are dropped, to be reloaded from the file, so memory
// never runs ahead of what is on disk.

const (
	// mergeMin is the least number of pending entries that makes a run.
	mergeMin = 4096
	// mergeRatio makes runs grow with the index: a rep with n merged entries
	// makes a run at n/mergeRatio pending ones, so the number of runs grows
	// with the logarithm of the index size.
	mergeRatio = 8
	// maxRuns is the number of runs beyond which they are merged into one.
	maxRuns = 16
	// indexBudget bounds the entries of the in-memory views across reps:
	// about 8 bytes per merged and 40 per pending entry.
	indexBudget = 1 << 24
)

// idHash is the index key of a fix id.
type idHash [16]byte

// hashID returns the index key of a fix id.
func hashID(id []byte) idHash {
	sum := sha256.Sum256(id)
	return idHash(sum[:16])
}

// entryLen is the length of one index entry: id hash, time key.
const entryLen = len(idHash{}) + timeKeyLen

// repIndex is the committer's in-memory view of one rep's fix-id index.
type repIndex struct {
	// merged holds the first 8 bytes of every hash in the runs, sorted.
	merged []uint64
	// pending holds every hash in the pending log.
	pending map[idHash]struct{}
	// runs is the number of runs.
	runs int
	// lastUse is the committer's group number when last used.
	lastUse uint64
}

func (ri *repIndex) size() int { return len(ri.merged) + len(ri.pending) }

// fixState is one rep's fix index within one transaction.
type fixState struct {
	rb    *repBuckets
	index *repIndex
	// counted is index.size() as counted in Store.indexSize.
	counted int
	// mergeMin is the store's merge threshold.
	mergeMin int
}

// has reports whether a fix whose id has hash h is already stored.
func (fs *fixState) has(h *idHash) (bool, error) {
	if _, ok := fs.index.pending[*h]; ok {
		return true, nil
	}
	if _, ok := slices.BinarySearch(fs.index.merged, binary.BigEndian.Uint64(h[:8])); !ok {
		return false, nil
	}
	// Only a re-sent fix gets here, or, about once in 2^64/n look-ups, a
	// new fix whose hash starts like one of the n merged ones.
	found := false
	err := fs.rb.ids.ForEach(func(_, run []byte) error {
		if len(run)%entryLen != 0 {
			return errCorrupt("boltstore.fixState.has", fmt.Sprintf("fix-id run of %d bytes", len(run)))
		}
		found = found || searchRun(run, h)
		return nil
	})
	return found, err
}

// searchRun reports whether the sorted run holds h.
func searchRun(run []byte, h *idHash) bool {
	lo, hi := 0, len(run)/entryLen
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch bytes.Compare(run[m*entryLen:m*entryLen+len(h)], h[:]) {
		case 0:
			return true
		case -1:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// add records a newly stored fix in the pending log record rec and in the
// view, and returns the record.
func (fs *fixState) add(rec []byte, h *idHash, tk []byte) []byte {
	fs.index.pending[*h] = struct{}{}
	rec = append(rec, h[:]...)
	return append(rec, tk...)
}

// fixState returns the rep's fix index in t, opening its buckets and loading
// its view as needed.
func (t *txn) fixState(k repKey) (*fixState, error) {
	if fs := t.fixes[k]; fs != nil {
		return fs, nil
	}
	rb, err := t.rep(k.tenant, k.rep, true)
	if err != nil {
		return nil, err
	}
	ri := t.s.index[k]
	if ri == nil {
		if ri, err = loadRepIndex(rb); err != nil {
			return nil, err
		}
		t.s.index[k] = ri
		t.s.indexSize += ri.size()
	}
	ri.lastUse = t.s.groups
	fs := &fixState{rb: rb, index: ri, counted: ri.size(), mergeMin: t.s.mergeMin}
	t.fixes[k] = fs
	return fs, nil
}

// loadRepIndex reads a rep's view from its runs and pending log.
func loadRepIndex(rb *repBuckets) (*repIndex, error) {
	const op = "boltstore.loadRepIndex"
	ri := &repIndex{pending: map[idHash]struct{}{}}
	err := rb.ids.ForEach(func(_, run []byte) error {
		if len(run) == 0 || len(run)%entryLen != 0 {
			return errCorrupt(op, fmt.Sprintf("fix-id run of %d bytes", len(run)))
		}
		ri.runs++
		for ; len(run) > 0; run = run[entryLen:] {
			ri.merged = append(ri.merged, binary.BigEndian.Uint64(run))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ri.merged)
	err = rb.log.ForEach(func(_, v []byte) error {
		return forEachEntry(v, func(e []byte) { ri.pending[idHash(e[:len(idHash{})])] = struct{}{} })
	})
	if err != nil {
		return nil, err
	}
	return ri, nil
}

// forEachEntry calls fn for each entry of a pending-log record or run. It
// fails with kind Other on a malformed record and never panics.
func forEachEntry(rec []byte, fn func(e []byte)) error {
	const op = "boltstore.forEachEntry"
	if len(rec) == 0 || len(rec)%entryLen != 0 {
		return errCorrupt(op, fmt.Sprintf("fix-id record of %d bytes, want a positive multiple of %d", len(rec), entryLen))
	}
	for ; len(rec) > 0; rec = rec[entryLen:] {
		fn(rec[:entryLen])
	}
	return nil
}

// appendSeq puts v in b under the bucket's next sequence number.
func appendSeq(b *bolt.Bucket, v []byte) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return b.Put(k[:], v)
}

// maybeMerge turns the rep's pending log into a run if it has grown past
// the threshold, and merges the runs if there are too many.
func (fs *fixState) maybeMerge() error {
	n := len(fs.index.pending)
	if n < fs.mergeMin || n < len(fs.index.merged)/mergeRatio {
		return nil
	}
	run := make([]byte, 0, n*entryLen)
	err := fs.rb.log.ForEach(func(_, v []byte) error {
		run = append(run, v...)
		return nil
	})
	if err != nil {
		return err
	}
	if err := sortRun(run); err != nil {
		return err
	}
	if err := appendSeq(fs.rb.ids, run); err != nil {
		return err
	}
	if err := fs.rb.b.DeleteBucket(bktFixLog); err != nil {
		return err
	}
	if fs.rb.log, err = fs.rb.sub(bktFixLog, appendFillPercent); err != nil {
		return err
	}
	prefixes := make([]uint64, len(run)/entryLen)
	for i := range prefixes {
		prefixes[i] = binary.BigEndian.Uint64(run[i*entryLen:])
	}
	fs.index.merged = mergeSorted(fs.index.merged, prefixes)
	clear(fs.index.pending)
	fs.index.runs++
	if fs.index.runs > maxRuns {
		return fs.compact()
	}
	return nil
}

// compact merges all the rep's runs into one, leaving out the entries of
// pruned fixes (those below the rep's prune horizon, see privacy.go).
func (fs *fixState) compact() error {
	var all []byte
	var keys [][]byte
	err := fs.rb.ids.ForEach(func(k, v []byte) error {
		all = append(all, v...)
		keys = append(keys, slices.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	if err := sortRun(all); err != nil {
		return err
	}
	if h := prunedBelow(fs.rb.b); h != nil {
		all = dropPruned(all, h)
		// The view keeps the prefixes of what is left.
		fs.index.merged = fs.index.merged[:0]
		for e := all; len(e) > 0; e = e[entryLen:] {
			fs.index.merged = append(fs.index.merged, binary.BigEndian.Uint64(e))
		}
	}
	for _, k := range keys {
		if err := fs.rb.ids.Delete(k); err != nil {
			return err
		}
	}
	fs.index.runs = 0
	if len(all) == 0 {
		return nil
	}
	if err := appendSeq(fs.rb.ids, all); err != nil {
		return err
	}
	fs.index.runs = 1
	return nil
}

// dropPruned removes from the sorted run the entries of fixes below the
// prune horizon (time key) h, keeping the order.
func dropPruned(run, h []byte) []byte {
	out := run[:0]
	for e := run; len(e) > 0; e = e[entryLen:] {
		if bytes.Compare(e[len(idHash{}):entryLen], h) >= 0 {
			out = append(out, e[:entryLen]...)
		}
	}
	return out
}

// sortRun sorts the entries of run by hash in place.
//
// Hashes are uniformly distributed, so a bucket sort on their leading bits
// (about one entry per bucket) followed by an insertion sort within each
// bucket runs in linear time, several times faster than a comparison sort.
func sortRun(run []byte) error {
	if len(run) == 0 || len(run)%entryLen != 0 {
		return errCorrupt("boltstore.sortRun", fmt.Sprintf("fix-id entries of %d bytes", len(run)))
	}
	type entry struct {
		hi, lo uint64
		tk     [timeKeyLen]byte
	}
	be := binary.BigEndian
	n := len(run) / entryLen
	shift := 64 - bits.Len(uint(n)) // about n buckets
	if shift >= 64 {
		shift = 63
	}
	start := make([]int32, (1<<(64-shift))+1)
	for i := range n {
		start[be.Uint64(run[i*entryLen:])>>shift+1]++
	}
	for b := 1; b < len(start); b++ {
		start[b] += start[b-1]
	}
	next := slices.Clone(start[:len(start)-1])
	sorted := make([]entry, n)
	for i := range n {
		e := run[i*entryLen:]
		hi := be.Uint64(e)
		j := next[hi>>shift]
		next[hi>>shift]++
		sorted[j] = entry{hi: hi, lo: be.Uint64(e[8:])}
		copy(sorted[j].tk[:], e[16:entryLen])
	}
	for b := 0; b < len(start)-1; b++ {
		bucket := sorted[start[b]:start[b+1]]
		for i := 1; i < len(bucket); i++ {
			for j := i; j > 0 && (bucket[j].hi < bucket[j-1].hi || bucket[j].hi == bucket[j-1].hi && bucket[j].lo < bucket[j-1].lo); j-- {
				bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
			}
		}
	}
	for i := range sorted {
		e := run[i*entryLen:]
		be.PutUint64(e, sorted[i].hi)
		be.PutUint64(e[8:], sorted[i].lo)
		copy(e[16:entryLen], sorted[i].tk[:])
	}
	return nil
}

// finishFixes runs at the end of a group, before the commit: it merges the
// pending logs that grew past their threshold.
func (t *txn) finishFixes() error {
	for _, fs := range t.fixes {
		if err := fs.maybeMerge(); err != nil {
			return err
		}
	}
	return nil
}

// fixesDone settles t's fix-index views once t is over: if t committed, it
// counts their new sizes and evicts the least recently used views if they
// hold more than the budget; if not, it drops them, for they may hold what
// t did not commit.
func (s *Store) fixesDone(t *txn, committed bool) {
	if t == nil {
		return
	}
	for k, fs := range t.fixes {
		s.indexSize -= fs.counted
		if committed {
			s.indexSize += fs.index.size()
		} else {
			delete(s.index, k)
		}
	}
	if s.indexSize <= s.indexBudget {
		return
	}
	type use struct {
		k    repKey
		at   uint64
		size int
	}
	var uses []use
	for k, ri := range s.index {
		uses = append(uses, use{k, ri.lastUse, ri.size()})
	}
	slices.SortFunc(uses, func(a, b use) int { return cmpUint64(a.at, b.at) })
	for _, u := range uses {
		if s.indexSize <= s.indexBudget/2 {
			break
		}
		delete(s.index, u.k)
		s.indexSize -= u.size
	}
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// mergeSorted returns the sorted union (with repeats) of sorted a and b.
func mergeSorted(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
