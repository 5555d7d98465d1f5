package store

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Sales is the part of Store that holds the sales inputs: appointments,
// opportunities and quotas. Writes are durable on return, as everywhere.
type Sales interface {
	// CreateAppointment stores a new appointment, idempotent by
	// a.RequestID: if an appointment was created with the same request id,
	// nothing is written and the stored one is returned with existed =
	// true; if that appointment was deleted since, the error is
	// dwell.FailedPrecondition (the request id is spent), also when
	// another request has created an appointment under its id since (the
	// stored appointment's RequestID says which create made it).
	// Otherwise a.ID must be free (dwell.AlreadyExists). An empty
	// RequestID is never deduplicated.
	CreateAppointment(ctx context.Context, tenant dwell.TenantID, a dwell.Appointment) (stored dwell.Appointment, existed bool, err error)
	// GetAppointment returns the appointment or dwell.NotFound.
	GetAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) (dwell.Appointment, error)
	// DeleteAppointment removes an appointment (dwell.NotFound if absent).
	DeleteAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) error
	// ListAppointments returns a rep's appointments with from <=
	// PlannedStart < to, by planned start (ties by id).
	ListAppointments(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Appointment, error)

	// PutOpportunities creates or replaces every opportunity of os in one
	// durable write, idempotent by requestID: if a put with the same
	// request id was stored, nothing is written and existed is true, or, if
	// that put held other opportunities (or the same in another order), the
	// error is dwell.Invalid with a violation on "request_id": a retry
	// repeats its batch, and new data under an old request id would be
	// acknowledged without being stored. An empty requestID is never
	// deduplicated. The writes are unconditional (each opportunity's
	// Revision is ignored) and raise the stored revision of each. The
	// caller has validated them.
	PutOpportunities(ctx context.Context, tenant dwell.TenantID, requestID string, os []dwell.Opportunity) (existed bool, err error)
	// UpdateOpportunity replaces an existing opportunity whole
	// (dwell.NotFound if absent), conditionally on o.Revision
	// (dwell.Conflict; see the package doc of store): a masked update's
	// write. The caller has validated it.
	UpdateOpportunity(ctx context.Context, tenant dwell.TenantID, o dwell.Opportunity) error
	// GetOpportunity returns the opportunity or dwell.NotFound.
	GetOpportunity(ctx context.Context, tenant dwell.TenantID, id dwell.OpportunityID) (dwell.Opportunity, error)
	// ListOpportunities returns opportunities in id order after p.After,
	// at most p.Limit of them, and whether more follow.
	ListOpportunities(ctx context.Context, tenant dwell.TenantID, f OpportunityFilter, p Page) ([]dwell.Opportunity, bool, error)

	// PutQuotas creates or replaces every quota of qs (identified by rep
	// and start day; a batch naming one twice stores its last entry) in
	// one durable write, idempotent by requestID like PutOpportunities.
	// A rep's quotas never overlap: if the quotas stored and the batch
	// would leave a rep two quotas sharing a day (dwell.QuotaOverlaps,
	// read in the write's own transaction, so concurrent puts cannot both
	// pass), nothing is written and the error is dwell.Invalid with its
	// violations. The caller has validated the quotas.
	PutQuotas(ctx context.Context, tenant dwell.TenantID, requestID string, qs []dwell.Quota) (existed bool, err error)
	// DeleteQuota removes the quota of rep that starts on day start
	// (dwell.NotFound if absent).
	DeleteQuota(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, start dwell.Date) error
	// ListQuotas returns a rep's quotas by start day.
	ListQuotas(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) ([]dwell.Quota, error)
	// ListRepSales is ListAppointments and ListQuotas for many reps in one
	// consistent read: the appointments of each span's rep with From <=
	// PlannedStart < To, and the quotas of each span's rep, both in spans
	// order and, within a rep, in the order of the single-rep calls. A
	// team's report reads its sales inputs with it, not with a thousand
	// reads.
	ListRepSales(ctx context.Context, tenant dwell.TenantID, spans []RepSpan) ([]dwell.Appointment, []dwell.Quota, error)
}

// RepSpan is one rep and a span of instants [From, To).
type RepSpan struct {
	Rep      dwell.RepID
	From, To time.Time
}

// OpportunityFilter restricts ListOpportunities. The zero value matches
// every opportunity.
type OpportunityFilter struct {
	// Reps, when not empty, keeps only the opportunities of these reps.
	Reps []dwell.RepID
	// Client, when not empty, keeps only this client's opportunities.
	Client dwell.ClientID
}
