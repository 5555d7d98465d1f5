package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file is the live event stream: the broker that publishes events to
// the tenant's durable log and wakes the streams of that tenant, the
// WatchEvents handler, the listener that turns a re-derived rep-day into
// events (publishDayEvents) and the sweeper that finds silent reps.
//
// # Delivery
//
// The tenant's event log in the store is the buffer: publish appends
// (durably, numbered by the store inside the commit), keeps the events in
// the tenant's in-memory tail (the latest 4,096 to 8,192) and closes the
// tenant's notify channel, which wakes every stream of the tenant. It does
// no other work per stream and never waits for one. Appends and removals
// by other servers sharing the store reach the broker through the store's
// change feed (feed.go: appended, removed, resync), which wakes the
// streams and keeps the tail from passing for the whole log.
//
// On a store several servers share, only the holder of the background
// lease derives days and sweeps for silences (lease.go), and its events
// reach the other servers' streams through the feed, milliseconds after
// their commit. An upload to another server wakes no refresher (notify is
// local): the leader finds its marks at its next poll (refreshPoll), so
// the events derived from it come up to about 2 s later than from an
// upload to the leader.
//
// A stream starts after its cursor (or at the log's end when it has none),
// sends its response headers once positioned (a client that has them will
// miss nothing published later), and then loops: read the events after
// its position (from the tail when it holds them, else from the store),
// keep those in the caller's scope, hand them to the stream's sender
// goroutine through a bounded queue (Config.WatchBuffer events), and wait
// for the next wake-up once caught up. The sender batches what is queued
// into one response, in log order.
//
// Reading is paced by the queue: a client slower than the events lags
// behind in the log, which costs nothing but disk already written, and
// catches up when it can. A client that takes nothing while its queue is
// full for Config.WatchStall (it does not read, or its connection is
// stuck) has fallen behind: its stream ends with RESOURCE_EXHAUSTED and
// the client resumes from the cursor of the last event it received. The
// grace period keeps a burst larger than the queue, or a sender goroutine
// not yet scheduled on a busy machine, from cutting a healthy stream (a
// first version that cut on a full queue did so in the tests). Memory per
// stream is the queue plus gRPC's per-stream write quota, whatever the
// client does; a stuck stream's sender stays blocked in Send until the
// stream ends, which ends its Send. The queue holds memory only for the
// events queued (watchQueue), so an idle stream costs a few kilobytes and
// its goroutines, and the streams open on a server are capped per caller
// and per tenant (Config.WatchStreamsPerCaller, WatchStreamsPerTenant:
// RESOURCE_EXHAUSTED, LIMIT_REACHED, beyond them; watch_limit.go).
//
// # Scope
//
// Partners and admins see their tenant, optionally one team; a manager the
// reps of the teams she manages (a team filter must name one of them:
// PERMISSION_DENIED otherwise); reps may not watch. An event carries the
// rep's team at detection, and scope is decided on it.
//
// A stream does not outlive the rights it was opened with:
//
//   - A manager's teams are read again whenever one of the tenant's teams
//     may have changed. Every team write of this server (CreateTeam,
//     UpdateTeam, DeleteTeam, after the store call returns), every team
//     write another server made that the change feed reports (feed.go),
//     and every resync of the feed move the tenant's team generation
//     (teamGens); each read of the log compares it with the one the
//     stream last saw (two atomic loads) and, when it moved, reads her
//     teams (one ListTeams per stream per team write) before it queues
//     anything it read (rescope). A stream filtered to a team she no
//     longer manages (taken from her, or deleted) ends PERMISSION_DENIED,
//     audited as every refusal (deny). An unfiltered one is narrowed to
//     the teams she still manages and goes on, rather than end: her other
//     teams' events keep coming, and an admin's team edit does not make
//     every manager of the tenant reconnect. A team she is given is not
//     added: the stream skipped its events until then (see Progress).
//     Since the check follows the read, an event published after the
//     team write returned is never queued on the old teams; events read
//     and queued before it (at most Config.WatchBuffer) may still be
//     sent. Through another server the write counts from when its feed
//     reports it, milliseconds after the commit.
//   - The token: the auth interceptor keeps in the context the instant
//     from which the token is refused (its exp plus auth.Leeway, as
//     Verifier.VerifyUntil says, so a stream outlives its token no
//     longer than a call would). The stream ends UNAUTHENTICATED, "token
//     expired", at its first read of the log at or after that instant on
//     the server's clock (Config.Now), before it queues what it read, and
//     a quiet stream by a timer set at its start, from that clock, to the
//     time left. Its client reopens with a fresh token from its last
//     cursor.
//   - A partner's account is checked again at every message
//     (partnerStream, partners.go).
//
// # Cursors
//
// A cursor is base64url of a version byte (2), 8 bytes of a digest of the
// tenant, the event's 8-byte sequence number and an 8-byte check of the
// event at that position (eventCheck: a hash of everything the log stores
// of it), or 0 when there is none to check (position 0, or an event
// erased before the cursor was issued). A cursor that does not decode or
// names another tenant is INVALID_ARGUMENT.
//
// The check is there for a store restored from a backup (README,
// Backups): its sequence numbers roll back to the backup's, and the
// events appended after the restore take positions that cursors issued
// before it have passed. A client resuming from one would skip them, and
// the log's own state cannot tell (a per-log epoch would be restored with
// the log), so the cursor names its event. At a resume the stream reads
// the event at the cursor's position (one store read): if the log holds
// one there whose check differs, or ends before the position, the cursor
// is FAILED_PRECONDITION (errCursorRestored), telling the client to watch
// without a cursor, from the log's end, and to read what it missed from
// the reports. If the log holds none there (erased since, or pruned up to
// it) there is nothing to check and the cursor is taken, as before.
// Version 1 cursors, of servers before checks (17 bytes, no check), are
// taken as they were: one beyond the log's end is INVALID_ARGUMENT, and
// one a restore has overtaken resumes unchecked. The start header's
// cursor carries the check of the event at the stream's start position,
// and a progress cursor the check of the last event the stream read (the
// event at its position), so every cursor this server issues is checked
// but where the log holds no event at its position.
//
// Events expire with the tenant's retention period (the
// retention sweeper deletes the oldest, privacy.go); a cursor older than
// the oldest kept event is FAILED_PRECONDITION, so a client never skips
// deleted events unknowingly.
//
// So is a stream the sweep overtakes: one that lagged behind the log (its
// client slow, or away) while the sweep deleted events after its
// position. A read of the store then returns the first event kept, not
// the one after the position; so when the first event of a read does not
// follow the position (a gap, an erasure's or the sweep's), the stream
// reads the store's prune mark (PrunedEventSeq) and ends
// FAILED_PRECONDITION, as at its start, if events after its position were
// pruned; an erasure's gap goes on. The sweep deletes the oldest events
// first, so a pruned gap can only be before the first event of a read,
// and the tail holds only runs that follow the position: one store read
// per gap, none otherwise. Events read before the sweep deleted them are
// still delivered; what the client gets is always a run without a pruned
// gap, then the error.
//
// # Progress
//
// A stream whose scope skips events (a team or type filter, a manager's
// teams) moves its position past them without telling its client, whose
// cursor stays at the last event of its scope: for days on a quiet team.
// Resuming from it re-reads the whole log since, and once retention has
// deleted events after it the resume is FAILED_PRECONDITION although none
// of the client's events were lost. So the stream tells its client its
// position, as a WatchEventsResponse with no events and a progress_cursor,
// if the client asked for them (send_progress: off by default, so that a
// client written before them never sees a response without events;
// etcd's progress notifications are the model, opt-in as theirs, and the
// rule below avoids the ways theirs went wrong). The rule:
//
//   - The cursor is the stream's own read position (after, in watch):
//     the sequence number of the last event it read, in or out of scope,
//     and never the log's head (LastEventSeq) or the tail's high mark.
//     Every event at or before that position has been read by this
//     stream, and those of its scope queued: the store never shows a
//     reader an event before one with a lower number, and the tail holds
//     only runs of consecutive numbers, taking the store's word for what
//     it lacks (recent). An event this stream has not read, such as one
//     another server appended that this server has not yet heard of
//     through its feed, has a number above its position, so the cursor
//     does not pass it; an event EraseRepHistory deleted may or may not
//     have reached a stream before it went (the store, the tails and the
//     queues forget it one after another), and a cursor past its number
//     skips nothing else (numbers are never reused). A progress cursor is
//     therefore never ahead of an event this stream would have delivered.
//   - A manager's stream without a team filter has the teams she managed
//     when it started, less those taken from her since (Scope). When its
//     progress is due and she now manages a
//     team it lacks (managerScopeGrew, one store read per progress), the
//     stream ends UNAVAILABLE instead: a progress cursor would pass that
//     team's events, which her next stream, resumed from the last cursor
//     she received, delivers.
//   - It goes through the stream's queue, behind the events queued before
//     it, so it reaches the client after every event of its scope up to
//     its position (etcd issue 15220 was a progress notification sent
//     around its queue, ahead of events). The sender ends a batch at it
//     and sends it alone, so it is never between the events of one
//     response.
//   - It is sent only when the stream is caught up with the log (waiting
//     for the next wake-up), its position is beyond the last cursor its
//     client was given (the start header's, an event's, a progress
//     cursor), and that has lasted Config.WatchProgress (a minute by
//     default) with no event queued for the client: one response per
//     quiet spell of a filtered stream on a busy tenant, none on a quiet
//     tenant, and none mid catch-up (a client catching up gets events, or
//     its cursor after the catch-up). When the queue is full, which
//     cannot last through a quiet spell without a stalled client, the
//     progress is dropped, not waited for, and tried again after another
//     quiet spell.
//   - A stream that admits every event has its position always at its
//     last event's cursor and never sends one; what this costs it per
//     event is one store of a sequence number and one test in the
//     sender, and per wake-up one comparison and a select case on a nil
//     channel: not measurable against the stream's 2-3 µs of CPU per
//     event (BenchmarkWatchStreamCost, before and after).
//
// A minute bounds the re-read of a resumed filtered stream to about a
// minute of the log, and makes retention refuse its cursor only if the
// client was away for about the retention period, as for an unfiltered
// stream, at the price of one small response a minute per filtered
// stream on a busy tenant (etcd's default is ten minutes).

