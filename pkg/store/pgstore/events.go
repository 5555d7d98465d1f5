package pgstore

// The event log (store.EventLog) lives in two core tables (coreSchema):
//
//	events      (tenant, seq) -> key, rep, time, rec
//	event_seqs  tenant -> last (the largest sequence given), pruned (the
//	            largest sequence PruneEvents deleted)
//
// events.time is the event's DetectTime in Unix nanoseconds (what
// PruneEvents cuts on); the rest of the event is rec, an eventRec. The
// partial unique index events_by_key deduplicates non-empty keys, and
// events_by_rep serves EraseRepHistory.
//
// Sequence numbers are taken from event_seqs.last inside the appending
// transaction, which holds the tenant's counter row locked from its first
// statement to its commit: appends (and prunes) of one tenant take turns,
// so numbers are gap-free in commit order, a reader never sees a number
// before a lower one, and a failed append gives none back.
//
// These writes run at READ COMMITTED (writeLocked), not SERIALIZABLE as
// the store's other writes: under SERIALIZABLE a transaction that waited
// for the row is aborted when the holder commits (its snapshot predates
// that commit), and a writer that appends continuously then starves the
// others through their retries (BenchmarkAppendEvents failed so after 20
// attempts with two goroutines). At READ COMMITTED the waiter goes on with
// the row as committed, and every statement after the lock reads a
// snapshot taken after it, so it sees every earlier append of the tenant:
// the key check needs no more. An append whose events are all in the log
// already (a refresher telling a diff again) still takes the lock.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// eventRec is the stored form of the parts of a dwell.Event that no query
// filters on (Seq, Rep, Key and DetectTime are columns). Time is in Unix
// nanoseconds.
type eventRec struct {
	Type   int    `json:"y"`
	Team   string `json:"tm,omitempty"`
	Client string `json:"c,omitempty"`
	Time   int64  `json:"t"`
	Late   bool   `json:"l,omitempty"`
}

// lockEventSeqSQL locks the counter row of tenant $1, creating it if
// needed; at READ COMMITTED it waits for the holder's commit and then
// locks the row as committed.
const lockEventSeqSQL = `
INSERT INTO event_seqs AS c (tenant) VALUES ($1)
ON CONFLICT (tenant) DO UPDATE SET last = c.last`

// appendEventsSQL appends the events given as arrays ($2 their indexes in
// the call, in order; $3 keys; $4 reps; $5 detect times; $6 records) to
// tenant $1's log, skipping those whose non-empty key is in the log
// already, numbers the others from the tenant's counter in index order,
// and returns (index, seq) of each appended event. The caller has removed
// repeated keys within the call and holds the counter row locked.
const appendEventsSQL = appendEventsInput + `
)` + appendEventsNumbered

// appendDayEventsSQL is appendEventsSQL for AppendDayEvents: it appends
// nothing if rep-day ($7, $8) was erased at a version above $9
// (days.erased, privacy.go).
const appendDayEventsSQL = appendEventsInput + `
	WHERE NOT EXISTS (SELECT 1 FROM days WHERE tenant = $1 AND rep = $7 AND day = $8 AND erased > $9)
)` + appendEventsNumbered

// appendEventsInput and appendEventsNumbered are the parts of
// appendEventsSQL before and after the end of its input.
const appendEventsInput = `
WITH input AS (
	SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS u(ord, key, rep, time, rec)`

const appendEventsNumbered = `, fresh AS (
	SELECT i.*, row_number() OVER (ORDER BY i.ord) AS n
	FROM input i
	-- A scalar subquery, one probe of events_by_key (usable thanks to
	-- e.key <> '') per event: NOT EXISTS may be planned as a hashed
	-- subplan over the tenant's whole log, and a prepared statement keeps
	-- that plan as the log grows.
	WHERE i.key = '' OR (SELECT e.seq FROM events e WHERE e.tenant = $1 AND e.key = i.key AND e.key <> '') IS NULL
), total AS (
	SELECT count(*) AS n FROM fresh
), counter AS (
	UPDATE event_seqs c SET last = c.last + total.n FROM total WHERE c.tenant = $1
	RETURNING c.last - total.n AS base
), ins AS (
	INSERT INTO events (tenant, seq, key, rep, time, rec)
	SELECT $1, counter.base + f.n, f.key, f.rep, f.time, f.rec::json FROM fresh f, counter
)
SELECT f.ord, counter.base + f.n FROM fresh f, counter`

