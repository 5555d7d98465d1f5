package pgstore

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// salesSchema holds the tables of this file (see coreSchema).
const salesSchema = ``

// CreateAppointment implements store.Store.
func (s *Store) CreateAppointment(ctx context.Context, tenant dwell.TenantID, a dwell.Appointment) (stored dwell.Appointment, existed bool, err error) {
	return dwell.Appointment{}, false, todo("pgstore.CreateAppointment")
}

// GetAppointment implements store.Store.
func (s *Store) GetAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) (dwell.Appointment, error) {
	return dwell.Appointment{}, todo("pgstore.GetAppointment")
}

// DeleteAppointment implements store.Store.
func (s *Store) DeleteAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) error {
	return todo("pgstore.DeleteAppointment")
}

// ListAppointments implements store.Store.
func (s *Store) ListAppointments(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Appointment, error) {
	return nil, todo("pgstore.ListAppointments")
}

// PutOpportunities implements store.Store.
func (s *Store) PutOpportunities(ctx context.Context, tenant dwell.TenantID, requestID string, os []dwell.Opportunity) (existed bool, err error) {
	return false, todo("pgstore.PutOpportunities")
}

// GetOpportunity implements store.Store.
func (s *Store) GetOpportunity(ctx context.Context, tenant dwell.TenantID, id dwell.OpportunityID) (dwell.Opportunity, error) {
	return dwell.Opportunity{}, todo("pgstore.GetOpportunity")
}

// ListOpportunities implements store.Store.
func (s *Store) ListOpportunities(ctx context.Context, tenant dwell.TenantID, f store.OpportunityFilter, p store.Page) ([]dwell.Opportunity, bool, error) {
	return nil, false, todo("pgstore.ListOpportunities")
}

// PutQuotas implements store.Store.
func (s *Store) PutQuotas(ctx context.Context, tenant dwell.TenantID, requestID string, qs []dwell.Quota) (existed bool, err error) {
	return false, todo("pgstore.PutQuotas")
}

// ListQuotas implements store.Store.
func (s *Store) ListQuotas(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) ([]dwell.Quota, error) {
	return nil, todo("pgstore.ListQuotas")
}

// ListRepSales implements store.Store.
func (s *Store) ListRepSales(ctx context.Context, tenant dwell.TenantID, spans []store.RepSpan) ([]dwell.Appointment, []dwell.Quota, error) {
	return nil, nil, todo("pgstore.ListRepSales")
}
