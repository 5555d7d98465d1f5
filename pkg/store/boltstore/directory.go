package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// createRecord stores val under id in the tenant's bucket name, failing with
// dwell.AlreadyExists if id is taken. check, if not nil, runs next, before
// anything is written: its error fails the create, which writes nothing.
func (s *Store) createRecord(ctx context.Context, op dwell.Op, tenant dwell.TenantID, name []byte, what, id string, val []byte, check func(t *txn) error) error {
	key := []byte(id)
	return s.write(ctx, op, 1, func(t *txn) error {
		b, err := t.tenantSub(tenant, name, true)
		if err != nil {
			return err
		}
		if b.Get(key) != nil {
			return dwell.E(dwell.AlreadyExists, fmt.Sprintf("%s %q already exists", what, id))
		}
		if check != nil {
			if err := check(t); err != nil {
				return err
			}
		}
		if err := t.directoryWrite(tenant, name, id); err != nil {
			return err
		}
		return b.Put(key, val)
	})
}

// createOnce stores val under id in the tenant's bucket name, once per
// request id, which reqs maps to the id it created. A create whose request
// id was used before stores nothing and returns the id and value stored
// then (valid for the transaction); one whose record was deleted since is
// dwell.FailedPrecondition: the request id is spent, and a retry must not
// bring the record back. The record under that id counts as deleted when
// it is absent and also when ridOf, which reads the request id a stored
// value was created with, says another request created it: the id was
// freed and taken again, and answering with that record would hand the
// caller someone else's. An id already taken is dwell.AlreadyExists.
// then, if not nil, runs after the put (an index entry). An empty request
// id creates without recording one.
func (t *txn) createOnce(tenant dwell.TenantID, name, reqs []byte, what, id, requestID string, val []byte,
	ridOf func(v []byte) (string, error), then func() error) (prevID, prevVal []byte, err error) {
	rb, err := t.tenantSub(tenant, reqs, true)
	if err != nil {
		return nil, nil, err
	}
	b, err := t.tenantSub(tenant, name, true)
	if err != nil {
		return nil, nil, err
	}
	if requestID != "" {
		if old := rb.Get([]byte(requestID)); old != nil {
			if v := b.Get(old); v != nil {
				rid, err := ridOf(v)
				if err != nil {
					return nil, nil, err
				}
				if rid == requestID {
					return old, v, nil
				}
			}
			return nil, nil, dwell.E(dwell.FailedPrecondition, dwell.ReasonRequestTargetDeleted, fmt.Sprintf("the %s of request %q was deleted", what, requestID))
		}
	}
	if b.Get([]byte(id)) != nil {
		return nil, nil, dwell.E(dwell.AlreadyExists, fmt.Sprintf("%s %q already exists", what, id))
	}
	if err := b.Put([]byte(id), val); err != nil {
		return nil, nil, err
	}
	if then != nil {
		if err := then(); err != nil {
			return nil, nil, err
		}
	}
	if requestID != "" {
		return nil, nil, rb.Put([]byte(requestID), []byte(id))
	}
	return nil, nil, nil
}

// updateRecord replaces the record under id, a record that can be
// deleted and created again (a client, rep, team or partner account),
// failing with dwell.NotFound if id is absent and with dwell.Conflict if
// want, the revision the caller read (0: no precondition), is not the
// stored one (store.CheckRevision) or, want not 0, the stored record was
// not created at created, the CreateTime the caller read
// (store.CheckLife). encode returns the new value given its revision,
// the stored one plus 1. then, if not nil, runs in the same write after
// the put, with a copy of the value replaced.
func (s *Store) updateRecord(ctx context.Context, op dwell.Op, tenant dwell.TenantID, name []byte, what, id string, want int64, created time.Time,
	encode func(rev int64) ([]byte, error), then func(t *txn, old []byte) error) error {
	return s.updateChecked(ctx, op, tenant, name, what, id, want, created, nil, encode, then)
}

