package boltstore

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Partner accounts (store.Partners), in tenant buckets:
//
//	partners      partner id -> version byte + JSON record
//	partners.req  request id -> partner id
//	partners.del  partner id -> version byte + JSON deletion record
//
// A deletion record is written by DeletePartner in the transaction that
// removes the account and is never removed: a later CreatePartner of the
// same id leaves it, so the tokens issued before the deletion stay
// refused (dwell.PartnerDeletion).
var (
	bktPartners     = []byte("partners")
	bktPartnersReqs = []byte("partners.req")
	bktPartnersDels = []byte("partners.del")
)

type partnerDelRec struct {
	Deleted time.Time `json:"t"`
}

func decodePartnerDeletion(k, v []byte) (dwell.PartnerDeletion, error) {
	var rec partnerDelRec
	if err := decodeJSON("boltstore.decodePartnerDeletion", "partner deletion", v, &rec); err != nil {
		return dwell.PartnerDeletion{}, err
	}
	return dwell.PartnerDeletion{ID: dwell.PartnerID(k), Deleted: rec.Deleted.UTC()}, nil
}

type partnerRec struct {
	DisplayName string    `json:"n"`
	Scopes      []int     `json:"s"`
	Disabled    bool      `json:"d,omitempty"`
	RequestID   string    `json:"rid,omitempty"`
	CreateTime  time.Time `json:"ct"`
	UpdateTime  time.Time `json:"ut"`
	Rev         int64     `json:"rev,omitempty"` // as clientRec.Rev
}

func toPartnerRec(a *dwell.PartnerAccount) partnerRec {
	r := partnerRec{DisplayName: a.DisplayName, Disabled: a.Disabled, RequestID: a.RequestID,
		CreateTime: a.CreateTime.UTC(), UpdateTime: a.UpdateTime.UTC(), Scopes: make([]int, len(a.Scopes))}
	for i, s := range a.Scopes {
		r.Scopes[i] = int(s)
	}
	return r
}

func (r *partnerRec) domain(id string) dwell.PartnerAccount {
	a := dwell.PartnerAccount{ID: dwell.PartnerID(id), DisplayName: r.DisplayName, Disabled: r.Disabled,
		RequestID: r.RequestID, CreateTime: r.CreateTime.UTC(), UpdateTime: r.UpdateTime.UTC(),
		Scopes: make([]dwell.Scope, len(r.Scopes)), Revision: storedRevision(r.Rev)}
	for i, s := range r.Scopes {
		a.Scopes[i] = dwell.Scope(s)
	}
	return a
}

func decodePartner(k, v []byte) (dwell.PartnerAccount, error) {
	var rec partnerRec
	if err := decodeJSON("boltstore.decodePartner", "partner", v, &rec); err != nil {
		return dwell.PartnerAccount{}, err
	}
	return rec.domain(string(k)), nil
}

// CreatePartner implements store.Partners.
func (s *Store) CreatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) (dwell.PartnerAccount, bool, error) {
	const op = dwell.Op("boltstore.CreatePartner")
	if err := checkTenantID(op, tenant, "partner_id", string(a.ID)); err != nil {
		return a, false, err
	}
	if len(a.RequestID) > maxRequestIDBytes {
		return a, false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "request_id", Description: fmt.Sprintf("must be at most %d bytes", maxRequestIDBytes)})
	}
	rec := toPartnerRec(&a)
	rec.Rev = 1
	val, err := encodeJSON(op, rec)
	if err != nil {
		return a, false, err
	}
	var prev *dwell.PartnerAccount
	err = s.write(ctx, op, 1, func(t *txn) error {
		prev = nil
		// A retry after a deletion must not bring the account (and its
		// rights) back, nor answer with one another request created
		// under its id since: createOnce refuses both.
		id, v, err := t.createOnce(tenant, bktPartners, bktPartnersReqs, "partner account", string(a.ID), a.RequestID, val,
			func(v []byte) (string, error) {
				var r partnerRec
				err := decodeJSON(op, "partner", v, &r)
				return r.RequestID, err
			}, nil)
		if err != nil || v == nil {
			return err
		}
		p, err := decodePartner(id, v)
		prev = &p
		return err
	})
	switch {
	case err != nil:
		return dwell.PartnerAccount{}, false, err
	case prev != nil:
		return *prev, true, nil
	}
	a.CreateTime, a.UpdateTime, a.Revision = a.CreateTime.UTC(), a.UpdateTime.UTC(), 1
	return a, false, nil
}

// GetPartner implements store.Partners.
func (s *Store) GetPartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID) (dwell.PartnerAccount, error) {
	return getOne(ctx, s, "boltstore.GetPartner", tenant, bktPartners, "partner", string(id), decodePartner)
}

// UpdatePartner implements store.Partners.
func (s *Store) UpdatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) error {
	const op = dwell.Op("boltstore.UpdatePartner")
	if err := checkTenantID(op, tenant, "partner.id", string(a.ID)); err != nil {
		return err
	}
	rec := toPartnerRec(&a)
	return s.updateRecord(ctx, op, tenant, bktPartners, "partner", string(a.ID), a.Revision, a.CreateTime,
		func(rev int64) ([]byte, error) { rec.Rev = rev; return encodeJSON(op, rec) }, nil)
}

// DeletePartner implements store.Partners: the account goes and its
// deletion record (partners.del) takes the later of deleted and the
// instant it held, in one transaction.
func (s *Store) DeletePartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID, deleted time.Time) error {
	const op = dwell.Op("boltstore.DeletePartner")
	if err := checkTenantID(op, tenant, "id", string(id)); err != nil {
		return err
	}
	if deleted.IsZero() {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "deleted", Description: "is required"})
	}
	return s.deleteRecord(ctx, op, tenant, bktPartners, "partner", string(id), func(t *txn) error {
		b, err := t.tenantSub(tenant, bktPartnersDels, true)
		if err != nil {
			return err
		}
		rec := partnerDelRec{Deleted: deleted.UTC()}
		if v := b.Get([]byte(id)); v != nil {
			prev, err := decodePartnerDeletion([]byte(id), v)
			if err != nil {
				return err
			}
			if prev.Deleted.After(rec.Deleted) {
				rec.Deleted = prev.Deleted
			}
		}
		val, err := encodeJSON(op, rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), val)
	})
}

// ListPartners implements store.Partners.
func (s *Store) ListPartners(ctx context.Context, tenant dwell.TenantID, p store.Page) ([]dwell.PartnerAccount, bool, error) {
	const op = dwell.Op("boltstore.ListPartners")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	var out []dwell.PartnerAccount
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		out, more, err = list(readTenantSub(tx, tenant, bktPartners), p, decodePartner, nil)
		return err
	})
	return out, more, err
}

// ListPartnerDeletions implements store.Partners.
func (s *Store) ListPartnerDeletions(ctx context.Context, tenant dwell.TenantID, p store.Page) ([]dwell.PartnerDeletion, bool, error) {
	const op = dwell.Op("boltstore.ListPartnerDeletions")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	var out []dwell.PartnerDeletion
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		out, more, err = list(readTenantSub(tx, tenant, bktPartnersDels), p, decodePartnerDeletion, nil)
		return err
	})
	return out, more, err
}