// StartCursorHeader is the response header of WatchEvents that holds the
// cursor of the stream's starting position: passed back as the request's
// cursor, it resumes the stream exactly there (the events after it).
const StartCursorHeader = "dwell-start-cursor"

// Defaults of the stream's bounds.
const (
	// defaultWatchBuffer is the queue of a stream, in events
	// (Config.WatchBuffer).
	defaultWatchBuffer = 4096
	// defaultWatchStall is how long a stream waits for a client that takes
	// nothing while its queue is full (Config.WatchStall).
	defaultWatchStall = 10 * time.Second
	// watchPage is the most events read from the log at once.
	watchPage = 512
	// watchBatch is the most events in one WatchEventsResponse.
	watchBatch = 256
	// defaultWatchProgress is how long a stream that has read past events
	// outside its scope waits, having given its client nothing, before
	// it sends its position as a progress cursor (Config.WatchProgress).
	defaultWatchProgress = time.Minute
	// defaultSilenceSweep is how often silent reps are looked for.
	defaultSilenceSweep = time.Minute
)

// tailLen is how many of a tenant's latest events the broker keeps in
// memory, so that streams following the log live read them there instead
// of each decoding them from the store.
const tailLen = 4096

// broker publishes events to the tenants' logs and wakes their watchers.
type broker struct {
	store store.Store
	mu    sync.Mutex
	// wake holds, per tenant, the channel closed at the next append.
	wake map[dwell.TenantID]chan struct{}
	// tails hold, per tenant, its latest published events.
	tails map[dwell.TenantID]*tail
	// heard counts, per tenant, what the change feed reported of its log
	// (appended, removed), and resyncs counts its resyncs: a publish
	// that began without a tail creates one only if neither moved
	// meanwhile, since its events alone would not say what the feed
	// reported (another server's append committed after this one's).
	heard   map[dwell.TenantID]uint64
	resyncs uint64
	// metrics counts the events appended; nil counts nothing.
	metrics *Metrics
}

// tail is a run of a tenant's events with consecutive sequence numbers,
// the latest published through this broker, and the highest sequence
// number known to be in the log: the highest any publish returned, raised
// to the log's head when another server appends (broker.appended).
type tail struct {
	evs []dwell.Event
	hi  uint64
}

func newBroker(st store.Store) *broker {
	return &broker{store: st, wake: map[dwell.TenantID]chan struct{}{}, tails: map[dwell.TenantID]*tail{},
		heard: map[dwell.TenantID]uint64{}}
}

// waiter returns a channel that is closed when events are next appended to
// the tenant's log. Take it before reading the log, so an append between
// the read and the wait is not missed.
func (b *broker) waiter(tenant dwell.TenantID) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := b.wake[tenant]
	if ch == nil {
		ch = make(chan struct{})
		b.wake[tenant] = ch
	}
	return ch
}

// publish appends evs to the tenant's log and, once they are durable,
// keeps them in the tenant's tail and wakes the tenant's watchers. It
// returns the sequence numbers the store gave (0 for an event whose key
// the log already held). Its cost does not depend on the watchers: one
// close of a channel.
func (b *broker) publish(ctx context.Context, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	return b.publishDay(ctx, tenant, nil, evs)
}

// publishDay is publish for events derived from the rep-day from, as of
// its data version: if the rep's history was erased since, the store
// appends none of them (store.EventLog.AppendDayEvents). A nil from
// publishes as publish does.
func (b *broker) publishDay(ctx context.Context, tenant dwell.TenantID, from *store.DayVersion, evs []dwell.Event) ([]uint64, error) {
	b.mu.Lock()
	heard, resyncs := b.heard[tenant], b.resyncs
	b.mu.Unlock()
	var seqs []uint64
	var err error
	if from == nil {
		seqs, err = b.store.AppendEvents(ctx, tenant, evs)
	} else {
		seqs, err = b.store.AppendDayEvents(ctx, *from, evs)
	}
	if err != nil {
		return nil, dwell.E(dwell.Op("server.publish"), err)
	}
	// The events one append stored have consecutive numbers (the store
	// numbers them in one transaction).
	var added []dwell.Event
	for i, s := range seqs {
		if s != 0 {
			e := evs[i]
			e.Seq = s
			added = append(added, e)
		}
	}
	if len(added) == 0 {
		return seqs, nil
	}
	b.metrics.published(added)
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tails[tenant]
	if t == nil {
		if b.heard[tenant] != heard || b.resyncs != resyncs {
			// The feed reported appends this tail would not know of
			// (appended raises only a tail it finds): no tail until the
			// next publish; the streams read the store.
			b.wakeLocked(tenant)
			return seqs, nil
		}
		t = &tail{}
		b.tails[tenant] = t
	}
	t.add(added)
	b.wakeLocked(tenant)
	return seqs, nil
}

// wakeLocked wakes the tenant's watchers. b.mu is held.
func (b *broker) wakeLocked(tenant dwell.TenantID) {
	if ch := b.wake[tenant]; ch != nil {
		close(ch)
		delete(b.wake, tenant)
	}
}

