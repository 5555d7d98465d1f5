package server

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// This file follows the writes of other servers sharing the store. What a
// server keeps in memory per tenant (the geofence index, fences.go; the
// partner grants, partners.go; the event tail and the WatchEvents
// wake-ups, watch.go) follows its own writes in the same step as the
// write. A store that several servers share (pgstore) also reports every
// committed change to those records, whichever server made it (a
// changeFeed); the feed applies them:
//
//   - a client: re-read it and put it in, or remove it from, the tenant's
//     index, if built (fences.refresh: idempotent, so changes applied
//     late, twice or out of order converge on the store's state; this
//     server's own writes come back too and change nothing);
//   - a partner account or the settings: drop the tenant's grants, loaded
//     again on their next use;
//   - events appended: raise the tenant's tail to the log's head and wake
//     its streams, which read what the tail lacks from the store;
//     events removed: drop the tail and wake them;
//   - teams: move the tenant's team generation on, so that its managers'
//     WatchEvents streams read their teams again before their next event
//     (watch.go, "Scope");
//   - a rep's history erased: forget the rep in the silence tracker
//     (watch.go), as the erasing server did, so that the server holding
//     the background lease never times a silence from an erased fix; the
//     refresher, which syncs first, notes the rep's next fixes afresh;
//   - a resync (the feed starts, or reconnected after losing its
//     connection, so changes may have been missed): all of it for every
//     tenant; the silence tracker is marked stale, cleared and seeded
//     from the store before the sweeper's next sweep (watch.go); the
//     indexes built, and those being built (waited for), are brought in
//     step with the store at once (fences.reload: every client read,
//     only the fences changed or gone touched; queries go on meanwhile).
//
// The store's goroutine only queues what it is told; one worker applies
// it, so a slow store read never holds the notifications back, and
// changes that arrive while it works are merged (a client changed many
// times is read once; when many of a tenant's clients changed, an import,
// the tenant's clients are read by pages instead and its index brought in
// step with them, see feedReloadMin). A change is therefore
// seen by this server some milliseconds after its commit
// (BenchmarkFeedPropagation), not at once: a write on one server
// followed at once by a read on another may see the old state there.
//
// What must not see the old state waits for the feed (sync): the
// refresher, which stores each summary as derived from the data version
// it read, must derive with an index that holds every client change
// committed before it listed the marks (a change on another server marks
// the tenant's days; a summary derived with the old index would be
// stored as current and kept). sync sends a token through the feed
// itself (the store's SyncChanges): notifications arrive in commit order,
// so once the worker has applied what was queued before the token, it
// has applied every change committed before the call. A feed that lost
// its connection may never deliver the token; its resync, which rebuilds
// what the lost changes would have changed from the store, releases the
// waiters instead. A sync that neither hears its token nor sees a resync
// within feedSyncWait fails, and the refresher derives nothing until a
// later pass: a summary left stale is derived again, a stale one stored
// as current would not be.

// changeFeed is a store that reports the changes any process commits to
// clients, partner accounts, settings, event logs and teams (store.Change):
// *pgstore.Store. WatchChanges calls fn, one change at a time and first
// with a resync, until ctx ends.
//
// SyncChanges sends token through the same feed: every listener is told
// of it (store.Change.Sync) after every change committed before the call.
type changeFeed interface {
	WatchChanges(ctx context.Context, fn func(store.Change)) error
	SyncChanges(ctx context.Context, token string) error
}

// When at least feedReloadMin clients of a tenant changed, and at least
// one in feedReloadShare of its index's fences, the worker reads every
// client of the tenant (pages of fenceLoadPage clients) and brings the
// index in step with them (fences.reload) rather than re-read each (a
// transaction each). The share is an estimate of the cost
// of a point read in clients read by pages, not a measurement.
const (
	feedReloadMin   = 256
	feedReloadShare = 16
)

// feedMaxQueued bounds the changed client ids queued for one tenant;
// beyond it the tenant's index is brought in step with the store whole.
const feedMaxQueued = 1 << 16

// feedReadyWait bounds how long LoadFences waits for the feed's first
// resync before it builds the indexes anyway (the resync then brings
// them in step).
const feedReadyWait = 10 * time.Second

// feedSyncWait bounds how long sync waits for the feed to catch up: a
// feed that is connected delivers a token in milliseconds, but its worker
// may be rebuilding an index after an import (seconds); a feed that is
// reconnecting releases the waiters with its resync.
const feedSyncWait = 5 * time.Second

