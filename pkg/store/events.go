package store

import (
	"context"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// MaxEventsPerList bounds the Limit of one ListEvents call.
const MaxEventsPerList = 10000

// EventLog is the part of Store that keeps each tenant's event log: the
// events WatchEvents streams, in the order they were appended, each with a
// sequence number that a client's cursor names.
//
// Sequence numbers are per tenant, start at 1 and strictly increase in
// commit order; they are never reused, so "every event after seq n" is a
// well-defined, gap-free answer at any time, also after a restart (a
// store restored from a backup, though, gives again the numbers it gave
// after the backup, to other events: WatchEvents' cursors carry a check of
// their event to tell, server/watch.go). A
// reader never sees an event with a higher number before one with a lower
// number: the store assigns them inside the append's commit.
//
// Events are kept until removed by retention, which is not written yet
// (the log grows by about 250 bytes per event, its key index included).
type EventLog interface {
	// AppendEvents durably appends evs (their Seq fields ignored) to the
	// tenant's log in order and returns, for each, the sequence number it
	// was given, or 0 if an event with the same non-empty Key is in the log
	// already (or earlier in evs): then nothing is written for it. It
	// returns only once the events are durable. An event with an invalid
	// type, an empty rep, a key longer than dwell.MaxEventKeyBytes or a
	// time the store cannot keep fails the whole call with dwell.Invalid
	// and nothing is written.
	AppendEvents(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error)
	// AppendDayEvents is AppendEvents, to the log of tenant from.Tenant,
	// for events derived from the rep-day from as of its data version
	// from.Version (the refresher's): if the rep's
	// history was erased since (EraseRepHistory raised the day's version
	// above from.Version), it appends nothing and returns a 0 for every
	// event, so nothing read before an erase is published after it. The
	// check and the append are one step with respect to EraseRepHistory:
	// an erase that commits after the append deletes what it appended.
	// Data stored after the erase gives the day a higher version, and a
	// derivation from that version is appended as usual.
	AppendDayEvents(ctx context.Context, from DayVersion, evs []dwell.Event) ([]uint64, error)
	// ListEvents returns the tenant's events with Seq > after, in Seq
	// order, at most limit of them (1 to MaxEventsPerList; other values are
	// dwell.Invalid). Each is as it was appended, its Seq set: every field
	// the same, its times the same instants to the nanosecond, in UTC
	// (WatchEvents' cursors check their event's content against it).
	ListEvents(ctx context.Context, tenant dwell.TenantID, after uint64, limit int) ([]dwell.Event, error)
	// LastEventSeq returns the largest sequence number given in the
	// tenant's log, or 0 if none was.
	LastEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error)
	// PruneEvents deletes the oldest events of the tenant's log, in Seq
	// order, while their DetectTime is before before, at most limit of them
	// (limit < 1 is dwell.Invalid), in one durable write: the events kept
	// are always a suffix of the log (events erased with a rep aside). It
	// returns how many it deleted and whether it stopped at limit. A pruned
	// event's key may be taken again.
	PruneEvents(ctx context.Context, tenant dwell.TenantID, before time.Time, limit int) (deleted int, more bool, err error)
	// PrunedEventSeq returns the largest sequence number PruneEvents has
	// deleted from the tenant's log (0 if none): a reader positioned before
	// it has missed events.
	PrunedEventSeq(ctx context.Context, tenant dwell.TenantID) (uint64, error)
}
