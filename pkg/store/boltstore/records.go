package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// actionKind names the buckets of one kind of rep action.
type actionKind struct {
	what      string // for messages
	records   []byte // time key + sequence -> record
	byRequest []byte // request id -> record key
	// dropFix, for the kinds whose records carry the phone's fix, returns
	// a record value without its fix, or false if it has none
	// (PruneActionFixes); nil for the kinds without a position.
	dropFix func(v []byte) ([]byte, bool, error)
	// pairs, for check-ins and check-outs, marks the local day before the
	// record's too (markDayBefore): a check-out after midnight may close a
	// check-in of that day, and a check-in may come between the two.
	pairs bool
}

var (
	checkInKind  = actionKind{"check-in", bktCheckIns, bktCheckInReqs, dropRecordFix[checkInRec]("check-in"), true}
	checkOutKind = actionKind{"check-out", bktCheckOuts, bktCheckOutReqs, dropRecordFix[checkOutRec]("check-out"), true}
	callKind     = actionKind{"call", bktCalls, bktCallReqs, nil, false}
	trackingKind = actionKind{"tracking change", bktTracking, bktTrackingReqs, nil, false}
)

// maxRequestIDBytes bounds a request id as a bbolt key. The API's own limit
// (dwell.MaxRequestIDBytes) is enforced by validation before the store.
const maxRequestIDBytes = 1024

// checkAction checks the parts of a rep action the store depends on.
func checkAction(op dwell.Op, tenant dwell.TenantID, rep dwell.RepID, requestID string, at time.Time) error {
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return err
	}
	if len(requestID) > maxRequestIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "request_id", Description: fmt.Sprintf("must be at most %d bytes", maxRequestIDBytes)})
	}
	if !keyTimeOK(at) {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "time", Description: "must be between the years 1678 and 2262"})
	}
	return nil
}

// recordAction stores an encoded rep action unless the rep already has one
// with the same request id. In that case it writes nothing, calls existing
// with the stored value (valid only inside the transaction) and returns
// true. Records are keyed by their time key and the bucket's next sequence
// number, so they list in time order, ties in arrival order. An empty
// request id is never deduplicated. A record of a kind with a fix, older
// than the rep's unfixed horizon, lowers the horizon to itself, so that
// PruneActionFixes still finds it (privacy.go).
func recordAction(t *txn, tenant dwell.TenantID, rep dwell.RepID, kind actionKind, requestID string, at time.Time, val []byte, existing func(v []byte) error) (bool, error) {
	rb, err := t.rep(tenant, rep, false)
	if err != nil {
		return false, err
	}
	recs, err := rb.sub(kind.records, appendFillPercent)
	if err != nil {
		return false, err
	}
	idx, err := rb.sub(kind.byRequest, bolt.DefaultFillPercent)
	if err != nil {
		return false, err
	}
	var rid []byte
	if requestID != "" {
		rid = []byte(requestID)
		if k := idx.Get(rid); k != nil {
			v := recs.Get(k)
			if v == nil {
				return false, dwell.E(dwell.Other, fmt.Sprintf("%s for request %q is indexed but missing", kind.what, requestID))
			}
			return true, existing(v)
		}
	}
	seq, err := recs.NextSequence()
	if err != nil {
		return false, err
	}
	key := make([]byte, timeKeyLen+8)
	putTimeKey(key, at)
	binary.BigEndian.PutUint64(key[timeKeyLen:], seq)
	if err := recs.Put(key, val); err != nil {
		return false, err
	}
	if rid != nil {
		if err := idx.Put(rid, key); err != nil {
			return false, err
		}
	}
	if kind.dropFix != nil {
		if err := lowerUnfixed(rb.b, key[:timeKeyLen]); err != nil {
			return false, err
		}
	}
	if kind.pairs {
		if err := t.markDayBefore(tenant, rep, rb.b, at); err != nil {
			return false, err
		}
	}
	return false, t.markAction(tenant, rep, at)
}

// markDayBefore marks dirty the rep's local day before the one of a
// check-in or check-out at instant at, if that day has a data version (a
// day without one has no check-in to close) and did not begin before the
// rep's prune horizon (lostBelow: it keeps its summary): the derivation of
// a day pairs its check-ins with the check-outs of the next day
// (timeline.Input), so a check-out there, or a check-in between, changes
// it.
func (t *txn) markDayBefore(tenant dwell.TenantID, rep dwell.RepID, rb *bolt.Bucket, at time.Time) error {
	loc := t.repZone(tenant, rep)
	d := dwell.DateOf(at, loc).AddDays(-1)
	if h := lostBelow(rb); h != nil && d.Start(loc).Before(keyTime(h)) {
		return nil
	}
	ver, err := t.tenantSub(tenant, bktDayVer, false)
	if ver == nil || err != nil {
		return err
	}
	key := dayKey(rep, d)
	if getVersion(ver.Get(key)) == 0 {
		return nil
	}
	return t.bumpDay(tenant, key)
}

