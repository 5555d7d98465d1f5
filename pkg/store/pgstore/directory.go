package pgstore

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// directorySchema holds the tables of this file (see coreSchema).
const directorySchema = ``

// CreateClient implements store.Store.
func (s *Store) CreateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	return todo("pgstore.CreateClient")
}

// GetClient implements store.Store.
func (s *Store) GetClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) (dwell.Client, error) {
	return dwell.Client{}, todo("pgstore.GetClient")
}

// UpdateClient implements store.Store.
func (s *Store) UpdateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	return todo("pgstore.UpdateClient")
}

// DeleteClient implements store.Store.
func (s *Store) DeleteClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) error {
	return todo("pgstore.DeleteClient")
}

// ListClients implements store.Store.
func (s *Store) ListClients(ctx context.Context, tenant dwell.TenantID, f store.ClientFilter, p store.Page) ([]dwell.Client, bool, error) {
	return nil, false, todo("pgstore.ListClients")
}

// PutClients implements store.Store.
func (s *Store) PutClients(ctx context.Context, tenant dwell.TenantID, cs []dwell.Client) error {
	return todo("pgstore.PutClients")
}

// CreateRep implements store.Store.
func (s *Store) CreateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	return todo("pgstore.CreateRep")
}

// GetRep implements store.Store.
func (s *Store) GetRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) (dwell.Rep, error) {
	return dwell.Rep{}, todo("pgstore.GetRep")
}

// UpdateRep implements store.Store.
func (s *Store) UpdateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	return todo("pgstore.UpdateRep")
}

// DeleteRep implements store.Store.
func (s *Store) DeleteRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) error {
	return todo("pgstore.DeleteRep")
}

// ListReps implements store.Store.
func (s *Store) ListReps(ctx context.Context, tenant dwell.TenantID, f store.RepFilter, p store.Page) ([]dwell.Rep, bool, error) {
	return nil, false, todo("pgstore.ListReps")
}

// CreateTeam implements store.Store.
func (s *Store) CreateTeam(ctx context.Context, tenant dwell.TenantID, t dwell.Team) error {
	return todo("pgstore.CreateTeam")
}

// GetTeam implements store.Store.
func (s *Store) GetTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) (dwell.Team, error) {
	return dwell.Team{}, todo("pgstore.GetTeam")
}

// UpdateTeam implements store.Store.
func (s *Store) UpdateTeam(ctx context.Context, tenant dwell.TenantID, t dwell.Team) error {
	return todo("pgstore.UpdateTeam")
}

// DeleteTeam implements store.Store.
func (s *Store) DeleteTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) error {
	return todo("pgstore.DeleteTeam")
}

// ListTeams implements store.Store.
func (s *Store) ListTeams(ctx context.Context, tenant dwell.TenantID, f store.TeamFilter, p store.Page) ([]dwell.Team, bool, error) {
	return nil, false, todo("pgstore.ListTeams")
}

// GetSettings implements store.Store.
func (s *Store) GetSettings(ctx context.Context, tenant dwell.TenantID) (dwell.Settings, error) {
	return dwell.Settings{}, todo("pgstore.GetSettings")
}

// PutSettings implements store.Store.
func (s *Store) PutSettings(ctx context.Context, tenant dwell.TenantID, set dwell.Settings) error {
	return todo("pgstore.PutSettings")
}
