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

// CreateAppointment is not implemented yet: it needs appointments (sales inputs for the KPIs).
func (salesService) CreateAppointment(context.Context, *dwellv1.CreateAppointmentRequest) (*dwellv1.CreateAppointmentResponse, error) {
	return nil, notYet("CreateAppointment", "appointments (sales inputs for the KPIs)")
}

// ListAppointments is not implemented yet: it needs appointments (sales inputs for the KPIs).
func (salesService) ListAppointments(context.Context, *dwellv1.ListAppointmentsRequest) (*dwellv1.ListAppointmentsResponse, error) {
	return nil, notYet("ListAppointments", "appointments (sales inputs for the KPIs)")
}

// DeleteAppointment is not implemented yet: it needs appointments (sales inputs for the KPIs).
func (salesService) DeleteAppointment(context.Context, *dwellv1.DeleteAppointmentRequest) (*dwellv1.DeleteAppointmentResponse, error) {
	return nil, notYet("DeleteAppointment", "appointments (sales inputs for the KPIs)")
}

// UpsertOpportunities is not implemented yet: it needs opportunities (sales inputs for the KPIs).
func (salesService) UpsertOpportunities(context.Context, *dwellv1.UpsertOpportunitiesRequest) (*dwellv1.UpsertOpportunitiesResponse, error) {
	return nil, notYet("UpsertOpportunities", "opportunities (sales inputs for the KPIs)")
}

// GetOpportunity is not implemented yet: it needs opportunities (sales inputs for the KPIs).
func (salesService) GetOpportunity(context.Context, *dwellv1.GetOpportunityRequest) (*dwellv1.GetOpportunityResponse, error) {
	return nil, notYet("GetOpportunity", "opportunities (sales inputs for the KPIs)")
}

// UpdateOpportunity is not implemented yet: it needs opportunities (sales inputs for the KPIs).
func (salesService) UpdateOpportunity(context.Context, *dwellv1.UpdateOpportunityRequest) (*dwellv1.UpdateOpportunityResponse, error) {
	return nil, notYet("UpdateOpportunity", "opportunities (sales inputs for the KPIs)")
}

// ListOpportunities is not implemented yet: it needs opportunities (sales inputs for the KPIs).
func (salesService) ListOpportunities(context.Context, *dwellv1.ListOpportunitiesRequest) (*dwellv1.ListOpportunitiesResponse, error) {
	return nil, notYet("ListOpportunities", "opportunities (sales inputs for the KPIs)")
}

// UpsertQuotas is not implemented yet: it needs quotas (sales inputs for the KPIs).
func (salesService) UpsertQuotas(context.Context, *dwellv1.UpsertQuotasRequest) (*dwellv1.UpsertQuotasResponse, error) {
	return nil, notYet("UpsertQuotas", "quotas (sales inputs for the KPIs)")
}

// ListQuotas is not implemented yet: it needs quotas (sales inputs for the KPIs).
func (salesService) ListQuotas(context.Context, *dwellv1.ListQuotasRequest) (*dwellv1.ListQuotasResponse, error) {
	return nil, notYet("ListQuotas", "quotas (sales inputs for the KPIs)")
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
