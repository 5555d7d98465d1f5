package pgstore

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// ListDirtyDays implements store.Store.
func (s *Store) ListDirtyDays(ctx context.Context, after store.DayKey, limit int) ([]store.DayVersion, error) {
	return nil, todo("pgstore.ListDirtyDays")
}

// PutDaySummary implements store.Store.
func (s *Store) PutDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, v uint64, summary, detail []byte) (prevSummary, prevDetail []byte, err error) {
	return nil, nil, todo("pgstore.PutDaySummary")
}

// GetDaySummary implements store.Store.
func (s *Store) GetDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date) (sum store.DaySummary, detail []byte, err error) {
	return store.DaySummary{}, nil, todo("pgstore.GetDaySummary")
}

// ListDaySummaries implements store.Store.
func (s *Store) ListDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date) ([][]store.DaySummary, error) {
	return nil, todo("pgstore.ListDaySummaries")
}

// ViewDaySummaries implements store.Store.
func (s *Store) ViewDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date, want func(rep int, d store.DaySummary) bool, fn func([][]store.DaySummary) error) error {
	return todo("pgstore.ViewDaySummaries")
}
