package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// salesService implements dwellv1.SalesServiceServer: appointments,
// opportunities and quotas. Writes (admins, partners) validate everything
// first, including that the named reps and clients exist (field violations,
// nothing stored), and are idempotent by request_id. Amounts are at most
// dwell.MaxAmountMinor; a rep's quotas never overlap (UpsertQuotas refuses,
// DeleteQuota makes room). Reads are scoped like
// reports: a rep reads its own, a manager its teams', admins and partners
// the tenant's; anything else is PERMISSION_DENIED and audited.
type salesService struct {
	dwellv1.UnimplementedSalesServiceServer
	s       *Server
	updates updateLocks
}

// scope is the set of reps one read covers.
type scope struct {
	reps []dwell.Rep
	// key describes the scope for page-token digests.
	key string
}

// readScope resolves the reps a read names by rep or by team (fields
// repField and teamField) and checks that p may read them: a rep token
// reads itself (an empty rep means itself) and never a team, a manager
// names a rep of its teams or a team it manages, admins and partners read
// any. Exactly one of rep or team must be given, except by a rep token.
func (s *Server) readScope(ctx context.Context, op dwell.Op, p dwell.Principal, repField, repName, teamField, teamName string) (scope, error) {
	switch {
	case repName != "" && teamName != "":
		return scope{}, invalid(op, []dwell.Violation{{Field: teamField, Description: "give one of " + repField + " or " + teamField + ", not both"}})
	case repName == "" && teamName == "" && p.Role == dwell.RoleRep:
		repName = resourceName(collReps, p.Subject)
	case repName == "" && teamName == "":
		return scope{}, invalid(op, []dwell.Violation{{Field: repField, Description: "one of " + repField + " or " + teamField + " is required"}})
	}
	if repName != "" {
		id, err := nameID(op, collReps, repField, repName)
		if err != nil {
			return scope{}, err
		}
		if err := s.canReadRep(ctx, op, p, dwell.RepID(id)); err != nil {
			return scope{}, err
		}
		r, err := s.store.GetRep(ctx, p.Tenant, dwell.RepID(id))
		if err != nil {
			return scope{}, err
		}
		return scope{reps: []dwell.Rep{r}, key: "rep:" + id}, nil
	}
	id, err := nameID(op, collTeams, teamField, teamName)
	if err != nil {
		return scope{}, err
	}
	switch p.Role {
	case dwell.RoleRep:
		return scope{}, s.deny(ctx, op, p, teamName, "a rep reads only its own data")
	case dwell.RoleManager:
		ok, err := s.managesTeam(ctx, p, dwell.TeamID(id))
		if err != nil {
			return scope{}, err
		}
		if !ok {
			return scope{}, s.deny(ctx, op, p, teamName, "a manager reads only the teams it manages")
		}
	}
	if _, err := s.store.GetTeam(ctx, p.Tenant, dwell.TeamID(id)); err != nil {
		return scope{}, err
	}
	reps, err := s.teamReps(ctx, p.Tenant, dwell.TeamID(id))
	return scope{reps: reps, key: "team:" + id}, err
}

// teamReps returns every rep of a team, in id order.
func (s *Server) teamReps(ctx context.Context, tenant dwell.TenantID, team dwell.TeamID) ([]dwell.Rep, error) {
	return listAll(func(pg store.Page) ([]dwell.Rep, bool, error) {
		return s.store.ListReps(ctx, tenant, store.RepFilter{Team: team}, pg)
	}, func(r dwell.Rep) string { return string(r.ID) })
}

// pageSorted returns the page p of items ordered by key: those with a key
// after p.After, at most p.Limit, and whether more follow. It serves
// listings that merge several reps' records in memory.
func pageSorted[T any](items []T, key func(T) string, p store.Page) ([]T, bool) {
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	i, _ := slices.BinarySearchFunc(items, p.After, func(it T, after string) int {
		if key(it) <= after {
			return -1
		}
		return 1
	})
	if p.After == "" {
		i = 0
	}
	items = items[i:]
	if len(items) > p.Limit {
		return items[:p.Limit], true
	}
	return items, false
}

// sortKeyTime is a key part that sorts like the instant t (years 1000 to
// 9999).
func sortKeyTime(t time.Time) string { return t.UTC().Format("20060102T150405.000000000") }

