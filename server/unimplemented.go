package server

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file answers the RPCs whose capability is not built yet. Each says
// which capability is missing, so a partner never mistakes UNIMPLEMENTED for
// an answer. The auth interceptor still runs first: an unauthorised caller
// gets UNAUTHENTICATED or PERMISSION_DENIED, never a hint of what exists.

// notYet returns the Unimplemented error of method, naming what is missing.
func notYet(method, capability string) error {
	return dwell.E(dwell.Op("server."+method), dwell.Unimplemented, method+" is not available yet: Dwell does not have "+capability+" yet")
}

// GetTimeBreakdown is not implemented yet: it needs per rep-day time summaries (built on the timeline derivation).
func (*reportService) GetTimeBreakdown(context.Context, *dwellv1.GetTimeBreakdownRequest) (*dwellv1.GetTimeBreakdownResponse, error) {
	return nil, notYet("GetTimeBreakdown", "per rep-day time summaries (built on the timeline derivation)")
}

// GetKpis is not implemented yet: it needs the ten sales KPIs (built on the timeline and the sales inputs).
func (*reportService) GetKpis(context.Context, *dwellv1.GetKpisRequest) (*dwellv1.GetKpisResponse, error) {
	return nil, notYet("GetKpis", "the ten sales KPIs (built on the timeline and the sales inputs)")
}

// ListVisits is not implemented yet: it needs visits derived by the timeline.
func (*reportService) ListVisits(context.Context, *dwellv1.ListVisitsRequest) (*dwellv1.ListVisitsResponse, error) {
	return nil, notYet("ListVisits", "visits derived by the timeline")
}

// WatchEvents is not implemented yet: it needs the persisted event log.
func (*reportService) WatchEvents(*dwellv1.WatchEventsRequest, dwellv1.ReportService_WatchEventsServer) error {
	return notYet("WatchEvents", "the persisted, resumable event log (visit and geofence events)")
}
