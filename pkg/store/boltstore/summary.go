package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Per rep-day data versions, dirty marks and summaries (store.Summaries).
// The three buckets of a tenant share one key, the rep-day key: the rep id
// prefixed by its length (one byte; ids are at most 64 bytes) followed by
// the local date as year (2 bytes), month and day, so one rep's days are
// contiguous and in date order.
//
//	dayver     rep-day key -> current data version (8 bytes), then, once
//	           the day has a summary, the version it was derived from
//	           (8 bytes), so a query learns both without reading summaries
//	           (a file written before holds 8 bytes; ViewDaySummaries then
//	           reads the version from the summary itself)
//	dirty      rep-day key -> data version when marked (8 bytes)
//	summaries  rep-day key -> version derived from (8 bytes) + summary part
//	daydetail  rep-day key -> detail part of the same summary
//	erased     rep-day key -> the data version EraseRepHistory last raised
//	           the day to (8 bytes): no summary, and no events, derived
//	           from a lower version are stored (erasedAbove); a file
//	           written before has no such bucket
//
// On one server eraseMu (server/privacy.go) already keeps derivations and
// erasures apart; the bucket gives this store the contract PostgreSQL's
// needs with several servers (store.Privacy.EraseRepHistory).

var (
	bktDayVer    = []byte("dayver")
	bktDirty     = []byte("dirty")
	bktSummaries = []byte("summaries")
	bktDayDetail = []byte("daydetail")
	bktErased    = []byte("erased")
)

// erasedAbove reports whether the rep-day key of the tenant was erased at
// a data version above v, so that what was derived from v is not stored.
func erasedAbove(t *txn, tenant dwell.TenantID, key []byte, v uint64) (bool, error) {
	b, err := t.tenantSub(tenant, bktErased, false)
	if b == nil || err != nil {
		return false, err
	}
	return getVersion(b.Get(key)) > v, nil
}

// dayKeyLen is the length of the date part of a rep-day key.
const dayKeyLen = 4

// dayKey returns the rep-day key of (rep, d).
func dayKey(rep dwell.RepID, d dwell.Date) []byte {
	k := make([]byte, 0, 1+len(rep)+dayKeyLen)
	k = append(k, byte(len(rep)))
	k = append(k, rep...)
	k = binary.BigEndian.AppendUint16(k, uint16(d.Year))
	return append(k, byte(d.Month), byte(d.Day))
}

// splitDayKey returns the rep and date of a rep-day key, or false if k is
// not one.
func splitDayKey(k []byte) (dwell.RepID, dwell.Date, bool) {
	if len(k) < 1 || len(k) != 1+int(k[0])+dayKeyLen {
		return "", dwell.Date{}, false
	}
	n := int(k[0])
	d := k[1+n:]
	return dwell.RepID(k[1 : 1+n]), dwell.Date{Year: int(binary.BigEndian.Uint16(d)), Month: time.Month(d[2]), Day: int(d[3])}, true
}

func putVersion(b *bolt.Bucket, k []byte, v uint64) error {
	return b.Put(k, binary.BigEndian.AppendUint64(nil, v))
}

func getVersion(v []byte) uint64 {
	if len(v) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// bumpDay increments the data version of (tenant, key) and marks the day
// dirty with the new version.
func (t *txn) bumpDay(tenant dwell.TenantID, key []byte) error {
	ver, err := t.tenantSub(tenant, bktDayVer, true)
	if err != nil {
		return err
	}
	dirty, err := t.tenantSub(tenant, bktDirty, true)
	if err != nil {
		return err
	}
	old := ver.Get(key)
	v := getVersion(old) + 1
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 16), v)
	if len(old) >= 16 {
		val = append(val, old[8:16]...) // the summary's version stays
	}
	if err := ver.Put(key, val); err != nil {
		return err
	}
	return putVersion(dirty, key, v)
}

// repZone returns the time zone of a rep as the directory holds it, or
// UTC for a rep that is not in it (or has a zone this process cannot
// load). Zones are cached per transaction and locations per store.
func (t *txn) repZone(tenant dwell.TenantID, rep dwell.RepID) *time.Location {
	k := repKey{tenant, rep}
	if loc, ok := t.zones[k]; ok {
		return loc
	}
	loc := time.UTC
	if b, _ := t.tenantSub(tenant, bktReps, false); b != nil {
		if v := b.Get([]byte(rep)); v != nil {
			var r repRec
			if decodeJSON("boltstore.repZone", "rep", v, &r) == nil && r.TimeZone != "" {
				loc = t.s.location(r.TimeZone)
			}
		}
	}
	t.zones[k] = loc
	return loc
}

