package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Retention and erasure (store.Privacy).
//
// PruneFixes deletes the oldest fixes of a rep's fixes bucket, whole
// instants at a time, and raises the rep's prune horizon, kept in the rep's
// bucket under keyPruned: every fix with a time key below it is gone. The
// fix-id index keeps the entries of pruned fixes until its next compaction
// (fixindex.go), which drops those below the horizon: rewriting the index
// at every prune would cost a rep's whole index per call.
//
// EraseRepHistory deletes the rep's bucket (fixes, ids, actions), its
// rep-day keys in the four day buckets, and its events. The events are
// found by a read before the write (decoding a tenant's whole log inside
// the committer would hold every other write back); the write then looks
// only at events appended since that read.

// keyPruned is the key of a rep's prune horizon in its bucket: the time key
// below which its fixes were all deleted.
var keyPruned = []byte("fixes.pruned")

// prunedBelow returns the rep's prune horizon, or nil if it never pruned.
func prunedBelow(rb *bolt.Bucket) []byte {
	if v := rb.Get(keyPruned); len(v) == timeKeyLen {
		return v
	}
	return nil
}

// PruneFixes implements store.Privacy.
func (s *Store) PruneFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("boltstore.PruneFixes")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return 0, false, err
	}
	if limit < 1 {
		return 0, false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: "must be at least 1"})
	}
	end := timeKey(before)
	var deleted int
	var more bool
	err := s.write(ctx, op, limit, func(t *txn) error {
		deleted, more = 0, false
		all, err := t.tenantSub(tenant, bktRepData, false)
		if all == nil || err != nil {
			return err
		}
		rb := all.Bucket([]byte(rep))
		if rb == nil {
			return nil
		}
		fixes := rb.Bucket(bktFixes)
		if fixes == nil {
			return nil
		}
		// Collect first: deleting under a bbolt cursor while moving it
		// skips keys. Keys are valid until the transaction changes the
		// bucket: copy them, and the horizon, before deleting.
		var keys [][]byte
		var last []byte
		horizon := end
		c := fixes.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < timeKeyLen {
				return errCorrupt(string(op), fmt.Sprintf("fix key of %d bytes", len(k)))
			}
			tk := k[:timeKeyLen]
			if bytes.Compare(tk, end) >= 0 {
				break
			}
			if len(keys) >= limit && !bytes.Equal(tk, last) {
				more, horizon = true, tk
				break
			}
			keys = append(keys, bytes.Clone(k))
			last = tk
		}
		if len(keys) == 0 {
			return nil
		}
		horizon = bytes.Clone(horizon)
		for _, k := range keys {
			if err := fixes.Delete(k); err != nil {
				return err
			}
		}
		deleted = len(keys)
		if old := prunedBelow(rb); old != nil && bytes.Compare(old, horizon) >= 0 {
			return nil
		}
		return rb.Put(keyPruned, horizon)
	})
	if err != nil {
		return 0, false, err
	}
	return deleted, more, nil
}

// EraseRepHistory implements store.Privacy.
func (s *Store) EraseRepHistory(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (store.Erased, error) {
	const op = dwell.Op("boltstore.EraseRepHistory")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return store.Erased{}, err
	}
	// The rep's events up to now, found outside the committer.
	var evs []erasedEvent
	var scanned uint64
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readTenantSub(tx, tenant, bktEvents)
		if b == nil {
			return nil
		}
		scanned = b.Sequence()
		var err error
		evs, err = repEvents(b.Cursor(), nil, rep, evs)
		return err
	})
	if err != nil {
		return store.Erased{}, err
	}
	var out store.Erased
	err = s.write(ctx, op, 1, func(t *txn) error {
		out = store.Erased{}
		k := repKey{tenant, rep}
		if all, err := t.tenantSub(tenant, bktRepData, false); err != nil {
			return err
		} else if all != nil {
			if rb := all.Bucket([]byte(rep)); rb != nil {
				if out.Fixes, out.Actions, err = countRepData(rb); err != nil {
					return err
				}
				if err := all.DeleteBucket([]byte(rep)); err != nil {
					return err
				}
			}
		}
		t.forgetRep(k)
		prefix := repPrefix(rep)
		for _, name := range [][]byte{bktDirty, bktSummaries, bktDayDetail} {
			b, err := t.tenantSub(tenant, name, false)
			if err != nil {
				return err
			}
			if b == nil {
				continue
			}
			n, err := deletePrefix(b, prefix)
			if err != nil {
				return err
			}
			if bytes.Equal(name, bktSummaries) {
				out.Days = n
			}
		}
		if err := bumpPrefix(t, tenant, prefix); err != nil {
			return err
		}
		n, err := t.eraseEvents(tenant, rep, evs, scanned)
		out.Events = n
		return err
	})
	if err != nil {
		return store.Erased{}, err
	}
	return out, nil
}

// erasedEvent is an event of a rep being erased: its sequence key and its
// dedupe key.
type erasedEvent struct {
	seq []byte
	key string
}

