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
// PruneActionFixes rewrites in place, under their keys, the check-ins and
// check-outs that have a fix, so the request-id indexes (request id ->
// record key) stay right. Like PruneFixes it keeps a horizon in the rep's
// bucket, under keyUnfixed: no check-in or check-out with a time key below
// it has a fix, so a call starts there and costs about the records it goes
// over, not the rep's whole history. A record stored later below the
// horizon (the store takes any time; the server refuses actions older than
// the retention period) lowers it (recordAction). A second key,
// keyCleared, holds the cut of the last call that cleared any fix and
// never goes down: days that began before it have lost positions, as days
// before keyPruned have lost fixes (lostBelow, PrunedBefore).
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

// keyCleared is the key, in a rep's bucket, of the time key below which
// PruneActionFixes cleared the fixes of the rep's check-ins and check-outs:
// the cut of the last call that cleared any. It never goes down.
var keyCleared = []byte("actions.cleared")

// lostBelow returns the time key below which the rep's data lost
// something to retention (store.Privacy.PrunedBefore): the later of the
// prune horizon and the cut below which check-ins' and check-outs' fixes
// were cleared, or nil if neither happened.
func lostBelow(rb *bolt.Bucket) []byte {
	h := prunedBelow(rb)
	if v := rb.Get(keyCleared); len(v) == timeKeyLen && bytes.Compare(v, h) > 0 {
		return v
	}
	return h
}

// pruneRep checks the arguments of a prune of the rep's data (a rep id, a
// limit of at least 1) and runs prune on the rep's bucket, if the rep has
// one, in one durable write. prune returns how many records it changed and
// whether more remain; like every write it may run more than once.
func (s *Store) pruneRep(ctx context.Context, op dwell.Op, tenant dwell.TenantID, rep dwell.RepID, limit int, prune func(rb *bolt.Bucket) (int, bool, error)) (int, bool, error) {
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return 0, false, err
	}
	if limit < 1 {
		return 0, false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: "must be at least 1"})
	}
	var n int
	var more bool
	err := s.write(ctx, op, limit, func(t *txn) error {
		n, more = 0, false
		all, err := t.tenantSub(tenant, bktRepData, false)
		if all == nil || err != nil {
			return err
		}
		rb := all.Bucket([]byte(rep))
		if rb == nil {
			return nil
		}
		n, more, err = prune(rb)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return n, more, nil
}

// PruneFixes implements store.Privacy.
func (s *Store) PruneFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("boltstore.PruneFixes")
	end := timeKey(before)
	return s.pruneRep(ctx, op, tenant, rep, limit, func(rb *bolt.Bucket) (int, bool, error) {
		fixes := rb.Bucket(bktFixes)
		if fixes == nil {
			return 0, false, nil
		}
		// Collect first: deleting under a bbolt cursor while moving it
		// skips keys. Keys are valid until the transaction changes the
		// bucket: copy them, and the horizon, before deleting.
		var keys [][]byte
		var last []byte
		horizon, more := end, false
		c := fixes.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < timeKeyLen {
				return 0, false, errCorrupt(string(op), fmt.Sprintf("fix key of %d bytes", len(k)))
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
			return 0, false, nil
		}
		horizon = bytes.Clone(horizon)
		for _, k := range keys {
			if err := fixes.Delete(k); err != nil {
				return 0, false, err
			}
		}
		return len(keys), more, raiseHorizon(rb, keyPruned, horizon)
	})
}

// raiseHorizon stores the time key tk under key (keyPruned, keyCleared) in
// the rep's bucket rb unless a time key as late is stored there: those
// horizons never go down.
func raiseHorizon(rb *bolt.Bucket, key, tk []byte) error {
	if old := rb.Get(key); len(old) == timeKeyLen && bytes.Compare(old, tk) >= 0 {
		return nil
	}
	return rb.Put(key, tk)
}

// keyUnfixed is the key of a rep's unfixed horizon in its bucket: the time
// key below which none of its check-ins and check-outs has a fix.
var keyUnfixed = []byte("actions.unfixed")

// fixKinds are the rep actions whose records carry the phone's fix.
var fixKinds = [...]actionKind{checkInKind, checkOutKind}

// lowerUnfixed lowers the rep's unfixed horizon to the time key tk if it
// lies above it.
func lowerUnfixed(rb *bolt.Bucket, tk []byte) error {
	if h := rb.Get(keyUnfixed); h == nil || bytes.Compare(tk, h) >= 0 {
		return nil
	}
	return rb.Put(keyUnfixed, bytes.Clone(tk))
}