// appended is told, by the store's change feed, that some server (this
// one included) appended events to the tenant's log. It raises the
// tail's high mark to the log's head, so that a stream caught up with the
// tail reads the events the tail lacks from the store instead of taking
// itself for caught up, and wakes the tenant's watchers. One store read
// per append, whatever the number of streams, and none for a tenant
// without a tail (its streams read the store anyway). If the head cannot
// be read, the tail is dropped.
func (b *broker) appended(ctx context.Context, tenant dwell.TenantID) error {
	b.mu.Lock()
	// Counted before the look for a tail: a publish without one that
	// creates it after this sees the count moved and does not (publish),
	// and one that created it before is raised below.
	b.heard[tenant]++
	_, hasTail := b.tails[tenant]
	b.mu.Unlock()
	var err error
	var head uint64
	if hasTail {
		head, err = b.store.LastEventSeq(ctx, tenant)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.tails[tenant]; t != nil {
		if err != nil {
			delete(b.tails, tenant)
		} else {
			t.hi = max(t.hi, head)
		}
	}
	b.wakeLocked(tenant)
	if err != nil {
		return dwell.E(dwell.Op("server.broker.appended"), err)
	}
	return nil
}

// removed is told, by the store's change feed, that events were deleted
// from the tenant's log (by another server's retention sweep or erasure):
// the tail, which may hold them, is dropped, and the watchers woken.
func (b *broker) removed(tenant dwell.TenantID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.heard[tenant]++
	delete(b.tails, tenant)
	b.wakeLocked(tenant)
}

// resync drops every tail and wakes every watcher, after the change feed
// may have missed appends and removals: streams read the store.
func (b *broker) resync() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resyncs++
	clear(b.tails)
	for t := range b.wake {
		b.wakeLocked(t)
	}
}

// add extends the tail with added, consecutive events. Appends that
// return out of commit order break the run: a run that added does not
// continue is replaced by added when added is newer and left alone when
// it is older; readers that need what is missing read the store.
func (t *tail) add(added []dwell.Event) {
	first, last := added[0].Seq, added[len(added)-1].Seq
	t.hi = max(t.hi, last)
	switch {
	case len(t.evs) > 0 && first == t.evs[len(t.evs)-1].Seq+1:
		t.evs = append(t.evs, added...)
	case len(t.evs) == 0 || first > t.evs[len(t.evs)-1].Seq:
		t.evs = append(t.evs[:0:0], added...)
	default:
		return
	}
	if len(t.evs) > 2*tailLen {
		t.evs = append([]dwell.Event(nil), t.evs[len(t.evs)-tailLen:]...)
	}
}

// forgetTail drops the tenant's tail, after events were deleted from its
// log: readers then read the store until the next publish.
func (b *broker) forgetTail(tenant dwell.TenantID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tails, tenant)
}

// recent returns up to limit of the tenant's events after sequence number
// after, from the tail, and true; or false when the tail cannot say (the
// events are older than the tail, or another server appended them, or
// nothing was published through this broker since it started) and the
// store must be read. An empty answer
// with true means every event this broker published is at or before
// after: the caller is caught up.
func (b *broker) recent(tenant dwell.TenantID, after uint64, limit int) ([]dwell.Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tails[tenant]
	if t == nil || len(t.evs) == 0 {
		return nil, false
	}
	if after >= t.hi {
		return nil, true
	}
	first, last := t.evs[0].Seq, t.evs[len(t.evs)-1].Seq
	if after+1 < first || after+1 > last {
		return nil, false
	}
	from := int(after + 1 - first)
	n := min(limit, len(t.evs)-from)
	return append([]dwell.Event(nil), t.evs[from:from+n]...), true
}

// publishDayEvents is the day listener: it publishes the events that the
// new derivation of a rep-day shows and the previous one did not (with
// what the rep's days before hand on, when the day begins with a visit or
// first decides a stay carried in: carryInto; and with the rep's next day
// with data, when the day newly ends with an open visit: laterDay; see
// eventOptions), and notes the rep's last fix for the silence sweeper. The
// refresher calls it before storing the day's summary, which the next
// derivation diffs against, and stores the summary only if it succeeds:
// a failed append, or a crash before the summary is stored, leaves the
// day marked and the next pass publishes the same diff again, which the
// log keeps once (each event key is stored once). Close, which cancels the refresher mid-pass,
// must not cancel the publish: it runs without the pass's cancellation
// (Close waits for the pass, and the store outlives the server).
func (s *Server) publishDayEvents(ctx context.Context, c dayChange) error {
	ctx = context.WithoutCancel(ctx)
	if err := s.dayEvents(ctx, c); err != nil {
		s.log.ErrorContext(ctx, "publishing day events; the day stays marked", "tenant", string(c.tenant), "rep", string(c.rep), "err", err)
		return err
	}
	return nil
}

// trackedUntil returns the end of the last segment of d that is neither
// PAUSED nor OFF_HOURS: where the rep was last heard of, for the silence
// sweeper (a day that ends paused ends, for it, where the pause began,
// also when the pause ran across a split shift's break). A day with no
// segment at all whose derivation kept a fix (one fix so far: nothing
// to make a segment of) ends at that fix, its observed span's end, so a
// rep heard of once and then silent is told of too. lastKept, when later,
// wins: the last fix the derivation kept (timeline.Day.LastFix; zero if
// not known), which a fix alone after a resume leaves after every tracked
// segment (the days here are rebuilt from summaries, which do not hold
// it, so the refresher hands it on: dayChange.lastKept). Zero if none.
// Fixes the derivation left out (mock locations, spoofs reached at an
// impossible speed, paused time) never count: they end no segment and are
// never kept.
func trackedUntil(d *timeline.Day, lastKept time.Time) time.Time {
	var t time.Time
	for i := len(d.Segments) - 1; i >= 0; i-- {
		if k := d.Segments[i].Kind; k != timeline.KindPaused && k != timeline.KindOffHours {
			t = d.Segments[i].End
			break
		}
	}
	if len(d.Segments) == 0 {
		t = d.End
	}
	if lastKept.After(t) {
		t = lastKept
	}
	return t
}

func (s *Server) dayEvents(ctx context.Context, c dayChange) error {
	if c.next == nil {
		return nil
	}
	var was time.Time
	if c.prev != nil {
		was = trackedUntil(c.prev, time.Time{})
	}
	s.silence.followDay(c.tenant, c.rep, was, trackedUntil(c.next, c.lastKept))
	o, err := s.eventOptions(ctx, c)
	if err != nil {
		return err
	}
	evs := events.Diff(c.prev, c.next, o)
	if len(evs) == 0 {
		return nil
	}
	from := store.DayVersion{DayKey: store.DayKey{Tenant: c.tenant, Rep: c.rep, Date: c.date}, Version: c.version}
	_, err = s.events.publishDay(ctx, c.tenant, &from, evs)
	return err
}

// eventOptions returns the options of events.Diff for the change c: the
// rep, team, detect time and settings, what the rep's days before hand on
// (carryInto) when Diff reads it (events.NeedsCarry, or events.NeedsLater
// of a day that may carry on a stay from the day before: CarriesOn, since
// the stay it hands on is then anchored where that began), and the rep's
// next day with data (laterDay) when Diff reads it (events.NeedsLater).
func (s *Server) eventOptions(ctx context.Context, c dayChange) (events.Options, error) {
	o := events.Options{Rep: c.rep, Team: c.team, DetectTime: c.detectTime, Settings: c.settings}
	later := events.NeedsLater(c.prev, c.next)
	var err error
	if events.NeedsCarry(c.prev, c.next, c.settings) || later && events.CarriesOn(c.next) {
		if o.Carry, err = s.carryInto(ctx, c.tenant, c.r, c.date, c.settings); err != nil {
			return o, err
		}
	}
	if later {
		if o.Later, err = s.laterDay(ctx, c.tenant, c.r, c.date, c.settings); err != nil {
			return o, err
		}
	}
	return o, nil
}

// carryDays is how many local days back carryInto follows a stay that
// runs through whole days at one client (or an idle stop that fills them
// at one place): one carried across more midnights is anchored, from
// then on, at the start of the last day it reaches. It is also how far, back or
// on, the rep's previous or next day with data is looked for across days
// without data (carryInto, laterDay): a visit open at the end of a day
// followed by more than carryDays-1 days without data never ends.
const carryDays = 7

