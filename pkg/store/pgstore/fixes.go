package pgstore

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// AppendFixes implements store.Store.
func (s *Store) AppendFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fixes []dwell.Fix) ([]bool, error) {
	return nil, todo("pgstore.AppendFixes")
}

// ListFixes implements store.Store.
func (s *Store) ListFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Fix, error) {
	return nil, todo("pgstore.ListFixes")
}

// LastFixTime implements store.Store.
func (s *Store) LastFixTime(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	return time.Time{}, todo("pgstore.LastFixTime")
}