// repEvents appends to evs the events about rep from c, from the key seek
// (or the first) to the end.
func repEvents(c *bolt.Cursor, seek []byte, rep dwell.RepID, evs []erasedEvent) ([]erasedEvent, error) {
	k, v := c.First()
	if seek != nil {
		k, v = c.Seek(seek)
	}
	for ; k != nil; k, v = c.Next() {
		h, err := decodeEventHead(v)
		if err != nil {
			return nil, err
		}
		if dwell.RepID(h.Rep) == rep {
			evs = append(evs, erasedEvent{bytes.Clone(k), h.Key})
		}
	}
	return evs, nil
}

// eraseEvents deletes the rep's events: evs (found by a read up to
// sequence scanned) and any appended since, with their keys.
func (t *txn) eraseEvents(tenant dwell.TenantID, rep dwell.RepID, evs []erasedEvent, scanned uint64) (int, error) {
	b, err := t.tenantSub(tenant, bktEvents, false)
	if b == nil || err != nil {
		return 0, err
	}
	if evs, err = repEvents(b.Cursor(), seqKey(scanned+1), rep, evs); err != nil {
		return 0, err
	}
	keys, err := t.tenantSub(tenant, bktEventKeys, false)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range evs {
		if b.Get(e.seq) == nil {
			continue // gone meanwhile (an erase of the same rep)
		}
		if keys != nil && e.key != "" {
			if err := keys.Delete([]byte(e.key)); err != nil {
				return 0, err
			}
		}
		if err := b.Delete(e.seq); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// countRepData counts the fixes and actions in a rep's bucket.
func countRepData(rb *bolt.Bucket) (fixes, actions int, err error) {
	if b := rb.Bucket(bktFixes); b != nil {
		fixes = b.Stats().KeyN
	}
	for _, name := range [][]byte{bktCheckIns, bktCheckOuts, bktCalls, bktTracking} {
		if b := rb.Bucket(name); b != nil {
			actions += b.Stats().KeyN
		}
	}
	return fixes, actions, nil
}

// deletePrefix deletes every key of b that starts with prefix and returns
// how many.
func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// bumpPrefix raises by one the data version of each of the tenant's
// rep-days whose key starts with prefix and forgets the version of its
// summary (which is gone), without marking the day dirty: whatever was
// derived from the days before can never again pass for current (a
// derivation in flight, a cached one), while the counters reveal nothing
// of where the rep was.
func bumpPrefix(t *txn, tenant dwell.TenantID, prefix []byte) error {
	b, err := t.tenantSub(tenant, bktDayVer, false)
	if b == nil || err != nil {
		return err
	}
	var keys [][]byte
	var vers []uint64
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		vers = append(vers, getVersion(v))
	}
	for i, k := range keys {
		if err := putVersion(b, k, vers[i]+1); err != nil {
			return err
		}
	}
	return nil
}

// forgetRep drops the committer's view of the rep's fix-id index and the
// transaction's handles on its buckets, which were just deleted. If the
// transaction then fails, nothing is lost: views are reloaded from the
// file when next needed.
func (t *txn) forgetRep(k repKey) {
	if ri := t.s.index[k]; ri != nil {
		// The store counts a view at its size when the transaction first
		// used it; fixesDone counts the rest, for the views it still sees.
		n := ri.size()
		if fs := t.fixes[k]; fs != nil {
			n = fs.counted
		}
		t.s.indexSize -= n
		delete(t.s.index, k)
	}
	delete(t.fixes, k)
	delete(t.reps, k)
}

// ListDataReps implements store.Privacy.
func (s *Store) ListDataReps(ctx context.Context, after store.RepRef, limit int) ([]store.RepRef, error) {
	const op = dwell.Op("boltstore.ListDataReps")
	if limit < 1 {
		return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: "must be at least 1"})
	}
	var out []store.RepRef
	var afterKey []byte
	if after.Rep != "" {
		afterKey = []byte(after.Rep)
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		return walkTenants(tx, after.Tenant, afterKey, bktRepData, func(tenant dwell.TenantID, k, v []byte) (bool, error) {
			if v != nil {
				return false, nil // not a bucket
			}
			out = append(out, store.RepRef{Tenant: tenant, Rep: dwell.RepID(k)})
			return len(out) == limit, nil
		})
	})
	return out, err
}

// retention returns the tenant's retention period as t sees its settings.
func (t *txn) retention(tenant dwell.TenantID) (time.Duration, error) {
	set := dwell.DefaultSettings()
	b, err := t.tenantSub(tenant, bktSettings, false)
	if b == nil || err != nil {
		return set.Retention, err
	}
	v := b.Get(keySettings)
	if v == nil {
		return set.Retention, nil
	}
	var rec settingsRec
	if err := decodeJSON("boltstore.decodeSettings", "settings", v, &rec); err != nil {
		return 0, err
	}
	return rec.domain().Retention, nil
}