// AppendEvents implements store.EventLog in one round trip: the lock of
// the tenant's counter row, then one statement that deduplicates by key,
// numbers and inserts.
func (s *Store) AppendEvents(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	const op = dwell.Op("pgstore.AppendEvents")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, err
	}
	return s.appendEvents(ctx, op, tenant, nil, evs)
}

// AppendDayEvents implements store.EventLog as AppendEvents does, with the
// day's erased column read in the appending statement: EraseRepHistory
// locks the counters' table against the counter's update (privacy.go), so
// the append runs wholly before an erase or after it, and at READ
// COMMITTED its statement then sees the erase's erased column.
func (s *Store) AppendDayEvents(ctx context.Context, from store.DayVersion, evs []dwell.Event) ([]uint64, error) {
	const op = dwell.Op("pgstore.AppendDayEvents")
	if err := checkRepRef(op, from.Tenant, "rep", from.Rep); err != nil {
		return nil, err
	}
	if err := checkDay(op, from.Date); err != nil {
		return nil, err
	}
	return s.appendEvents(ctx, op, from.Tenant, &from, evs)
}

// appendEvents appends evs to the tenant's log; if from is not nil, only
// if from's day was not erased above from.Version.
func (s *Store) appendEvents(ctx context.Context, op dwell.Op, tenant dwell.TenantID, from *store.DayVersion, evs []dwell.Event) ([]uint64, error) {
	if len(evs) == 0 {
		return []uint64{}, nil
	}
	var (
		ords       []int32
		keys, reps []string
		times      []int64
		recs       []string
		seen       = make(map[string]bool, len(evs))
	)
	for i := range evs {
		e := &evs[i]
		field := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		at, okAt := nanos(e.Time)
		detect, okDetect := nanos(e.DetectTime)
		if err := checkKey(op, field("rep"), string(e.Rep)); err != nil {
			return nil, err
		}
		switch {
		case !e.Type.Valid():
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("type"), Description: "must be an event type"})
		case len(e.Key) > dwell.MaxEventKeyBytes:
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("key"), Description: fmt.Sprintf("must be at most %d bytes", dwell.MaxEventKeyBytes)})
		case !okAt:
			return nil, timeInvalid(op, field("time"), e.Time)
		case !okDetect:
			return nil, timeInvalid(op, field("detect_time"), e.DetectTime)
		}
		if e.Key != "" {
			if seen[e.Key] {
				continue // a repeat within the call: 0, nothing written
			}
			seen[e.Key] = true
		}
		rec, err := json.Marshal(eventRec{Type: int(e.Type), Team: string(e.Team), Client: string(e.Client), Time: at, Late: e.Late})
		if err != nil {
			return nil, dwell.E(op, dwell.Other, "encoding an event", err)
		}
		ords, keys, reps = append(ords, int32(i)), append(keys, e.Key), append(reps, string(e.Rep))
		times, recs = append(times, detect), append(recs, string(rec))
	}
	var seqs []uint64
	err := s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		seqs = make([]uint64, len(evs))
		var b pgx.Batch
		b.Queue(lockEventSeqSQL, string(tenant))
		if from == nil {
			b.Queue(appendEventsSQL, string(tenant), ords, keys, reps, times, recs)
		} else {
			b.Queue(appendDayEventsSQL, string(tenant), ords, keys, reps, times, recs,
				string(from.Rep), pgDate(from.Date), int64(min(from.Version, math.MaxInt64)))
		}
		br := tx.SendBatch(ctx, &b)
		_, err := br.Exec()
		if err == nil {
			rows, _ := br.Query()
			var ord int32
			var seq int64
			_, err = pgx.ForEachRow(rows, []any{&ord, &seq}, func() error {
				seqs[ord] = uint64(seq)
				return nil
			})
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// ListEvents implements store.EventLog.
func (s *Store) ListEvents(ctx context.Context, tenant dwell.TenantID, after uint64, limit int) ([]dwell.Event, error) {
	const op = dwell.Op("pgstore.ListEvents")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, err
	}
	if limit < 1 || limit > store.MaxEventsPerList {
		return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: fmt.Sprintf("must be 1 to %d", store.MaxEventsPerList)})
	}
	out := []dwell.Event{}
	if after >= math.MaxInt64 {
		return out, nil // no sequence (a bigint) is larger
	}
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `
			SELECT seq, key, rep, time, rec::text FROM events
			WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3`, string(tenant), int64(after), limit)
		if err != nil {
			return err
		}
		var (
			seq, detect int64
			key, rep    string
			rec         []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&seq, &key, &rep, &detect, &rec}, func() error {
			var r eventRec
			if err := json.Unmarshal(rec, &r); err != nil {
				return dwell.E(dwell.Other, fmt.Sprintf("decoding event %d", seq), err)
			}
			out = append(out, dwell.Event{Seq: uint64(seq), Type: dwell.EventType(r.Type), Rep: dwell.RepID(rep),
				Team: dwell.TeamID(r.Team), Client: dwell.ClientID(r.Client), Time: fromNanos(r.Time),
				DetectTime: fromNanos(detect), Late: r.Late, Key: key})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eventSeq returns column (last or pruned) of the tenant's counter row, 0
// if it has none.
func (s *Store) eventSeq(ctx context.Context, op dwell.Op, tenant dwell.TenantID, column string) (uint64, error) {
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return 0, err
	}
	var seq int64
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT `+column+` FROM event_seqs WHERE tenant = $1`, string(tenant)).Scan(&seq)
		if err == pgx.ErrNoRows {
			seq, err = 0, nil
		}
		return err
	})
	return uint64(seq), err
}

// LastEventSeq implements store.EventLog.
func (s *Store) LastEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	return s.eventSeq(ctx, "pgstore.LastEventSeq", tenant, "last")
}

// PrunedEventSeq implements store.EventLog.
func (s *Store) PrunedEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	return s.eventSeq(ctx, "pgstore.PrunedEventSeq", tenant, "pruned")
}

// PruneEvents implements store.EventLog. Holding the tenant's counter row
// (so no append is under way), it reads the detect times of the first
// limit+1 events in sequence order, keeps the prefix detected before
// before (at most limit), and deletes every event up to the last of it:
// the events kept stay a suffix of the log.
func (s *Store) PruneEvents(ctx context.Context, tenant dwell.TenantID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("pgstore.PruneEvents")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return 0, false, err
	}
	if err := checkLimit(op, limit); err != nil {
		return 0, false, err
	}
	cut := boundNanos(before)
	var deleted int
	var more bool
	err := s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		deleted, more = 0, false
		var b pgx.Batch
		b.Queue(lockEventSeqSQL, string(tenant))
		b.Queue(`SELECT seq, time FROM events WHERE tenant = $1 ORDER BY seq LIMIT $2`, string(tenant), int64(limit)+1)
		br := tx.SendBatch(ctx, &b)
		var head []int64 // detect times, in sequence order
		var seqs []int64
		_, err := br.Exec()
		if err == nil {
			rows, _ := br.Query()
			var seq, detect int64
			_, err = pgx.ForEachRow(rows, []any{&seq, &detect}, func() error {
				head, seqs = append(head, detect), append(seqs, seq)
				return nil
			})
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		for deleted < min(len(head), limit) && head[deleted] < cut {
			deleted++
		}
		more = deleted == limit && len(head) > limit && head[limit] < cut
		if deleted == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `
			WITH d AS (DELETE FROM events WHERE tenant = $1 AND seq <= $2)
			UPDATE event_seqs SET pruned = greatest(pruned, $2) WHERE tenant = $1`, string(tenant), seqs[deleted-1])
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return deleted, more, nil
}