// feed applies a changeFeed's changes to the server's memory.
type feed struct {
	s   *Server
	src changeFeed

	mu      sync.Mutex // guards resync, pending, synced, waits, nextSync
	resync  bool
	pending map[dwell.TenantID]*tenantChanges
	// synced are the sync tokens heard since the worker last looked, of
	// this server or another (ignored), in the order heard.
	synced []string
	// waits are the channels of the syncs in progress, by token, closed
	// once their token is heard and what came before it applied, or a
	// resync applied.
	waits map[string]chan struct{}
	// id makes this feed's tokens unique among the servers (and test
	// stores) listening on the database; nextSync numbers them.
	id       string
	nextSync uint64

	// resyncsBegun and resyncsDone count the resyncs the worker began
	// and finished applying, for the tests (export_feed_test.go).
	resyncsBegun, resyncsDone atomic.Int64

	kick      chan struct{} // has a value when there is work
	ready     chan struct{} // closed once the first resync is applied
	readyOnce sync.Once
	cancel    context.CancelFunc
	done      sync.WaitGroup
}

// tenantChanges is what changed in one tenant since the worker last
// looked.
type tenantChanges struct {
	clients  map[dwell.ClientID]bool
	reload   bool // more than feedMaxQueued clients changed
	partners bool // accounts or settings changed
	appended bool
	removed  bool
	teams    bool // teams created, replaced or deleted
	// erased are the reps whose history was erased (through any server).
	erased map[dwell.RepID]bool
}

// startFeed starts following src; stop ends it.
func startFeed(s *Server, src changeFeed) *feed {
	ctx, cancel := context.WithCancel(context.Background())
	f := &feed{s: s, src: src, pending: map[dwell.TenantID]*tenantChanges{},
		waits: map[string]chan struct{}{}, id: rand.Text(),
		kick: make(chan struct{}, 1), ready: make(chan struct{}), cancel: cancel}
	f.done.Add(2)
	go func() {
		defer f.done.Done()
		// It returns only when ctx ends; it reconnects by itself.
		_ = src.WatchChanges(ctx, f.queue)
	}()
	go func() {
		defer f.done.Done()
		f.work(ctx)
	}()
	return f
}

// stop ends the feed and waits for its goroutines. Safe on nil.
func (f *feed) stop() {
	if f == nil {
		return
	}
	f.cancel()
	f.done.Wait()
}

// waitReady waits until the first resync is applied, ctx ends or at most
// d: what is built from the store after it misses no change.
func (f *feed) waitReady(ctx context.Context, d time.Duration) {
	if f == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-f.ready:
	case <-ctx.Done():
	case <-t.C:
	}
}

// queue notes c for the worker. It never blocks on the worker.
func (f *feed) queue(c store.Change) {
	f.mu.Lock()
	if c.Sync != "" {
		f.synced = append(f.synced, c.Sync)
	} else if c.Resync {
		f.resync = true
	} else {
		tc := f.pending[c.Tenant]
		if tc == nil {
			tc = &tenantChanges{}
			f.pending[c.Tenant] = tc
		}
		switch c.Kind {
		case store.ChangeClients:
			switch {
			case tc.reload:
			case len(tc.clients) >= feedMaxQueued:
				tc.reload, tc.clients = true, nil
			default:
				if tc.clients == nil {
					tc.clients = map[dwell.ClientID]bool{}
				}
				tc.clients[dwell.ClientID(c.ID)] = true
			}
		case store.ChangePartners, store.ChangeSettings:
			tc.partners = true
		case store.ChangeEvents:
			tc.appended = true
		case store.ChangeEventsRemoved:
			tc.removed = true
		case store.ChangeTeams:
			tc.teams = true
		case store.ChangeRepErased:
			if tc.erased == nil {
				tc.erased = map[dwell.RepID]bool{}
			}
			tc.erased[dwell.RepID(c.ID)] = true
		}
	}
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// work applies what was queued, until ctx ends.
func (f *feed) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		}
		f.mu.Lock()
		resync, pending, synced := f.resync, f.pending, f.synced
		f.resync, f.pending, f.synced = false, map[dwell.TenantID]*tenantChanges{}, nil
		var release []chan struct{}
		for _, tok := range synced {
			if ch := f.waits[tok]; ch != nil {
				release = append(release, ch)
				delete(f.waits, tok)
			}
		}
		if resync {
			// The resync reads the store after every sync now waiting
			// began: it releases them, heard or not.
			for tok, ch := range f.waits {
				release = append(release, ch)
				delete(f.waits, tok)
			}
		}
		f.mu.Unlock()
		if resync {
			f.resyncsBegun.Add(1)
			f.applyResync(ctx)
			f.resyncsDone.Add(1)
			f.readyOnce.Do(func() { close(f.ready) })
		}
		for t, tc := range pending {
			f.apply(ctx, t, tc)
		}
		f.s.metrics.feedApply(len(pending), resync)
		for _, ch := range release {
			close(ch)
		}
	}
}

