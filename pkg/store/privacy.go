package store

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Privacy is the part of Store that forgets: the tenant's retention period
// and the erasure of a rep's history (DESIGN.md, "Storage and scale").
//
// Forgetting does not mark rep-days dirty: a day's stored summary keeps the
// figures derived while its data was there, so reports over old ranges do
// not change when their fixes expire. For the same reason a settings or
// client change re-derives only days still inside the tenant's retention
// period (see Summaries).
type Privacy interface {
	// PruneFixes deletes the rep's fixes with Time before before, oldest
	// first, and returns how many it deleted and whether older fixes than
	// before remain (limit was reached). It deletes about limit fixes at
	// most (all fixes sharing the last deleted instant go together, so a
	// call may exceed limit by the fixes of one instant), in one durable
	// write. A fix id of a deleted fix may still be reported as a duplicate
	// by AppendFixes until the store compacts its id index; callers refuse
	// such old fixes before they reach the store anyway. limit < 1 is
	// dwell.Invalid.
	PruneFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (deleted int, more bool, err error)
	// PruneActionFixes forgets where the rep was when it checked in or
	// out: it clears the Fix of the rep's check-ins and check-outs with
	// Time before before and keeps the records themselves (client, time,
	// request id, receive time, outcome, follow-up date, rejection, notes,
	// and the Verification and DistanceM decided when the record was
	// received). It goes oldest first, both kinds together, and looks at
	// about limit records at most (all records sharing the last instant it
	// looks at go together, so a call may exceed limit by the records of
	// one instant), in one durable write. It returns how many records it
	// changed (records already without a fix are neither counted nor
	// rewritten) and whether records before before remain that it did not
	// look at (limit was reached). Repeated calls do not look again at the
	// records earlier calls went over. Calls and tracking changes carry no
	// position and are left alone. Like PruneFixes it marks no day dirty
	// and changes no data version: a day's summary keeps what was derived
	// while the fixes were there. A retry of RecordCheckIn or
	// RecordCheckOut with the request id of a cleared record returns the
	// stored record, without its fix, and existed true. limit < 1 and an
	// empty rep id are dwell.Invalid; a rep or tenant without records is
	// not an error.
	PruneActionFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, before time.Time, limit int) (cleared int, more bool, err error)
	// PrunedBefore returns the rep's prune horizon: the later of the cut of
	// the last PruneFixes call that deleted any fix (every fix of the rep
	// with Time before it is gone) and the cut of the last
	// PruneActionFixes call that cleared any check-in's or check-out's fix,
	// or the zero time if neither ever happened. A day that began before
	// it may have lost fixes or positions, so data for it that
	// arrives now cannot be derived with what the day had; the server
	// refuses such data, even when a longer retention period set since
	// would take it.
	PrunedBefore(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (time.Time, error)
	// EraseRepHistory deletes, in one durable write, everything the store
	// holds about where the rep was and what it did: its fixes and their
	// ids, check-ins, check-outs, calls and pauses, the summaries and dirty marks
	// of its days, and the tenant's events about it. The data version of
	// each of its days is raised by one, so that nothing derived before
	// the erase (a derivation in flight, a cache) can pass for current;
	// the days then have no summary and derive to nothing, and a summary
	// or events derived from a version below the raised one are refused
	// (PutDaySummary, AppendDayEvents), on every server sharing the store.
	// The rep's
	// directory entry, appointments, opportunities and quotas stay.
	// Erasing a rep with no history is not an error. It returns what was
	// deleted.
	EraseRepHistory(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (Erased, error)
	// DeleteFixesBetween deletes the rep's fixes with from <= Time < to
	// (a zero to: no end), in one durable write, and returns how many it
	// deleted. It serves pauses: a rep who paused tracking keeps no
	// location for the paused time, even for fixes stored before the
	// pause was recorded. Unlike PruneFixes it forgets the deleted fixes'
	// ids at once, so AppendFixes stores a fix with one of those ids again
	// (true) instead of calling it a duplicate of a fix that is gone; and
	// like any other change of what a day derives from it bumps the data
	// version of each local day that lost a fix and marks it dirty
	// (Summaries), except days that began before the rep's prune horizon
	// (PrunedBefore), which keep their summaries. It leaves the prune
	// horizon, actions and every other rep alone. An empty range, or a rep
	// without fixes in it, deletes nothing and writes nothing. An empty rep
	// id is dwell.Invalid.
	DeleteFixesBetween(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) (deleted int, err error)
	// ListDataReps returns up to limit reps that have stored fixes or
	// actions, of every tenant, in (tenant, rep) order after after (zero:
	// from the start). Like ListDirtyDays it spans tenants and serves
	// background work (retention), never a caller's request.
	ListDataReps(ctx context.Context, after RepRef, limit int) ([]RepRef, error)
}

// Erased counts what EraseRepHistory deleted.
type Erased struct {
	// Fixes is the number of fixes deleted.
	Fixes int
	// Actions is the number of check-ins, check-outs, calls and tracking
	// changes (pauses, resumes) deleted.
	Actions int
	// Days is the number of rep-day summaries deleted.
	Days int
	// Events is the number of events deleted from the tenant's log.
	Events int
}

// RepRef names one rep of one tenant.
type RepRef struct {
	Tenant dwell.TenantID
	Rep    dwell.RepID
}
