package server

import (
	"context"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// The background work: one server of those sharing a store runs it.
//
// The summary refresher (refresh.go) and the silence sweeper (watch.go)
// are the server's background work. With a store of its own (boltstore)
// a server runs them from New until Close. A store that many servers
// share (pgstore) elects one to run them: such a store is a leaser, and
// New runs the work inside its lease backgroundLease instead: the
// refresher and the sweeper start when this server wins the lease (the
// sweeper seeds its tracker from the store, as at a restart, so the
// reps of the days another server derived are watched), stop when it
// loses it, and start again at the next win. Two servers would drain the
// same dirty marks twice, and a sweeper sees only the days its own
// refresher derived, so a second one would publish false REP_SILENT
// events.
//
// Caveats. The lease's guarantee is the store's: at most one holder at a
// time as the database sees it, but a holder whose session the database
// ended runs on until it notices (about a second), so for that long two
// servers may run the work. It is idempotent: a summary is stored with
// the version it was derived from, and an event's key is stored once.
// Server.Refresh (an explicit pass) runs on every server, holder or not.
// Config.RefreshWorkers < 0 still means "never run it here": such a
// server does not even contend for the lease.

// leaser is a store that elects one of the servers sharing it to run a
// piece of work (*pgstore.Store).
type leaser interface {
	// Lead runs fn while this process holds the lease name, again at
	// each win, until ctx ends; fn's context ends when the lease is lost.
	Lead(ctx context.Context, name string, fn func(ctx context.Context)) error
}

// backgroundLease names the lease of the background work.
const backgroundLease = "background"

// runBackground runs the summary refresher and, unless sweep is 0, the
// silence sweeper every sweep, until ctx ends; it returns once both have
// stopped.
func (s *Server) runBackground(ctx context.Context, sweep time.Duration) {
	if sweep > 0 {
		// Before the refresher starts, so that what its derivations note
		// is kept; the sweeper seeds the tracker from the store.
		s.silence.reset()
	}
	if s.store != nil {
		s.rederiveIfNewer(ctx)
		s.refresh.start()
	}
	var wg sync.WaitGroup
	if sweep > 0 {
		wg.Go(func() { s.sweepLoop(ctx, sweep) })
	}
	<-ctx.Done()
	wg.Wait()
	s.refresh.stop()
}

// rederiveIfNewer has the store mark every tenant's recent days (those a
// settings change re-derives, store.RederiveDays) if the summaries were
// derived by an older derivation than this server's (timeline.Version),
// so the refresher then derives them again with this one: a release that
// fixes a rule reaches the reports of the recent past, not only days with
// new data. A failure is logged and tried again at the next start of the
// background work.
func (s *Server) rederiveIfNewer(ctx context.Context) {
	marked, err := s.store.RederiveAll(ctx, timeline.Version)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("marking the recent days for a new derivation failed; tried again at the next start",
			"derivation", timeline.Version, "err", err)
	case marked:
		s.log.Info("new derivation: the recent days of every tenant are derived again",
			"derivation", timeline.Version, "days_back", store.RederiveDays)
	}
}

// leadLoop contends for the background lease of l until Close and runs
// the background work while it holds it; it closes s.background when it
// returns.
func (s *Server) leadLoop(l leaser, sweep time.Duration) {
	defer close(s.background)
	ctx, cancel := s.untilClosing()
	defer cancel()
	err := l.Lead(ctx, backgroundLease, func(ctx context.Context) {
		s.log.Info("background lease won: running the summary refresher and the silence sweeper here")
		s.runBackground(ctx, sweep)
		s.log.Info("background lease given up: the summary refresher and the silence sweeper stopped here")
	})
	if ctx.Err() == nil && err != nil {
		// The store was closed before the server: nothing left to run.
		s.log.Warn("background lease: no longer contending", "err", dwell.E(dwell.Op("server.leadLoop"), err))
	}
}

// untilClosing returns a context that ends when the server closes (or
// cancel is called).
func (s *Server) untilClosing() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
