package server

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// partnerLoadPage is how many partner accounts are read per store call when
// a tenant's grants are loaded.
const partnerLoadPage = 1000

// partnerAccess enforces the tenant admins' partner accounts: the scope a
// registered account needs for each method (partnerScopes in access.go)
// and, per tenant, what each account holds, loaded from the store on a
// tenant's first partner call and kept in step with every partner write
// made through DirectoryService, so that the check on every call reads
// memory only.
//
// Checks never lock: a tenant's grants are an immutable map behind an
// atomic pointer, replaced whole (copy on write) after each store write.
// The writes of one tenant are serialised by that tenant's mutex, held
// across the store write and the replacement, so the map applies changes
// in the order the store committed them, and a change is visible to every
// call that starts after the write returned. The writes of other servers
// sharing the store reach it through the store's change feed (feed.go),
// which drops the tenant's grants some milliseconds after their commit.
type partnerAccess struct {
	store   store.Store
	scopes  map[string]dwell.Scope // full method name -> scope needed
	tenants sync.Map               // dwell.TenantID -> *tenantPartners
}

type tenantPartners struct {
	write  sync.Mutex                    // serialises partner writes and the load
	grants atomic.Pointer[partnerGrants] // nil until loaded
}

// partnerGrants is what each registered account of a tenant holds, when
// each account ever deleted was last deleted, and whether the tenant
// requires an account of every partner subject
// (Settings.PartnerAccountsRequired). A value, maps included, is never
// changed once stored in tenantPartners.grants.
type partnerGrants struct {
	accounts map[dwell.PartnerID]partnerGrant
	deleted  map[dwell.PartnerID]time.Time // dwell.PartnerDeletion
	required bool
}

type partnerGrant struct {
	scopes   dwell.ScopeSet
	disabled bool
}

func grantOf(a dwell.PartnerAccount) partnerGrant {
	return partnerGrant{scopes: a.ScopeSet(), disabled: a.Disabled}
}

func newPartnerAccess(st store.Store) *partnerAccess {
	return &partnerAccess{store: st, scopes: partnerScopes()}
}

func (pa *partnerAccess) tenant(t dwell.TenantID) *tenantPartners {
	if tp, ok := pa.tenants.Load(t); ok {
		return tp.(*tenantPartners)
	}
	tp, _ := pa.tenants.LoadOrStore(t, &tenantPartners{})
	return tp.(*tenantPartners)
}

// grants returns the tenant's grants, loading them from the store the first
// time. A failed load is retried on the next call.
func (pa *partnerAccess) grants(ctx context.Context, t dwell.TenantID) (*partnerGrants, error) {
	tp := pa.tenant(t)
	if g := tp.grants.Load(); g != nil {
		return g, nil
	}
	tp.write.Lock()
	defer tp.write.Unlock()
	return pa.loadLocked(ctx, t, tp)
}

// loadLocked reads every account of the tenant and its settings into the
// grants, once.
func (pa *partnerAccess) loadLocked(ctx context.Context, t dwell.TenantID, tp *tenantPartners) (*partnerGrants, error) {
	const op = dwell.Op("server.loadPartners")
	if g := tp.grants.Load(); g != nil {
		return g, nil
	}
	set, err := pa.store.GetSettings(ctx, t)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	g := &partnerGrants{accounts: map[dwell.PartnerID]partnerGrant{}, deleted: map[dwell.PartnerID]time.Time{},
		required: set.PartnerAccountsRequired}
	err = loadAll(ctx, t, pa.store.ListPartners, func(a dwell.PartnerAccount) string {
		g.accounts[a.ID] = grantOf(a)
		return string(a.ID)
	})
	if err != nil {
		return nil, dwell.E(op, err)
	}
	err = loadAll(ctx, t, pa.store.ListPartnerDeletions, func(d dwell.PartnerDeletion) string {
		g.deleted[d.ID] = d.Deleted
		return string(d.ID)
	})
	if err != nil {
		return nil, dwell.E(op, err)
	}
	tp.grants.Store(g)
	return g, nil
}

