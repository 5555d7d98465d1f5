package server

import (
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

// WatchEvents is not implemented yet: it needs the persisted event log.
func (*reportService) WatchEvents(*dwellv1.WatchEventsRequest, dwellv1.ReportService_WatchEventsServer) error {
	return notYet("WatchEvents", "the persisted, resumable event log (visit and geofence events)")
}
