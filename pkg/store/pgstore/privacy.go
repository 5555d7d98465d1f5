package pgstore

// Retention and erasure (store.Privacy), each call one transaction of a
// statement or few.
//
// PruneFixes deletes a rep's oldest fixes, whole instants at a time, and
// raises rep_data.fixes_pruned, the prune horizon: every fix of the rep
// with a time below it is gone. Deleting a row frees its fix id at once
// (the fixes primary key is the deduplication key), which the contract
// allows; the server refuses fixes that old before they reach the store.
//
// PruneActionFixes clears the fix of a rep's check-ins and check-outs (the
// key "f" of the record's JSON, dropped in Go: every other value decodes
// as it did), the oldest first, through the
// partial index actions_fixed (only records that still have a fix): so a
// call never looks again at what earlier calls cleared, and a record
// stored later below an earlier cut is found by the next call, without a
// horizon kept by the writes of actions.
// rep_data.actions_cleared, the cut of the last call that cleared any fix,
// never goes down. (boltstore keeps a horizon of the same walk; this store
// needs none.) Limit and more count the records that have a
// fix: a record without one costs nothing and is not looked at, where
// boltstore counts every check-in and check-out it steps over.
//
// PrunedBefore is the later of the two horizons.
//
// EraseRepHistory deletes the rep's fixes, actions, events and rep_data row
// (its horizons go with it, as boltstore deletes the rep's bucket), and
// clears the summaries and dirty marks of its days while raising their
// data versions, in one statement. It sets each day's erased column to
// the raised version: PutDaySummary refuses a summary of a lower version,
// and AppendDayEvents events derived from one, so a derivation in flight
// on another server (the lease holder's refresher) that read the day
// before the erase stores nothing after it. For the events, the erase
// first locks the event counters (event_seqs) in SHARE mode, which every
// append's update of its tenant's counter waits for and which waits for
// the appends under way: an append that began before has committed, and
// the erase deletes what it appended; one that comes after reads the
// erased column as committed and appends nothing. A table lock, not the
// tenant's counter row as PruneEvents takes: LOCK TABLE comes before the
// SERIALIZABLE transaction's snapshot (its first query), so the erase sees
// every append it waited for, where a SERIALIZABLE update of the row is
// aborted whenever an append committed meanwhile (two goroutines
// appending without pause starved an erase through all its retries). The
// cost: appends of every tenant wait while an erase runs, an erase is
// rare and one statement, and ingest appends none.
//
// DeleteFixesBetween deletes a range of fixes (their ids are forgotten with
// the rows) and bumps the local days that lost one, except those that
// began before the prune horizon.
//
// ListDataReps pages through rep_data, which every write of a fix or action
// fills (touchRepData).

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// privacySchema holds the index of this file (see coreSchema): the
// check-ins and check-outs that still carry a fix, in time order.
const privacySchema = `
CREATE INDEX IF NOT EXISTS actions_fixed ON actions (tenant, rep, time, seq) WHERE has_fix;
`

// checkPrune checks the arguments of a prune of a rep's data: a tenant and
// a rep id, and a limit of at least 1.
func checkPrune(op dwell.Op, tenant dwell.TenantID, rep dwell.RepID, limit int) error {
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return err
	}
	return checkLimit(op, limit)
}

// PruneFixes implements store.Privacy in one statement: the limit-th oldest
// fix before the cut fixes the instant the call stops after; the first
// instant after it (if any before the cut) is the new horizon, else the
// cut is.
func (s *Store) PruneFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (deleted int, more bool, err error) {
	const op = dwell.Op("pgstore.PruneFixes")
	if err := checkPrune(op, tenant, rep, limit); err != nil {
		return 0, false, err
	}
	end := boundNanos(before)
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var n int64
		var next *int64
		err := tx.QueryRow(ctx, `
			WITH lim AS (
				SELECT time FROM fixes
				WHERE tenant = $1 AND rep = $2 AND time < $3
				ORDER BY time LIMIT 1 OFFSET $4::bigint - 1
			), nxt AS (
				SELECT min(f.time) AS t FROM fixes f, lim
				WHERE f.tenant = $1 AND f.rep = $2 AND f.time > lim.time AND f.time < $3
			), del AS (
				DELETE FROM fixes
				WHERE tenant = $1 AND rep = $2 AND time < coalesce((SELECT t FROM nxt), $3)
				RETURNING 1
			), horizon AS (
				UPDATE rep_data
				SET fixes_pruned = greatest(fixes_pruned, coalesce((SELECT t FROM nxt), $3))
				WHERE tenant = $1 AND rep = $2 AND EXISTS (SELECT 1 FROM del)
			)
			SELECT (SELECT count(*) FROM del), (SELECT t FROM nxt)`,
			string(tenant), string(rep), end, int64(limit)).Scan(&n, &next)
		deleted, more = int(n), next != nil && n > 0
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return deleted, more, nil
}

