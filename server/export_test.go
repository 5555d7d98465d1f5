package server

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
)

// FenceIndex exposes a tenant's geofence index to the external tests.
func FenceIndex(ctx context.Context, s *Server, t dwell.TenantID) (*geofence.Index, error) {
	return s.fences.index(ctx, t)
}

// SweepRetention runs one pass of the retention sweeper at now and returns
// the fixes and events it deleted.
func SweepRetention(ctx context.Context, s *Server, now time.Time) (fixes, events int, err error) {
	n, err := s.sweepRetention(ctx, now)
	return n.fixes, n.events, err
}

// SweepRetentionActions runs one pass of the retention sweeper at now and
// returns the check-ins and check-outs whose fix it cleared.
func SweepRetentionActions(ctx context.Context, s *Server, now time.Time) (int, error) {
	n, err := s.sweepRetention(ctx, now)
	return n.actionFixes, err
}

// SummarizeDay summarises one rep-day as a report does for a day whose
// stored summary is stale, and returns its totals.
func SummarizeDay(ctx context.Context, s *Server, t dwell.TenantID, rep dwell.RepID, date dwell.Date) (kpi.Totals, error) {
	r, err := s.store.GetRep(ctx, t, rep)
	if err != nil {
		return kpi.Totals{}, err
	}
	d, err := summarizeStored(ctx, s, t, r, date)
	if err != nil {
		return kpi.Totals{}, err
	}
	return d.Totals, nil
}

// summarizeStored is summarize with the tenant's stored settings.
func summarizeStored(ctx context.Context, s *Server, t dwell.TenantID, r dwell.Rep, date dwell.Date) (*kpi.Day, error) {
	set, err := s.store.GetSettings(ctx, t)
	if err != nil {
		return nil, err
	}
	return s.summarize(ctx, t, r, date, set)
}

// deriveStored is derive with the tenant's stored settings.
func deriveStored(ctx context.Context, s *Server, t dwell.TenantID, r dwell.Rep, date dwell.Date, live bool) (derived, error) {
	set, err := s.store.GetSettings(ctx, t)
	if err != nil {
		return derived{}, err
	}
	return s.derive(ctx, t, r, date, set, live)
}