// updateChecked is updateRecord with check, which, if not nil, runs after
// the record's own checks and before anything is written: its error
// fails the update, which writes nothing.
func (s *Store) updateChecked(ctx context.Context, op dwell.Op, tenant dwell.TenantID, name []byte, what, id string, want int64, created time.Time,
	check func(t *txn) error, encode func(rev int64) ([]byte, error), then func(t *txn, old []byte) error) error {
	key := []byte(id)
	return s.write(ctx, op, 1, func(t *txn) error {
		b, err := t.tenantSub(tenant, name, false)
		if err != nil {
			return err
		}
		var old []byte
		if b != nil {
			old = b.Get(key)
		}
		if old == nil {
			return notFound(what, id)
		}
		rev, ct, err := lifeOf(op, what, old)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%s %q", what, id)
		if err := store.CheckRevision(desc, want, rev); err != nil {
			return err
		}
		if err := store.CheckLife(desc, want, created, ct); err != nil {
			return err
		}
		if check != nil {
			if err := check(t); err != nil {
				return err
			}
		}
		val, err := encode(rev + 1)
		if err != nil {
			return err
		}
		if err := t.directoryWrite(tenant, name, id); err != nil {
			return err
		}
		if then == nil {
			return b.Put(key, val)
		}
		old = bytes.Clone(old) // the put may invalidate it
		if err := b.Put(key, val); err != nil {
			return err
		}
		return then(t, old)
	})
}

// nextRevision returns the revision a write of the record stored as old
// (nil: none) gives it: 1 for a new record, else one more than old's.
func nextRevision(op dwell.Op, what string, old []byte) (int64, error) {
	if old == nil {
		return 1, nil
	}
	rev, err := revisionOf(op, what, old)
	return rev + 1, err
}

// deleteRecord removes the value under id, failing with dwell.NotFound if
// id is absent. then, if not nil, runs in the same write after the delete.
func (s *Store) deleteRecord(ctx context.Context, op dwell.Op, tenant dwell.TenantID, name []byte, what, id string, then func(t *txn) error) error {
	key := []byte(id)
	return s.write(ctx, op, 1, func(t *txn) error {
		b, err := t.tenantSub(tenant, name, false)
		if err != nil {
			return err
		}
		if b == nil || b.Get(key) == nil {
			return notFound(what, id)
		}
		if err := t.directoryWrite(tenant, name, id); err != nil {
			return err
		}
		if err := b.Delete(key); err != nil || then == nil {
			return err
		}
		return then(t)
	})
}

// getRecord returns a copy-free view of the value under id, valid only in
// tx, or dwell.NotFound.
func getRecord(tx *bolt.Tx, tenant dwell.TenantID, name []byte, what, id string) ([]byte, error) {
	b := readTenantSub(tx, tenant, name)
	var v []byte
	if b != nil {
		v = b.Get([]byte(id))
	}
	if v == nil {
		return nil, notFound(what, id)
	}
	return v, nil
}

// getOne reads the record id of the tenant's bucket name in one read
// transaction and decodes it; the Get methods share it.
func getOne[T any](ctx context.Context, s *Store, op dwell.Op, tenant dwell.TenantID, name []byte, what, id string, decode func(k, v []byte) (T, error)) (T, error) {
	var out T
	if err := checkTenant(op, tenant); err != nil {
		return out, err
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		v, err := getRecord(tx, tenant, name, what, id)
		if err != nil {
			return err
		}
		out, err = decode([]byte(id), v)
		return err
	})
	return out, err
}

func notFound(what, id string) error {
	return dwell.E(dwell.NotFound, fmt.Sprintf("%s %q not found", what, id))
}

// checkPage returns a dwell.Invalid error for a page without a positive
// limit.
func checkPage(op dwell.Op, p store.Page) error {
	if p.Limit < 1 {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "page_size", Description: "must be at least 1"})
	}
	return nil
}

// list scans bucket b in key order after p.After, decoding each record and
// keeping those for which keep returns true, until p.Limit are kept; it then
// looks on for one more kept record to tell whether more follow.
func list[T any](b *bolt.Bucket, p store.Page, decode func(k, v []byte) (T, error), keep func(*T) bool) ([]T, bool, error) {
	var out []T
	if b == nil {
		return out, false, nil
	}
	c := b.Cursor()
	after := []byte(p.After)
	k, v := c.Seek(after)
	if k != nil && p.After != "" && bytes.Equal(k, after) {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		item, err := decode(k, v)
		if err != nil {
			return nil, false, err
		}
		if keep != nil && !keep(&item) {
			continue
		}
		if len(out) == p.Limit {
			return out, true, nil
		}
		out = append(out, item)
	}
	return out, false, nil
}

// Clients.

