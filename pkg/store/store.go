// Package store defines the contract between Dwell's services and durable
// storage: the Store interface, its filters and its sentinel behaviour. The
// embedded default implementation is package boltstore (one bbolt file); a
// PostgreSQL-wire implementation will follow. Both must pass the conformance
// suite in package storetest.
//
// Every method is scoped to one tenant; no method can read or write across
// tenants. Errors are *dwell.Error values: dwell.NotFound for a missing
// resource, dwell.AlreadyExists for a create of a taken id, dwell.Invalid for
// a bad page token or a rep in a team that does not exist, dwell.Conflict for a conditional write of a record
// changed since it was read, dwell.Unavailable once the store is closed.
//
// # Revisions and conditional writes
//
// Clients, reps, teams, settings, partner accounts and opportunities carry
// a Revision the store maintains: 1 when a record is created, one more at
// every later write of it, whichever method makes it (an update, a bulk
// put such as PutClients or PutOpportunities, DeleteTeam clearing its
// reps' team). What a read returns carries the stored revision; the
// Revision a caller puts in a record it writes is never stored. Settings
// a tenant never stored read as revision 0.
//
// The update methods (UpdateClient, UpdateRep, UpdateTeam, PutSettings,
// UpdatePartner, UpdateOpportunity) are conditional: when the record
// passed has a Revision other than 0, they write only if the stored
// revision is still that one, and otherwise write nothing and fail with
// dwell.Conflict (CheckRevision says which). The comparison and the write
// are one atomic step, in every store and across processes sharing one
// store. So a caller that reads a record, changes some fields and writes
// it back with the revision it read never undoes a write made in between
// (a masked update racing another, or an import); on dwell.Conflict it
// reads again and reapplies its change. A Revision of 0 writes
// unconditionally, as before revisions existed; dwell.RevisionAbsent
// makes PutSettings write only if the tenant has stored no settings.
// After a conditional write succeeds the stored revision is the one
// passed plus 1. A record deleted and created again starts again at
// revision 1, so for the records that can be (clients, reps, teams and
// partner accounts) a conditional write also requires the stored record's
// CreateTime to equal the one passed, its life (CheckLife), in the same
// atomic step: a write based on the deleted record's revision 1, its
// fields read before the delete, fails with dwell.Conflict rather than
// replace the new record. The caller passes the CreateTime it read; the
// checks come in the order NotFound, revision, life, then the method's
// own (UpdateRep's team).
//
// # Durability
//
// A method that returns nil after a write has made that write durable: it is
// on disk (fsynced, unless the store was opened with durability off for
// benchmarks) and survives kill -9 and power loss. Concurrent writers share
// fsyncs (group commit), so the cost of durability is paid per commit, not
// per call.
//
// # Contexts
//
// A write whose context is done before the store has accepted it returns
// the context's error, wrapped (errors.Is(err, context.Canceled) holds), and
// writes nothing. A write already accepted is carried out regardless of its
// context and the call returns its outcome, so a caller is never told
// "cancelled" about a write that became durable.
//
// # Values
//
// What a read returns equals what was written, but for the Revision the
// store sets (see above) and two normalisations that callers must not
// depend on either way: instants come back in UTC without a monotonic
// clock reading (compare with time.Time.Equal; they are kept to the
// nanosecond), and an empty slice may come back nil.
package store

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Store is Dwell's durable state. Implementations are safe for concurrent
// use by many goroutines.
type Store interface {
	EventLog
	Sales
	Summaries
	Privacy
	Partners

	// Clients.

	// CreateClient stores a new client; c.ID must not exist yet
	// (dwell.AlreadyExists). CreateTime and UpdateTime are set by the caller.
	CreateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error
	// GetClient returns the client or dwell.NotFound.
	GetClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) (dwell.Client, error)
	// UpdateClient replaces an existing client (dwell.NotFound if absent),
	// conditionally on c.Revision and, that not 0, c.CreateTime
	// (dwell.Conflict; see the package doc).
	UpdateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error
	// DeleteClient removes a client (dwell.NotFound if absent).
	DeleteClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) error
	// ListClients returns clients in id order, starting after the id
	// p.After, at most p.Limit of them, and whether more follow.
	ListClients(ctx context.Context, tenant dwell.TenantID, f ClientFilter, p Page) ([]dwell.Client, bool, error)
	// PutClients creates or replaces every client of cs in one durable
	// write (an import), unconditionally: each one's Revision is ignored,
	// and the stored revision of each is raised. A client already stored
	// keeps its CreateTime (an import replaces what the client is, not when
	// it was created); the rest, UpdateTime too, is cs's. The caller has
	// validated them.
	PutClients(ctx context.Context, tenant dwell.TenantID, cs []dwell.Client) error

	// Reps.

	// CreateRep stores a new rep; r.ID must not exist yet
	// (dwell.AlreadyExists). Its Team, if not empty, must be a team of
	// the tenant, else CreateRep writes nothing and fails with
	// dwell.Invalid with one violation, on field "team" (after
	// AlreadyExists). The team is checked in the write's own atomic step,
	// in every store and across processes sharing one: a DeleteTeam of
	// that team at the same time either comes after the create (and takes
	// the rep out of the team, as it does every rep in it) or before it
	// (and the create is refused), so a rep is never stored in a team
	// that is gone, and a team created later under the same id never
	// finds it. The caller's own check of the team, made before, is only
	// a first answer.
	CreateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error
	GetRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) (dwell.Rep, error)
	// UpdateRep replaces an existing rep (dwell.NotFound if absent),
	// conditionally on r.Revision and, that not 0, r.CreateTime
	// (dwell.Conflict; see the package doc).
	// Its Team, if not empty, must exist, as for CreateRep: otherwise
	// UpdateRep writes nothing and fails with dwell.Invalid on field
	// "team" (after NotFound and Conflict), checked in the same atomic
	// step as the revision.
	UpdateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error
	DeleteRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) error
	// ListReps returns reps in id order; f.Team restricts to one team.
	ListReps(ctx context.Context, tenant dwell.TenantID, f RepFilter, p Page) ([]dwell.Rep, bool, error)

	// Teams.

	CreateTeam(ctx context.Context, tenant dwell.TenantID, t dwell.Team) error
	GetTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) (dwell.Team, error)
	// UpdateTeam replaces an existing team (dwell.NotFound if absent),
	// conditionally on t.Revision and, that not 0, t.CreateTime
	// (dwell.Conflict; see the package doc).
	UpdateTeam(ctx context.Context, tenant dwell.TenantID, t dwell.Team) error
	// DeleteTeam removes a team (dwell.NotFound if absent) and, in the
	// same write, the team of every rep in it (their UpdateTime becomes
	// the store's clock, their Revision raised): a team created later
	// under the same id starts empty, and its managers read no rep of
	// the old one.
	DeleteTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) error
	// ListTeams returns teams in id order; f.Manager restricts to the teams
	// that subject manages.
	ListTeams(ctx context.Context, tenant dwell.TenantID, f TeamFilter, p Page) ([]dwell.Team, bool, error)

	// Fixes.

	// AppendFixes durably stores the fixes of one rep that were not seen
	// before. It returns, for each fix in order, true if it was stored now
	// and false if a fix with the same ID was already stored for this rep
	// (or appears earlier in the same batch). It returns only once the
	// stored fixes are durable. The caller has validated the fixes.
	AppendFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fixes []dwell.Fix) ([]bool, error)
	// ListFixes returns a rep's fixes with from <= Time < to, in time order
	// (ties by ID).
	ListFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Fix, error)
	// LastFixTime returns the latest device time among the rep's stored
	// fixes, or the zero time if it has none.
	LastFixTime(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error)

	// Rep actions. Each is idempotent by (rep, RequestID): if a record with
	// the same request id exists for the rep, nothing is written and the
	// stored record is returned with existed = true. Records are durable on
	// return.

	RecordCheckIn(ctx context.Context, tenant dwell.TenantID, c dwell.CheckIn) (stored dwell.CheckIn, existed bool, err error)
	RecordCheckOut(ctx context.Context, tenant dwell.TenantID, c dwell.CheckOut) (stored dwell.CheckOut, existed bool, err error)
	RecordCall(ctx context.Context, tenant dwell.TenantID, c dwell.Call) (stored dwell.Call, existed bool, err error)
	RecordTrackingChange(ctx context.Context, tenant dwell.TenantID, c dwell.TrackingChange) (stored dwell.TrackingChange, existed bool, err error)
	// ListCheckIns, ListCheckOuts and ListCalls return a rep's records with
	// from <= Time (StartTime for calls) < to, in time order; records at the
	// same instant come in the order they were recorded. A record with an
	// empty RequestID is never deduplicated.
	ListCheckIns(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckIn, error)
	ListCheckOuts(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckOut, error)
	ListCalls(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Call, error)
	// ListTrackingChanges returns a rep's pauses and resumes with
	// from <= Time < to, in time order (ties in the order recorded).
	ListTrackingChanges(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error)
	// ListTrackingState returns what ListTrackingChanges(from, to)
	// returns, preceded by the rep's changes at the latest instant before
	// from, if any: those say whether tracking was paused at from, however
	// long before it they were made. It returns nothing if from is not
	// before to.
	ListTrackingState(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error)
	// ListTrackingStates returns, for each rep of reps, what
	// ListTrackingState(from, to) returns for it, in one read: a report
	// over a team asks it of every rep at once.
	ListTrackingStates(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to time.Time) ([][]dwell.TrackingChange, error)

	// Settings.

	// GetSettings returns the tenant's settings, or dwell.DefaultSettings()
	// if none were stored.
	GetSettings(ctx context.Context, tenant dwell.TenantID) (dwell.Settings, error)
	// PutSettings durably replaces the tenant's settings, conditionally
	// on s.Revision (dwell.Conflict; see the package doc):
	// dwell.RevisionAbsent writes only if none are stored.
	PutSettings(ctx context.Context, tenant dwell.TenantID, s dwell.Settings) error

	// Close waits for in-flight writes and closes the store. Later calls
	// return dwell.Unavailable, except Close, which returns nil.
	Close() error
}

