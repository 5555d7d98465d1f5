package pgstore

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// PruneFixes implements store.Store.
func (s *Store) PruneFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (deleted int, more bool, err error) {
	return 0, false, todo("pgstore.PruneFixes")
}

// PruneActionFixes implements store.Store.
func (s *Store) PruneActionFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (cleared int, more bool, err error) {
	return 0, false, todo("pgstore.PruneActionFixes")
}

// PrunedBefore implements store.Store.
func (s *Store) PrunedBefore(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error) {
	return time.Time{}, todo("pgstore.PrunedBefore")
}

// EraseRepHistory implements store.Store.
func (s *Store) EraseRepHistory(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (store.Erased, error) {
	return store.Erased{}, todo("pgstore.EraseRepHistory")
}

// DeleteFixesBetween implements store.Store.
func (s *Store) DeleteFixesBetween(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) (deleted int, err error) {
	return 0, todo("pgstore.DeleteFixesBetween")
}

// ListDataReps implements store.Store.
func (s *Store) ListDataReps(ctx context.Context, after store.RepRef, limit int) ([]store.RepRef, error) {
	return nil, todo("pgstore.ListDataReps")
}