// rangeOf validates a required range of local days.
func rangeOf(start, end *dwellv1.Date) (dwell.Date, dwell.Date, []dwell.Violation) {
	var vs []dwell.Violation
	if start == nil {
		vs = append(vs, dwell.Violation{Field: "start_date", Description: "is required"})
	}
	if end == nil {
		vs = append(vs, dwell.Violation{Field: "end_date", Description: "is required"})
	}
	s, e := dateFromPB(start), dateFromPB(end)
	if vs != nil {
		return s, e, vs
	}
	return s, e, dwell.ValidateDateRange("start_date", "end_date", s, e)
}

// refs checks that the reps and clients a write names exist, reporting a
// field violation for each that does not. Look-ups are cached per call.
type refs struct {
	ctx     context.Context
	s       *Server
	tenant  dwell.TenantID
	reps    map[dwell.RepID]bool
	clients map[dwell.ClientID]bool
	vs      []dwell.Violation
}

func (s *Server) newRefs(ctx context.Context, tenant dwell.TenantID) *refs {
	return &refs{ctx: ctx, s: s, tenant: tenant, reps: map[dwell.RepID]bool{}, clients: map[dwell.ClientID]bool{}}
}

// rep checks that rep id exists; a look-up failure other than NotFound is
// returned.
func (r *refs) rep(field string, id dwell.RepID) error {
	ok, seen := r.reps[id]
	if !seen {
		_, err := r.s.store.GetRep(r.ctx, r.tenant, id)
		if err != nil && !dwell.Is(dwell.NotFound, err) {
			return err
		}
		ok = err == nil
		r.reps[id] = ok
	}
	if !ok {
		r.vs = append(r.vs, dwell.Violation{Field: field, Description: "rep " + string(id) + " is not in the directory"})
	}
	return nil
}

func (r *refs) client(field string, id dwell.ClientID) error {
	ok, seen := r.clients[id]
	if !seen {
		_, err := r.s.store.GetClient(r.ctx, r.tenant, id)
		if err != nil && !dwell.Is(dwell.NotFound, err) {
			return err
		}
		ok = err == nil
		r.clients[id] = ok
	}
	if !ok {
		r.vs = append(r.vs, dwell.Violation{Field: field, Description: "client " + string(id) + " is not in the directory"})
	}
	return nil
}

// --- Appointments ---