// carryInto returns what rep r's last local day with data (events.Tracked)
// before date hands on to date (events.CarryOut): the stay and idle stop
// that day ended with, if any, anchored where they began, following them
// back across the days that began with them and ended with them still
// open (events.CarriesOn: also a day the rep left the stay near its end,
// whose end is then under the anchor where the stay began), up to
// carryDays. Days without data before date are passed over (a
// weekend, a day off: the stay open at the end of the day before them
// ends in date if date does not carry it on), to carryDays back, and the
// carry is then marked Gap (it can end in date, not carry on). A day is
// read as its current stored summary has it, or derived (as the refresher
// would) when that is stale or missing (dayFor); a day with no data
// version is not read at all. Day listeners call it only when the new
// derivation has something new to say of a visit or idle stop that
// begins its day, or first has data enough to end a stay carried in,
// or moved the first visit that began its day (events.NeedsCarry), or
// opens a stay its day may carry on from the day before (NeedsLater of a
// day that CarriesOn): a few days read per such
// derivation (one listing of the days' versions, then one summary per
// day with data up to the carry's origin), not per pass.
func (s *Server) carryInto(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (events.Carry, error) {
	const op = dwell.Op("server.carryInto")
	have, err := s.daysWithData(ctx, tenant, r.ID, date.AddDays(-carryDays), date.AddDays(-1))
	if err != nil {
		return events.Carry{}, dwell.E(op, err)
	}
	var days []*timeline.Day // the days with data read, latest first
	gap := false
	for i := range carryDays {
		dt := date.AddDays(-i - 1)
		var d *timeline.Day
		if have[dt] {
			if d, err = s.dayFor(ctx, tenant, r, dt, settings); err != nil {
				return events.Carry{}, dwell.E(op, err)
			}
		}
		if !events.Tracked(d) {
			if len(days) > 0 {
				break // the stay the days read carry began after this day
			}
			gap = true
			continue
		}
		days = append(days, d)
		if !events.CarriesOn(d) {
			break
		}
	}
	var c events.Carry
	for i := len(days) - 1; i >= 0; i-- {
		c = events.CarryOut(days[i], c)
	}
	c.Gap = gap && len(days) > 0
	return c, nil
}

// laterDay returns rep r's first local day with data (events.Tracked)
// after date, up to carryDays on, and whether days without data lie
// between; zero if none. Days are read as carryInto reads them. Day
// listeners call it only when a derivation newly ends with an open stay,
// or its open stay is now left or ends earlier (events.NeedsLater): one
// listing of the days' data versions (usually none: the day is the rep's
// latest), then one summary per later day with data up to the first
// tracked one.
func (s *Server) laterDay(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (events.Later, error) {
	const op = dwell.Op("server.laterDay")
	have, err := s.daysWithData(ctx, tenant, r.ID, date.AddDays(1), date.AddDays(carryDays))
	if err != nil {
		return events.Later{}, dwell.E(op, err)
	}
	for i := range carryDays {
		dt := date.AddDays(i + 1)
		if !have[dt] {
			continue
		}
		d, err := s.dayFor(ctx, tenant, r, dt, settings)
		if err != nil {
			return events.Later{}, dwell.E(op, err)
		}
		if events.Tracked(d) {
			return events.Later{Day: d, Gap: i > 0}, nil
		}
	}
	return events.Later{}, nil
}

// daysWithData returns the days in [from, to] on which rep has a data
// version or a summary, from one read of the day records (summaries
// unread): a day not in it has no data, so nothing to derive.
func (s *Server) daysWithData(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to dwell.Date) (map[dwell.Date]bool, error) {
	have := map[dwell.Date]bool{}
	err := s.store.ViewDaySummaries(ctx, tenant, []dwell.RepID{rep}, from, to,
		func(int, store.DaySummary) bool { return false },
		func(days [][]store.DaySummary) error {
			for _, rd := range days {
				for _, d := range rd {
					have[d.Date] = true
				}
			}
			return nil
		})
	return have, err
}

// dayFor returns rep r's day date as its current stored summary has it,
// or derived (as the refresher would) when that is stale, missing or
// corrupt: the days of one pass are derived in parallel, so the day may
// not be stored yet.
func (s *Server) dayFor(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (*timeline.Day, error) {
	d, err := s.currentDay(ctx, tenant, r.ID, date, false)
	if err != nil && !errors.Is(err, kpi.ErrCorrupt) {
		return nil, err
	}
	if d == nil {
		dd, err := s.derive(ctx, tenant, r, date, settings, false)
		if err != nil {
			return nil, err
		}
		d = &dd.day
	}
	return d, nil
}

// --- Cursors ---

// Cursor versions. A cursor is URL-safe base64 (no padding) of a version
// byte, a digest binding it to the tenant (filterDigest, 8 bytes) and the
// log position (8 bytes, big-endian); from version 2 on, then the check of
// the event at that position (eventCheck, 8 bytes; 0 for none).
//
// The check is what lets a resume tell that the log is no longer the one
// the cursor was issued from: a store restored from a backup has its
// sequence numbers rolled back to the backup's, and the events appended
// after the restore take numbers, so positions, that cursors issued
// before it name for other events (see WatchEvents). Version 1 cursors,
// issued by servers before the check, are still accepted as they were.
const (
	cursorV1 = 1
	cursorV2 = 2
)

// cursorPos is what a cursor names.
type cursorPos struct {
	// seq is the log position: the stream resumes after it.
	seq uint64
	// check is eventCheck of the event at seq as the issuing server read
	// it, 0 when it had none to check (position 0, an event erased before
	// the cursor was issued) or the cursor is of version 1.
	check uint64
	// v1 tells a cursor of version 1 (issued before checks).
	v1 bool
}

// encodeCursor returns the opaque cursor of position seq of tenant's log
// whose event has check check (eventCheck; 0 for none): version 2.
func encodeCursor(tenant dwell.TenantID, seq, check uint64) string {
	d := filterDigest(tenant, "events", "")
	b := make([]byte, 0, 25)
	b = append(b, cursorV2)
	b = append(b, d[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, check)
	return base64.RawURLEncoding.EncodeToString(b)
}

// eventCursor returns the cursor of event e (its position and its check).
func eventCursor(tenant dwell.TenantID, e dwell.Event) string {
	return encodeCursor(tenant, e.Seq, eventCheck(e))
}

// decodeCursor returns what a cursor names, or the violation that makes
// it unusable for tenant.
func decodeCursor(tenant dwell.TenantID, cursor string) (cursorPos, []dwell.Violation) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(cursor))
	if err != nil || !(len(b) == 17 && b[0] == cursorV1 || len(b) == 25 && b[0] == cursorV2) {
		return cursorPos{}, []dwell.Violation{{Field: "cursor", Description: "is not a cursor of this event stream; pass an event's cursor, or none for new events only"}}
	}
	d := filterDigest(tenant, "events", "")
	if string(b[1:9]) != string(d[:]) {
		return cursorPos{}, []dwell.Violation{{Field: "cursor", Description: "was issued to another tenant"}}
	}
	pos := cursorPos{seq: binary.BigEndian.Uint64(b[9:17]), v1: b[0] == cursorV1}
	if !pos.v1 {
		pos.check = binary.BigEndian.Uint64(b[17:25])
	}
	return pos, nil
}

// eventCheck returns the check a cursor carries of event e: the first 8
// bytes of a SHA-256 of everything the log stores of it (its position,
// type, rep, team, client, key, both times to the nanosecond, lateness),
// never 0 (0 means none). The stores give an event back exactly as it was
// appended (store.EventLog.ListEvents), so the check of an event read
// from the store is the check of the one published; two events detected
// at different instants have different checks but for a chance of 2^-64.
func eventCheck(e dwell.Event) uint64 {
	h := sha256.New()
	var b [8]byte
	num := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		h.Write([]byte(s))
	}
	num(e.Seq)
	num(uint64(e.Type))
	str(string(e.Rep))
	str(string(e.Team))
	str(string(e.Client))
	str(e.Key)
	num(uint64(e.Time.UnixNano()))
	num(uint64(e.DetectTime.UnixNano()))
	if e.Late {
		num(1)
	} else {
		num(0)
	}
	c := binary.BigEndian.Uint64(h.Sum(nil)[:8])
	if c == 0 {
		c = 1
	}
	return c
}

// eventAt returns the event at position seq of tenant's log and true, or
// false when the log holds none there (seq is 0, or the event was erased
// or pruned).
func (s *Server) eventAt(ctx context.Context, tenant dwell.TenantID, seq uint64) (dwell.Event, bool, error) {
	if seq == 0 {
		return dwell.Event{}, false, nil
	}
	evs, err := s.store.ListEvents(ctx, tenant, seq-1, 1)
	if err != nil || len(evs) == 0 || evs[0].Seq != seq {
		return dwell.Event{}, false, err
	}
	return evs[0], true, nil
}

// --- WatchEvents ---

// watchScope is what one stream may and wants to see.
type watchScope struct {
	// teams, when not nil, are the only teams whose reps' events pass.
	teams map[dwell.TeamID]bool
	// types, when not nil, are the only event types that pass.
	types map[dwell.EventType]bool
	// manager, when not empty, is the manager whose stream this is: teams
	// is the request's team, or without one the teams she managed at the
	// stream's start less those she has stopped managing since (rescope).
	manager dwell.Principal
	// team is the request's team filter, empty for none.
	team dwell.TeamID
	// gen is the tenant's team generation (teamGens) read before the
	// manager's teams were last read.
	gen uint64
}

func (w watchScope) admits(e dwell.Event) bool {
	return (w.teams == nil || w.teams[e.Team]) && (w.types == nil || w.types[e.Type])
}

// WatchEvents streams the caller's events after the request's cursor (or
// from now), in log order, then follows the log live. See the top of this
// file for how a slow client is bounded.
func (rs *reportService) WatchEvents(req *dwellv1.WatchEventsRequest, stream dwellv1.ReportService_WatchEventsServer) error {
	const op = dwell.Op("server.WatchEvents")
	s := rs.s
	ctx := stream.Context()
	p, err := principalFrom(ctx)
	if err != nil {
		return err
	}
	// Counted from before its first read, so that callers over their cap
	// cost the store nothing (watch_limit.go).
	release, err := s.watchLimits.acquire(op, p)
	if err != nil {
		return err
	}
	defer release()
	scope, err := s.watchScope(ctx, op, p, req)
	if err != nil {
		return err
	}
	until := tokenUntil(ctx)
	// Take the waiter before reading the head, so nothing appended after
	// the head is read goes unnoticed.
	wake := s.events.waiter(p.Tenant)
	head, err := s.store.LastEventSeq(ctx, p.Tenant)
	if err != nil {
		return err
	}
	pos := cursorPos{seq: head}
	if c := req.GetCursor(); c != "" {
		var vs []dwell.Violation
		if pos, vs = decodeCursor(p.Tenant, c); vs == nil && pos.seq > head {
			if !pos.v1 {
				return errCursorRestored(op, "the event log ends before this cursor's position")
			}
			vs = []dwell.Violation{{Field: "cursor", Description: "is ahead of the event log"}}
		}
		if err := invalid(op, vs); err != nil {
			return err
		}
		pruned, err := s.store.PrunedEventSeq(ctx, p.Tenant)
		if err != nil {
			return err
		}
		if pos.seq < pruned {
			return errCursorPruned(op, dwell.ReasonCursorExpired)
		}
	}
	// The event at the position: a cursor's check must be its own (else
	// the log was restored from a backup, and the events after the
	// position are not those the cursor followed), and the start header
	// carries its check. None (an event erased, or pruned up to the
	// position) leaves nothing to check: the cursor is taken.
	at, found, err := s.eventAt(ctx, p.Tenant, pos.seq)
	if err != nil {
		return err
	}
	if found {
		c := eventCheck(at)
		if pos.check != 0 && pos.check != c {
			return errCursorRestored(op, "the event log holds another event at this cursor's position than the one it was issued for")
		}
		pos.check = c
	}
	after := pos.seq
	// The response headers tell the client the stream is positioned: every
	// event appended from now on will reach it. They carry the position as
	// a cursor (StartCursorHeader), so a client that loses the stream
	// before its first event resumes from there instead of from the log's
	// end, which would skip what was appended meanwhile.
	if err := stream.SendHeader(metadata.Pairs(StartCursorHeader, encodeCursor(p.Tenant, after, pos.check))); err != nil {
		return dwell.E(op, err)
	}
	progress := s.watchProgress
	if !req.GetSendProgress() {
		progress = -1 // the client did not ask for progress responses
	}
	return s.watch(ctx, op, p.Tenant, stream, scope, after, wake, progress, until)
}

// errCursorPruned is the refusal of a stream whose position is before
// events the retention sweeper deleted: at its start (its cursor, reason
// CURSOR_EXPIRED), or later, when the sweep overtook a stream that lagged
// behind (STREAM_PRUNED).
func errCursorPruned(op dwell.Op, reason dwell.Reason) error {
	return dwell.E(op, dwell.FailedPrecondition, reason, "the cursor is older than the tenant's retention period: events after it were deleted; "+
		"watch without a cursor for new events, and read what was missed from the reports")
}

// errCursorRestored is the refusal of a cursor (of version 2) that names
// a position the tenant's log no longer follows: the log ends before it,
// or holds another event there than the one the cursor names (its check
// differs). Both mean the store was restored from a backup taken before
// the cursor was issued (or the cursor is of another store, or altered):
// the events after that position, if any, are not those the client
// followed, and resuming would skip the ones appended since the restore.
func errCursorRestored(op dwell.Op, why string) error {
	return dwell.E(op, dwell.FailedPrecondition, dwell.ReasonLogRestored, why+
		": the log was restored from a backup taken before the cursor was issued (or the cursor is of another store); "+
		"watch without a cursor for new events, and read what was missed from the reports")
}

// watchScope checks the request's filters against the caller's rights.
func (s *Server) watchScope(ctx context.Context, op dwell.Op, p dwell.Principal, req *dwellv1.WatchEventsRequest) (watchScope, error) {
	var sc watchScope
	var vs []dwell.Violation
	for i, t := range req.GetTypes() {
		et := dwell.EventType(t)
		if !et.Valid() {
			vs = append(vs, dwell.Violation{Field: fmt.Sprintf("types[%d]", i), Description: "must be an event type other than EVENT_TYPE_UNSPECIFIED"})
			continue
		}
		if sc.types == nil {
			sc.types = map[dwell.EventType]bool{}
		}
		sc.types[et] = true
	}
	var team dwell.TeamID
	if n := req.GetTeam(); n != "" {
		id, nvs := idFromName(collTeams, "team", n)
		vs = append(vs, nvs...)
		team = dwell.TeamID(id)
	}
	if err := invalid(op, vs); err != nil {
		return sc, err
	}
	switch p.Role {
	case dwell.RoleAdmin, dwell.RolePartner:
		if team != "" {
			if _, err := s.store.GetTeam(ctx, p.Tenant, team); err != nil {
				return sc, err
			}
			sc.teams = map[dwell.TeamID]bool{team: true}
		}
	case dwell.RoleManager:
		// Read before her teams are: a team write after it makes the
		// stream read them again (rescope).
		sc.manager, sc.gen = p, s.teamGens.of(p.Tenant)
		if team != "" {
			ok, err := s.managesTeam(ctx, p, team)
			if err != nil {
				return sc, err
			}
			if !ok {
				return sc, s.deny(ctx, op, p, resourceName(collTeams, string(team)), "a manager watches only the teams it manages")
			}
			sc.teams, sc.team = map[dwell.TeamID]bool{team: true}, team
			break
		}
		// The teams a manager manages when the stream starts; a team it
		// is given later shows on its next stream, one taken from it
		// leaves this one (rescope).
		ts, err := s.managedTeams(ctx, p)
		if err != nil {
			return sc, err
		}
		sc.teams = ts
	default:
		return sc, s.denyBecause(ctx, op, p, "events", "role may not watch events", dwell.ReasonRoleNotAllowed)
	}
	return sc, nil
}

// errWatchClosing ends the streams of a server that is shutting down.
func errWatchClosing(op dwell.Op) error {
	return dwell.E(op, dwell.Unavailable, dwell.ReasonServerShuttingDown, "the server is shutting down; resume with the last cursor received")
}

// managedTeams returns the teams manager p manages now.
func (s *Server) managedTeams(ctx context.Context, p dwell.Principal) (map[dwell.TeamID]bool, error) {
	ts, err := listAll(func(pg store.Page) ([]dwell.Team, bool, error) {
		return s.store.ListTeams(ctx, p.Tenant, store.TeamFilter{Manager: p.Subject}, pg)
	}, func(t dwell.Team) string { return string(t.ID) })
	if err != nil {
		return nil, err
	}
	out := make(map[dwell.TeamID]bool, len(ts))
	for _, t := range ts {
		out[t.ID] = true
	}
	return out, nil
}

// rescope brings a manager's stream in step with the teams she manages
// now, when a team of the tenant may have been written since it last
// looked (the tenant's team generation moved; otherwise it costs one
// atomic load): a stream filtered to a team she no longer manages is
// refused (PERMISSION_DENIED, audited); an unfiltered one loses the teams
// she no longer manages (a team she was given meanwhile is not added:
// managerScopeGrew). Streams of other callers are left as they are.
func (s *Server) rescope(ctx context.Context, op dwell.Op, sc *watchScope) error {
	if sc.manager.Subject == "" {
		return nil
	}
	g := s.teamGens.of(sc.manager.Tenant)
	if g == sc.gen {
		return nil
	}
	now, err := s.managedTeams(ctx, sc.manager)
	if err != nil {
		return dwell.E(op, err)
	}
	sc.gen = g
	if sc.team != "" {
		if !now[sc.team] {
			return s.deny(ctx, op, sc.manager, resourceName(collTeams, string(sc.team)),
				"a manager watches only the teams it manages, and no longer manages this one")
		}
		return nil
	}
	for t := range sc.teams {
		if !now[t] {
			delete(sc.teams, t)
		}
	}
	return nil
}

// watch runs one stream from log position after, the position its client
// was told in the start header, until until, the instant from which its
// token is refused (zero: never).
func (s *Server) watch(ctx context.Context, op dwell.Op, tenant dwell.TenantID, stream dwellv1.ReportService_WatchEventsServer,
	scope watchScope, after uint64, wake <-chan struct{}, progressAfter time.Duration, until time.Time) error {
	// expired tells, on the server's clock (Config.Now), whether the
	// token is refused now: every read of the log checks it before it
	// queues anything, so a clock moved on (a test's) is seen at the next
	// event. The timer, set to the time the server's clock leaves the
	// token, ends a quiet stream; when it fires early on that clock (the
	// clock stepped back meanwhile), it is set again (rearm).
	expired := func() bool { return !until.IsZero() && !s.now().Before(until) }
	var expiry <-chan time.Time
	rearm := func() {}
	if !until.IsZero() {
		t := time.NewTimer(until.Sub(s.now()))
		defer t.Stop()
		expiry = t.C
		rearm = func() { t.Reset(until.Sub(s.now())) }
	}
	q := newWatchQueue(s.watchBuffer)
	sendErr := make(chan error, 1)
	quit := make(chan struct{})
	// The sender may be blocked in Send on a client that does not read;
	// it is not waited for: ending the RPC ends its Send.
	defer close(quit)
	go sendEvents(stream, tenant, q, quit, sendErr)
	// told is the last position handed to the client (the start header,
	// an event, a progress cursor); after passes it only by events out of
	// scope. progress times the quiet spell while it does, and when it
	// fires after is sent as a progress cursor (see Progress above).
	told := after
	// lastRead is the event at after once the stream has read one: a
	// progress cursor names it, with its check.
	var lastRead dwell.Event
	progress := quietTimer{d: progressAfter}
	defer progress.stop()
	for {
		evs, ok := s.events.recent(tenant, after, watchPage)
		if !ok {
			var err error
			if evs, err = s.store.ListEvents(ctx, tenant, after, watchPage); err != nil {
				return err
			}
		}
		// Checked after the read, so that an event published after a
		// team write or the token's expiry returned is never queued on a
		// scope or a token checked before it.
		if expired() {
			return s.tokenExpired(ctx, op)
		}
		if err := s.rescope(ctx, op, &scope); err != nil {
			return err
		}
		// A gap before the first event read is an erasure's (harmless)
		// or the retention sweeper's, which may have deleted events
		// after the position of a stream that lagged behind: as at the
		// start, such a stream is refused rather than skip them. The
		// tail holds only runs that follow the position (recent), and
		// the sweep deletes the oldest events, so a gap before the
		// first event is the only place one can show.
		if len(evs) > 0 && evs[0].Seq != after+1 {
			pruned, err := s.store.PrunedEventSeq(ctx, tenant)
			if err != nil {
				return err
			}
			if after < pruned {
				return errCursorPruned(op, dwell.ReasonStreamPruned)
			}
		}
		for _, e := range evs {
			after, lastRead = e.Seq, e
			if !scope.admits(e) {
				continue
			}
			told = e.Seq
			if q.push(watchItem{e: e}) {
				continue
			}
			// The queue is full: wait for the client, but not forever.
			stall := time.NewTimer(s.watchStall)
		wait:
			for {
				if q.push(watchItem{e: e}) {
					stall.Stop()
					break wait
				}
				select {
				case <-q.space:
					// The sender took an item: try again.
				case <-stall.C:
					s.metrics.slowWatch()
					return dwell.E(op, dwell.ResourceExhausted, dwell.ReasonSlowConsumer, fmt.Sprintf(
						"the client took no event for %v while %d were queued for it; resume with the last cursor received",
						s.watchStall, s.watchBuffer))
				case <-ctx.Done():
					stall.Stop()
					return dwell.E(op, ctx.Err())
				case err := <-sendErr:
					stall.Stop()
					return dwell.E(op, err)
				case <-s.closing:
					stall.Stop()
					return errWatchClosing(op)
				case <-expiry:
					if expired() {
						stall.Stop()
						return s.tokenExpired(ctx, op)
					}
					rearm()
				}
			}
		}
		if len(evs) == watchPage || (ok && len(evs) > 0) {
			continue
		}
		// Caught up: a quiet spell starts, or goes on, while the
		// position is beyond what the client was told.
		progress.follow(told, after)
		select {
		case <-wake:
			wake = s.events.waiter(tenant)
		case <-expiry:
			if expired() {
				return s.tokenExpired(ctx, op)
			}
			rearm()
		case <-progress.c:
			progress.fired()
			if expired() {
				return s.tokenExpired(ctx, op)
			}
			if grown, err := s.managerScopeGrew(ctx, scope); err != nil {
				return dwell.E(op, err)
			} else if grown {
				return dwell.E(op, dwell.Unavailable, dwell.ReasonWatchScopeChanged, "the teams you manage changed; resume with the last cursor received")
			}
			// Never waited for: a queue still full after a quiet spell
			// is a client that stopped reading; the next spell tries
			// again.
			// after is beyond told, so the stream has read the event
			// at after: lastRead.
			if q.push(watchItem{e: lastRead, progress: true}) {
				told = after
			}
		case <-ctx.Done():
			return dwell.E(op, ctx.Err())
		case err := <-sendErr:
			return dwell.E(op, err)
		case <-s.closing:
			return errWatchClosing(op)
		}
	}
}

// quietTimer times a stream's quiet spell: the time its position has been
// beyond the last one its client was told, with nothing queued for it. Its
// channel c is nil while no spell is timed, so a select on it waits for
// the other cases. The zero d, or a negative one, times nothing.
type quietTimer struct {
	d time.Duration
	t *time.Timer
	c <-chan time.Time
	// from is the position told when the spell being timed began.
	from uint64
}

// follow is called when the stream is caught up, told being the position
// its client was last told and after its read position. A spell starts
// when after is beyond told and none is timed; it starts again when the
// client was told something since (told moved); it ends when after is
// told. On a stream that admits every event after is always told, and
// follow does nothing but compare.
func (q *quietTimer) follow(told, after uint64) {
	switch {
	case after == told || q.d <= 0:
		q.stop()
	case q.c == nil || q.from != told:
		q.from = told
		if q.t == nil {
			q.t = time.NewTimer(q.d)
		} else {
			q.t.Reset(q.d)
		}
		q.c = q.t.C
	}
}

// fired notes that the spell's timer fired: none is timed until follow
// starts one.
func (q *quietTimer) fired() { q.c = nil }

// stop ends the spell being timed, if any.
func (q *quietTimer) stop() {
	if q.c != nil {
		q.t.Stop()
		q.c = nil
	}
}

// watchItem is what a stream queues for its sender: an event to send, or,
// with progress set, the stream's position to send as a progress cursor,
// given as the last event the stream read (out of its scope, not sent),
// whose cursor (position and check) that is.
type watchItem struct {
	e        dwell.Event
	progress bool
}

// sendEvents sends what q holds, batching the events already queued, each
// progress cursor alone in a response of its own, until quit is closed or
// a Send fails (reported on errc).
func sendEvents(stream dwellv1.ReportService_WatchEventsServer, tenant dwell.TenantID, q *watchQueue, quit <-chan struct{}, errc chan<- error) {
	send := func(resp *dwellv1.WatchEventsResponse) bool {
		if err := stream.Send(resp); err != nil {
			errc <- err
			return false
		}
		return true
	}
	// mark is the progress cursor that ended the last batch, "" for none.
	var mark string
	for {
		if mark != "" {
			if !send(&dwellv1.WatchEventsResponse{ProgressCursor: mark}) {
				return
			}
			mark = ""
		}
		it, ok := q.pop()
		if !ok {
			select {
			case <-q.ready:
				continue
			case <-quit:
				return
			}
		}
		if it.progress {
			mark = eventCursor(tenant, it.e)
			continue
		}
		batch := []*dwellv1.Event{eventToPB(it.e, eventCursor(tenant, it.e))}
		for len(batch) < watchBatch {
			it, ok := q.pop()
			if !ok {
				break
			}
			if it.progress {
				mark = eventCursor(tenant, it.e)
				break
			}
			batch = append(batch, eventToPB(it.e, eventCursor(tenant, it.e)))
		}
		if !send(&dwellv1.WatchEventsResponse{Events: batch}) {
			return
		}
	}
}

// --- Silent reps ---

// silenceTracker remembers each rep's last fix seen, to find the reps
// that fell silent. It is in memory, seeded at start from the store's last
// fix of each rep (seedSilence).
type silenceTracker struct {
	mu sync.Mutex
	// last is the device time of the rep's latest fix seen.
	last map[silentKey]time.Time
	// told is the last fix after which the rep's silence was published.
	told map[silentKey]time.Time
	// stale is set by a change-feed resync (feed.go): an erasure's
	// notification may have been missed, so the sweeper seeds the tracker
	// from the store again before its next sweep (sweepLoop).
	stale atomic.Bool
}

type silentKey struct {
	tenant dwell.TenantID
	rep    dwell.RepID
}

func newSilenceTracker() *silenceTracker {
	return &silenceTracker{last: map[silentKey]time.Time{}, told: map[silentKey]time.Time{}}
}

// saw notes a fix of rep at device time t.
func (st *silenceTracker) saw(tenant dwell.TenantID, rep dwell.RepID, t time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := silentKey{tenant, rep}
	if t.After(st.last[k]) {
		st.last[k] = t
	}
}

// followDay notes a new derivation of one of rep's days, whose tracked
// time ended at was before and ends at end now (zero: none). The last fix
// moves forward with end; it moves back only when it came from this day
// and the day lost its end (its fixes deleted: a resume sweeping a paused
// time, an erasure), so that a silence is never timed from a deleted fix.
// A day left with no tracked time stops the tracking of the rep until its
// next fix: a silence missed rather than one made up.
func (st *silenceTracker) followDay(tenant dwell.TenantID, rep dwell.RepID, was, end time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := silentKey{tenant, rep}
	switch last, ok := st.last[k]; {
	case ok && !was.IsZero() && last.Equal(was) && end.Before(was):
		if end.IsZero() {
			delete(st.last, k)
			delete(st.told, k)
			return
		}
		st.last[k] = end
	case end.After(last):
		st.last[k] = end
	}
}

// silentCandidate is a rep whose last fix has not been followed by a
// published silence.
type silentCandidate struct {
	silentKey
	last time.Time
}

func (st *silenceTracker) candidates() []silentCandidate {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []silentCandidate
	for k, t := range st.last {
		if !st.told[k].Equal(t) {
			out = append(out, silentCandidate{k, t})
		}
	}
	return out
}

// forget stops tracking the rep until its next fix is seen.
func (st *silenceTracker) forget(k silentKey) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.last, k)
	delete(st.told, k)
}