func decodeClient(k, v []byte) (dwell.Client, error) {
	var rec clientRec
	if err := decodeJSON("boltstore.decodeClient", "client", v, &rec); err != nil {
		return dwell.Client{}, err
	}
	return rec.domain(string(k)), nil
}

// CreateClient implements store.Store.
func (s *Store) CreateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	const op = dwell.Op("boltstore.CreateClient")
	if err := checkTenantID(op, tenant, "client.id", string(c.ID)); err != nil {
		return err
	}
	rec := toClientRec(&c)
	rec.Rev = 1
	val, err := encodeJSON(op, rec)
	if err != nil {
		return err
	}
	return s.createRecord(ctx, op, tenant, bktClients, "client", string(c.ID), val, nil)
}

// GetClient implements store.Store.
func (s *Store) GetClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) (dwell.Client, error) {
	return getOne(ctx, s, "boltstore.GetClient", tenant, bktClients, "client", string(id), decodeClient)
}

// UpdateClient implements store.Store.
func (s *Store) UpdateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	const op = dwell.Op("boltstore.UpdateClient")
	if err := checkTenantID(op, tenant, "client.id", string(c.ID)); err != nil {
		return err
	}
	rec := toClientRec(&c)
	return s.updateRecord(ctx, op, tenant, bktClients, "client", string(c.ID), c.Revision, c.CreateTime,
		func(rev int64) ([]byte, error) { rec.Rev = rev; return encodeJSON(op, rec) }, nil)
}

// DeleteClient implements store.Store.
func (s *Store) DeleteClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) error {
	const op = dwell.Op("boltstore.DeleteClient")
	if err := checkTenantID(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.deleteRecord(ctx, op, tenant, bktClients, "client", string(id), nil)
}

// ListClients implements store.Store.
func (s *Store) ListClients(ctx context.Context, tenant dwell.TenantID, f store.ClientFilter, p store.Page) ([]dwell.Client, bool, error) {
	const op = dwell.Op("boltstore.ListClients")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	var keep func(*dwell.Client) bool
	if f.Kind != dwell.ClientKindUnspecified {
		keep = func(c *dwell.Client) bool { return c.Kind == f.Kind }
	}
	var out []dwell.Client
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		out, more, err = list(readTenantSub(tx, tenant, bktClients), p, decodeClient, keep)
		return err
	})
	return out, more, err
}

// PutClients implements store.Store. The clients are written in one
// transaction: all of them or, on error, none. Each stored revision is
// raised.
func (s *Store) PutClients(ctx context.Context, tenant dwell.TenantID, cs []dwell.Client) error {
	const op = dwell.Op("boltstore.PutClients")
	if err := checkTenant(op, tenant); err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	keys := make([][]byte, len(cs))
	recs := make([]clientRec, len(cs))
	for i := range cs {
		if err := checkID(op, fmt.Sprintf("clients[%d].id", i), string(cs[i].ID)); err != nil {
			return err
		}
		recs[i] = toClientRec(&cs[i])
		keys[i] = []byte(cs[i].ID)
	}
	return s.write(ctx, op, len(cs), func(t *txn) error {
		b, err := t.tenantSub(tenant, bktClients, true)
		if err != nil {
			return err
		}
		for i := range keys {
			old := b.Get(keys[i])
			if recs[i].Rev, err = nextRevision(op, "client", old); err != nil {
				return err
			}
			if old != nil {
				// A client imported again keeps when it was created.
				var prev struct {
					CreateTime time.Time `json:"ct"`
				}
				if err := decodeJSON(op, "client", old, &prev); err != nil {
					return err
				}
				if !prev.CreateTime.IsZero() {
					recs[i].CreateTime = prev.CreateTime
				}
			}
			val, err := encodeJSON(op, recs[i])
			if err != nil {
				return err
			}
			if err := b.Put(keys[i], val); err != nil {
				return err
			}
		}
		return t.markTenant(tenant)
	})
}

// checkTenantID checks a tenant and a resource id.
func checkTenantID(op dwell.Op, tenant dwell.TenantID, field, id string) error {
	if err := checkTenant(op, tenant); err != nil {
		return err
	}
	return checkID(op, field, id)
}

// Reps.

func decodeRep(k, v []byte) (dwell.Rep, error) {
	var rec repRec
	if err := decodeJSON("boltstore.decodeRep", "rep", v, &rec); err != nil {
		return dwell.Rep{}, err
	}
	return rec.domain(string(k)), nil
}

