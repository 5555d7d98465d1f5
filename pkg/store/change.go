package store

import "github.com/dwellhq/dwell/pkg/dwell"

// ChangeKind names the records a Change is about.
type ChangeKind string

// The kinds of Change. A store that several servers share reports these
// so that each server can keep what it holds in memory in step with the
// others' writes.
const (
	// ChangeClients: the client Change.ID was created, replaced or
	// deleted. Read it again to learn which.
	ChangeClients ChangeKind = "clients"
	// ChangePartners: the partner account Change.ID was created,
	// replaced or deleted.
	ChangePartners ChangeKind = "partners"
	// ChangeSettings: the tenant's settings were written. Change.ID is
	// empty.
	ChangeSettings ChangeKind = "settings"
	// ChangeEvents: events were appended to the tenant's event log.
	// Change.ID is empty; one append is one Change, however many events
	// it stored.
	ChangeEvents ChangeKind = "events"
	// ChangeEventsRemoved: events were deleted from the tenant's event
	// log (retention, an erasure) or rewritten. Change.ID is empty.
	ChangeEventsRemoved ChangeKind = "events-removed"
	// ChangeTeams: teams of the tenant were created, replaced or deleted
	// (a manager's teams may have changed). Change.ID is empty; one
	// write is one Change.
	ChangeTeams ChangeKind = "teams"
	// ChangeRepErased: the history of the rep Change.ID was erased
	// (EraseRepHistory: its fixes, actions, summaries and events). A
	// server forgets what it remembers of the rep's fixes (the silence
	// tracker's last fix), since none of it is stored any more.
	ChangeRepErased ChangeKind = "rep-erased"
)

// Change tells that a committed write changed one tenant's records of one
// kind. It says which records, never what they now hold: the reader reads
// the store again, so Changes may be applied late, twice or out of order
// and still converge on what the store holds.
type Change struct {
	// Tenant is the tenant whose records changed; empty for a resync.
	Tenant dwell.TenantID
	// Kind is what changed; empty for a resync.
	Kind ChangeKind
	// ID is the id of the client or partner account that changed, or
	// empty for the kinds that name no record.
	ID string
	// Resync, when true, says that changes may have been missed (the
	// feed was down or is just starting): whatever the reader derived
	// from the store before it may be stale, for every tenant and kind.
	// The other fields are then empty.
	Resync bool
	// Sync, when not empty, is the token of a SyncChanges call (of this
	// process or another): every change committed before that call was
	// reported before this one. The other fields are then empty.
	Sync string
}