// reset forgets every rep: a lease win, and a change-feed resync, start
// from the store (seedSilence), not from what this tracker noted in an
// earlier term, through an explicit Refresh or before the resync, which
// may be fixes erased since (an erasure this server's change feed missed
// while it reconnected).
func (st *silenceTracker) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	clear(st.last)
	clear(st.told)
}

// forgetAt is forget, unless the rep's last fix is no longer last: one
// seen since is tracked.
func (st *silenceTracker) forgetAt(k silentKey, last time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.last[k].Equal(last) {
		delete(st.last, k)
		delete(st.told, k)
	}
}

func (st *silenceTracker) markTold(k silentKey, last time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.told[k] = last
}

// sweepSilence publishes a REP_SILENT event for every tracked rep whose
// last fix is followed by the tenant's silence threshold of the rep's
// working time, all of it before now and none of it paused (silentAt):
// once per silence (the event's key is the rep and its last fix). The
// event's time is the instant the threshold was reached. A rep left with
// no stored fix (its history erased through another server, whose
// notification this server's feed has not applied yet or missed) is
// forgotten instead; one read of the rep's last fix per silence due.
func (s *Server) sweepSilence(ctx context.Context, now time.Time) error {
	const op = dwell.Op("server.sweepSilence")
	// Like a re-derivation, a sweep must not publish for a rep whose
	// history an erase is deleting (privacy.go).
	s.eraseMu.RLock()
	defer s.eraseMu.RUnlock()
	settings := map[dwell.TenantID]dwell.Settings{}
	for _, c := range s.silence.candidates() {
		set, ok := settings[c.tenant]
		if !ok {
			var err error
			if set, err = s.store.GetSettings(ctx, c.tenant); err != nil {
				return dwell.E(op, err)
			}
			settings[c.tenant] = set
		}
		r, err := s.store.GetRep(ctx, c.tenant, c.rep)
		if dwell.Is(dwell.NotFound, err) {
			s.silence.markTold(c.silentKey, c.last) // a deleted rep is not watched
			continue
		}
		if err != nil {
			return dwell.E(op, err)
		}
		loc, err := s.location(r.TimeZone)
		if err != nil {
			return dwell.E(op, err)
		}
		threshold := set.SilenceMin
		if threshold <= 0 {
			threshold = dwell.DefaultSilenceMin
		}
		// A pause only delays a silence: the rep's pauses are read only
		// when one would be due without them, not for every rep every sweep.
		if at := afterWorking(r, loc, c.last, threshold); at.IsZero() || at.After(now) {
			continue
		}
		at, err := s.silentAt(ctx, c.tenant, r, loc, c.last, threshold, now)
		if err != nil {
			return dwell.E(op, err)
		}
		if at.IsZero() || at.After(now) {
			continue
		}
		// The rep's history may have been erased through another server
		// since this tracker followed it, and the feed not have told this
		// server yet (feed.go, rep-erased): with no fix left there is no
		// silence to tell, and none to time from.
		if lf, err := s.store.LastFixTime(ctx, c.tenant, c.rep); err != nil {
			return dwell.E(op, err)
		} else if lf.IsZero() {
			s.silence.forgetAt(c.silentKey, c.last)
			continue
		}
		e := dwell.Event{
			Type: dwell.EventRepSilent, Rep: c.rep, Team: r.Team, Time: at, DetectTime: now,
			Late: now.Sub(at) > events.LateAfter, Key: events.SilenceKey(c.rep, c.last),
		}
		if _, err := s.events.publish(ctx, c.tenant, []dwell.Event{e}); err != nil {
			return err
		}
		s.silence.markTold(c.silentKey, c.last)
	}
	return nil
}

