package server

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
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