// listActions calls decode for each of a rep's actions of kind with
// from <= time < to, in time order.
func listActions(tx *bolt.Tx, tenant dwell.TenantID, rep dwell.RepID, kind actionKind, from, to time.Time, decode func(v []byte) error) error {
	if !from.Before(to) {
		return nil
	}
	b := readRepSub(tx, tenant, rep, kind.records)
	if b == nil {
		return nil
	}
	end := timeKey(to)
	c := b.Cursor()
	for k, v := c.Seek(timeKey(from)); k != nil && bytes.Compare(k[:min(len(k), timeKeyLen)], end) < 0; k, v = c.Next() {
		if err := decode(v); err != nil {
			return err
		}
	}
	return nil
}

// actionRec is the stored record of a rep action (check-in, check-out,
// call): R is its record struct, T its domain type.
type actionRec[T any, R any] interface {
	*R
	domain(rep dwell.RepID) T
}

// recordOnce stores rec under (rep, requestID) unless a record with that
// request id exists, and returns what a later read gives: the decoded form
// of rec, or of the earlier record with existed = true. what names the
// action in errors ("check-in"). after, if not nil, runs in the same
// transaction once a new record is stored.
func recordOnce[T any, R any, PR actionRec[T, R]](ctx context.Context, s *Store, op dwell.Op, tenant dwell.TenantID, rep dwell.RepID,
	kind actionKind, what, requestID string, at time.Time, rec PR, after func(t *txn) error) (T, bool, error) {
	var zero T
	val, err := encodeJSON(op, rec)
	if err != nil {
		return zero, false, err
	}
	stored := rec.domain(rep)
	var existed bool
	var prev T
	err = s.write(ctx, op, 1, func(t *txn) (err error) {
		existed, err = recordAction(t, tenant, rep, kind, requestID, at, val, func(v []byte) error {
			var r R
			if err := decodeJSON(op, what, v, &r); err != nil {
				return err
			}
			prev = PR(&r).domain(rep)
			return nil
		})
		if err == nil && !existed && after != nil {
			err = after(t)
		}
		return err
	})
	switch {
	case err != nil:
		return zero, false, err
	case existed:
		return prev, true, nil
	}
	return stored, false, nil
}

// RecordCheckIn implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCheckIn(ctx context.Context, tenant dwell.TenantID, c dwell.CheckIn) (dwell.CheckIn, bool, error) {
	const op = dwell.Op("boltstore.RecordCheckIn")
	if err := checkAction(op, tenant, c.Rep, c.RequestID, c.Time); err != nil {
		return dwell.CheckIn{}, false, err
	}
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := toCheckInRec(&c)
	return recordOnce(ctx, s, op, tenant, c.Rep, checkInKind, "check-in", c.RequestID, c.Time, &rec, nil)
}

// RecordCheckOut implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCheckOut(ctx context.Context, tenant dwell.TenantID, c dwell.CheckOut) (dwell.CheckOut, bool, error) {
	const op = dwell.Op("boltstore.RecordCheckOut")
	if err := checkAction(op, tenant, c.Rep, c.RequestID, c.Time); err != nil {
		return dwell.CheckOut{}, false, err
	}
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := toCheckOutRec(&c)
	return recordOnce(ctx, s, op, tenant, c.Rep, checkOutKind, "check-out", c.RequestID, c.Time, &rec, nil)
}

// RecordCall implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCall(ctx context.Context, tenant dwell.TenantID, c dwell.Call) (dwell.Call, bool, error) {
	const op = dwell.Op("boltstore.RecordCall")
	if err := checkAction(op, tenant, c.Rep, c.RequestID, c.StartTime); err != nil {
		return dwell.Call{}, false, err
	}
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := toCallRec(&c)
	return recordOnce(ctx, s, op, tenant, c.Rep, callKind, "call", c.RequestID, c.StartTime, &rec, nil)
}

