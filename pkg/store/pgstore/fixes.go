package pgstore

// Fixes.
//
// A fix is one row of the fixes table (schema.go), keyed by (tenant, rep,
// id): the primary key is the deduplication key, so AppendFixes stores a
// batch with one INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING
// RETURNING id, and the ids it returns are the fixes stored now. Duplicates
// inside one batch are dropped before the statement (the first occurrence
// stands), so the statement never meets its own rows twice, and the rest go
// in id order, so that concurrent batches sharing ids do not deadlock (see
// newFixArrays). Reads go by the fixes_by_time index (tenant, rep, time,
// id): ListFixes is one index range scan in (time, id) order and
// LastFixTime one backward step of it.
//
// Concurrent batches of one rep that share fix ids are serialized by the
// primary key: under SERIALIZABLE the later one fails with a serialization
// failure once the earlier commits, and s.write runs it again, when it sees
// those fixes as stored. So every fix is reported stored exactly once.
//
// Caveats: a batch and the day marks and rep_data row it causes are one
// transaction, so concurrent batches of one rep also meet on the rows of
// the days table they bump; they queue and retry, and throughput comes
// from many reps (and from batching), not from one rep's parallel uploads.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// fixColumns are the columns ListFixes reads a fix from, in its order of
// scan.
const fixColumns = `id, time, lat, lng, accuracy_m, speed_mps, bearing_deg, altitude_m, has_altitude, mock`

// fixArrays is a batch of fixes as one array per column, for unnest.
type fixArrays struct {
	ids                          []string
	times                        []int64
	lat, lng, acc, spd, brg, alt []float64
	hasAlt, mock                 []bool
	// idx is the index in the batch of each distinct id's first fix.
	idx map[string]int
}

// AppendFixes implements store.Store in one transaction: one INSERT of the
// batch's distinct fixes that returns the ids it stored, the day marks of
// their local days and the rep's rep_data row. A fix whose time cannot be
// stored (outside the years 1678 to 2262) or whose id is empty or longer
// than dwell.MaxFixIDBytes fails the whole call with dwell.Invalid and
// nothing is written, as in boltstore.
func (s *Store) AppendFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fixes []dwell.Fix) ([]bool, error) {
	const op = dwell.Op("pgstore.AppendFixes")
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return nil, err
	}
	if len(fixes) == 0 {
		return []bool{}, nil
	}
	b, err := newFixArrays(op, fixes)
	if err != nil {
		return nil, err
	}
	stored := make([]bool, len(fixes))
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		clear(stored)
		rows, err := tx.Query(ctx, `
			INSERT INTO fixes (tenant, rep, id, time, lat, lng, accuracy_m, speed_mps, bearing_deg, altitude_m, has_altitude, mock)
			SELECT $1, $2, u.* FROM unnest($3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
				$9::float8[], $10::float8[], $11::bool[], $12::bool[]) AS u
			ON CONFLICT (tenant, rep, id) DO NOTHING
			RETURNING id`,
			string(tenant), string(rep), b.ids, b.times, b.lat, b.lng, b.acc, b.spd, b.brg, b.alt, b.hasAlt, b.mock)
		if err != nil {
			return err
		}
		var times []time.Time
		var id string
		_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
			i, ok := b.idx[id]
			if !ok {
				return dwell.E(dwell.Other, fmt.Sprintf("the database stored fix %q, which the batch does not hold", id))
			}
			stored[i] = true
			times = append(times, fixes[i].Time)
			return nil
		})
		if err != nil || len(times) == 0 {
			return err
		}
		// Days in date order, for the same reason as ids in id order.
		slices.SortFunc(times, time.Time.Compare)
		if err := s.markInstants(ctx, tx, tenant, rep, times); err != nil {
			return err
		}
		return touchRepData(ctx, tx, tenant, rep)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// newFixArrays checks fixes and returns their distinct ids (the first
// occurrence of each) as column arrays, in id order: concurrent batches of
// one rep that share ids then take the primary key's locks in one order,
// so one waits for the other instead of both deadlocking (which costs
// PostgreSQL's deadlock_timeout, a second, and a retry).
func newFixArrays(op dwell.Op, fixes []dwell.Fix) (*fixArrays, error) {
	n := len(fixes)
	b := &fixArrays{idx: make(map[string]int, n)}
	order := make([]int, 0, n)
	for i := range fixes {
		f := &fixes[i]
		if len(f.ID) == 0 || len(f.ID) > dwell.MaxFixIDBytes {
			return nil, dwell.E(op, dwell.Invalid, dwell.Violation{Field: fmt.Sprintf("fixes[%d].id", i),
				Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxFixIDBytes)})
		}
		if _, ok := nanos(f.Time); !ok {
			return nil, timeInvalid(op, fmt.Sprintf("fixes[%d].time", i), f.Time)
		}
		if _, dup := b.idx[f.ID]; !dup {
			b.idx[f.ID] = i
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(fixes[i].ID, fixes[j].ID) })
	m := len(order)
	b.ids, b.times = make([]string, m), make([]int64, m)
	b.lat, b.lng, b.acc = make([]float64, m), make([]float64, m), make([]float64, m)
	b.spd, b.brg, b.alt = make([]float64, m), make([]float64, m), make([]float64, m)
	b.hasAlt, b.mock = make([]bool, m), make([]bool, m)
	for k, i := range order {
		f := &fixes[i]
		b.ids[k], b.times[k] = f.ID, f.Time.UnixNano()
		b.lat[k], b.lng[k], b.acc[k] = f.Pos.Lat, f.Pos.Lng, f.AccuracyM
		b.spd[k], b.brg[k], b.alt[k] = f.SpeedMPS, f.BearingDeg, f.AltitudeM
		b.hasAlt[k], b.mock[k] = f.HasAltitude, f.Mock
	}
	return b, nil
}

// ListFixes implements store.Store with one range scan of fixes_by_time.
// Fixes come back with Time in UTC.
func (s *Store) ListFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Fix, error) {
	const op = dwell.Op("pgstore.ListFixes")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, err
	}
	out := []dwell.Fix{}
	if !from.Before(to) {
		return out, nil
	}
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT `+fixColumns+` FROM fixes
			WHERE tenant = $1 AND rep = $2 AND time >= $3 AND time < $4
			ORDER BY time, id`,
			string(tenant), string(rep), boundNanos(from), boundNanos(to))
		if err != nil {
			return err
		}
		var f dwell.Fix
		var t int64
		_, err = pgx.ForEachRow(rows, []any{&f.ID, &t, &f.Pos.Lat, &f.Pos.Lng, &f.AccuracyM, &f.SpeedMPS, &f.BearingDeg,
			&f.AltitudeM, &f.HasAltitude, &f.Mock}, func() error {
			f.Time = fromNanos(t)
			out = append(out, f)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LastFixTime implements store.Store: the last entry of the rep's range of
// fixes_by_time.
func (s *Store) LastFixTime(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	const op = dwell.Op("pgstore.LastFixTime")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return time.Time{}, err
	}
	var at *int64
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		return tx.QueryRow(ctx, `SELECT max(time) FROM fixes WHERE tenant = $1 AND rep = $2`,
			string(tenant), string(rep)).Scan(&at)
	})
	if err != nil {
		return time.Time{}, err
	}
	return fromOptNanos(at), nil
}