// silentAt returns the instant at which rep r, whose last fix was at last,
// has been silent for threshold of its working time, leaving out the time
// it had paused tracking: a pause is no silence (the rep asked not to be
// tracked), and after a resume the silence counts from the resume, so it
// is never earlier than afterWorking(r, loc, last, threshold). It
// returns the zero time while the rep is paused, or when afterWorking
// finds no such instant. Pauses that began before the last fix are over:
// fixes after a pause not resumed mean the phone tracks again, as the
// timeline reads them.
func (s *Server) silentAt(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, loc *time.Location, last time.Time, threshold time.Duration, now time.Time) (time.Time, error) {
	paused, err := s.pausesFrom(ctx, tenant, r.ID, last, now)
	if err != nil {
		return time.Time{}, err
	}
	from := last
	for _, sp := range paused {
		if sp.Start.Before(last) {
			continue
		}
		if at := afterWorking(r, loc, from, threshold); at.IsZero() || at.Before(sp.Start) {
			return at, nil // silent before the pause
		}
		if sp.End.IsZero() {
			return time.Time{}, nil // paused now
		}
		from = sp.End
	}
	return afterWorking(r, loc, from, threshold), nil
}

// afterWorking returns the instant at which d of r's working time has
// passed since from, or the zero time if that is not within a few weeks
// (a rep whose working hours are all but never). A rep without working
// hours always works.
func afterWorking(r dwell.Rep, loc *time.Location, from time.Time, d time.Duration) time.Time {
	t := from
	for range 64 {
		next := r.NextWorkingChange(t, loc)
		if r.InWorkingHours(t, loc) {
			if next.IsZero() || next.Sub(t) >= d {
				return t.Add(d)
			}
			d -= next.Sub(t)
		} else if next.IsZero() {
			return time.Time{}
		}
		t = next
	}
	return time.Time{}
}

