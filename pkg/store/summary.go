package store

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Summaries is the part of Store that keeps per rep-day summaries current.
//
// Every write that changes what a rep's local day derives from
// (AppendFixes storing a new fix, RecordCheckIn, RecordCheckOut,
// RecordCall and RecordTrackingChange storing a new record) bumps, in the
// same transaction, the data version of each affected (rep, local day) and
// marks it dirty; a check-in or check-out also marks the local day before
// its own, if that day has a data version (one without has no check-in to
// close) and did not begin before the rep's prune horizon
// (Privacy.PrunedBefore), since a day is derived with the next day's
// check-ins and check-outs (a check-out after midnight closes a check-in
// still open at the day's end: timeline.Input); a resume also marks every day back to the pause before
// it (the last 31 days at most, and none that began before the rep's
// prune horizon, Privacy.PrunedBefore: such a day has lost fixes), which
// were derived with the pause still open. The local
// day is cut in the rep's time zone as the directory holds it at that
// moment (UTC for a rep not in the directory). A change of the tenant's
// settings (PutSettings) or of any client (CreateClient, UpdateClient,
// DeleteClient, PutClients) marks every rep-day of the tenant dated
// RederiveDays or fewer days before the store's clock dirty, also in the
// same transaction, except days that may have lost fixes to the tenant's
// retention period (dated within a day of its start or earlier), or to the
// period as it was when PruneFixes or PruneActionFixes last forgot some of
// the rep's data (Privacy.PrunedBefore; dated within a day of that cut or
// earlier: a period raised since does not bring the fixes back): their
// summaries keep what was derived while the fixes were there. A change of
// a rep's time zone or working hours (UpdateRep) marks that rep's days the
// same way, and the days its fixes and actions since the first of them
// fall on in the new zone; after a change to a zone ahead, also the day
// before the first, if it has a data version and may have lost nothing to
// retention, when the old zone's cut of it holds the instant the first day
// begins in the new zone, so that the instants between are not counted in
// two stored days. Marks are durable: a crash never loses one.
//
// A summary is an opaque value (its encoding belongs to the caller) stored
// with the data version it was derived from.
type Summaries interface {
	// ListDirtyDays returns up to limit dirty rep-days of every tenant, in
	// (tenant, rep, date) order after the mark after (zero: from the
	// start), each with its current data version. It is the one method
	// that spans tenants: it serves the background refresher, never a
	// caller's request.
	ListDirtyDays(ctx context.Context, after DayKey, limit int) ([]DayVersion, error)
	// PutDaySummary stores the summary of a rep-day derived from data
	// version v, in two parts: summary, which ListDaySummaries returns, and
	// detail, which only GetDaySummary and PutDaySummary (as prevDetail,
	// the next time) return, so that bulk reads stay small. It clears the day's dirty mark
	// if v is still the day's current version (if not, newer data arrived
	// meanwhile and the mark stays). A summary older than the stored one
	// (lower v) is not stored and nils are returned, and so is one derived
	// before the rep's history was erased (v below the version
	// EraseRepHistory raised the day to): what was read before an erase
	// is not stored after it. It returns the parts stored before, or nils.
	PutDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, v uint64, summary, detail []byte) (prevSummary, prevDetail []byte, err error)
	// GetDaySummary returns the stored summary of one rep-day (its Summary
	// nil if there is none, Version 0 if the day has no data version) and
	// the detail part stored with it (nil if none), both the caller's to
	// keep. The refresher reads the previous derivation with it before it
	// tells the day's listeners, and stores the new one only after.
	GetDaySummary(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date) (sum DaySummary, detail []byte, err error)
	// ListDaySummaries returns, for each rep of reps (in the same order)
	// and each day in [from, to] on which the rep has data (a data version)
	// or a summary, in date order, the stored summary part and whether it
	// is current (derived from the day's current version). One consistent
	// read serves every rep.
	ListDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date) ([][]DaySummary, error)
	// ViewDaySummaries is ListDaySummaries without the copy: it calls fn
	// once, inside the read, with the same answer, whose Summary bytes are
	// valid only until fn returns (fn must copy what it keeps). It returns
	// fn's error. A team query decodes tens of megabytes of summaries; this
	// spares copying them first. want, if not nil, is called once for each
	// day of the answer, in its order (rep is the index in reps), before
	// the day's summary is read, with its Date, Version and SummaryVersion
	// (0 if the store cannot tell without reading the summary); a day for
	// which it returns false (a caller that holds that version decoded
	// already) comes with Summary nil, unread.
	ViewDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to dwell.Date, want func(rep int, d DaySummary) bool, fn func([][]DaySummary) error) error
	// RederiveAll marks, in one transaction, the rep-days of every tenant
	// that a settings change would mark (RederiveDays or fewer days before
	// the store's clock, not those that may have lost fixes) dirty, and
	// records version as the derivation version the store's summaries are
	// derived with, if version is above the one recorded (0 if none). It
	// reports whether it marked any tenant's days (a new store has none:
	// it records the version and reports false). A server whose derivation changed (a new
	// release) calls it at start, so recent summaries are derived again
	// by the new code; of several servers starting at once, one marks.
	RederiveAll(ctx context.Context, version uint64) (bool, error)
}

// RederiveDays is how far back a settings or client change re-derives a
// tenant's days.
const RederiveDays = 35

// DayKey names one rep-day of one tenant.
type DayKey struct {
	Tenant dwell.TenantID
	Rep    dwell.RepID
	Date   dwell.Date
}

// DayVersion is a dirty rep-day and its current data version.
type DayVersion struct {
	DayKey
	Version uint64
}

// DaySummary is the stored summary of one rep-day.
type DaySummary struct {
	Date dwell.Date
	// Version is the day's current data version (0 if it has none).
	Version uint64
	// SummaryVersion is the version Summary was derived from (0 if there is
	// no summary).
	SummaryVersion uint64
	// Summary is the stored value, nil if none. It is the caller's to keep.
	Summary []byte
}

// Current reports whether the summary was derived from the day's current
// data.
func (d DaySummary) Current() bool { return d.Summary != nil && d.SummaryVersion >= d.Version }
