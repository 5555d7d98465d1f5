package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// What keeps no location for a time a rep paused tracking: the state of
// tracking at an instant (ListTrackingState) and the deletion of the fixes
// of a paused time (store.Privacy.DeleteFixesBetween).
//
// Deleting fixes:
// The fixes are a range of the rep's fixes bucket. Their fix-id index
// entries (fixindex.go) go in the same write: the pending-log records and
// runs that hold one are rewritten without it (a run stays sorted; one left
// empty is deleted), and the committer's in-memory view of the rep's index
// is dropped, to be reloaded from the file when next needed. Unlike a
// prune, which leaves its entries to the next compaction (they lie below
// the prune horizon, where nothing can be stored again), these fixes lie
// anywhere in the rep's history and may be sent again and taken (a resume
// that arrives late ends the pause before them), so their ids must be
// forgotten now. That costs a read of the rep's whole index and a rewrite
// of the records that held a deleted fix, once per call that deletes
// anything; a pause over a time with no fixes (a paused phone sends none)
// costs one read transaction and no write.

// DeleteFixesBetween implements store.Privacy.
func (s *Store) DeleteFixesBetween(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) (int, error) {
	const op = dwell.Op("boltstore.DeleteFixesBetween")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return 0, err
	}
	if !to.IsZero() && !from.Before(to) {
		return 0, nil
	}
	start := timeKey(from) // a zero from is clamped to the first storable instant
	var end []byte
	if !to.IsZero() {
		end = timeKey(to)
	}
	inRange := func(k []byte) bool {
		return k != nil && (end == nil || bytes.Compare(k[:min(len(k), timeKeyLen)], end) < 0)
	}
	// Most pauses cover no stored fix: find out without a write.
	found := false
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		if b := readRepSub(tx, tenant, rep, bktFixes); b != nil {
			k, _ := b.Cursor().Seek(start)
			found = inRange(k)
		}
		return nil
	})
	if err != nil || !found {
		return 0, err
	}
	var n int
	err = s.write(ctx, op, 1, func(t *txn) error {
		n = 0
		all, err := t.tenantSub(tenant, bktRepData, false)
		if all == nil || err != nil {
			return err
		}
		if all.Bucket([]byte(rep)) == nil {
			return nil
		}
		rb, err := t.rep(tenant, rep, true)
		if err != nil {
			return err
		}
		// Collect first: deleting under a bbolt cursor while moving it
		// skips keys; keys are copied, for they are valid only until the
		// bucket changes.
		var keys [][]byte
		gone := map[[entryLen]byte]struct{}{}
		c := rb.fixes.Cursor()
		for k, _ := c.Seek(start); inRange(k); k, _ = c.Next() {
			if len(k) <= timeKeyLen {
				return errCorrupt(string(op), fmt.Sprintf("fix key of %d bytes", len(k)))
			}
			keys = append(keys, bytes.Clone(k))
			var e [entryLen]byte
			h := hashID(k[timeKeyLen:])
			copy(e[:], h[:])
			copy(e[len(h):], k[:timeKeyLen])
			gone[e] = struct{}{}
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if err := rb.fixes.Delete(k); err != nil {
				return err
			}
		}
		for _, b := range []*bolt.Bucket{rb.log, rb.ids} {
			if err := dropIndexEntries(b, gone); err != nil {
				return err
			}
		}
		t.forgetRep(repKey{tenant, rep})
		n = len(keys)
		return t.markDeletedFixDays(tenant, rep, rb.b, keys)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// dropIndexEntries rewrites the records of b (a rep's pending fix-id log
// or its runs) that hold one of the entries gone, without them, keeping
// the order of the rest, and deletes a record left empty.
func dropIndexEntries(b *bolt.Bucket, gone map[[entryLen]byte]struct{}) error {
	type change struct{ k, v []byte }
	var changes []change
	err := b.ForEach(func(k, v []byte) error {
		var kept []byte
		hit := false
		err := forEachEntry(v, func(e []byte) {
			if _, ok := gone[[entryLen]byte(e)]; ok {
				hit = true
				return
			}
			kept = append(kept, e...)
		})
		if err != nil {
			return err
		}
		if hit {
			changes = append(changes, change{bytes.Clone(k), kept})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		if len(c.v) == 0 {
			err = b.Delete(c.k)
		} else {
			err = b.Put(c.k, c.v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// markDeletedFixDays marks dirty the rep's local days of the deleted
// fixes' keys, except days that began before the rep's prune horizon
// (read from its bucket rb): such a day keeps its summary (markPaused).
func (t *txn) markDeletedFixDays(tenant dwell.TenantID, rep dwell.RepID, rb *bolt.Bucket, keys [][]byte) error {
	var horizon time.Time
	if h := lostBelow(rb); h != nil {
		horizon = keyTime(h)
	}
	loc := t.repZone(tenant, rep)
	return t.markInstants(tenant, rep, len(keys), func(i int) (time.Time, bool) {
		at := keyTime(keys[i][:timeKeyLen])
		return at, horizon.IsZero() || !dwell.DateOf(at, loc).Start(loc).Before(horizon)
	})
}

// ListTrackingStates implements store.Store: ListTrackingState for each
// rep (a bbolt read costs no round trip).
func (s *Store) ListTrackingStates(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to time.Time) ([][]dwell.TrackingChange, error) {
	out := make([][]dwell.TrackingChange, len(reps))
	for i, rep := range reps {
		var err error
		if out[i], err = s.ListTrackingState(ctx, tenant, rep, from, to); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListTrackingState implements store.Store in one read transaction: a
// seek to from and one step back find the latest instant before it, then
// the changes from that instant to to are decoded. Ingest calls it for
// every batch of fixes, so a rep without changes costs one bucket look-up.
func (s *Store) ListTrackingState(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	const op = dwell.Op("boltstore.ListTrackingState")
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	out := []dwell.TrackingChange{}
	if !from.Before(to) {
		return out, nil
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readRepSub(tx, tenant, rep, trackingKind.records)
		if b == nil {
			return nil
		}
		start := from
		c := b.Cursor()
		k, _ := c.Seek(timeKey(from))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k != nil {
			if len(k) < timeKeyLen {
				return errCorrupt(string(op), fmt.Sprintf("tracking change key of %d bytes", len(k)))
			}
			start = keyTime(k[:timeKeyLen])
		}
		return listActions(tx, tenant, rep, trackingKind, start, to, func(v []byte) error {
			var r trackingRec
			if err := decodeJSON("boltstore.decodeTrackingChange", trackingKind.what, v, &r); err != nil {
				return err
			}
			out = append(out, r.domain(rep))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