// loadAll reads every record of tenant t that list pages through, in
// pages of partnerLoadPage, and gives each to keep, which returns its id
// (the next page starts after the last one).
func loadAll[T any](ctx context.Context, t dwell.TenantID, list func(context.Context, dwell.TenantID, store.Page) ([]T, bool, error), keep func(T) string) error {
	page := store.Page{Limit: partnerLoadPage}
	for {
		rs, more, err := list(ctx, t, page)
		if err != nil {
			return err
		}
		for _, r := range rs {
			page.After = keep(r)
		}
		if !more || len(rs) == 0 {
			return nil
		}
	}
}

// putSettings runs put, a write of tenant t's settings that may change
// PartnerAccountsRequired, under the tenant's partner mutex, and has the
// grants loaded again on their next use.
func (pa *partnerAccess) putSettings(ctx context.Context, t dwell.TenantID, put func() error) error {
	tp := pa.tenant(t)
	tp.write.Lock()
	defer tp.write.Unlock()
	err := put()
	tp.grants.Store(nil)
	return err
}

// partnerWrite is what a store write did to one partner account: the
// account as now stored, or, when it deleted it, nil and the instant of
// the deletion it gave the store.
type partnerWrite struct {
	id      dwell.PartnerID
	account *dwell.PartnerAccount
	deleted time.Time
}

// write runs the store write w of tenant t under the tenant's partner
// mutex and then applies its result to the grants.
func (pa *partnerAccess) write(ctx context.Context, t dwell.TenantID, w func() (partnerWrite, error)) error {
	tp := pa.tenant(t)
	tp.write.Lock()
	defer tp.write.Unlock()
	old, err := pa.loadLocked(ctx, t, tp)
	if err != nil {
		return err
	}
	pw, err := w()
	if err != nil {
		switch dwell.KindOf(err) {
		case dwell.Invalid, dwell.NotFound, dwell.AlreadyExists, dwell.FailedPrecondition, dwell.Conflict:
			// Refused before anything was written.
		default:
			// The write may have reached the store after all (a failed
			// fsync, a closed store): load again on the next use rather
			// than serve grants that may be stale.
			tp.grants.Store(nil)
		}
		return err
	}
	g := &partnerGrants{accounts: maps.Clone(old.accounts), deleted: old.deleted, required: old.required}
	if pw.account != nil {
		g.accounts[pw.id] = grantOf(*pw.account)
	} else {
		delete(g.accounts, pw.id)
		g.deleted = maps.Clone(old.deleted)
		if prev, ok := g.deleted[pw.id]; !ok || pw.deleted.After(prev) {
			// As the store keeps it: the latest deletion.
			g.deleted[pw.id] = pw.deleted
		}
	}
	tp.grants.Store(g)
	return nil
}

// checkPartner applies the caller's partner account to a call of method.
// A partner subject whose account was ever deleted is refused while no
// account has been created again under its id, and afterwards for every
// token issued (iat, whole seconds) at or before the last deletion, whatever
// the tenant's settings: deleting an account revokes its tokens for good,
// and one created again governs only the tokens issued after. Otherwise
// a partner subject that names a registered account may call only while
// the account is enabled and holds the method's scope; any other partner
// subject is refused when the tenant requires accounts
// (Settings.PartnerAccountsRequired), else keeps every right the policy
// table gives partners (tokens minted before accounts existed keep
// working). A refusal is audited (deny).
func (s *Server) checkPartner(ctx context.Context, p dwell.Principal, method string) error {
	const op = dwell.Op("server.checkPartner")
	grants, err := s.partners.grants(ctx, p.Tenant)
	if err != nil {
		return err
	}
	g, ok := grants.accounts[dwell.PartnerID(p.Subject)]
	if deleted, was := grants.deleted[dwell.PartnerID(p.Subject)]; was {
		switch {
		case !ok:
			return s.denyBecause(ctx, op, p, method, "partner account "+resourceName(collPartners, p.Subject)+" was deleted", dwell.ReasonTokenRevoked)
		case !p.IssuedAt.After(deleted):
			// A token without iat (zero) is as old as can be.
			return s.denyBecause(ctx, op, p, method, "partner account "+resourceName(collPartners, p.Subject)+
				" was deleted after this token was issued; tokens issued before its deletion stay refused", dwell.ReasonTokenRevoked)
		}
	}
	if !ok {
		if grants.required {
			return s.denyBecause(ctx, op, p, method, "partner account "+resourceName(collPartners, p.Subject)+
				" is not registered, and the tenant requires one (settings.partner_accounts_required)", dwell.ReasonPartnerUnregistered)
		}
		return nil
	}
	sc, known := s.partners.scopes[method]
	switch {
	case g.disabled:
		return s.denyBecause(ctx, op, p, method, "partner account "+resourceName(collPartners, p.Subject)+" is disabled", dwell.ReasonPartnerDisabled)
	case !known:
		return s.denyBecause(ctx, op, p, method, "no partner scope grants "+shortMethod(method), dwell.ReasonScopeMissing)
	case !g.scopes.Has(sc):
		return s.denyBecause(ctx, op, p, method, "partner account "+resourceName(collPartners, p.Subject)+
			" lacks scope "+scopeToPB(sc).String()+" needed for "+shortMethod(method), dwell.ReasonScopeMissing)
	}
	return nil
}

