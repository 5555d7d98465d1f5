package pgstore

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// RecordCheckIn implements store.Store.
func (s *Store) RecordCheckIn(ctx context.Context, tenant dwell.TenantID, c dwell.CheckIn) (stored dwell.CheckIn, existed bool, err error) {
	return dwell.CheckIn{}, false, todo("pgstore.RecordCheckIn")
}

// RecordCheckOut implements store.Store.
func (s *Store) RecordCheckOut(ctx context.Context, tenant dwell.TenantID, c dwell.CheckOut) (stored dwell.CheckOut, existed bool, err error) {
	return dwell.CheckOut{}, false, todo("pgstore.RecordCheckOut")
}

// RecordCall implements store.Store.
func (s *Store) RecordCall(ctx context.Context, tenant dwell.TenantID, c dwell.Call) (stored dwell.Call, existed bool, err error) {
	return dwell.Call{}, false, todo("pgstore.RecordCall")
}

// RecordTrackingChange implements store.Store.
func (s *Store) RecordTrackingChange(ctx context.Context, tenant dwell.TenantID, c dwell.TrackingChange) (stored dwell.TrackingChange, existed bool, err error) {
	return dwell.TrackingChange{}, false, todo("pgstore.RecordTrackingChange")
}

// ListCheckIns implements store.Store.
func (s *Store) ListCheckIns(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckIn, error) {
	return nil, todo("pgstore.ListCheckIns")
}

// ListCheckOuts implements store.Store.
func (s *Store) ListCheckOuts(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckOut, error) {
	return nil, todo("pgstore.ListCheckOuts")
}

// ListCalls implements store.Store.
func (s *Store) ListCalls(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Call, error) {
	return nil, todo("pgstore.ListCalls")
}

// ListTrackingChanges implements store.Store.
func (s *Store) ListTrackingChanges(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	return nil, todo("pgstore.ListTrackingChanges")
}

// ListTrackingState implements store.Store.
func (s *Store) ListTrackingState(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	return nil, todo("pgstore.ListTrackingState")
}