// PrunedBefore implements store.Privacy.
func (s *Store) PrunedBefore(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	const op = dwell.Op("pgstore.PrunedBefore")
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return time.Time{}, err
	}
	var at time.Time
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		var err error
		at, err = pruneHorizon(ctx, tx, tenant, rep)
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	return at, nil
}

// pruneHorizon returns the rep's prune horizon as tx sees it
// (store.Privacy.PrunedBefore), or the zero time if it has none.
func pruneHorizon(ctx context.Context, tx querier, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	var h *int64
	err := tx.QueryRow(ctx, `
		SELECT greatest(fixes_pruned, actions_cleared) FROM rep_data
		WHERE tenant = $1 AND rep = $2`,
		string(tenant), string(rep)).Scan(&h)
	if err != nil && err != pgx.ErrNoRows {
		return time.Time{}, err
	}
	return fromOptNanos(h), nil
}

// EraseRepHistory implements store.Privacy in one statement after the
// lock of the event counters (see the file's comment). Every
// sub-statement sees the rows as they were before it, so the summaries are
// counted before they are cleared. The same transaction notifies the
// change feed of the erasure (store.ChangeRepErased).
func (s *Store) EraseRepHistory(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (store.Erased, error) {
	const op = dwell.Op("pgstore.EraseRepHistory")
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return store.Erased{}, err
	}
	var out store.Erased
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var fixes, actions, days, events int64
		if _, err := tx.Exec(ctx, `LOCK TABLE event_seqs IN SHARE MODE`); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			WITH f AS (
				DELETE FROM fixes WHERE tenant = $1 AND rep = $2 RETURNING 1
			), a AS (
				DELETE FROM actions WHERE tenant = $1 AND rep = $2 RETURNING 1
			), e AS (
				DELETE FROM events WHERE tenant = $1 AND rep = $2 RETURNING 1
			), r AS (
				DELETE FROM rep_data WHERE tenant = $1 AND rep = $2
			), sums AS (
				SELECT count(*) AS n FROM days
				WHERE tenant = $1 AND rep = $2 AND summary_version IS NOT NULL
			), d AS (
				UPDATE days
				SET version = version + 1, erased = version + 1, dirty = false,
					summary_version = NULL, summary = NULL, detail = NULL
				WHERE tenant = $1 AND rep = $2
			)
			SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM a),
				(SELECT n FROM sums), (SELECT count(*) FROM e)`,
			string(tenant), string(rep)).Scan(&fixes, &actions, &days, &events)
		if err != nil {
			return err
		}
		out = store.Erased{Fixes: int(fixes), Actions: int(actions), Days: int(days), Events: int(events)}
		// Every server sharing the store forgets what it remembers of the
		// rep's fixes (the change feed, store.ChangeRepErased); sent on
		// commit only, after the events-removed of the deletes above.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel,
			string(store.ChangeRepErased)+"/"+string(tenant)+"/"+string(rep))
		return err
	})
	if err != nil {
		return store.Erased{}, err
	}
	return out, nil
}

// DeleteFixesBetween implements store.Privacy. A range without fixes costs
// one statement that changes nothing, and its transaction writes nothing.
func (s *Store) DeleteFixesBetween(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) (deleted int, err error) {
	const op = dwell.Op("pgstore.DeleteFixesBetween")
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return 0, err
	}
	if !to.IsZero() && !from.Before(to) {
		return 0, nil
	}
	var end *int64 // nil: no end
	if !to.IsZero() {
		e := boundNanos(to)
		end = &e
	}
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		deleted = 0
		// One row per instant that lost fixes, with how many.
		rows, err := tx.Query(ctx, `
			WITH d AS (
				DELETE FROM fixes
				WHERE tenant = $1 AND rep = $2 AND time >= $3 AND ($4::bigint IS NULL OR time < $4)
				RETURNING time
			)
			SELECT time, count(*) FROM d GROUP BY time`,
			string(tenant), string(rep), boundNanos(from), end)
		if err != nil {
			return err
		}
		var at []time.Time
		var t, n int64
		_, err = pgx.ForEachRow(rows, []any{&t, &n}, func() error {
			at = append(at, fromNanos(t))
			deleted += int(n)
			return nil
		})
		if err != nil || deleted == 0 {
			return err
		}
		return s.markKeptDays(ctx, tx, tenant, rep, at)
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

// markKeptDays bumps the rep's local days of the instants at (days that
// lost fixes to DeleteFixesBetween, days a resume shows were paused),
// except days that began before the rep's prune horizon: such a day keeps
// its summary (boltstore's markDeletedFixDays and markPaused).
func (s *Store) markKeptDays(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, at []time.Time) error {
	horizon, err := pruneHorizon(ctx, tx, tenant, rep)
	if err != nil {
		return err
	}
	loc, err := s.repZone(ctx, tx, tenant, rep)
	if err != nil {
		return err
	}
	var days []dwell.Date
	for _, t := range at {
		d := dwell.DateOf(t, loc)
		if !d.Start(loc).Before(horizon) { // a zero horizon keeps every day
			days = append(days, d)
		}
	}
	return bumpDays(ctx, tx, tenant, rep, days)
}

// ListDataReps implements store.Privacy.
func (s *Store) ListDataReps(ctx context.Context, after store.RepRef, limit int) ([]store.RepRef, error) {
	const op = dwell.Op("pgstore.ListDataReps")
	if err := checkLimit(op, limit); err != nil {
		return nil, err
	}
	var out []store.RepRef
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		// Rep ids are not empty: (after.Tenant, "") lists every rep of
		// tenant after.Tenant on, as a zero ref asks.
		rows, err := tx.Query(ctx, `
			SELECT tenant, rep FROM rep_data
			WHERE (tenant, rep) > ($1, $2)
			ORDER BY tenant, rep
			LIMIT $3`,
			string(after.Tenant), string(after.Rep), limit)
		if err != nil {
			return err
		}
		var r store.RepRef
		_, err = pgx.ForEachRow(rows, []any{&r.Tenant, &r.Rep}, func() error {
			out = append(out, r)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PruneActionFixes implements store.Privacy in two statements, as
// PruneFixes walks the fixes: the limit-th oldest record with a fix before
// the cut fixes the instant the call stops after; the first reads those
// records, the second writes them back without their fixes (dropFix) and
// raises the horizon. The fix is dropped here, not in SQL: PostgreSQL's
// JSON functions refuse a \u0000 escape anywhere in the record.
func (s *Store) PruneActionFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (cleared int, more bool, err error) {
	const op = dwell.Op("pgstore.PruneActionFixes")
	if err := checkPrune(op, tenant, rep, limit); err != nil {
		return 0, false, err
	}
	end := boundNanos(before)
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		cleared, more = 0, false
		rows, err := tx.Query(ctx, `
			WITH lim AS (
				SELECT time FROM actions
				WHERE tenant = $1 AND rep = $2 AND has_fix AND time < $3 AND kind IN ($5, $6)
				ORDER BY time LIMIT 1 OFFSET $4::bigint - 1
			), nxt AS (
				SELECT min(a.time) AS t FROM actions a, lim
				WHERE a.tenant = $1 AND a.rep = $2 AND a.has_fix AND a.time > lim.time AND a.time < $3 AND a.kind IN ($5, $6)
			)
			SELECT a.kind, a.time, a.seq, a.rec::text, (SELECT t FROM nxt) FROM actions a
			WHERE a.tenant = $1 AND a.rep = $2 AND a.has_fix AND a.kind IN ($5, $6)
				AND a.time < coalesce((SELECT t FROM nxt), $3)`,
			string(tenant), string(rep), end, int64(limit), actionCheckIn.code, actionCheckOut.code)
		if err != nil {
			return err
		}
		var kinds []int16
		var times, seqs []int64
		var recs []string
		var kind int16
		var at, seq int64
		var rec []byte
		var next *int64
		_, err = pgx.ForEachRow(rows, []any{&kind, &at, &seq, &rec, &next}, func() error {
			r, err := dropFix(op, rec)
			kinds, times, seqs, recs = append(kinds, kind), append(times, at), append(seqs, seq), append(recs, string(r))
			return err
		})
		if err != nil || len(seqs) == 0 {
			return err
		}
		cut := end
		if next != nil {
			cut, more = *next, true
		}
		_, err = tx.Exec(ctx, `
			WITH cl AS (
				UPDATE actions a SET has_fix = false, rec = u.rec::json
				FROM unnest($3::smallint[], $4::bigint[], $5::bigint[], $6::text[]) AS u(kind, time, seq, rec)
				WHERE a.tenant = $1 AND a.rep = $2 AND a.kind = u.kind AND a.time = u.time AND a.seq = u.seq
			)
			UPDATE rep_data SET actions_cleared = greatest(actions_cleared, $7)
			WHERE tenant = $1 AND rep = $2`,
			string(tenant), string(rep), kinds, times, seqs, recs, cut)
		cleared = len(seqs)
		return err
	})
	if err != nil {
		return 0, false, err
	}
	return cleared, more, nil
}

// dropFix returns the JSON object rec without its key "f", the fix of a
// check-in's or check-out's record (actions.go); every other value is
// kept as raw JSON (json.Marshal compacts it and may escape <, > and &
// in strings, which decode the same).
func dropFix(op dwell.Op, rec []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		return nil, dwell.E(op, dwell.Other, "decoding a stored rep action", err)
	}
	delete(m, "f")
	out, err := json.Marshal(m)
	if err != nil {
		return nil, dwell.E(op, dwell.Other, "encoding a rep action", err)
	}
	return out, nil
}