// sync returns once this server has applied every change committed to
// the store before the call (see the file's comment), and nil at once
// when there is no feed (a store no other server shares). It returns an
// error if the token cannot be sent, or if neither it nor a resync is
// applied within feedSyncWait or before ctx ends.
func (f *feed) sync(ctx context.Context) error {
	const op = dwell.Op("server.feed.sync")
	if f == nil {
		return nil
	}
	f.mu.Lock()
	f.nextSync++
	tok := f.id + "-" + strconv.FormatUint(f.nextSync, 10)
	ch := make(chan struct{})
	f.waits[tok] = ch
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waits, tok)
		f.mu.Unlock()
	}()
	if err := f.src.SyncChanges(ctx, tok); err != nil {
		return dwell.E(op, err)
	}
	t := time.NewTimer(feedSyncWait)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return dwell.E(op, ctx.Err())
	case <-t.C:
		return dwell.E(op, "the change feed did not catch up within "+feedSyncWait.String())
	}
}

// applyResync forgets everything this server derived from the store:
// grants and tails are dropped, streams woken, and the indexes built are
// brought in step with the store (at once, so the next fixes need not
// wait for it). An index being built for the first time is too, once
// built: its build may have read the store before a change the feed
// missed, and would keep it until that client changed again.
func (f *feed) applyResync(ctx context.Context) {
	s := f.s
	s.partners.dropAll()
	s.teamGens.bumpAll()
	s.events.resync()
	s.silence.stale.Store(true)
	for _, t := range s.fences.used() {
		f.reload(ctx, t)
	}
}

// reload brings the tenant's index in step with the store; a failed
// reload drops the index, built again on its next use.
func (f *feed) reload(ctx context.Context, t dwell.TenantID) {
	put, deleted, err := f.s.fences.reload(ctx, t)
	switch {
	case err != nil && ctx.Err() == nil:
		f.s.log.WarnContext(ctx, "change feed: bringing a geofence index in step with the store failed; it is built again on its next use",
			slog.String("tenant", string(t)), slog.Any("err", err))
	case put+deleted > 0:
		f.s.log.InfoContext(ctx, "change feed: geofence index brought in step with the store",
			slog.String("tenant", string(t)), slog.Int("fences_put", put), slog.Int("fences_deleted", deleted))
	}
}

// apply applies one tenant's changes.
func (f *feed) apply(ctx context.Context, t dwell.TenantID, tc *tenantChanges) {
	s := f.s
	if len(tc.erased) > 0 {
		// As in the erasing server's eraseRepHistory, under eraseMu: a
		// derivation in flight here, which may have read the erased fixes
		// and notes its day's end in the tracker before the store refuses
		// its summary, finishes first, so the forget comes after it.
		s.eraseMu.Lock()
		for rep := range tc.erased {
			s.silence.forget(silentKey{t, rep})
		}
		s.eraseMu.Unlock()
	}
	if tc.teams {
		s.teamGens.bump(t)
	}
	if tc.partners {
		s.partners.drop(t)
	}
	if tc.removed {
		s.events.removed(t)
	}
	if tc.appended {
		if err := s.events.appended(ctx, t); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "change feed: reading the event log's head failed; streams read the store",
				slog.String("tenant", string(t)), slog.Any("err", err))
		}
	}
	if k := len(tc.clients); tc.reload || k >= feedReloadMin && k*feedReloadShare >= s.fences.size(t) {
		f.reload(ctx, t)
		return
	}
	for id := range tc.clients {
		if ctx.Err() != nil {
			return
		}
		if err := s.fences.refresh(ctx, t, id); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "change feed: re-reading a client failed; the geofence index is built again on its next use",
				slog.String("tenant", string(t)), slog.String("client", string(id)), slog.Any("err", err))
		}
	}
}