// Page selects one page of a listing in id order.
type Page struct {
	// After is the last id of the previous page, or "" for the first page.
	After string
	// Limit is the maximum number of items, at least 1; a smaller Limit is
	// dwell.Invalid.
	Limit int
}

// ClientFilter restricts ListClients. The zero value matches every client.
type ClientFilter struct {
	// Kind, when not unspecified, keeps only clients of that kind.
	Kind dwell.ClientKind
}

// RepFilter restricts ListReps. The zero value matches every rep.
type RepFilter struct {
	// Team, when not empty, keeps only the reps of that team.
	Team dwell.TeamID
}

// TeamFilter restricts ListTeams. The zero value matches every team.
type TeamFilter struct {
	// Manager, when not empty, keeps only the teams this subject manages.
	Manager string
}

// Partners is the part of Store that holds a tenant's partner accounts
// (dwell.PartnerAccount). Writes are durable on return, as everywhere.
type Partners interface {
	// CreatePartner stores a new partner account, idempotent by
	// a.RequestID: if an account was created with the same request id,
	// nothing is written and the stored one is returned with existed =
	// true; if that account was deleted since, the error is
	// dwell.FailedPrecondition (the request id is spent), also when
	// another request has created an account under its id since (the
	// stored account's RequestID says which create made it). Otherwise a.ID
	// must be free (dwell.AlreadyExists). An empty RequestID is never
	// deduplicated. The caller has validated the account.
	CreatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) (stored dwell.PartnerAccount, existed bool, err error)
	// GetPartner returns the account or dwell.NotFound.
	GetPartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID) (dwell.PartnerAccount, error)
	// UpdatePartner replaces an existing account whole (dwell.NotFound if
	// absent), conditionally on a.Revision and, that not 0, a.CreateTime
	// (dwell.Conflict; see the package doc).
	UpdatePartner(ctx context.Context, tenant dwell.TenantID, a dwell.PartnerAccount) error
	// DeletePartner removes an account (dwell.NotFound if absent) and, in
	// the same atomic step, records its deletion at instant deleted
	// (dwell.PartnerDeletion): the record outlives the account, and an
	// account created again under its id, and keeps the latest of the
	// instants of the account's deletions. The request id that created
	// it stays spent.
	DeletePartner(ctx context.Context, tenant dwell.TenantID, id dwell.PartnerID, deleted time.Time) error
	// ListPartners returns accounts in id order after p.After, at most
	// p.Limit of them, and whether more follow. Deleted accounts are not
	// listed.
	ListPartners(ctx context.Context, tenant dwell.TenantID, p Page) ([]dwell.PartnerAccount, bool, error)
	// ListPartnerDeletions returns the deletion record of every account
	// of the tenant ever deleted, whether or not an account was created
	// again under its id since, in id order after p.After, at most
	// p.Limit of them, and whether more follow.
	ListPartnerDeletions(ctx context.Context, tenant dwell.TenantID, p Page) ([]dwell.PartnerDeletion, bool, error)
}
