package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// AppendFixes implements store.Store.
//
// The fixes' keys, values and id hashes are computed by the calling
// goroutine, so only the index look-ups and the B+tree inserts run on the
// committer. Duplicates are found by fix id against the rep's fix-id index
// (fixindex.go), which also sees the fixes written earlier in the same
// batch and by earlier requests of the same group commit. A fix whose time
// cannot be stored (outside the years 1678 to 2262) or whose id is empty or
// longer than dwell.MaxFixIDBytes fails the whole call with dwell.Invalid
// and nothing is written.
func (s *Store) AppendFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fixes []dwell.Fix) ([]bool, error) {
	const op = dwell.Op("boltstore.AppendFixes")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return nil, err
	}
	if len(fixes) == 0 {
		return []bool{}, nil
	}
	b, err := newFixBatch(op, repKey{tenant, rep}, fixes)
	if err != nil {
		return nil, err
	}
	if err := s.write(ctx, op, len(fixes), b.apply); err != nil {
		return nil, err
	}
	return b.stored, nil
}

// fixBatch is one AppendFixes request, encoded.
type fixBatch struct {
	rep repKey
	// keys, vals and hashes are the fixes' keys, values and id hashes. They
	// must stay valid until the commit (bbolt keeps references).
	keys, vals [][]byte
	hashes     []idHash
	// stored is the result, set by apply.
	stored []bool
}

// newFixBatch checks and encodes fixes. A fix whose time cannot be stored
// or whose id is empty or too long fails the whole batch with dwell.Invalid.
func newFixBatch(op dwell.Op, rep repKey, fixes []dwell.Fix) (*fixBatch, error) {
	size := 0
	for i := range fixes {
		f := &fixes[i]
		if len(f.ID) == 0 || len(f.ID) > dwell.MaxFixIDBytes {
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: fmt.Sprintf("fixes[%d].id", i),
				Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxFixIDBytes)})
		}
		if !keyTimeOK(f.Time) {
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: fmt.Sprintf("fixes[%d].time", i),
				Description: "must be between the years 1678 and 2262"})
		}
		size += fixKeyLen(f.ID) + maxFixValueLen
	}
	// One slab holds every key and value: one allocation instead of 2n.
	slab := make([]byte, size)
	b := &fixBatch{
		rep:    rep,
		keys:   make([][]byte, len(fixes)),
		vals:   make([][]byte, len(fixes)),
		hashes: make([]idHash, len(fixes)),
	}
	off := 0
	for i := range fixes {
		n := putFixKey(slab[off:], &fixes[i])
		b.keys[i] = slab[off : off+n : off+n]
		b.hashes[i] = hashID(b.keys[i][timeKeyLen:])
		off += n
		n = putFixValue(slab[off:], &fixes[i])
		b.vals[i] = slab[off : off+n : off+n]
		off += n
	}
	return b, nil
}

// apply stores the batch's new fixes in t and sets b.stored. It writes
// nothing before it can fail with a kind other than Other.
func (b *fixBatch) apply(t *txn) error {
	fs, err := t.fixState(b.rep)
	if err != nil {
		return err
	}
	stored := make([]bool, len(b.keys))
	var rec []byte
	for i, k := range b.keys {
		h := &b.hashes[i]
		dup, err := fs.has(h)
		if err != nil {
			return err
		}
		if dup {
			continue
		}
		if err := fs.rb.fixes.Put(k, b.vals[i]); err != nil {
			return err
		}
		if rec == nil {
			rec = make([]byte, 0, (len(b.keys)-i)*entryLen)
		}
		rec = fs.add(rec, h, k[:timeKeyLen])
		stored[i] = true
	}
	if rec != nil {
		if err := appendSeq(fs.rb.log, rec); err != nil {
			return err
		}
	}
	b.stored = stored
	return t.markFixDays(b.rep, b.keys, stored)
}

// ListFixes implements store.Store. Fixes come back with Time in UTC. A
// first pass over the keys alone sizes the answer before the fixes are
// decoded.
func (s *Store) ListFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Fix, error) {
	const op = dwell.Op("boltstore.ListFixes")
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	out := []dwell.Fix{}
	if !from.Before(to) {
		return out, nil
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readRepSub(tx, tenant, rep, bktFixes)
		if b == nil {
			return nil
		}
		start, end := timeKey(from), timeKey(to)
		inRange := func(k []byte) bool { return k != nil && bytes.Compare(k[:min(len(k), timeKeyLen)], end) < 0 }
		// A first pass over the keys alone sizes the answer and one
		// block for every id: a day of 2,880 fixes otherwise costs a
		// doubling slice (twice the answer in garbage) and 2,880 strings.
		c := b.Cursor()
		n, idBytes := 0, 0
		for k, _ := c.Seek(start); inRange(k); k, _ = c.Next() {
			n++
			idBytes += max(len(k)-timeKeyLen, 0)
		}
		out = make([]dwell.Fix, 0, n)
		ids := make([]byte, 0, idBytes)
		ends := make([]int32, 0, n)
		for k, v := c.Seek(start); inRange(k) && len(out) < n; k, v = c.Next() {
			f, err := decodeFixBody(k, v)
			if err != nil {
				return err
			}
			ids = append(ids, k[timeKeyLen:]...)
			ends = append(ends, int32(len(ids)))
			out = append(out, f)
		}
		all, at := string(ids), int32(0)
		for i := range out {
			out[i].ID, at = all[at:ends[i]], ends[i]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LastFixTime implements store.Store: the time key of the last entry of
// the rep's fixes bucket.
func (s *Store) LastFixTime(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	const op = dwell.Op("boltstore.LastFixTime")
	if err := checkTenant(op, tenant); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readRepSub(tx, tenant, rep, bktFixes)
		if b == nil {
			return nil
		}
		k, _ := b.Cursor().Last()
		if k == nil {
			return nil
		}
		if len(k) < timeKeyLen {
			return errCorrupt(string(op), fmt.Sprintf("fix key of %d bytes", len(k)))
		}
		at = keyTime(k[:timeKeyLen]).UTC()
		return nil
	})
	return at, err
}