// markInstants marks dirty the rep's local days of the instants at (those
// with keep[i] true, when keep is not nil).
func (t *txn) markInstants(tenant dwell.TenantID, rep dwell.RepID, n int, at func(i int) (time.Time, bool)) error {
	loc := t.repZone(tenant, rep)
	var last dwell.Date
	seen := map[dwell.Date]bool{}
	for i := range n {
		ti, ok := at(i)
		if !ok {
			continue
		}
		d := dwell.DateOf(ti, loc)
		if d == last || seen[d] {
			continue
		}
		last, seen[d] = d, true
		if err := t.bumpDay(tenant, dayKey(rep, d)); err != nil {
			return err
		}
	}
	return nil
}

// markFixDays marks the local days of the stored fixes of a batch dirty.
func (t *txn) markFixDays(rep repKey, keys [][]byte, stored []bool) error {
	return t.markInstants(rep.tenant, rep.rep, len(keys), func(i int) (time.Time, bool) {
		return keyTime(keys[i][:timeKeyLen]), stored[i]
	})
}

// markAction marks the local day of a rep action at instant at dirty.
func (t *txn) markAction(tenant dwell.TenantID, rep dwell.RepID, at time.Time) error {
	return t.markInstants(tenant, rep, 1, func(int) (time.Time, bool) { return at, true })
}

// markTenant marks every rep-day of the tenant dated at most
// store.RederiveDays days before the store's clock (in UTC, less one day for
// zones ahead of it) dirty, except those that may have lost fixes to the
// tenant's retention period: days that began before the period as it is
// now, and days that began before the rep's prune horizon (lostBelow: the
// period as it was when the rep's fixes were pruned or its check-ins'
// fixes cleared; a period raised since does not bring them back). It reads
// the settings as t sees them, so a settings change must store the new
// settings first.
func (t *txn) markTenant(tenant dwell.TenantID) error {
	ver, err := t.tenantSub(tenant, bktDayVer, false)
	if ver == nil || err != nil {
		return err
	}
	since, err := t.rederiveSince(tenant)
	if err != nil {
		return err
	}
	repData, err := t.tenantSub(tenant, bktRepData, false)
	if err != nil {
		return err
	}
	// A rep's days are contiguous and in date order: seek past each rep's
	// older days rather than read the tenant's whole history.
	var keys [][]byte
	var rep dwell.RepID
	repSince := since
	c := ver.Cursor()
	for k, _ := c.First(); k != nil; {
		r, d, ok := splitDayKey(k)
		if ok && r != rep {
			var rb *bolt.Bucket
			if repData != nil {
				rb = repData.Bucket([]byte(r))
			}
			rep, repSince = r, keptSince(rb, since)
		}
		switch {
		case !ok:
			k, _ = c.Next()
		case d.Before(repSince):
			k, _ = c.Seek(dayKey(r, repSince))
		default:
			keys = append(keys, bytes.Clone(k))
			k, _ = c.Next()
		}
	}
	for _, k := range keys {
		if err := t.bumpDay(tenant, k); err != nil {
			return err
		}
	}
	return nil
}

