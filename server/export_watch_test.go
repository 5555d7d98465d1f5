package server

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// PublishEvents publishes evs to the tenant's event log as the server's
// own detectors do, for the external tests.
func PublishEvents(ctx context.Context, s *Server, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	return s.events.publish(ctx, tenant, evs)
}

// PublishDay runs the day listener on one re-derivation of a rep-day, with
// the rep's team and the tenant's settings read from the store as the
// refresher does, and returns its error.
func PublishDay(ctx context.Context, s *Server, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, prev, next *timeline.Day, detect time.Time) error {
	r, err := s.store.GetRep(ctx, tenant, rep)
	if dwell.Is(dwell.NotFound, err) {
		r = dwell.Rep{ID: rep, TimeZone: "UTC"} // as the refresher does
	} else if err != nil {
		return err
	}
	set, err := s.store.GetSettings(ctx, tenant)
	if err != nil {
		return err
	}
	return s.dayEvents(ctx, dayChange{tenant: tenant, rep: rep, team: r.Team, r: r, settings: set, date: date, prev: prev, next: next, detectTime: detect})
}

// SweepSilence runs one sweep for silent reps at instant now.
func SweepSilence(ctx context.Context, s *Server, now time.Time) error {
	return s.sweepSilence(ctx, now)
}

// EventCursor returns the cursor of event seq of tenant.
func EventCursor(tenant dwell.TenantID, seq uint64) string { return encodeCursor(tenant, seq) }

// SeedSilence seeds the silence tracker from the store at now and returns
// how many reps it seeded.
func SeedSilence(ctx context.Context, s *Server, now time.Time) (int, error) {
	return s.seedSilence(ctx, now)
}
