package server

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// policy is who may call one RPC. The interceptor enforces the role check
// before the handler runs; handlers then check the target (which rep, which
// team) with the helpers below.
type policy struct {
	// public RPCs need no token: health and reflection only.
	public bool
	// roles that may call the RPC at all.
	roles []dwell.Role
}

func (p policy) allows(r dwell.Role) bool {
	for _, x := range p.roles {
		if x == r {
			return true
		}
	}
	return false
}

// Short role names for the policy table.
const (
	rep     = dwell.RoleRep
	manager = dwell.RoleManager
	admin   = dwell.RoleAdmin
	partner = dwell.RolePartner
)

// accessPolicies is the single table of who may call what. Every RPC the
// server registers must have an entry (a test enforces it); a method without
// one is denied.
func accessPolicies() map[string]policy {
	writers := policy{roles: []dwell.Role{admin, partner}}
	readers := policy{roles: []dwell.Role{rep, manager, admin, partner}}
	phone := policy{roles: []dwell.Role{rep, partner}}
	public := policy{public: true}
	return map[string]policy{
		// Directory: admins and partners write; everyone reads clients (a
		// rep needs them to check in); reps, teams and settings are read
		// within the caller's scope (checked in the handlers).
		dwellv1.DirectoryService_CreateClient_FullMethodName:  writers,
		dwellv1.DirectoryService_GetClient_FullMethodName:     readers,
		dwellv1.DirectoryService_UpdateClient_FullMethodName:  writers,
		dwellv1.DirectoryService_DeleteClient_FullMethodName:  writers,
		dwellv1.DirectoryService_ListClients_FullMethodName:   readers,
		dwellv1.DirectoryService_ImportClients_FullMethodName: writers,
		dwellv1.DirectoryService_CreateRep_FullMethodName:     writers,
		dwellv1.DirectoryService_GetRep_FullMethodName:        readers,
		dwellv1.DirectoryService_UpdateRep_FullMethodName:     writers,
		dwellv1.DirectoryService_DeleteRep_FullMethodName:     writers,
		// Erasing a rep's history cannot be undone: the tenant's admin
		// alone decides it.
		dwellv1.DirectoryService_EraseRepHistory_FullMethodName: {roles: []dwell.Role{admin}},
		dwellv1.DirectoryService_ListReps_FullMethodName:        {roles: []dwell.Role{manager, admin, partner}},
		dwellv1.DirectoryService_ImportReps_FullMethodName:      writers,
		dwellv1.DirectoryService_CreateTeam_FullMethodName:      writers,
		dwellv1.DirectoryService_GetTeam_FullMethodName:         readers,
		dwellv1.DirectoryService_UpdateTeam_FullMethodName:      writers,
		dwellv1.DirectoryService_DeleteTeam_FullMethodName:      writers,
		dwellv1.DirectoryService_ListTeams_FullMethodName:       {roles: []dwell.Role{manager, admin, partner}},
		dwellv1.DirectoryService_GetSettings_FullMethodName:     {roles: []dwell.Role{manager, admin, partner}},
		dwellv1.DirectoryService_UpdateSettings_FullMethodName:  {roles: []dwell.Role{admin}},
		// Partner accounts say what each integration may do: the tenant's
		// admin alone manages them (partners.go).
		dwellv1.DirectoryService_CreatePartner_FullMethodName: {roles: []dwell.Role{admin}},
		dwellv1.DirectoryService_GetPartner_FullMethodName:    {roles: []dwell.Role{admin}},
		dwellv1.DirectoryService_UpdatePartner_FullMethodName: {roles: []dwell.Role{admin}},
		dwellv1.DirectoryService_DeletePartner_FullMethodName: {roles: []dwell.Role{admin}},
		dwellv1.DirectoryService_ListPartners_FullMethodName:  {roles: []dwell.Role{admin}},

		// Ingest: the phone (a rep, for itself) or a partner relaying for
		// any rep of its tenant.
		dwellv1.IngestService_UploadPings_FullMethodName:       phone,
		dwellv1.IngestService_StreamPings_FullMethodName:       phone,
		dwellv1.IngestService_CheckIn_FullMethodName:           phone,
		dwellv1.IngestService_CheckOut_FullMethodName:          phone,
		dwellv1.IngestService_LogCall_FullMethodName:           phone,
		dwellv1.IngestService_PauseTracking_FullMethodName:     phone,
		dwellv1.IngestService_ResumeTracking_FullMethodName:    phone,
		dwellv1.IngestService_GetTrackingConfig_FullMethodName: {roles: []dwell.Role{rep, admin, partner}},

		// Sales: partners and admins write, everyone reads within scope.
		dwellv1.SalesService_CreateAppointment_FullMethodName:   writers,
		dwellv1.SalesService_ListAppointments_FullMethodName:    readers,
		dwellv1.SalesService_DeleteAppointment_FullMethodName:   writers,
		dwellv1.SalesService_UpsertOpportunities_FullMethodName: writers,
		dwellv1.SalesService_GetOpportunity_FullMethodName:      readers,
		dwellv1.SalesService_UpdateOpportunity_FullMethodName:   writers,
		dwellv1.SalesService_ListOpportunities_FullMethodName:   readers,
		dwellv1.SalesService_UpsertQuotas_FullMethodName:        writers,
		dwellv1.SalesService_ListQuotas_FullMethodName:          readers,
		dwellv1.SalesService_DeleteQuota_FullMethodName:         writers,

		// Reports: managers (their teams), partners and admins (the tenant),
		// a rep (itself).
		dwellv1.ReportService_GetRepDay_FullMethodName:        readers,
		dwellv1.ReportService_GetTimeBreakdown_FullMethodName: readers,
		dwellv1.ReportService_GetKpis_FullMethodName:          readers,
		dwellv1.ReportService_ListVisits_FullMethodName:       readers,
		dwellv1.ReportService_WatchEvents_FullMethodName:      {roles: []dwell.Role{manager, admin, partner}},
		dwellv1.ReportService_ListRepStatuses_FullMethodName:  readers,

		// Health and reflection carry no tenant data: open to all, so that
		// load balancers and grpcurl work without a token.
		grpc_health_v1.Health_Check_FullMethodName:                             public,
		grpc_health_v1.Health_Watch_FullMethodName:                             public,
		grpc_health_v1.Health_List_FullMethodName:                              public,
		reflectionv1.ServerReflection_ServerReflectionInfo_FullMethodName:      public,
		reflectionv1alpha.ServerReflection_ServerReflectionInfo_FullMethodName: public,
	}
}