// markRep marks dirty, after a change of rep's time zone or working hours
// (stored first, by updateRecord, which drops the zone t had cached: t
// reads the zone as it is now; oldZone is the zone before), the rep's days
// markTenant would mark (its days from the same first date on) and the
// days, in its zone now, of its fixes and actions since that date: a new
// zone cuts its data into other days, which must have a data version to be
// derived and read. A zone ahead of the old one begins that first day
// before the old zone's day before it ends, so the day before, as the old
// zone cut it, is marked too when it has a data version (oldZoneDay): left
// as it was, it would count the instants both days hold twice.
func (t *txn) markRep(tenant dwell.TenantID, rep dwell.RepID, oldZone string) error {
	since, err := t.rederiveSince(tenant)
	if err != nil {
		return err
	}
	ret, err := t.retention(tenant)
	if err != nil {
		return err
	}
	repData, err := t.tenantSub(tenant, bktRepData, false)
	if err != nil {
		return err
	}
	var rb *bolt.Bucket
	if repData != nil {
		rb = repData.Bucket([]byte(rep))
	}
	since = keptSince(rb, since)
	loc := t.repZone(tenant, rep)
	// No day that may have lost data to retention is marked: not before
	// the period as it is now, nor before the rep's prune horizon.
	first := oldZoneDay(since, t.s.location(oldZone), loc, keptSince(rb, keptFrom(t.s.now().Add(-ret))))
	var keys [][]byte
	if ver, err := t.tenantSub(tenant, bktDayVer, false); err != nil {
		return err
	} else if ver != nil {
		c := ver.Cursor()
		for k, _ := c.Seek(dayKey(rep, first)); k != nil; k, _ = c.Next() {
			if r, _, ok := splitDayKey(k); !ok || r != rep {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
	}
	if rb != nil {
		// Every day from since began after this instant, in every zone.
		start := timeKey(since.Start(time.UTC).Add(-14 * time.Hour))
		for _, name := range [][]byte{bktFixes, bktCheckIns, bktCheckOuts, bktCalls, bktTracking} {
			b := rb.Bucket(name)
			if b == nil {
				continue
			}
			// One record marks its day: seek on to the next day's start
			// rather than read every fix of the day.
			c := b.Cursor()
			for k, _ := c.Seek(start); k != nil; {
				if len(k) < timeKeyLen {
					return errCorrupt("boltstore.markRep", fmt.Sprintf("%s key of %d bytes", name, len(k)))
				}
				d := dwell.DateOf(keyTime(k[:timeKeyLen]), loc)
				if !d.Before(since) {
					keys = append(keys, dayKey(rep, d))
				}
				next := timeKey(d.AddDays(1).Start(loc))
				if bytes.Compare(next, k[:timeKeyLen]) <= 0 {
					break // the last day a time key can hold
				}
				k, _ = c.Seek(next)
			}
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	for _, k := range keys {
		if err := t.bumpDay(tenant, k); err != nil {
			return err
		}
	}
	return nil
}

// oldZoneDay returns the first date markRep marks after a change of zone
// from old to loc, since or the day before: the old zone's day that holds
// the instant since begins in loc, when that day is dated before since (a
// zone ahead of the old one) and not before limit (the first date that
// has lost no data to retention). Derived again in loc, that day ends
// where since begins, so no instant counts in two stored days there.
func oldZoneDay(since dwell.Date, old, loc *time.Location, limit dwell.Date) dwell.Date {
	d := dwell.DateOf(since.Start(loc), old)
	if d.Before(since) && !d.Before(limit) {
		return d
	}
	return since
}

// rederiveSince returns the first date a change derives again: store.
// RederiveDays before the store's clock (in UTC, less one day for zones
// ahead of it), and no day that began before the tenant's retention period
// as it is now. A rep's prune horizon may push it later (markTenant).
func (t *txn) rederiveSince(tenant dwell.TenantID) (dwell.Date, error) {
	now := t.s.now()
	ret, err := t.retention(tenant)
	if err != nil {
		return dwell.Date{}, err
	}
	return laterDate(dwell.DateOf(now, time.UTC).AddDays(-store.RederiveDays-1), keptFrom(now.Add(-ret))), nil
}

// keptFrom returns the first date whose day, in every zone, began at or
// after instant cut: two UTC days after the one cut falls on (zones run
// from UTC-12 to UTC+14). Days from it on have lost no fix deleted before
// cut.
func keptFrom(cut time.Time) dwell.Date {
	return dwell.DateOf(cut, time.UTC).AddDays(2)
}

// keptSince returns since, or the first date after the prune horizon of
// the rep whose bucket is rb (lostBelow) if that is later: the first date
// of the rep's days a change derives again. rb may be nil.
func keptSince(rb *bolt.Bucket, since dwell.Date) dwell.Date {
	if rb == nil {
		return since
	}
	if h := lostBelow(rb); h != nil {
		return laterDate(since, keptFrom(keyTime(h)))
	}
	return since
}

// laterDate returns the later of a and b.
func laterDate(a, b dwell.Date) dwell.Date {
	if a.Before(b) {
		return b
	}
	return a
}

// directoryWrite does, in the write of record id of the directory bucket
// name, what the write means for day marks. A client's fence and kind feed
// every derivation: a client write marks the tenant's recent days dirty. A
// rep write drops the rep's zone from t's cache: the writes after it in
// t's group cut days in the zone the directory holds then.
func (t *txn) directoryWrite(tenant dwell.TenantID, name []byte, id string) error {
	switch {
	case bytes.Equal(name, bktClients):
		return t.markTenant(tenant)
	case bytes.Equal(name, bktReps):
		delete(t.zones, repKey{tenant, dwell.RepID(id)})
	}
	return nil
}

// location returns the loaded zone of an IANA name, cached, or UTC if it
// cannot be loaded (the directory validates zones, so this is a zone that
// vanished from this host's database).
func (s *Store) location(name string) *time.Location {
	s.zonesMu.Lock()
	defer s.zonesMu.Unlock()
	if loc, ok := s.zones[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		s.log.Warn("boltstore: unknown rep time zone; cutting its days in UTC", "zone", name, "err", err)
		loc = time.UTC
	}
	if s.zones == nil {
		s.zones = map[string]*time.Location{}
	}
	s.zones[name] = loc
	return loc
}

// keyDerivation names, in the meta bucket, the derivation version
// RederiveAll last recorded (8 bytes, big-endian).
var keyDerivation = []byte("derivation")

// RederiveAll implements store.Summaries.
func (s *Store) RederiveAll(ctx context.Context, version uint64) (bool, error) {
	const op = dwell.Op("boltstore.RederiveAll")
	marked := false
	err := s.write(ctx, op, 1, func(t *txn) error {
		marked = false // a group retried runs apply again
		meta := t.tx.Bucket(bktMeta)
		if v := meta.Get(keyDerivation); len(v) == 8 && binary.BigEndian.Uint64(v) >= version {
			return nil
		}
		var tenants []dwell.TenantID
		c := t.tx.Cursor()
		prefix := tenantKey("")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			tenants = append(tenants, dwell.TenantID(k[len(prefix):]))
		}
		for _, tn := range tenants {
			if err := t.markTenant(tn); err != nil {
				return err
			}
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], version)
		if err := meta.Put(keyDerivation, b[:]); err != nil {
			return err
		}
		marked = len(tenants) > 0
		return nil
	})
	return marked, err
}

// ListDirtyDays implements store.Summaries.
func (s *Store) ListDirtyDays(ctx context.Context, after store.DayKey, limit int) ([]store.DayVersion, error) {
	const op = dwell.Op("boltstore.ListDirtyDays")
	if limit < 1 {
		return nil, dwell.E(op, dwell.Invalid, "limit must be at least 1")
	}
	var out []store.DayVersion
	var afterKey []byte
	if after.Rep != "" {
		afterKey = dayKey(after.Rep, after.Date)
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		return walkTenants(tx, after.Tenant, afterKey, bktDirty, func(tenant dwell.TenantID, k, v []byte) (bool, error) {
			rep, d, ok := splitDayKey(k)
			if !ok {
				return false, dwell.E(dwell.Other, fmt.Sprintf("corrupt dirty key %x", k))
			}
			out = append(out, store.DayVersion{DayKey: store.DayKey{Tenant: tenant, Rep: rep, Date: d}, Version: getVersion(v)})
			return len(out) == limit, nil
		})
	})
	return out, err
}

// PutDaySummary implements store.Summaries.
func (s *Store) PutDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, v uint64, summary, detail []byte) ([]byte, []byte, error) {
	const op = dwell.Op("boltstore.PutDaySummary")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return nil, nil, err
	}
	if !date.Valid() {
		return nil, nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "date", Description: "must be a real calendar day"})
	}
	key := dayKey(rep, date)
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(summary)), v)
	val = append(val, summary...)
	detail = bytes.Clone(detail)
	if detail == nil {
		detail = []byte{}
	}
	var prevSum, prevDet []byte
	err := s.write(ctx, op, 1, func(t *txn) error {
		prevSum, prevDet = nil, nil
		if erased, err := erasedAbove(t, tenant, key, v); erased || err != nil {
			return err
		}
		sums, err := t.tenantSub(tenant, bktSummaries, true)
		if err != nil {
			return err
		}
		dets, err := t.tenantSub(tenant, bktDayDetail, true)
		if err != nil {
			return err
		}
		if old := sums.Get(key); old != nil {
			if getVersion(old) > v {
				return nil
			}
			prevSum, prevDet = bytes.Clone(old[8:]), bytes.Clone(dets.Get(key))
		}
		if err := sums.Put(key, val); err != nil {
			return err
		}
		if err := dets.Put(key, detail); err != nil {
			return err
		}
		ver, err := t.tenantSub(tenant, bktDayVer, true)
		if err != nil {
			return err
		}
		cur := ver.Get(key)
		if cur != nil {
			// Keep the summary's version beside the data version.
			val := binary.BigEndian.AppendUint64(make([]byte, 0, 16), getVersion(cur))
			if err := ver.Put(key, binary.BigEndian.AppendUint64(val, v)); err != nil {
				return err
			}
		}
		if getVersion(cur) <= v {
			dirty, err := t.tenantSub(tenant, bktDirty, true)
			if err != nil {
				return err
			}
			return dirty.Delete(key)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return prevSum, prevDet, nil
}

// GetDaySummary implements store.Summaries.
func (s *Store) GetDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date) (store.DaySummary, []byte, error) {
	const op = dwell.Op("boltstore.GetDaySummary")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return store.DaySummary{}, nil, err
	}
	if !date.Valid() {
		return store.DaySummary{}, nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "date", Description: "must be a real calendar day"})
	}
	key := dayKey(rep, date)
	out := store.DaySummary{Date: date}
	var detail []byte
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		if ver := readTenantSub(tx, tenant, bktDayVer); ver != nil {
			out.Version = getVersion(ver.Get(key))
		}
		sums := readTenantSub(tx, tenant, bktSummaries)
		if sums == nil {
			return nil
		}
		if sv := sums.Get(key); len(sv) >= 8 {
			out.SummaryVersion = getVersion(sv)
			out.Summary = bytes.Clone(sv[8:])
			if out.Summary == nil {
				out.Summary = []byte{}
			}
			if dets := readTenantSub(tx, tenant, bktDayDetail); dets != nil {
				detail = bytes.Clone(dets.Get(key))
			}
		}
		return nil
	})
	if err != nil {
		return store.DaySummary{}, nil, err
	}
	return out, detail, nil
}

