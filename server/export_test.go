package server

import (
	"context"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// FenceIndex exposes a tenant's geofence index to the external tests.
func FenceIndex(ctx context.Context, s *Server, t dwell.TenantID) (*geofence.Index, error) {
	return s.fences.index(ctx, t)
}
