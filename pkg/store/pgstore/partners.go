package pgstore

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// partnersSchema holds the tables of this file (see coreSchema).
const partnersSchema = ``

// CreatePartner implements store.Store.
func (s *Store) CreatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) (stored dwell.PartnerAccount, existed bool, err error) {
	return dwell.PartnerAccount{}, false, todo("pgstore.CreatePartner")
}

// GetPartner implements store.Store.
func (s *Store) GetPartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID) (dwell.PartnerAccount, error) {
	return dwell.PartnerAccount{}, todo("pgstore.GetPartner")
}

// UpdatePartner implements store.Store.
func (s *Store) UpdatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) error {
	return todo("pgstore.UpdatePartner")
}

// DeletePartner implements store.Store.
func (s *Store) DeletePartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID) error {
	return todo("pgstore.DeletePartner")
}

// ListPartners implements store.Store.
func (s *Store) ListPartners(ctx context.Context, tenant dwell.TenantID, p store.Page) ([]dwell.PartnerAccount, bool, error) {
	return nil, false, todo("pgstore.ListPartners")
}