// dropRecordFix returns an actionKind.dropFix for the records of type R.
func dropRecordFix[R any, PR interface {
	*R
	dropFix() bool
}](what string) func(v []byte) ([]byte, bool, error) {
	const op = dwell.Op("boltstore.PruneActionFixes")
	return func(v []byte) ([]byte, bool, error) {
		var r R
		if err := decodeJSON(op, what, v, &r); err != nil {
			return nil, false, err
		}
		if !PR(&r).dropFix() {
			return nil, false, nil
		}
		out, err := encodeJSON(op, PR(&r))
		return out, err == nil, err
	}
}

// PruneActionFixes implements store.Privacy.
func (s *Store) PruneActionFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("boltstore.PruneActionFixes")
	end := timeKey(before)
	return s.pruneRep(ctx, op, tenant, rep, limit, func(rb *bolt.Bucket) (int, bool, error) {
		old := rb.Get(keyUnfixed)
		if old != nil && bytes.Compare(old, end) >= 0 {
			return 0, false, nil
		}
		// One cursor per kind from the horizon, merged by time key.
		type stream struct {
			kind actionKind
			b    *bolt.Bucket
			c    *bolt.Cursor
			k, v []byte
		}
		var streams []*stream
		for _, kind := range fixKinds {
			b := rb.Bucket(kind.records)
			if b == nil {
				continue
			}
			st := &stream{kind: kind, b: b, c: b.Cursor()}
			if old != nil {
				st.k, st.v = st.c.Seek(old)
			} else {
				st.k, st.v = st.c.First()
			}
			streams = append(streams, st)
		}
		// Collect first: writing under a cursor while moving it may skip
		// keys. Keys are valid until the transaction changes the bucket:
		// copy what is kept.
		type change struct {
			b    *bolt.Bucket
			k, v []byte
		}
		var changes []change
		var last []byte
		horizon, more, seen := end, false, 0
		for {
			var cur *stream
			for _, st := range streams {
				if st.k == nil {
					continue
				}
				if len(st.k) < timeKeyLen {
					return 0, false, errCorrupt(string(op), fmt.Sprintf("%s key of %d bytes", st.kind.what, len(st.k)))
				}
				if cur == nil || bytes.Compare(st.k[:timeKeyLen], cur.k[:timeKeyLen]) < 0 {
					cur = st
				}
			}
			if cur == nil {
				break
			}
			tk := cur.k[:timeKeyLen]
			if bytes.Compare(tk, end) >= 0 {
				break
			}
			if seen >= limit && !bytes.Equal(tk, last) {
				more, horizon = true, tk
				break
			}
			v, had, err := cur.kind.dropFix(cur.v)
			if err != nil {
				return 0, false, err
			}
			if had {
				changes = append(changes, change{cur.b, bytes.Clone(cur.k), v})
			}
			seen++
			last = tk
			cur.k, cur.v = cur.c.Next()
		}
		if seen == 0 {
			return 0, false, nil
		}
		horizon = bytes.Clone(horizon)
		for _, ch := range changes {
			if err := ch.b.Put(ch.k, ch.v); err != nil {
				return 0, false, err
			}
		}
		if len(changes) > 0 {
			// Every cleared record lies below horizon.
			if err := raiseHorizon(rb, keyCleared, horizon); err != nil {
				return 0, false, err
			}
		}
		return len(changes), more, rb.Put(keyUnfixed, horizon)
	})
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

// countRepData counts the fixes and actions in a rep's bucket. It walks
// the keys with a cursor: Bucket.Stats reads only the pages already in
// the file, so it would miss what earlier requests of the same group
// commit wrote in this transaction (an upload committed with the erase).
func countRepData(rb *bolt.Bucket) (fixes, actions int, err error) {
	fixes = countKeys(rb.Bucket(bktFixes))
	for _, name := range [][]byte{bktCheckIns, bktCheckOuts, bktCalls, bktTracking} {
		actions += countKeys(rb.Bucket(name))
	}
	return fixes, actions, nil
}

// countKeys counts the keys of b, as this transaction sees them; 0 for a
// nil bucket.
func countKeys(b *bolt.Bucket) int {
	if b == nil {
		return 0
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
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
// of where the rep was. It keeps each raised version in the erased bucket
// too (erasedAbove).
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
	if len(keys) == 0 {
		return nil
	}
	erased, err := t.tenantSub(tenant, bktErased, true)
	if err != nil {
		return err
	}
	for i, k := range keys {
		if err := putVersion(b, k, vers[i]+1); err != nil {
			return err
		}
		if err := putVersion(erased, k, vers[i]+1); err != nil {
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

// PrunedBefore implements store.Privacy.
func (s *Store) PrunedBefore(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	const op = dwell.Op("boltstore.PrunedBefore")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		all := readTenantSub(tx, tenant, bktRepData)
		if all == nil {
			return nil
		}
		if rb := all.Bucket([]byte(rep)); rb != nil {
			if h := lostBelow(rb); h != nil {
				at = keyTime(h)
			}
		}
		return nil
	})
	return at, err
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