// ListDaySummaries implements store.Summaries. The summaries are copied
// into one slab, not one allocation each.
func (s *Store) ListDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date) ([][]store.DaySummary, error) {
	var out [][]store.DaySummary
	err := s.ViewDaySummaries(ctx, tenant, reps, from, to, nil, func(days [][]store.DaySummary) error {
		size := 0
		for _, ds := range days {
			for _, d := range ds {
				size += len(d.Summary)
			}
		}
		slab := make([]byte, 0, size)
		for _, ds := range days {
			for j := range ds {
				if v := ds[j].Summary; v != nil {
					lo := len(slab)
					slab = append(slab, v...)
					ds[j].Summary = slab[lo:len(slab):len(slab)]
				}
			}
		}
		out = days
		return nil
	})
	if err != nil {
		return nil, dwell.E(dwell.Op("boltstore.ListDaySummaries"), err)
	}
	return out, nil
}

// ViewDaySummaries implements store.Summaries: Summary bytes point into the
// memory map of the read transaction. It walks the day-version bucket only
// (it holds the summaries' versions too) and reads the summaries want asks
// for with a look-up each, so a query served by the caller's cache never
// touches the summaries' pages.
func (s *Store) ViewDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date, want func(rep int, d store.DaySummary) bool, fn func([][]store.DaySummary) error) error {
	const op = dwell.Op("boltstore.ViewDaySummaries")
	if err := checkTenant(op, tenant); err != nil {
		return err
	}
	for i, rep := range reps {
		if err := checkID(op, fmt.Sprintf("reps[%d]", i), string(rep)); err != nil {
			return err
		}
	}
	out := make([][]store.DaySummary, len(reps))
	return s.view(ctx, op, func(tx *bolt.Tx) error {
		ver := readTenantSub(tx, tenant, bktDayVer)
		sums := readTenantSub(tx, tenant, bktSummaries)
		if ver != nil && !to.Before(from) {
			c := ver.Cursor()
			var sc *bolt.Cursor
			if sums != nil {
				sc = sums.Cursor()
			}
			// The summaries cursor steps on while the days read follow one
			// another (a cold query reads them all) and seeks after a gap.
			// It starts again at each rep: the reps come in any order (by
			// id, as ListReps gives them), which is not their keys' (a rep
			// key begins with the id's length), so the cursor may stand
			// past the next rep's days.
			var sk, sv []byte
			for i, rep := range reps {
				sk, sv = nil, nil
				lo, hi := dayKey(rep, from), dayKey(rep, to)
				for k, v := c.Seek(lo); k != nil && bytes.Compare(k, hi) <= 0; k, v = c.Next() {
					_, d, ok := splitDayKey(k)
					if !ok {
						continue
					}
					ds := store.DaySummary{Date: d, Version: getVersion(v)}
					if len(v) >= 16 {
						ds.SummaryVersion = binary.BigEndian.Uint64(v[8:16])
					}
					if (want != nil && !want(i, ds)) || sc == nil {
						sk = nil
						out[i] = append(out[i], ds)
						continue
					}
					// sk is nil or the first summary key at or after a
					// key at or before k.
					if sk != nil && bytes.Compare(sk, k) < 0 {
						sk, sv = sc.Next()
					}
					if sk == nil || bytes.Compare(sk, k) < 0 {
						sk, sv = sc.Seek(k)
					}
					if sk != nil && bytes.Equal(sk, k) && len(sv) >= 8 {
						ds.SummaryVersion = getVersion(sv)
						ds.Summary = sv[8:len(sv):len(sv)]
					}
					out[i] = append(out[i], ds)
				}
			}
		}
		return fn(out)
	})
}