// partnerScopes is the scope a registered partner account needs for each
// RPC the policy table lets partners call: every such RPC has exactly one
// (a test enforces it, and that no other RPC has one). A registered
// account calling an RPC missing here is denied; an unregistered partner
// subject is not checked against it: it is refused if its account was
// deleted, else refused or given every partner right by
// Settings.PartnerAccountsRequired (partners.go).
func partnerScopes() map[string]dwell.Scope {
	const (
		dirRead    = dwell.ScopeDirectoryRead
		dirWrite   = dwell.ScopeDirectoryWrite
		ingest     = dwell.ScopeIngest
		salesRead  = dwell.ScopeSalesRead
		salesWrite = dwell.ScopeSalesWrite
		reports    = dwell.ScopeReportsRead
		events     = dwell.ScopeEventsWatch
	)
	return map[string]dwell.Scope{
		dwellv1.DirectoryService_GetClient_FullMethodName:     dirRead,
		dwellv1.DirectoryService_ListClients_FullMethodName:   dirRead,
		dwellv1.DirectoryService_GetRep_FullMethodName:        dirRead,
		dwellv1.DirectoryService_ListReps_FullMethodName:      dirRead,
		dwellv1.DirectoryService_GetTeam_FullMethodName:       dirRead,
		dwellv1.DirectoryService_ListTeams_FullMethodName:     dirRead,
		dwellv1.DirectoryService_GetSettings_FullMethodName:   dirRead,
		dwellv1.DirectoryService_CreateClient_FullMethodName:  dirWrite,
		dwellv1.DirectoryService_UpdateClient_FullMethodName:  dirWrite,
		dwellv1.DirectoryService_DeleteClient_FullMethodName:  dirWrite,
		dwellv1.DirectoryService_ImportClients_FullMethodName: dirWrite,
		dwellv1.DirectoryService_ImportReps_FullMethodName:    dirWrite,
		dwellv1.DirectoryService_CreateRep_FullMethodName:     dirWrite,
		dwellv1.DirectoryService_UpdateRep_FullMethodName:     dirWrite,
		dwellv1.DirectoryService_DeleteRep_FullMethodName:     dirWrite,
		dwellv1.DirectoryService_CreateTeam_FullMethodName:    dirWrite,
		dwellv1.DirectoryService_UpdateTeam_FullMethodName:    dirWrite,
		dwellv1.DirectoryService_DeleteTeam_FullMethodName:    dirWrite,

		dwellv1.IngestService_UploadPings_FullMethodName:       ingest,
		dwellv1.IngestService_StreamPings_FullMethodName:       ingest,
		dwellv1.IngestService_CheckIn_FullMethodName:           ingest,
		dwellv1.IngestService_CheckOut_FullMethodName:          ingest,
		dwellv1.IngestService_LogCall_FullMethodName:           ingest,
		dwellv1.IngestService_PauseTracking_FullMethodName:     ingest,
		dwellv1.IngestService_ResumeTracking_FullMethodName:    ingest,
		dwellv1.IngestService_GetTrackingConfig_FullMethodName: ingest,

		dwellv1.SalesService_ListAppointments_FullMethodName:    salesRead,
		dwellv1.SalesService_GetOpportunity_FullMethodName:      salesRead,
		dwellv1.SalesService_ListOpportunities_FullMethodName:   salesRead,
		dwellv1.SalesService_ListQuotas_FullMethodName:          salesRead,
		dwellv1.SalesService_CreateAppointment_FullMethodName:   salesWrite,
		dwellv1.SalesService_DeleteAppointment_FullMethodName:   salesWrite,
		dwellv1.SalesService_UpsertOpportunities_FullMethodName: salesWrite,
		dwellv1.SalesService_UpdateOpportunity_FullMethodName:   salesWrite,
		dwellv1.SalesService_UpsertQuotas_FullMethodName:        salesWrite,
		dwellv1.SalesService_DeleteQuota_FullMethodName:         salesWrite,

		dwellv1.ReportService_GetRepDay_FullMethodName:        reports,
		dwellv1.ReportService_GetTimeBreakdown_FullMethodName: reports,
		dwellv1.ReportService_GetKpis_FullMethodName:          reports,
		dwellv1.ReportService_ListVisits_FullMethodName:       reports,
		dwellv1.ReportService_ListRepStatuses_FullMethodName:  reports,
		dwellv1.ReportService_WatchEvents_FullMethodName:      events,
	}
}