// teamExists returns the check of a rep write whose rep is in team (none
// if ""): the team must be stored, in the same transaction as the write,
// so that a DeleteTeam, which the committer runs before or after it,
// never leaves the rep in a team that is gone; otherwise the write fails
// with store.Store's dwell.Invalid on field "team".
func teamExists(tenant dwell.TenantID, team dwell.TeamID) func(t *txn) error {
	if team == "" {
		return nil
	}
	return func(t *txn) error {
		b, err := t.tenantSub(tenant, bktTeams, false)
		if err != nil {
			return err
		}
		if b == nil || b.Get([]byte(team)) == nil {
			return dwell.E(dwell.Invalid, fmt.Sprintf("rep's team %q does not exist", team),
				dwell.Violation{Field: "team", Description: fmt.Sprintf("team %s does not exist", team)})
		}
		return nil
	}
}

// CreateRep implements store.Store. The rep's team, if any, must exist
// (teamExists).
func (s *Store) CreateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	const op = dwell.Op("boltstore.CreateRep")
	if err := checkTenantID(op, tenant, "rep.id", string(r.ID)); err != nil {
		return err
	}
	rec := toRepRec(&r)
	rec.Rev = 1
	val, err := encodeJSON(op, rec)
	if err != nil {
		return err
	}
	return s.createRecord(ctx, op, tenant, bktReps, "rep", string(r.ID), val, teamExists(tenant, r.Team))
}

// GetRep implements store.Store.
func (s *Store) GetRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) (dwell.Rep, error) {
	return getOne(ctx, s, "boltstore.GetRep", tenant, bktReps, "rep", string(id), decodeRep)
}

// UpdateRep implements store.Store. The rep's team, if any, must exist
// (teamExists).
func (s *Store) UpdateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	const op = dwell.Op("boltstore.UpdateRep")
	if err := checkTenantID(op, tenant, "rep.id", string(r.ID)); err != nil {
		return err
	}
	rec := toRepRec(&r)
	encode := func(rev int64) ([]byte, error) { rec.Rev = rev; return encodeJSON(op, rec) }
	return s.updateChecked(ctx, op, tenant, bktReps, "rep", string(r.ID), r.Revision, r.CreateTime, teamExists(tenant, r.Team), encode, func(t *txn, old []byte) error {
		prev, err := decodeRep([]byte(r.ID), old)
		if err != nil {
			return err
		}
		// The zone cuts the rep's days and the working hours bound them:
		// a change of either derives its recent days again.
		if prev.TimeZone != r.TimeZone || !slices.Equal(prev.WorkingHours, r.WorkingHours) {
			return t.markRep(tenant, r.ID, prev.TimeZone)
		}
		return nil
	})
}

// DeleteRep implements store.Store. It removes the directory entry only; the
// rep's fixes and actions stay (erasing them is a separate operation).
func (s *Store) DeleteRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) error {
	const op = dwell.Op("boltstore.DeleteRep")
	if err := checkTenantID(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.deleteRecord(ctx, op, tenant, bktReps, "rep", string(id), nil)
}

// ListReps implements store.Store.
func (s *Store) ListReps(ctx context.Context, tenant dwell.TenantID, f store.RepFilter, p store.Page) ([]dwell.Rep, bool, error) {
	const op = dwell.Op("boltstore.ListReps")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	var keep func(*dwell.Rep) bool
	if f.Team != "" {
		keep = func(r *dwell.Rep) bool { return r.Team == f.Team }
	}
	var out []dwell.Rep
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		out, more, err = list(readTenantSub(tx, tenant, bktReps), p, decodeRep, keep)
		return err
	})
	return out, more, err
}

// Teams.

func decodeTeam(k, v []byte) (dwell.Team, error) {
	var rec teamRec
	if err := decodeJSON("boltstore.decodeTeam", "team", v, &rec); err != nil {
		return dwell.Team{}, err
	}
	return rec.domain(string(k)), nil
}

// CreateTeam implements store.Store.
func (s *Store) CreateTeam(ctx context.Context, tenant dwell.TenantID, tm dwell.Team) error {
	const op = dwell.Op("boltstore.CreateTeam")
	if err := checkTenantID(op, tenant, "team.id", string(tm.ID)); err != nil {
		return err
	}
	rec := toTeamRec(&tm)
	rec.Rev = 1
	val, err := encodeJSON(op, rec)
	if err != nil {
		return err
	}
	return s.createRecord(ctx, op, tenant, bktTeams, "team", string(tm.ID), val, nil)
}