// partnerStream checks the caller's partner account again at every
// message of a stream a partner token opened (WatchEvents, StreamPings,
// ImportClients), so disabling an account or taking a scope away also ends
// the streams opened before: no message is sent or taken in after a check
// that sees the change. The handler returns the refusal, which ends the
// stream with PERMISSION_DENIED (audited).
type partnerStream struct {
	grpc.ServerStream
	s      *Server
	p      dwell.Principal
	method string
}

func (ps *partnerStream) SendMsg(m any) error {
	if err := ps.s.checkPartner(ps.Context(), ps.p, ps.method); err != nil {
		return err
	}
	return ps.ServerStream.SendMsg(m)
}

// RecvMsg checks after the message arrives, so that one that waited in
// Recv across the change is refused.
func (ps *partnerStream) RecvMsg(m any) error {
	if err := ps.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return ps.s.checkPartner(ps.Context(), ps.p, ps.method)
}

// --- Partner accounts (DirectoryService) ---

func (d *directoryService) CreatePartner(ctx context.Context, req *dwellv1.CreatePartnerRequest) (*dwellv1.CreatePartnerResponse, error) {
	const op = dwell.Op("server.CreatePartner")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	a := partnerFromPB(req.GetPartner())
	a.ID = dwell.PartnerID(req.GetPartnerId())
	a.RequestID = req.GetRequestId()
	vs := dwell.ValidateRequestID("request_id", a.RequestID)
	vs = append(vs, dwell.ValidateID("partner_id", req.GetPartnerId())...)
	if req.GetPartner() == nil {
		vs = append(vs, dwell.Violation{Field: "partner", Description: "is required"})
	} else {
		vs = append(vs, dwell.ValidatePartner("partner", a)...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	slices.Sort(a.Scopes)
	now := d.s.now().UTC()
	a.CreateTime, a.UpdateTime = now, now
	var stored dwell.PartnerAccount
	var existed bool
	err = d.s.partners.write(ctx, p.Tenant, func() (partnerWrite, error) {
		var err error
		stored, existed, err = d.s.store.CreatePartner(ctx, p.Tenant, a)
		return partnerWrite{id: stored.ID, account: &stored}, err
	})
	if err != nil {
		return nil, err
	}
	if existed && stored.ID != a.ID {
		// Not a retry: answering with the stored account would
		// acknowledge one that was never created.
		return nil, invalidBecause(op, dwell.ReasonRequestIDReused, []dwell.Violation{{Field: "request_id",
			Description: "was already used to create " + resourceName(collPartners, string(stored.ID)) + "; a new partner account needs a request id of its own"}})
	}
	return &dwellv1.CreatePartnerResponse{Partner: partnerToPB(stored)}, nil
}

func (d *directoryService) GetPartner(ctx context.Context, req *dwellv1.GetPartnerRequest) (*dwellv1.GetPartnerResponse, error) {
	const op = dwell.Op("server.GetPartner")
	p, id, err := callerAndID(ctx, op, collPartners, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	a, err := d.s.store.GetPartner(ctx, p.Tenant, dwell.PartnerID(id))
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetPartnerResponse{Partner: partnerToPB(a)}, nil
}

func (d *directoryService) UpdatePartner(ctx context.Context, req *dwellv1.UpdatePartnerRequest) (*dwellv1.UpdatePartnerResponse, error) {
	const op = dwell.Op("server.UpdatePartner")
	p, id, err := callerAndID(ctx, op, collPartners, "partner.name", req.GetPartner().GetName())
	if err != nil {
		return nil, err
	}
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetPartner(), []string{"display_name", "scopes", "disabled"})
	if err != nil {
		return nil, err
	}
	le, err := parseLifeEtag(op, "partner.etag", req.GetPartner().GetEtag())
	if err != nil {
		return nil, err
	}
	in := partnerFromPB(req.GetPartner())
	var cur dwell.PartnerAccount
	// The write is conditional on the revision read (updateMasked); the
	// grants take the account as stored.
	err = updateMasked(ctx, op, req.GetPartner().GetName(), le.rev, func() error {
		return d.s.partners.write(ctx, p.Tenant, func() (partnerWrite, error) {
			var err error
			cur, err = d.s.store.GetPartner(ctx, p.Tenant, dwell.PartnerID(id))
			if err != nil {
				return partnerWrite{}, err
			}
			if err := le.begin(&cur.Revision, cur.CreateTime); err != nil {
				return partnerWrite{}, err
			}
			if set["display_name"] {
				cur.DisplayName = in.DisplayName
			}
			if set["scopes"] {
				cur.Scopes = in.Scopes
			}
			if set["disabled"] {
				cur.Disabled = in.Disabled
			}
			if err := invalid(op, dwell.ValidatePartner("partner", cur)); err != nil {
				return partnerWrite{}, err
			}
			slices.Sort(cur.Scopes)
			cur.UpdateTime = d.s.now().UTC()
			return partnerWrite{id: cur.ID, account: &cur}, d.s.store.UpdatePartner(ctx, p.Tenant, cur)
		})
	})
	if err != nil {
		return nil, err
	}
	cur.Revision = written(cur.Revision)
	return &dwellv1.UpdatePartnerResponse{Partner: partnerToPB(cur)}, nil
}

// DeletePartner deletes the account and has the store keep the instant
// of its deletion, by this server's clock: checkPartner refuses the
// subject's tokens issued until then, whatever the tenant's settings are
// or become, so a deletion never widens what the tokens may do. The
// tokens are told apart by their iat alone, so a token minted before the
// deletion on a host whose clock ran ahead of this server's (Verify
// allows auth.Leeway of it) passes for a later one once an account is
// created again under the id; it then gets only the new account's scopes.
func (d *directoryService) DeletePartner(ctx context.Context, req *dwellv1.DeletePartnerRequest) (*dwellv1.DeletePartnerResponse, error) {
	const op = dwell.Op("server.DeletePartner")
	p, id, err := callerAndID(ctx, op, collPartners, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	err = d.s.partners.write(ctx, p.Tenant, func() (partnerWrite, error) {
		at := d.s.now().UTC()
		return partnerWrite{id: dwell.PartnerID(id), deleted: at}, d.s.store.DeletePartner(ctx, p.Tenant, dwell.PartnerID(id), at)
	})
	if err != nil {
		return nil, err
	}
	return &dwellv1.DeletePartnerResponse{}, nil
}

func (d *directoryService) ListPartners(ctx context.Context, req *dwellv1.ListPartnersRequest) (*dwellv1.ListPartnersResponse, error) {
	const op = dwell.Op("server.ListPartners")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	as, next, err := listPage(op, p.Tenant, "partners", "", req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.PartnerAccount, bool, error) {
			return d.s.store.ListPartners(ctx, p.Tenant, pg)
		},
		func(a dwell.PartnerAccount) string { return string(a.ID) })
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListPartnersResponse{Partners: make([]*dwellv1.Partner, len(as)), NextPageToken: next}
	for i, a := range as {
		resp.Partners[i] = partnerToPB(a)
	}
	return resp, nil
}

// drop forgets tenant t's grants, after another server changed its
// accounts or settings: the next check loads them from the store. It
// takes the tenant's mutex, so a write of this server in progress, which
// stores grants derived from those it loaded before, is not undone by it
// but overtaken.
func (pa *partnerAccess) drop(t dwell.TenantID) {
	v, ok := pa.tenants.Load(t)
	if !ok {
		return
	}
	tp := v.(*tenantPartners)
	tp.write.Lock()
	defer tp.write.Unlock()
	tp.grants.Store(nil)
}

// dropAll forgets every tenant's grants.
func (pa *partnerAccess) dropAll() {
	pa.tenants.Range(func(k, _ any) bool {
		pa.drop(k.(dwell.TenantID))
		return true
	})
}
