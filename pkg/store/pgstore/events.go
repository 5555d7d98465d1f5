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
// transaction: the counter row is updated by every append of the tenant,
// so two concurrent appends conflict on it, one of them is aborted by
// SERIALIZABLE and run again after the other committed. Numbers are
// therefore gap-free in commit order, and a failed append gives none
// back. An append whose events are all duplicates still touches the
// counter row (adding 0), which keeps the statement simple; the broker's
// appends are rare enough that this costs nothing measurable.

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

// needTenant returns dwell.Invalid if tenant cannot name a tenant, as
// boltstore's checkTenant.
func needTenant(op dwell.Op, tenant dwell.TenantID) error {
	return needID(op, "tenant", string(tenant))
}

// needID returns dwell.Invalid naming field if id is empty or longer than
// dwell.MaxIDBytes, as boltstore's checkID.
func needID(op dwell.Op, field, id string) error {
	if id == "" || len(id) > dwell.MaxIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: field, Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
	}
	return nil
}

// appendEventsSQL appends the events given as arrays ($2 their indexes in
// the call, in order; $3 keys; $4 reps; $5 detect times; $6 records) to
// tenant $1's log, skipping those whose non-empty key is in the log
// already, numbers the others from the tenant's counter in index order,
// and returns (index, seq) of each appended event. The caller has removed
// repeated keys within the call.
const appendEventsSQL = `
WITH input AS (
	SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS u(ord, key, rep, time, rec)
), fresh AS (
	SELECT i.*, row_number() OVER (ORDER BY i.ord) AS n
	FROM input i
	WHERE i.key = '' OR NOT EXISTS (SELECT 1 FROM events e WHERE e.tenant = $1 AND e.key = i.key)
), total AS (
	SELECT count(*) AS n FROM fresh
), counter AS (
	INSERT INTO event_seqs AS c (tenant, last) SELECT $1, total.n FROM total
	ON CONFLICT (tenant) DO UPDATE SET last = c.last + excluded.last
	RETURNING c.last - (SELECT n FROM total) AS base
), ins AS (
	INSERT INTO events (tenant, seq, key, rep, time, rec)
	SELECT $1, counter.base + f.n, f.key, f.rep, f.time, f.rec::json FROM fresh f, counter
)
SELECT f.ord, counter.base + f.n FROM fresh f, counter`

// AppendEvents implements store.EventLog in one statement: deduplication
// by key, numbering and insert.
func (s *Store) AppendEvents(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	const op = dwell.Op("pgstore.AppendEvents")
	if err := needTenant(op, tenant); err != nil {
		return nil, err
	}
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
		switch {
		case !e.Type.Valid():
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("type"), Description: "must be an event type"})
		case e.Rep == "" || len(e.Rep) > dwell.MaxIDBytes:
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: field("rep"), Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
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
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		seqs = make([]uint64, len(evs))
		rows, err := tx.Query(ctx, appendEventsSQL, string(tenant), ords, keys, reps, times, recs)
		if err != nil {
			return err
		}
		var ord int32
		var seq int64
		_, err = pgx.ForEachRow(rows, []any{&ord, &seq}, func() error {
			seqs[ord] = uint64(seq)
			return nil
		})
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
	if err := needTenant(op, tenant); err != nil {
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
	if err := needTenant(op, tenant); err != nil {
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

// PruneEvents implements store.EventLog. It reads the detect times of the
// first limit+1 events in sequence order, keeps the prefix detected
// before before (at most limit), and deletes every event up to the last
// of it: the events kept stay a suffix of the log.
func (s *Store) PruneEvents(ctx context.Context, tenant dwell.TenantID, before time.Time, limit int) (int, bool, error) {
	const op = dwell.Op("pgstore.PruneEvents")
	if err := needTenant(op, tenant); err != nil {
		return 0, false, err
	}
	if limit < 1 {
		return 0, false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "limit", Description: "must be at least 1"})
	}
	cut := boundNanos(before)
	var deleted int
	var more bool
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		deleted, more = 0, false
		rows, err := tx.Query(ctx, `SELECT seq, time FROM events WHERE tenant = $1 ORDER BY seq LIMIT $2`,
			string(tenant), int64(limit)+1)
		if err != nil {
			return err
		}
		var head []int64 // detect times, in sequence order
		var seqs []int64
		var seq, detect int64
		_, err = pgx.ForEachRow(rows, []any{&seq, &detect}, func() error {
			head, seqs = append(head, detect), append(seqs, seq)
			return nil
		})
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
