package pgstore

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// AppendEvents implements store.Store.
func (s *Store) AppendEvents(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	return nil, todo("pgstore.AppendEvents")
}

// ListEvents implements store.Store.
func (s *Store) ListEvents(ctx context.Context, tenant dwell.TenantID, after uint64, limit int) ([]dwell.Event, error) {
	return nil, todo("pgstore.ListEvents")
}

// LastEventSeq implements store.Store.
func (s *Store) LastEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	return 0, todo("pgstore.LastEventSeq")
}

// PruneEvents implements store.Store.
func (s *Store) PruneEvents(ctx context.Context, tenant dwell.TenantID, before time.Time, limit int) (deleted int, more bool, err error) {
	return 0, false, todo("pgstore.PruneEvents")
}

// PrunedEventSeq implements store.Store.
func (s *Store) PrunedEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error) {
	return 0, todo("pgstore.PrunedEventSeq")
}