// silenceSeedWindow is how far back seedSilence looks: a rep silent for
// longer before a start is not watched until its next fix.
const silenceSeedWindow = 7 * 24 * time.Hour

// seedSilence tells the silence tracker, for each rep with a stored fix in
// the last silenceSeedWindow, where its tracked time ended (trackedEnd),
// so that a restart or a lease handover does not leave reps who fell
// silent before it unwatched. That is the instant the refresher's
// derivations noted (followDay), so a silence already published before
// is not published again: its event key, the rep and that instant, is in
// the log.
func (s *Server) seedSilence(ctx context.Context, now time.Time) (int, error) {
	const op = dwell.Op("server.seedSilence")
	n := 0
	for r, err := range s.dataReps(ctx) {
		if err != nil {
			return n, dwell.E(op, err)
		}
		at, err := s.store.LastFixTime(ctx, r.Tenant, r.Rep)
		if err != nil {
			return n, dwell.E(op, err)
		}
		if !at.IsZero() && now.Sub(at) <= silenceSeedWindow {
			end, err := s.trackedEnd(ctx, r.Tenant, r.Rep, at)
			if err != nil {
				return n, dwell.E(op, err)
			}
			if !end.IsZero() {
				s.silence.saw(r.Tenant, r.Rep, end)
				n++
			}
		}
	}
	return n, nil
}