func (ss *salesService) CreateAppointment(ctx context.Context, req *dwellv1.CreateAppointmentRequest) (*dwellv1.CreateAppointmentResponse, error) {
	const op = dwell.Op("server.CreateAppointment")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, tvs := appointmentFromPB("appointment", req.GetAppointmentId(), req.GetAppointment())
	a.RequestID = req.GetRequestId()
	vs := dwell.ValidateRequestID("request_id", a.RequestID)
	if len(tvs) > 0 {
		// An invalid time is reported as such, not also as missing.
		vs = append(vs, tvs...)
	} else {
		vs = append(vs, dwell.ValidateAppointment("appointment", a)...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	r := ss.s.newRefs(ctx, p.Tenant)
	if err := r.rep("appointment.rep", a.Rep); err != nil {
		return nil, err
	}
	if err := r.client("appointment.client", a.Client); err != nil {
		return nil, err
	}
	if err := invalid(op, r.vs); err != nil {
		return nil, err
	}
	a.CreateTime = ss.s.now().UTC()
	stored, existed, err := ss.s.store.CreateAppointment(ctx, p.Tenant, a)
	if err != nil {
		return nil, err
	}
	if existed && stored.ID != a.ID {
		// Not a retry: answering with the stored appointment would
		// acknowledge one that was never created.
		return nil, invalidBecause(op, dwell.ReasonRequestIDReused, []dwell.Violation{{Field: "request_id",
			Description: "was already used to create " + resourceName(collAppointments, string(stored.ID)) + "; a new appointment needs a request id of its own"}})
	}
	return &dwellv1.CreateAppointmentResponse{Appointment: appointmentToPB(stored)}, nil
}

func (ss *salesService) ListAppointments(ctx context.Context, req *dwellv1.ListAppointmentsRequest) (*dwellv1.ListAppointmentsResponse, error) {
	const op = dwell.Op("server.ListAppointments")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	start, end, vs := rangeOf(req.GetStartDate(), req.GetEndDate())
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	sc, err := ss.s.readScope(ctx, op, p, "rep", req.GetRep(), "team", req.GetTeam())
	if err != nil {
		return nil, err
	}
	key := func(a dwell.Appointment) string { return sortKeyTime(a.PlannedStart) + "|" + string(a.ID) }
	filter := fmt.Sprintf("%s|%s|%s", sc.key, start, end)
	items, next, err := listPage(op, p.Tenant, "appointments", filter, req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Appointment, bool, error) {
			var all []dwell.Appointment
			for _, r := range sc.reps {
				loc, err := ss.s.location(r.TimeZone)
				if err != nil {
					return nil, false, err
				}
				as, err := ss.s.store.ListAppointments(ctx, p.Tenant, r.ID, start.Start(loc), end.AddDays(1).Start(loc))
				if err != nil {
					return nil, false, err
				}
				all = append(all, as...)
			}
			page, more := pageSorted(all, key, pg)
			return page, more, nil
		}, key)
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListAppointmentsResponse{NextPageToken: next}
	for _, a := range items {
		resp.Appointments = append(resp.Appointments, appointmentToPB(a))
	}
	return resp, nil
}

func (ss *salesService) DeleteAppointment(ctx context.Context, req *dwellv1.DeleteAppointmentRequest) (*dwellv1.DeleteAppointmentResponse, error) {
	const op = dwell.Op("server.DeleteAppointment")
	p, id, err := callerAndID(ctx, op, collAppointments, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := ss.s.store.DeleteAppointment(ctx, p.Tenant, dwell.AppointmentID(id)); err != nil {
		return nil, err
	}
	return &dwellv1.DeleteAppointmentResponse{}, nil
}

// --- Opportunities ---

// checkOpportunities validates opportunities (fields "<field>[i]") and
// their references.
func (ss *salesService) checkOpportunities(ctx context.Context, op dwell.Op, p dwell.Principal, field string, os []dwell.Opportunity, indexed bool) error {
	r := ss.s.newRefs(ctx, p.Tenant)
	seen := map[dwell.OpportunityID]int{}
	var vs []dwell.Violation
	for i, o := range os {
		f := field
		if indexed {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		ovs := dwell.ValidateOpportunity(f, o)
		vs = append(vs, ovs...)
		if j, dup := seen[o.ID]; dup && indexed {
			vs = append(vs, dwell.Violation{Field: f + ".name", Description: fmt.Sprintf("repeats %s[%d]", field, j)})
		}
		seen[o.ID] = i
		if len(ovs) > 0 {
			continue
		}
		if err := r.rep(f+".rep", o.Rep); err != nil {
			return err
		}
		if err := r.client(f+".client", o.Client); err != nil {
			return err
		}
	}
	return invalid(op, append(vs, r.vs...))
}

func (ss *salesService) UpsertOpportunities(ctx context.Context, req *dwellv1.UpsertOpportunitiesRequest) (*dwellv1.UpsertOpportunitiesResponse, error) {
	const op = dwell.Op("server.UpsertOpportunities")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	vs := dwell.ValidateRequestID("request_id", req.GetRequestId())
	if n := len(req.GetOpportunities()); n == 0 || n > dwell.MaxSalesBatch {
		vs = append(vs, dwell.Violation{Field: "opportunities", Description: fmt.Sprintf("must hold 1 to %d opportunities, got %d", dwell.MaxSalesBatch, n)})
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	os := make([]dwell.Opportunity, len(req.GetOpportunities()))
	for i, o := range req.GetOpportunities() {
		var tvs []dwell.Violation
		os[i], tvs = opportunityFromPB(fmt.Sprintf("opportunities[%d]", i), o)
		vs = append(vs, tvs...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	if err := ss.checkOpportunities(ctx, op, p, "opportunities", os, true); err != nil {
		return nil, err
	}
	// Opportunities are replaced whole and their revisions raised, so an
	// UpdateOpportunity that read one before applies its fields to the
	// new one (updateMasked); on this server they queue with it.
	defer ss.updates.lock(p.Tenant)()
	if _, err := ss.s.store.PutOpportunities(ctx, p.Tenant, req.GetRequestId(), os); err != nil {
		return nil, err
	}
	return &dwellv1.UpsertOpportunitiesResponse{Stored: int32(len(os))}, nil
}

// readOpportunity returns the opportunity named name, which the request
// holds in field (the path violations name: "name" for GetOpportunity,
// "opportunity.name" for UpdateOpportunity), if the caller may read it.
func (ss *salesService) readOpportunity(ctx context.Context, op dwell.Op, field, name string) (dwell.Principal, dwell.Opportunity, error) {
	p, id, err := callerAndID(ctx, op, collOpportunities, field, name)
	if err != nil {
		return p, dwell.Opportunity{}, err
	}
	o, err := ss.s.store.GetOpportunity(ctx, p.Tenant, dwell.OpportunityID(id))
	if dwell.Is(dwell.NotFound, err) && (p.Role == dwell.RoleRep || p.Role == dwell.RoleManager) {
		// Do not tell a scoped caller what exists outside its scope.
		return p, o, ss.s.deny(ctx, op, p, name, "not readable by this caller")
	}
	if err != nil {
		return p, o, err
	}
	return p, o, ss.s.canReadRep(ctx, op, p, o.Rep)
}

func (ss *salesService) GetOpportunity(ctx context.Context, req *dwellv1.GetOpportunityRequest) (*dwellv1.GetOpportunityResponse, error) {
	const op = dwell.Op("server.GetOpportunity")
	_, o, err := ss.readOpportunity(ctx, op, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetOpportunityResponse{Opportunity: opportunityToPB(o)}, nil
}

func (ss *salesService) UpdateOpportunity(ctx context.Context, req *dwellv1.UpdateOpportunityRequest) (*dwellv1.UpdateOpportunityResponse, error) {
	const op = dwell.Op("server.UpdateOpportunity")
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetOpportunity(), []string{"stage", "amount", "close_time", "external_id"})
	if err != nil {
		return nil, err
	}
	caller, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	etag, err := etagRevision(op, "opportunity.etag", req.GetOpportunity().GetEtag())
	if err != nil {
		return nil, err
	}
	in, tvs := opportunityFromPB("opportunity", req.GetOpportunity())
	if set["close_time"] {
		// The only time the mask may name; the others are ignored.
		if err := invalid(op, tvs); err != nil {
			return nil, err
		}
	}
	var cur dwell.Opportunity
	defer ss.updates.lock(caller.Tenant)()
	err = updateMasked(ctx, op, req.GetOpportunity().GetName(), etag, func() error {
		p, o, err := ss.readOpportunity(ctx, op, "opportunity.name", req.GetOpportunity().GetName())
		if err != nil {
			return err
		}
		cur = o
		cur.Revision = precondition(etag, cur.Revision)
		if set["stage"] {
			cur.Stage = in.Stage
		}
		if set["amount"] {
			cur.Amount = in.Amount
		}
		if set["close_time"] {
			cur.CloseTime = in.CloseTime
		}
		if set["external_id"] {
			cur.ExternalID = in.ExternalID
		}
		if err := ss.checkOpportunities(ctx, op, p, "opportunity", []dwell.Opportunity{cur}, false); err != nil {
			return err
		}
		return ss.s.store.UpdateOpportunity(ctx, p.Tenant, cur)
	})
	if err != nil {
		return nil, err
	}
	cur.Revision = written(cur.Revision)
	return &dwellv1.UpdateOpportunityResponse{Opportunity: opportunityToPB(cur)}, nil
}

func (ss *salesService) ListOpportunities(ctx context.Context, req *dwellv1.ListOpportunitiesRequest) (*dwellv1.ListOpportunitiesResponse, error) {
	const op = dwell.Op("server.ListOpportunities")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var f store.OpportunityFilter
	filter := ""
	if req.GetClient() != "" {
		id, err := nameID(op, collClients, "client", req.GetClient())
		if err != nil {
			return nil, err
		}
		f.Client = dwell.ClientID(id)
		filter = "client:" + id
	}
	scoped := p.Role == dwell.RoleRep || p.Role == dwell.RoleManager
	noReps := false
	if req.GetRep() != "" || req.GetTeam() != "" || scoped {
		sc, err := ss.s.readScope(ctx, op, p, "rep", req.GetRep(), "team", req.GetTeam())
		if err != nil {
			return nil, err
		}
		f.Reps = make([]dwell.RepID, len(sc.reps))
		for i, r := range sc.reps {
			f.Reps[i] = r.ID
		}
		noReps = len(f.Reps) == 0
		filter += "|" + sc.key
	}
	// A scope without reps lists nothing (an empty f.Reps would list every
	// rep's), but its page_size and page_token are checked all the same.
	os, next, err := listPage(op, p.Tenant, "opportunities", filter, req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Opportunity, bool, error) {
			if noReps {
				return nil, false, nil
			}
			return ss.s.store.ListOpportunities(ctx, p.Tenant, f, pg)
		}, func(o dwell.Opportunity) string { return string(o.ID) })
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListOpportunitiesResponse{NextPageToken: next}
	for _, o := range os {
		resp.Opportunities = append(resp.Opportunities, opportunityToPB(o))
	}
	return resp, nil
}

// --- Quotas ---

func (ss *salesService) UpsertQuotas(ctx context.Context, req *dwellv1.UpsertQuotasRequest) (*dwellv1.UpsertQuotasResponse, error) {
	const op = dwell.Op("server.UpsertQuotas")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	vs := dwell.ValidateRequestID("request_id", req.GetRequestId())
	if n := len(req.GetQuotas()); n == 0 || n > dwell.MaxSalesBatch {
		vs = append(vs, dwell.Violation{Field: "quotas", Description: fmt.Sprintf("must hold 1 to %d quotas, got %d", dwell.MaxSalesBatch, n)})
	}
	qs := make([]dwell.Quota, len(req.GetQuotas()))
	r := ss.s.newRefs(ctx, p.Tenant)
	for i, pq := range req.GetQuotas() {
		qs[i] = quotaFromPB(pq)
		f := fmt.Sprintf("quotas[%d]", i)
		qvs := dwell.ValidateQuota(f, qs[i])
		vs = append(vs, qvs...)
		if len(qvs) == 0 {
			if err := r.rep(f+".rep", qs[i].Rep); err != nil {
				return nil, err
			}
		}
	}
	if len(vs) == 0 {
		// Overlaps within the batch are told here with the other
		// violations; the store checks the batch against the stored
		// quotas in its write transaction (dwell.QuotaOverlaps), so that
		// concurrent upserts, on this server or another, cannot both pass.
		vs = dwell.QuotaOverlaps("quotas", qs, nil)
	}
	if err := invalid(op, append(vs, r.vs...)); err != nil {
		return nil, err
	}
	if _, err := ss.s.store.PutQuotas(ctx, p.Tenant, req.GetRequestId(), qs); err != nil {
		if vs := dwell.ViolationsOf(err); dwell.Is(dwell.Invalid, err) && len(vs) > 0 {
			return nil, invalidBecause(op, dwell.ReasonOf(err), vs)
		}
		return nil, err
	}
	return &dwellv1.UpsertQuotasResponse{Stored: int32(len(qs))}, nil
}

// DeleteQuota removes the quota of a rep that starts on a day. Like
// DeleteAppointment it takes no request id: a retry of a delete that
// succeeded is NOT_FOUND and changes nothing.
func (ss *salesService) DeleteQuota(ctx context.Context, req *dwellv1.DeleteQuotaRequest) (*dwellv1.DeleteQuotaResponse, error) {
	const op = dwell.Op("server.DeleteQuota")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	id, vs := idFromName(collReps, "rep", req.GetRep())
	start := dateFromPB(req.GetStartDate())
	if req.GetStartDate() == nil {
		vs = append(vs, dwell.Violation{Field: "start_date", Description: "is required"})
	} else {
		vs = append(vs, dwell.ValidateDate("start_date", start)...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	if err := ss.s.store.DeleteQuota(ctx, p.Tenant, dwell.RepID(id), start); err != nil {
		return nil, err
	}
	return &dwellv1.DeleteQuotaResponse{}, nil
}

func (ss *salesService) ListQuotas(ctx context.Context, req *dwellv1.ListQuotasRequest) (*dwellv1.ListQuotasResponse, error) {
	const op = dwell.Op("server.ListQuotas")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := ss.s.readScope(ctx, op, p, "rep", req.GetRep(), "team", req.GetTeam())
	if err != nil {
		return nil, err
	}
	key := func(q dwell.Quota) string { return string(q.Rep) + "|" + q.Start.String() }
	qs, next, err := listPage(op, p.Tenant, "quotas", sc.key, req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Quota, bool, error) {
			var all []dwell.Quota
			for _, r := range sc.reps {
				q, err := ss.s.store.ListQuotas(ctx, p.Tenant, r.ID)
				if err != nil {
					return nil, false, err
				}
				all = append(all, q...)
			}
			page, more := pageSorted(all, key, pg)
			return page, more, nil
		}, key)
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListQuotasResponse{NextPageToken: next}
	for _, q := range qs {
		resp.Quotas = append(resp.Quotas, quotaToPB(q))
	}
	return resp, nil
}