type principalKey struct{}

// withPrincipal returns ctx carrying the authenticated caller.
func withPrincipal(ctx context.Context, p dwell.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

type tokenUntilKey struct{}

// withTokenUntil returns ctx carrying until, the instant from which the
// caller's token is refused as expired (Verifier.VerifyUntil).
func withTokenUntil(ctx context.Context, until time.Time) context.Context {
	return context.WithValue(ctx, tokenUntilKey{}, until)
}

// tokenUntil returns the instant from which the caller's token is refused
// as expired, or the zero time if the auth interceptor set none.
func tokenUntil(ctx context.Context) time.Time {
	t, _ := ctx.Value(tokenUntilKey{}).(time.Time)
	return t
}

// principalFrom returns the caller set by the auth interceptor. Handlers are
// only reached through it, so a missing principal is a server bug, reported
// as Unauthenticated rather than trusted.
func principalFrom(ctx context.Context) (dwell.Principal, error) {
	p, ok := ctx.Value(principalKey{}).(dwell.Principal)
	if !ok || p.Role == dwell.RoleUnspecified {
		return dwell.Principal{}, dwell.E(dwell.Op("server.principalFrom"), dwell.Unauthenticated, "no authenticated caller")
	}
	return p, nil
}

// tokenExpired ends a stream whose token has expired since it was opened
// (WatchEvents in watch.go, a client stream in server.go's authedStream),
// with the status and audit record a call with that token gets
// (authenticate).
func (s *Server) tokenExpired(ctx context.Context, op dwell.Op) error {
	p, _ := principalFrom(ctx)
	s.audit(ctx, "unauthenticated", op, p, "token expired during the stream")
	return dwell.E(op, dwell.Unauthenticated, dwell.ReasonTokenExpired, "token expired")
}

// audit logs the audit record of an access refused to principal p in op:
// its kind (the "audit" attribute), who, why, and extra attributes.
func (s *Server) audit(ctx context.Context, kind string, op dwell.Op, p dwell.Principal, why string, extra ...slog.Attr) {
	attrs := append([]slog.Attr{
		slog.String("audit", kind),
		slog.String("op", string(op)),
		slog.String("tenant", string(p.Tenant)),
		slog.String("subject", p.Subject),
		slog.String("role", p.Role.String()),
		slog.String("why", why),
	}, extra...)
	s.log.LogAttrs(ctx, slog.LevelWarn, "access denied", attrs...)
}

// deny logs an audit record of a refused access and returns the
// PermissionDenied error the caller sees, of reason TARGET_NOT_ALLOWED.
// The message never says whether the target exists.
func (s *Server) deny(ctx context.Context, op dwell.Op, p dwell.Principal, target, why string) error {
	return s.denyBecause(ctx, op, p, target, why, dwell.ReasonTargetNotAllowed)
}

// denyBecause is deny for another reason than a target outside the
// caller's rights: a role that may not call the method, a partner
// account's state or scopes.
func (s *Server) denyBecause(ctx context.Context, op dwell.Op, p dwell.Principal, target, why string, reason dwell.Reason) error {
	s.audit(ctx, "permission_denied", op, p, why, slog.String("target", target))
	return dwell.E(op, dwell.PermissionDenied, reason, "permission denied: "+why)
}

// canReadRep checks that p may read rep id: admins and partners read every
// rep, a rep reads itself, a manager reads the reps of its teams. A rep
// that does not exist is denied to managers and reps alike, so the answer
// does not reveal existence.
func (s *Server) canReadRep(ctx context.Context, op dwell.Op, p dwell.Principal, id dwell.RepID) error {
	switch p.Role {
	case dwell.RoleAdmin, dwell.RolePartner:
		return nil
	case dwell.RoleRep:
		if string(id) == p.Subject {
			return nil
		}
		return s.deny(ctx, op, p, resourceName(collReps, string(id)), "a rep reads only its own data")
	case dwell.RoleManager:
		r, err := s.store.GetRep(ctx, p.Tenant, id)
		if err != nil && !dwell.Is(dwell.NotFound, err) {
			return err
		}
		if err == nil && r.Team != "" {
			ok, err := s.managesTeam(ctx, p, r.Team)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
		return s.deny(ctx, op, p, resourceName(collReps, string(id)), "a manager reads only the reps of its teams")
	}
	return s.denyBecause(ctx, op, p, resourceName(collReps, string(id)), "role not allowed", dwell.ReasonRoleNotAllowed)
}

// managesTeam reports whether manager p manages team id (false if the team
// does not exist).
func (s *Server) managesTeam(ctx context.Context, p dwell.Principal, id dwell.TeamID) (bool, error) {
	t, err := s.store.GetTeam(ctx, p.Tenant, id)
	if dwell.Is(dwell.NotFound, err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.ManagedBy(p.Subject), nil
}

// writeTarget resolves the rep a phone write is for. A rep token writes only
// for itself: an empty name means itself, another rep is denied. A partner
// must name the rep. The rep must exist in the directory.
func (s *Server) writeTarget(ctx context.Context, op dwell.Op, p dwell.Principal, field, name string) (dwell.Rep, error) {
	var id dwell.RepID
	switch {
	case name == "" && p.Role == dwell.RoleRep:
		id = dwell.RepID(p.Subject)
	case name == "":
		return dwell.Rep{}, invalid(op, []dwell.Violation{{Field: field, Description: "rep is required for a " + p.Role.String() + " token"}})
	default:
		rid, err := nameID(op, collReps, field, name)
		if err != nil {
			return dwell.Rep{}, err
		}
		id = dwell.RepID(rid)
	}
	if p.Role == dwell.RoleRep && string(id) != p.Subject {
		return dwell.Rep{}, s.deny(ctx, op, p, resourceName(collReps, string(id)), "a rep writes only its own data")
	}
	if p.Role != dwell.RoleRep && p.Role != dwell.RolePartner {
		return dwell.Rep{}, s.denyBecause(ctx, op, p, resourceName(collReps, string(id)), "role may not write rep data", dwell.ReasonRoleNotAllowed)
	}
	r, err := s.store.GetRep(ctx, p.Tenant, id)
	if dwell.Is(dwell.NotFound, err) {
		return dwell.Rep{}, dwell.E(op, dwell.NotFound, "rep "+string(id)+" is not in the directory", err)
	}
	return r, err
}
