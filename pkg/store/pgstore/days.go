package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// The per rep-day data versions and dirty marks (store.Summaries) are kept
// by every write that changes what a day derives from, in that write's
// transaction: bumpDays below. The rules of which days a write marks are
// those of boltstore (see store.Summaries).

// pgDate returns d as a PostgreSQL date.
func pgDate(d dwell.Date) pgtype.Date {
	return pgtype.Date{Time: time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC), Valid: true}
}

// fromPGDate returns the date of a PostgreSQL date.
func fromPGDate(d pgtype.Date) dwell.Date {
	return dwell.Date{Year: d.Time.Year(), Month: d.Time.Month(), Day: d.Time.Day()}
}

// bumpDays increments the data version of each (tenant, rep, day) of days
// and marks it dirty, creating the day's row if needed. Repeated dates are
// bumped once.
func bumpDays(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, days []dwell.Date) error {
	if len(days) == 0 {
		return nil
	}
	ds := make([]pgtype.Date, 0, len(days))
	seen := make(map[dwell.Date]bool, len(days))
	for _, d := range days {
		if !seen[d] {
			seen[d] = true
			ds = append(ds, pgDate(d))
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO days AS d (tenant, rep, day, version, dirty)
		SELECT $1, $2, x, 1, true FROM unnest($3::date[]) AS x
		ON CONFLICT (tenant, rep, day) DO UPDATE SET version = d.version + 1, dirty = true`,
		string(tenant), string(rep), ds)
	return err
}

// repZone returns the time zone of a rep as the directory holds it in tx,
// or UTC for a rep that is not in it (or has a zone this process cannot
// load).
func (s *Store) repZone(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID) (*time.Location, error) {
	var name string
	err := tx.QueryRow(ctx, `SELECT time_zone FROM reps WHERE tenant = $1 AND id = $2`, string(tenant), string(rep)).Scan(&name)
	switch {
	case err == pgx.ErrNoRows:
		return time.UTC, nil
	case err != nil:
		return nil, err
	}
	return s.location(name), nil
}

// location returns the loaded time zone name, or UTC (with a warning, once)
// for "" or a zone this process cannot load.
func (s *Store) location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	s.zonesMu.Lock()
	defer s.zonesMu.Unlock()
	if loc, ok := s.zones[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		s.log.Warn("pgstore: unknown rep time zone; cutting its days in UTC", "zone", name, "err", err)
		loc = time.UTC
	}
	s.zones[name] = loc
	return loc
}

// markInstants marks dirty the rep's local days (in its zone as tx sees
// it) of the instants ts.
func (s *Store) markInstants(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, ts []time.Time) error {
	if len(ts) == 0 {
		return nil
	}
	loc, err := s.repZone(ctx, tx, tenant, rep)
	if err != nil {
		return err
	}
	days := make([]dwell.Date, len(ts))
	for i, t := range ts {
		days[i] = dwell.DateOf(t, loc)
	}
	return bumpDays(ctx, tx, tenant, rep, days)
}

// touchRepData records that the rep has (or had) fixes or actions: every
// write of a fix or action calls it, so rep_data lists every rep with data
// (store.Privacy.ListDataReps).
func touchRepData(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID) error {
	_, err := tx.Exec(ctx, `INSERT INTO rep_data (tenant, rep) VALUES ($1, $2) ON CONFLICT DO NOTHING`, string(tenant), string(rep))
	return err
}
