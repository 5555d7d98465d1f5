package server

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// RepStatusBothWays returns rep's status at now as ListRepStatuses would
// give it from the day's stored summary (ok false when it would derive the
// day instead) and as derived from the day's data.
func RepStatusBothWays(ctx context.Context, s *Server, tenant dwell.TenantID, rep dwell.RepID, now time.Time) (stored *dwellv1.RepStatus, ok bool, derived *dwellv1.RepStatus, err error) {
	r, err := s.store.GetRep(ctx, tenant, rep)
	if err != nil {
		return nil, false, nil, err
	}
	settings, err := s.store.GetSettings(ctx, tenant)
	if err != nil {
		return nil, false, nil, err
	}
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return nil, false, nil, err
	}
	date := dwell.DateOf(now, loc)
	day, fix, ok, err := s.storedToday(ctx, tenant, r, date, loc)
	if err != nil {
		return nil, false, nil, err
	}
	if ok {
		stored = repStatusOf(r, loc, date, day.Segments, fix, settings, now)
	}
	day, fix, err = s.derivedToday(ctx, tenant, r, date, settings)
	if err != nil {
		return nil, false, nil, err
	}
	return stored, ok, repStatusOf(r, loc, date, day.Segments, fix, settings, now), nil
}