// sweepLoop seeds the silence tracker, then runs sweepSilence every
// interval until ctx ends; after a change-feed resync it clears the
// tracker and seeds it again before the next sweep. A sweep in progress when ctx ends is cancelled
// (what it did not publish, the next sweeper does: its events' keys are
// stable).
func (s *Server) sweepLoop(ctx context.Context, interval time.Duration) {
	seed := func() {
		if s.store == nil {
			return
		}
		if _, err := s.seedSilence(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Error("seeding the silence tracker from the store", "err", err)
		}
	}
	// The tracker was cleared at the lease win (runBackground); this seed
	// reads the store after every resync so far.
	s.silence.stale.Store(false)
	seed()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if s.silence.stale.Swap(false) {
				// The change feed resynced: an erasure it missed would
				// leave the tracker timing from erased fixes.
				s.silence.reset()
				seed()
			}
			sctx, cancel := context.WithTimeout(ctx, interval)
			if err := s.sweepSilence(sctx, s.now()); err != nil && ctx.Err() == nil {
				s.log.Error("looking for silent reps", "err", err)
			}
			cancel()
		}
	}
}

// trackedEnd returns where rep's tracked time ended, as the refresher's
// derivations tell the silence tracker (trackedUntil): the end of the
// current stored summary of the day of its last stored fix, at. That can
// be before at (the timeline drops a mock fix or an outlier). It returns
// the zero time when that day has no current summary (the day is marked:
// the refresher's derivation of it tells the tracker, followDay) or no
// tracked time (followDay would stop tracking the rep), and at for a rep
// no longer in the directory (the sweep skips it).
func (s *Server) trackedEnd(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, at time.Time) (time.Time, error) {
	r, err := s.store.GetRep(ctx, tenant, rep)
	if dwell.Is(dwell.NotFound, err) {
		return at, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return time.Time{}, err
	}
	day, err := s.currentDay(ctx, tenant, rep, dwell.DateOf(at, loc), false)
	if errors.Is(err, kpi.ErrCorrupt) {
		return time.Time{}, dwell.E(dwell.Other, "decoding a day summary", err)
	}
	if err != nil || day == nil {
		return time.Time{}, err
	}
	return trackedUntil(day, time.Time{}), nil
}

// managerScopeGrew reports whether the manager of a scope taken from its
// teams (no team filter) now manages a team the scope lacks.
func (s *Server) managerScopeGrew(ctx context.Context, sc watchScope) (bool, error) {
	if sc.manager.Subject == "" || sc.team != "" {
		return false, nil
	}
	ts, err := s.managedTeams(ctx, sc.manager)
	if err != nil {
		return false, err
	}
	for t := range ts {
		if !sc.teams[t] {
			return true, nil
		}
	}
	return false, nil
}

// teamGens counts, per tenant, the team writes this server made
// (DirectoryService's CreateTeam, UpdateTeam, DeleteTeam) or heard of
// through the store's change feed (feed.go), so that a manager's stream
// reads her teams again only after one (rescope): per read of the log it
// costs a map load and two atomic loads.
type teamGens struct {
	tenants sync.Map // dwell.TenantID -> *atomic.Uint64
	// all counts the feed's resyncs, after which a team write of any
	// tenant may have been missed.
	all atomic.Uint64
}

func (g *teamGens) counter(t dwell.TenantID) *atomic.Uint64 {
	if c, ok := g.tenants.Load(t); ok {
		return c.(*atomic.Uint64)
	}
	c, _ := g.tenants.LoadOrStore(t, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

// bump notes that a team of tenant t was, or may have been, written. Call
// it after the write's commit: a stream that reads the generation after
// it reads the teams as written.
func (g *teamGens) bump(t dwell.TenantID) { g.counter(t).Add(1) }

// bumpAll is bump for every tenant.
func (g *teamGens) bumpAll() { g.all.Add(1) }

// of returns tenant t's generation: it changes at every bump of t and
// every bumpAll.
func (g *teamGens) of(t dwell.TenantID) uint64 { return g.counter(t).Load() + g.all.Load() }