// RecordTrackingChange implements store.Store. A zero ReceiveTime is set
// from the store's clock.
func (s *Store) RecordTrackingChange(ctx context.Context, tenant dwell.TenantID, c dwell.TrackingChange) (dwell.TrackingChange, bool, error) {
	const op = dwell.Op("boltstore.RecordTrackingChange")
	if err := checkAction(op, tenant, c.Rep, c.RequestID, c.Time); err != nil {
		return dwell.TrackingChange{}, false, err
	}
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := toTrackingRec(&c)
	return recordOnce(ctx, s, op, tenant, c.Rep, trackingKind, "tracking change", c.RequestID, c.Time, &rec,
		func(t *txn) error { return t.markPaused(tenant, c) })
}

// maxPausedDays bounds the days a resume marks back to its pause.
const maxPausedDays = 31

// markPaused marks, for a resume, every local day from the pause before it
// (if the last change before it is a pause) to the resume: the days of an
// open pause were derived as paused up to their end or the present, and
// now end at the resume. Of a longer pause only the last maxPausedDays
// days before the resume are marked, and none that began before the rep's
// prune horizon; the resume's own day is marked by recordAction.
func (t *txn) markPaused(tenant dwell.TenantID, c dwell.TrackingChange) error {
	if c.Paused {
		return nil
	}
	rb, err := t.rep(tenant, c.Rep, false)
	if err != nil {
		return err
	}
	b := rb.b.Bucket(bktTracking)
	if b == nil {
		return nil
	}
	cur := b.Cursor()
	k, v := cur.Seek(timeKey(c.Time))
	if k == nil {
		k, v = cur.Last()
	} else {
		k, v = cur.Prev()
	}
	if k == nil {
		return nil
	}
	var r trackingRec
	if err := decodeJSON("boltstore.markPaused", "tracking change", v, &r); err != nil {
		return err
	}
	if !r.Paused || !r.Time.Before(c.Time) {
		return nil
	}
	// The days nearest the resume matter most (reports, re-derivation): a
	// longer pause marks its last maxPausedDays days. Half-day steps: a
	// step of a day could leap over a 23-hour local day.
	from := r.Time
	if limit := c.Time.Add(-maxPausedDays * 24 * time.Hour); from.Before(limit) {
		from = limit
	}
	// A day that began before the rep's prune horizon has lost fixes to
	// retention: derived again it would lose what they showed, so it keeps
	// its summary, as in markTenant.
	var horizon time.Time
	if h := lostBelow(rb.b); h != nil {
		horizon = keyTime(h)
	}
	loc := t.repZone(tenant, c.Rep)
	n := int(c.Time.Sub(from)/(12*time.Hour)) + 1
	return t.markInstants(tenant, c.Rep, n, func(i int) (time.Time, bool) {
		at := from.Add(time.Duration(i) * 12 * time.Hour)
		return at, !dwell.DateOf(at, loc).Start(loc).Before(horizon)
	})
}

// ListCheckIns implements store.Store.
func (s *Store) ListCheckIns(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckIn, error) {
	return listRecords[dwell.CheckIn, checkInRec](ctx, s, "boltstore.ListCheckIns", "boltstore.decodeCheckIn", tenant, rep, checkInKind, from, to)
}

// ListCheckOuts implements store.Store.
func (s *Store) ListCheckOuts(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckOut, error) {
	return listRecords[dwell.CheckOut, checkOutRec](ctx, s, "boltstore.ListCheckOuts", "boltstore.decodeCheckOut", tenant, rep, checkOutKind, from, to)
}

// ListCalls implements store.Store.
func (s *Store) ListCalls(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Call, error) {
	return listRecords[dwell.Call, callRec](ctx, s, "boltstore.ListCalls", "boltstore.decodeCall", tenant, rep, callKind, from, to)
}

// ListTrackingChanges implements store.Store.
func (s *Store) ListTrackingChanges(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	return listRecords[dwell.TrackingChange, trackingRec](ctx, s, "boltstore.ListTrackingChanges", "boltstore.decodeTrackingChange", tenant, rep, trackingKind, from, to)
}

// listRecords returns rep's actions of kind in [from, to), decoded from
// their stored records R into domain values T; the three List methods of
// check-ins, check-outs and calls share it.
func listRecords[T any, R any, PR interface {
	*R
	domain(dwell.RepID) T
}](ctx context.Context, s *Store, op, decodeOp dwell.Op, tenant dwell.TenantID, rep dwell.RepID, kind actionKind, from, to time.Time) ([]T, error) {
	if err := checkTenant(op, tenant); err != nil {
		return nil, err
	}
	out := []T{}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		return listActions(tx, tenant, rep, kind, from, to, func(v []byte) error {
			var r R
			if err := decodeJSON(decodeOp, kind.what, v, &r); err != nil {
				return err
			}
			out = append(out, PR(&r).domain(rep))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