// GetTeam implements store.Store.
func (s *Store) GetTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) (dwell.Team, error) {
	return getOne(ctx, s, "boltstore.GetTeam", tenant, bktTeams, "team", string(id), decodeTeam)
}

// UpdateTeam implements store.Store.
func (s *Store) UpdateTeam(ctx context.Context, tenant dwell.TenantID, tm dwell.Team) error {
	const op = dwell.Op("boltstore.UpdateTeam")
	if err := checkTenantID(op, tenant, "team.id", string(tm.ID)); err != nil {
		return err
	}
	rec := toTeamRec(&tm)
	return s.updateRecord(ctx, op, tenant, bktTeams, "team", string(tm.ID), tm.Revision, tm.CreateTime,
		func(rev int64) ([]byte, error) { rec.Rev = rev; return encodeJSON(op, rec) }, nil)
}

// DeleteTeam implements store.Store.
func (s *Store) DeleteTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) error {
	const op = dwell.Op("boltstore.DeleteTeam")
	if err := checkTenantID(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.deleteRecord(ctx, op, tenant, bktTeams, "team", string(id), func(t *txn) error {
		// Its reps are left without a team: a team created later under
		// the same id must not hand them to its managers.
		reps, err := t.tenantSub(tenant, bktReps, false)
		if reps == nil || err != nil {
			return err
		}
		var keys, vals [][]byte
		err = reps.ForEach(func(k, v []byte) error {
			var rec repRec
			if err := decodeJSON(op, "rep", v, &rec); err != nil {
				return err
			}
			if rec.Team != string(id) {
				return nil
			}
			rec.Team, rec.UpdateTime, rec.Rev = "", t.s.now().UTC(), storedRevision(rec.Rev)+1
			val, err := encodeJSON(op, rec)
			if err != nil {
				return err
			}
			keys, vals = append(keys, bytes.Clone(k)), append(vals, val)
			return nil
		})
		if err != nil {
			return err
		}
		for i := range keys {
			if err := reps.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListTeams implements store.Store.
func (s *Store) ListTeams(ctx context.Context, tenant dwell.TenantID, f store.TeamFilter, p store.Page) ([]dwell.Team, bool, error) {
	const op = dwell.Op("boltstore.ListTeams")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	var keep func(*dwell.Team) bool
	if f.Manager != "" {
		keep = func(tm *dwell.Team) bool { return tm.ManagedBy(f.Manager) }
	}
	var out []dwell.Team
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		out, more, err = list(readTenantSub(tx, tenant, bktTeams), p, decodeTeam, keep)
		return err
	})
	return out, more, err
}

// Settings.

// GetSettings implements store.Store.
func (s *Store) GetSettings(ctx context.Context, tenant dwell.TenantID) (dwell.Settings, error) {
	const op = dwell.Op("boltstore.GetSettings")
	set := dwell.DefaultSettings()
	if err := checkTenant(op, tenant); err != nil {
		return set, err
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		b := readTenantSub(tx, tenant, bktSettings)
		if b == nil {
			return nil
		}
		v := b.Get(keySettings)
		if v == nil {
			return nil
		}
		var rec settingsRec
		if err := decodeJSON("boltstore.decodeSettings", "settings", v, &rec); err != nil {
			return err
		}
		set = rec.domain()
		return nil
	})
	return set, err
}

// PutSettings implements store.Store.
func (s *Store) PutSettings(ctx context.Context, tenant dwell.TenantID, set dwell.Settings) error {
	const op = dwell.Op("boltstore.PutSettings")
	if err := checkTenant(op, tenant); err != nil {
		return err
	}
	rec := toSettingsRec(&set)
	return s.write(ctx, op, 1, func(t *txn) error {
		b, err := t.tenantSub(tenant, bktSettings, true)
		if err != nil {
			return err
		}
		if rec.Rev, err = nextRevision(op, "settings", b.Get(keySettings)); err != nil {
			return err
		}
		if err := store.CheckRevision("the settings of tenant "+string(tenant), set.Revision, rec.Rev-1); err != nil {
			return err
		}
		val, err := encodeJSON(op, rec)
		if err != nil {
			return err
		}
		if err := b.Put(keySettings, val); err != nil {
			return err
		}
		return t.markTenant(tenant)
	})
}
