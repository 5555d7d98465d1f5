package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// Per rep-day summaries, kept current.
//
// The store bumps a rep-day's data version and marks it dirty in the same
// transaction as every write the day derives from (fixes, check-ins,
// check-outs, calls; settings and client changes mark the tenant's last
// store.RederiveDays days), so a mark is never lost, even by a crash. The
// refresher drains the marks: it lists them, re-derives each day with
// derive (the code GetRepDay runs), tells the day listeners (the live
// events) what changed since the stored summary, then stores the summary
// (kpi.Day) with the version it was derived from, and the store clears the
// mark only if no newer data arrived meanwhile; otherwise the next pass
// derives the day again. A listener that fails leaves the mark and the
// previous summary, so the next pass tells it again. Repeated marks of one day coalesce into one key, so a burst of
// uploads costs one derivation per pass, not one per upload.
//
// The refresher runs from New until Close (on a store shared by several
// servers, only while this server holds the background lease: lease.go):
// a pass starts when a write is acknowledged (notify), every refreshPoll
// otherwise (settings and client changes mark days without a notify), and
// at start, which drains what a crash (or the previous holder of the
// lease) left. A pass hands days to refreshWorkers goroutines. Errors leave
// the marks in place; the next pass retries.
//
// Readers never wait for the refresher: a report that finds a day's summary
// stale (or missing) derives that day inline from the store (daySummaries),
// so answers are always as current as the data. A day begun with no data at
// all has no data version, so no mark and no summary; one that a pause
// covers (the days after a pause not yet resumed, or those of a pause more
// than the 31 days a resume marks before it) is paused time all the same,
// which GetRepDay shows, and the reports derive it inline at every call
// from the rep's pauses alone (pausedDays); nothing stores it. A day that
// lost data to retention is an exception to the inline derivations:
// neither the refresher nor a report derives it again while it has a summary (keptSummary). The summary
// of the day that holds the present, when it ends in a pause not yet
// resumed, is not read as it is: the refresher holds that pause to the
// day's end, and a report ends it now, as GetRepDay does. When the pause
// ran to the day's end as its last segment, the report reads the summary
// with that segment ending now (kpi.Day.PausedUntil), which is the day
// derived now; otherwise it derives the day inline (liveDay).
//
// GetRepDay and the reports tell one story of a day. A change of the
// tenant's settings or clients, or of a rep's zone or working hours,
// derives again only the days from store.RederiveDays (and one) before
// the present; older days keep what they were derived with, and GetRepDay
// serves their current summaries rather than derive them with today's
// directory (settled in report.go). After a change of a rep's zone to one
// ahead, the store also marks the old zone's day that holds the start of
// the first day derived again (markRep), so the two do not both count
// the instants between.
//
// A server whose derivation is newer than the one the store's summaries
// were derived with (timeline.Version, recorded by the store) has the
// store mark every tenant's last store.RederiveDays days when its
// background work starts (rederiveIfNewer, store RederiveAll), so a
// release that fixes a rule reaches the recent reports; older days keep
// what they were derived with, as after a settings change.
//
// Caveats. A day is found through its data version (or, with no data,
// through the pause that covers it: pausedDays), so data stored before the
// store kept versions (none in a released file) is not summarised until new
// data marks its day. A day without data that a pause covers is derived in
// the rep's zone now, like GetRepDay's: after a change of zone its paused
// instants may also lie in a stored day of the old zone's cut, and count in
// both, as fixes in the band do (below). A rep's days are cut in the zone
// the directory holds when the data arrives; after a change of zone, old
// days keep their old cut until they are marked again. Where the kept
// old-zone days meet the days derived again in the new zone, days of
// unequal cuts meet: a zone ahead makes the day markRep marks (derived in
// the new zone) begin before the old zone's day before it ends, so a fix in
// that band (the offset's width, a day further back) counts in both stored
// days (TestVisitsPageKeyUnique), and a zone behind leaves the instants
// between the old zone's last kept midnight and the new zone's first in no
// stored day. Data arriving later for an old day derives it in the zone
// now, with the same effect at its edges. A summary does not record the
// zone it was cut in. A derivation that fails (timeline.Derive panicking is
// caught and turned into an error) leaves its mark, is logged and is
// retried at every pass; reports derive that day inline and answer INTERNAL
// for it. Each summary costs one fsync'd write; a burst of marks is drained
// by Config.RefreshWorkers derivations at a time.

// refreshPoll is how often the refresher looks for marks without a notify.
const refreshPoll = 2 * time.Second

// refreshRestRatio is the rest after a busy pass, in passes' durations;
// refreshRestMax bounds it. BenchmarkIngest at 64 streams × 100 fixes
// (durable) lost about 30% to a refresher that rested as long as it
// worked, and 25% less of that with three times as long.
const (
	refreshRestRatio = 3
	refreshRestMax   = 2 * time.Second
)

// refreshPage is how many marks one listing returns.
const refreshPage = 256

// dayChange is one re-derived rep-day, as told to the day listeners: prev
// is the derivation stored before (nil the first time), next the new one.
type dayChange struct {
	tenant dwell.TenantID
	rep    dwell.RepID
	// team is the rep's team as the refresher read it ("" for a rep no
	// longer in the directory), so listeners need not read the rep again.
	team dwell.TeamID
	// r is the rep as the refresher read it and derived the day with (a
	// rep no longer in the directory in UTC without working hours): the
	// live events derive the day before with it when they need it.
	r dwell.Rep
	// settings are the tenant's settings the derivation used.
	settings dwell.Settings
	date     dwell.Date
	// version is the day's data version the derivation started from (the
	// mark's): the store refuses its events and summary if the rep's
	// history was erased since (store.EventLog.AppendDayEvents).
	version    uint64
	prev, next *timeline.Day
	// lastKept is the last fix the derivation kept (timeline.Day.LastFix;
	// zero if none), which next, rebuilt from the stored summary, does
	// not hold: the silence tracker hears the rep at it (trackedUntil).
	lastKept   time.Time
	detectTime time.Time
}

// refresher keeps the per rep-day summaries current.
type refresher struct {
	s       *Server
	workers int
	wake    chan struct{}
	// mu guards cancel and done, the running loop's (nil when none
	// runs): start and stop may be called again and again, from any
	// goroutine (the background lease starts and stops the loop at each
	// win and loss, lease.go).
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	// passMu serialises passes: the background loop's and Refresh's.
	passMu sync.Mutex
}

func newRefresher(s *Server, workers int) *refresher {
	if workers < 1 {
		workers = 1
	}
	return &refresher{s: s, workers: workers, wake: make(chan struct{}, 1)}
}

// start runs the background loop until stop; it does nothing if the loop
// runs already.
func (rf *refresher) start() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	rf.cancel, rf.done = cancel, make(chan struct{})
	rf.s.metrics.running(true)
	go rf.loop(ctx, rf.done)
}

// stop ends the loop and waits for the pass in progress; it does nothing
// if the loop does not run. The loop may be started again.
func (rf *refresher) stop() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.cancel == nil {
		return
	}
	rf.cancel()
	<-rf.done
	rf.cancel, rf.done = nil, nil
	rf.s.metrics.running(false)
}

// running reports whether the background loop runs (start was called
// and stop was not since).
func (rf *refresher) running() bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.cancel != nil
}

// notify asks for a pass soon. It never blocks.
func (rf *refresher) notify() {
	select {
	case rf.wake <- struct{}{}:
	default:
	}
}

// loop runs passes until ctx ends (or the store is closed), then closes
// done.
func (rf *refresher) loop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(refreshPoll)
	defer t.Stop()
	for {
		for {
			began := time.Now()
			n, err := rf.pass(ctx)
			if dwell.Is(dwell.Unavailable, err) || ctx.Err() != nil {
				return // the store is closed: nothing left to do
			}
			if err != nil || n == 0 {
				break
			}
			// Rest refreshRestRatio times as long as the pass took (at
			// most refreshRestMax), so under sustained ingest the
			// refresher uses at most a quarter of its workers' CPU and
			// acknowledgements keep the rest; the marks it leaves are
			// durable and coalesce meanwhile. When data trickles in,
			// passes are short and so are the rests.
			select {
			case <-ctx.Done():
				return
			case <-time.After(min(refreshRestRatio*time.Since(began), refreshRestMax)):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-rf.wake:
		case <-t.C:
		}
	}
}

// pass re-derives every day dirty when it starts (and those marked while
// it runs that it meets) and returns how many it derived. The first error
// is returned after the pass.
func (rf *refresher) pass(ctx context.Context) (int, error) {
	rf.passMu.Lock()
	defer rf.passMu.Unlock()
	jobs := make(chan store.DayVersion)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	// n are the days derived, pending those listed and not yet derived
	// (dwell_refresh_pending_days).
	n, pending := 0, 0
	met := rf.s.metrics
	for range rf.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				began := time.Now()
				err := rf.s.refreshDay(ctx, m)
				if ctx.Err() == nil { // not cut short by a stop
					met.derivation(time.Since(began), err)
				}
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil {
					n++
				}
				pending--
				met.pending(pending)
				mu.Unlock()
			}
		}()
	}
	var after store.DayKey
	var err error
	for ctx.Err() == nil {
		var marks []store.DayVersion
		marks, err = rf.s.store.ListDirtyDays(ctx, after, refreshPage)
		if err != nil || len(marks) == 0 {
			break
		}
		// Derive with a geofence index that holds every client change
		// committed before the marks were listed: other servers' through
		// the feed (feed.go: sync), this server's once their index
		// update is done (settle).
		if err = rf.s.feed.sync(ctx); err != nil {
			break
		}
		var last dwell.TenantID
		for i, m := range marks {
			if i == 0 || m.Tenant != last {
				rf.s.fences.settle(m.Tenant)
				last = m.Tenant
			}
		}
		mu.Lock()
		pending += len(marks)
		met.pending(pending)
		mu.Unlock()
		for _, m := range marks {
			jobs <- m
		}
		after = marks[len(marks)-1].DayKey
	}
	close(jobs)
	wg.Wait()
	met.pending(0)
	if err == nil {
		err = first
	}
	if err != nil && !dwell.Is(dwell.Unavailable, err) && ctx.Err() == nil {
		rf.s.log.Warn("refresher: pass failed; the marks stay for the next pass", slog.Any("err", err))
	}
	return n, err
}

// Refresh runs one refresh pass now and returns when every day dirty at
// its start is summarised (or the first error). Tests and tools use it to
// wait for summaries; the server does not need it.
func (s *Server) Refresh(ctx context.Context) error {
	for {
		n, err := s.refresh.pass(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// refreshDay re-derives one marked day, tells the day listeners, and only
// then stores its summary with the version it was derived from. The
// previous derivation (what the listeners diff against) stays stored until
// every listener has succeeded: a listener's error, or a crash before the
// summary is stored, leaves the mark and the old summary, so the next pass
// tells the listeners again against the same previous derivation. The
// listeners must therefore be idempotent (the event log stores each event
// key once). Passes are serialised and a pass hands each rep-day to one
// worker, so nothing else stores this day's summary meanwhile (reports
// derive stale days inline but never store them).
//
// An erasure of the rep's history while the day is derived (eraseMu keeps
// this server's erasures out, but another server sharing the store may
// erase at any moment) raises the day's version above m.Version: the
// store then refuses the events (the listeners publish with
// AppendDayEvents at m.Version) and the summary, so nothing read before
// the erase is published or stored after it.
func (s *Server) refreshDay(ctx context.Context, m store.DayVersion) error {
	const op = dwell.Op("server.refreshDay")
	s.eraseMu.RLock()
	defer s.eraseMu.RUnlock()
	r, err := s.store.GetRep(ctx, m.Tenant, m.Rep)
	if dwell.Is(dwell.NotFound, err) {
		// A rep deleted from the directory (or never in it): its days are
		// summarised in UTC without working hours, so the mark clears.
		r = dwell.Rep{ID: m.Rep, TimeZone: "UTC"}
	} else if err != nil {
		return err
	}
	kept, det, err := s.keptSummary(ctx, m.Tenant, r, m.Date)
	if err != nil {
		return err
	}
	if kept.Summary != nil {
		// The day lost data to retention and can no longer change: its
		// summary is stored again as of this version, which clears the
		// mark, and the listeners have nothing new to tell.
		if _, _, err := s.store.PutDaySummary(ctx, m.Tenant, m.Rep, m.Date, m.Version, kept.Summary, det); err != nil {
			return err
		}
		if ds, err := kpi.DecodeSummaries([][]byte{kept.Summary}); err == nil && len(ds) == 1 {
			s.days.put(dayCacheKey{m.Tenant, m.Rep, m.Date}, m.Version, ds[0])
		}
		return nil
	}
	settings, err := s.store.GetSettings(ctx, m.Tenant)
	if err != nil {
		return err
	}
	d, err := s.derive(ctx, m.Tenant, r, m.Date, settings, false)
	if err != nil {
		return err
	}
	sum, err := s.summary(ctx, m.Tenant, r, m.Date, d)
	if err != nil {
		return err
	}
	if len(s.dayListeners) > 0 {
		stored, det, err := s.store.GetDaySummary(ctx, m.Tenant, m.Rep, m.Date)
		if err != nil {
			return err
		}
		if stored.SummaryVersion > m.Version {
			// A newer derivation is stored already: this one would not be.
			return nil
		}
		ch := dayChange{tenant: m.Tenant, rep: m.Rep, team: r.Team, r: r, settings: settings, date: m.Date, version: m.Version, next: sum.Timeline(), detectTime: s.now()}
		if f, ok := d.day.LastFix(); ok {
			ch.lastKept = f.Time
		}
		if stored.Summary != nil {
			prev, err := kpi.DecodeDay(stored.Summary, det)
			if err != nil {
				return dwell.E(op, dwell.Other, "decoding the previous summary", err)
			}
			ch.prev = prev.Timeline()
		}
		for _, l := range s.dayListeners {
			if err := l(ctx, ch); err != nil {
				return dwell.E(op, fmt.Sprintf("rep %s, %v: a day listener failed; the day stays marked", m.Rep, m.Date), err)
			}
		}
	}
	enc := sum.EncodeSummary()
	if _, _, err = s.store.PutDaySummary(ctx, m.Tenant, m.Rep, m.Date, m.Version, enc, sum.EncodeDetail()); err != nil {
		return err
	}
	// Warm the reports' cache with the day as a report would decode it
	// from the store, so a team query after data arrives decodes nothing;
	// only days not refreshed since the server started are cold.
	if ds, err := kpi.DecodeSummaries([][]byte{enc}); err == nil && len(ds) == 1 {
		s.days.put(dayCacheKey{m.Tenant, m.Rep, m.Date}, m.Version, ds[0])
	}
	return nil
}

// derived is one rep-day derived from the store: the timeline and what it
// was derived from.
type derived struct {
	day timeline.Day
	// fixes are the stored fixes of the day's bounds, in time order.
	fixes []dwell.Fix
	// checkOuts are the day's check-outs (its records, in [from, to));
	// laterOuts those of the next local day, which may close a check-in
	// of the day still open at its end (its visit's outcome is theirs).
	checkOuts, laterOuts []dwell.CheckOut
	from, to             time.Time
	clients              *storeClients
}

// derive derives rep r's local day date from everything the store holds:
// the fixes, check-ins, check-outs and pauses of the day (and working
// windows), the check-ins and check-outs of the next local day (a
// check-out after midnight closes a check-in of the day still open at its
// end, timeline.Input; the store marks the day before a check-in's or
// check-out's day with it) and the tenant's fence index, with settings, the tenant's
// settings, which the caller reads (GetRepDay needs them before, for the
// retention). GetRepDay, the reports and the refresher share it. live
// (GetRepDay, and a report deriving a day inline) ends a pause not yet
// resumed at the present; otherwise (the refresher's summary) it lasts
// until the next fix or the day's end, which is what the day will have
// been if the rep does not resume, and a resume marks the day to be
// derived again. A report reads such a summary of the day that holds the
// present only with the pause ended now, or derives that day inline, live
// (liveDay). A day
// that begins after the present has nothing yet: no pause holds in it.
func (s *Server) derive(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings, live bool) (derived, error) {
	return s.deriveFrom(ctx, tenant, r, date, settings, deriveOpts{live: live})
}

// deriveOpts are derive's options.
type deriveOpts struct {
	// live ends a pause not yet resumed at the present (derive).
	live bool
	// noData derives the day from the rep's pauses and resumes alone, with
	// no fix, check-in or check-out: a day the store holds no data version
	// for (noDataRepDay, pausedDays).
	noData bool
	// tracking, if trackingRead, is what Store.ListTrackingState returns
	// for the day's bounds, read by the caller (pausedDays reads a rep's
	// changes once for a whole range): the day does not read it again.
	tracking     []dwell.TrackingChange
	trackingRead bool
}

// deriveFrom is derive with its options.
func (s *Server) deriveFrom(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings, o deriveOpts) (derived, error) {
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return derived{}, err
	}
	from, to, windows := dayBounds(r, date, loc)
	var fixes []dwell.Fix
	var cis []dwell.CheckIn
	var cos []dwell.CheckOut
	if !o.noData {
		if fixes, err = s.store.ListFixes(ctx, tenant, r.ID, from, to); err != nil {
			return derived{}, err
		}
		// The next local day's claims too: they pair the day's check-ins
		// with their check-outs, nothing more.
		next := date.AddDays(2).Start(loc)
		if cis, err = s.store.ListCheckIns(ctx, tenant, r.ID, from, next); err != nil {
			return derived{}, err
		}
		if cos, err = s.store.ListCheckOuts(ctx, tenant, r.ID, from, next); err != nil {
			return derived{}, err
		}
	}
	// The day's own claims, and the next day's check-outs apart.
	nIns := len(cis)
	for i, c := range cis {
		if !c.Time.Before(to) {
			nIns = i
			break
		}
	}
	dayOuts, laterOuts := cos, []dwell.CheckOut(nil)
	for i, c := range cos {
		if !c.Time.Before(to) {
			dayOuts, laterOuts = cos[:i:i], cos[i:]
			break
		}
	}
	var tracking []dwell.TrackingChange
	var openUntil time.Time
	now := s.now()
	// A pause made before the day, however long before, may still hold
	// at its start: the state at from comes with the day's changes. A
	// day not begun yet with no data of its own has no paused time (nor
	// any); one with data (fixes dated ahead, as a phone's clock may be)
	// is derived with its pauses, as it will be once begun, since its
	// summary is stored and stays current then.
	if now.After(from) || len(fixes)+nIns+len(dayOuts) > 0 {
		if o.trackingRead {
			tracking = o.tracking
		} else if tracking, err = s.store.ListTrackingState(ctx, tenant, r.ID, from, to); err != nil {
			return derived{}, err
		}
		if o.live && now.After(from) && now.Before(to) {
			openUntil = now // a pause not yet resumed holds until now
		}
	}
	ix, err := s.fences.index(ctx, tenant)
	if err != nil {
		return derived{}, err
	}
	clients := &storeClients{ctx: ctx, s: s, tenant: tenant, cache: map[dwell.ClientID]*dwell.Client{}}
	day, err := safeDerive(timeline.Input{
		Day: date, Loc: loc, Windows: windows,
		Fixes: fixes, CheckIns: cis, CheckOuts: cos,
		Tracking: tracking, OpenUntil: openUntil,
		Fences: ix, Clients: clients, Settings: settings,
	})
	if err != nil {
		return derived{}, dwell.E(dwell.Op("server.derive"), fmt.Sprintf("rep %s, %v", r.ID, date), err)
	}
	return derived{day: day, fixes: fixes, checkOuts: dayOuts, laterOuts: laterOuts, from: from, to: to, clients: clients}, nil
}

// safeDerive runs timeline.Derive and turns a panic (a derivation bug) into
// an error, so that one bad day never takes the refresher, and with it the
// server, down; the day's mark stays and the error is logged each pass.
func safeDerive(in timeline.Input) (day timeline.Day, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = dwell.E(dwell.Other, fmt.Sprintf("timeline.Derive panicked: %v\n%s", r, debug.Stack()))
		}
	}()
	return timeline.Derive(in), nil
}

// kind returns a client's kind as the store holds it (unspecified for an
// unknown client).
func (c *storeClients) kind(id dwell.ClientID) dwell.ClientKind {
	cl, ok := c.Client(id)
	if !ok {
		return dwell.ClientKindUnspecified
	}
	return cl.Kind
}

// summarize derives a rep-day with settings, the tenant's, and summarises
// it with the day's calls; a day that lost data to retention keeps its
// stored summary (keptSummary). It serves the reports' inline derivations
// (daySummaries), so a pause not yet resumed ends at the present, as in
// GetRepDay (live); nothing stores what it returns.
func (s *Server) summarize(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, settings dwell.Settings) (*kpi.Day, error) {
	kept, _, err := s.keptSummary(ctx, tenant, r, date)
	if err != nil {
		return nil, err
	}
	if kept.Summary != nil {
		if kd, err := kpi.DecodeDay(kept.Summary, nil); err == nil {
			return kd, nil
		}
		s.log.Warn("corrupt day summary; deriving the day", slog.String("rep", string(r.ID)), slog.Any("date", date))
	}
	d, err := s.derive(ctx, tenant, r, date, settings, true)
	if err != nil {
		return nil, err
	}
	return s.summary(ctx, tenant, r, date, d)
}

// liveDay returns d, a current stored summary of rep r, as a report reads
// it; ok is false (and day nil) when the report must derive the day
// inline instead. Only a day that holds the present and ends in a pause
// not resumed (kpi.Day.OpenPause) is read otherwise than as stored: the
// refresher derives such a pause to the day's end, or to a fix after it
// that may be dated after the present (derive), and a report ends it at
// the present, as GetRepDay does (ingest.proto's PauseTracking: a pause
// without a resume lasts until now). When in d the pause ran to the end
// of the day (or of its last working window) as its last segment, no fix
// having ended it (kpi.Day.OpenFrom, timeline.Day.OpenPauseFrom), the
// derivation at an instant after that segment's start is d with that
// segment ending at the instant (kpi.Day.PausedUntil), and d itself from
// d's end on: nothing else in the day depends on where the pause ends.
// d being current, no write has reached the day since (a fix that would
// end the pause, a resume and a check-in all mark it). Otherwise (the
// present before that segment's start, as before the working hours or in
// a split shift's break; a fix after the pause; a summary of a format
// before OpenFrom) the day is derived inline. A team of 100 reps paused
// now cost GetTimeBreakdown 20 to 100 times a plain team's when every such
// day was derived inline, and costs about the same read so
// (BenchmarkTodayWithPauses, team=open). A resumed pause ends where it
// ends however the day is derived, and its summary is read as it is.
// Summaries written before OpenPause existed count any paused time as
// open, and have no OpenFrom.
func (s *Server) liveDay(r dwell.Rep, d *kpi.Day) (day *kpi.Day, ok bool) {
	if !d.OpenPause {
		return d, true
	}
	now := s.now()
	if today := dwell.DateOf(now, time.UTC); d.Date.Before(today.AddDays(-1)) || today.AddDays(1).Before(d.Date) {
		return d, true // no zone puts the present in this day
	}
	loc, err := s.location(r.TimeZone)
	if err != nil {
		return nil, false // derive it, which reports the error
	}
	if now.Before(d.Date.Start(loc)) || !now.Before(d.Date.AddDays(1).Start(loc)) {
		return d, true
	}
	switch {
	case d.OpenFrom.IsZero() || !now.After(d.OpenFrom) || s.deriveOpen.Load():
		return nil, false
	case !now.Before(d.End):
		return d, true // the working hours are over: the pause ended with them
	default:
		return d.PausedUntil(now), true
	}
}

// summary summarises d, r's derived day date, with the day's calls.
func (s *Server) summary(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, date dwell.Date, d derived) (*kpi.Day, error) {
	calls, err := s.store.ListCalls(ctx, tenant, r.ID, d.from, d.to)
	if err != nil {
		return nil, err
	}
	return kpi.Summarize(r.ID, date, &d.day, len(d.fixes), d.checkOuts, d.laterOuts, calls, d.clients.kind), nil
}

// currentDay returns a rep-day as its stored summary has it, when that
// summary is current (derived from every write acknowledged when it is
// read) and, if withDetail, stored with its detail part; nil otherwise,
// and the caller derives the day or leaves it to the refresher. A summary
// that does not decode is kpi.ErrCorrupt (the refresher logs it).
func (s *Server) currentDay(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, withDetail bool) (*timeline.Day, error) {
	sum, detail, err := s.store.GetDaySummary(ctx, tenant, rep, date)
	if err != nil || !sum.Current() || withDetail && detail == nil {
		return nil, err
	}
	kd, err := kpi.DecodeDay(sum.Summary, detail)
	if err != nil {
		return nil, err
	}
	return kd.Timeline(), nil
}

// daySummaries returns, for each rep of reps, the summaries of its days
// in [from, to], in date order: with their visit, check-out and call
// lists if full, else only what kpi.Compute and kpi.Breakdown read
// (kpi.DecodeSummaries). Those are the days with data (storedDaySummaries)
// and, unless full, the days begun without data that a pause covers
// (pausedDays): GetRepDay shows such a day paused, so GetTimeBreakdown and
// GetKpis count it too. ListVisits (full) has no use for them: a day
// without data has no visit.
func (s *Server) daySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.Rep, from, to dwell.Date, full bool) ([][]*kpi.Day, error) {
	out, err := s.storedDaySummaries(ctx, tenant, reps, from, to, full)
	if err != nil || full {
		return out, err
	}
	if err := s.pausedDays(ctx, tenant, reps, from, to, out); err != nil {
		return nil, err
	}
	return out, nil
}

// pausedDays adds to out (what storedDaySummaries returned for reps over
// [from, to]) each rep's days, begun by now, that the store holds no data
// version for and that a pause covers, derived inline from the rep's
// pauses and resumes alone, as GetRepDay derives them (noDataRepDay, or
// derive, which finds no data either), a pause not yet resumed ending at
// the present; out[i] stays in date order. The store gives a day a data
// version only when data lands on it, and a resume marks the days back to
// its pause (31 at most), so a day paused from start to end has none
// while the pause lasts, nor ever if it lies further back than that from
// the resume. Nothing stores these days: they are derived at every
// report, which costs one read of the tracking changes of every rep that
// has a day without data in the range (store.ListTrackingStates; none when
// every rep has data every day, as a team's report over today mostly has)
// and one derivation, of a day with no fix, for each such day a pause
// covers.
func (s *Server) pausedDays(ctx context.Context, tenant dwell.TenantID, reps []dwell.Rep, from, to dwell.Date, out [][]*kpi.Day) error {
	now := s.now()
	// Each rep's days begun by now that have no summary in out[i] (which
	// holds every day with a data version), and the span of them all.
	missing := make([][]dwell.Date, len(reps))
	locs := make([]*time.Location, len(reps))
	var ids []dwell.RepID
	var idx []int // ids[j] is reps[idx[j]]
	var lo, hi time.Time
	for i, r := range reps {
		loc, err := s.location(r.TimeZone)
		if err != nil {
			return err
		}
		locs[i] = loc
		k := 0
		for d := from; !to.Before(d) && d.Start(loc).Before(now); d = d.AddDays(1) {
			for k < len(out[i]) && out[i][k].Date.Before(d) {
				k++
			}
			if k < len(out[i]) && out[i][k].Date == d {
				continue
			}
			missing[i] = append(missing[i], d)
		}
		if m := missing[i]; len(m) > 0 {
			ids, idx = append(ids, r.ID), append(idx, i)
			if a := m[0].Start(loc); lo.IsZero() || a.Before(lo) {
				lo = a
			}
			if b := m[len(m)-1].AddDays(1).Start(loc); b.After(hi) {
				hi = b
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// One read for every rep: one by one, a team of 100 reps over a week
	// cost a PostgreSQL store 20 ms against 3.7 ms without them
	// (BenchmarkTodayWithPauses, team=plain/week).
	states, err := s.store.ListTrackingStates(ctx, tenant, ids, lo, hi)
	if err != nil {
		return err
	}
	var settings dwell.Settings
	haveSettings := false
	for j, changes := range states {
		i := idx[j]
		r, loc := reps[i], locs[i]
		if !slices.ContainsFunc(changes, func(c dwell.TrackingChange) bool { return c.Paused }) {
			continue
		}
		added := false
		for _, d := range missing[i] {
			dayFrom, dayTo := d.Start(loc), d.AddDays(1).Start(loc)
			tracking := trackingState(changes, dayFrom, dayTo)
			if !slices.ContainsFunc(tracking, func(c dwell.TrackingChange) bool { return c.Paused }) {
				continue // no pause holds in the day: it is empty
			}
			if !haveSettings {
				if settings, err = s.store.GetSettings(ctx, tenant); err != nil {
					return err
				}
				haveSettings = true
			}
			dd, err := s.deriveFrom(ctx, tenant, r, d, settings, deriveOpts{live: true, noData: true, tracking: tracking, trackingRead: true})
			if err != nil {
				return err
			}
			if len(dd.day.Segments) == 0 {
				continue
			}
			out[i] = append(out[i], kpi.Summarize(r.ID, d, &dd.day, 0, nil, nil, nil, dd.clients.kind))
			added = true
		}
		if added {
			slices.SortStableFunc(out[i], func(a, b *kpi.Day) int { return a.Date.Compare(b.Date) })
		}
	}
	return nil
}

// trackingState returns what Store.ListTrackingState(from, to) returns,
// taken from changes, what it returned for a span that holds [from, to):
// the changes at the latest instant before from, then those in [from, to).
func trackingState(changes []dwell.TrackingChange, from, to time.Time) []dwell.TrackingChange {
	// changes are in time order: [lo, hi) are those before from, [hi, end)
	// those in [from, to).
	hi := 0
	for hi < len(changes) && changes[hi].Time.Before(from) {
		hi++
	}
	lo := hi
	for lo > 0 && changes[lo-1].Time.Equal(changes[hi-1].Time) {
		lo--
	}
	end := hi
	for end < len(changes) && changes[end].Time.Before(to) {
		end++
	}
	return changes[lo:end]
}

// storedDaySummaries returns, for each rep of reps, the summaries of its
// days with data in [from, to], in date order, as daySummaries describes.
// The stored summaries are read in one transaction and decoded by up to
// GOMAXPROCS goroutines; a day whose version the cache of decoded days
// holds is not read at all. A day whose stored summary is stale or missing
// is derived inline, so the answer reflects every write acknowledged
// before the call.
func (s *Server) storedDaySummaries(ctx context.Context, tenant dwell.TenantID, reps []dwell.Rep, from, to dwell.Date, full bool) ([][]*kpi.Day, error) {
	ids := make([]dwell.RepID, len(reps))
	for i, r := range reps {
		ids[i] = r.ID
	}
	out := make([][]*kpi.Day, len(reps))
	var stale []int // indexes of reps with a day to derive
	var dates [][]dwell.Date
	// The cache is asked before a summary is read: a day it holds is
	// never read from the store. hits[i] has one entry a day of rep i.
	var want func(int, store.DaySummary) bool
	hits := make([][]*kpi.Day, len(reps))
	if !full {
		want = func(i int, ds store.DaySummary) bool {
			var d *kpi.Day
			if ds.SummaryVersion != 0 && ds.SummaryVersion >= ds.Version {
				d = s.days.get(dayCacheKey{tenant, reps[i].ID, ds.Date}, ds.SummaryVersion)
			}
			hits[i] = append(hits[i], d)
			return d == nil
		}
	}
	// Decoding runs inside the read: the summaries are not copied first.
	err := s.store.ViewDaySummaries(ctx, tenant, ids, from, to, want, func(stored [][]store.DaySummary) error {
		dates = make([][]dwell.Date, len(stored))
		bs := make([][][]byte, len(stored))
		at := make([][]int, len(stored))
		for i, days := range stored {
			dates[i] = make([]dwell.Date, len(days))
			out[i] = make([]*kpi.Day, len(days))
			for j, ds := range days {
				dates[i][j] = ds.Date
				if want != nil && hits[i][j] != nil {
					out[i][j] = hits[i][j]
					continue
				}
				if !ds.Current() {
					continue
				}
				bs[i], at[i] = append(bs[i], ds.Summary), append(at[i], j)
			}
		}
		var decoded [][]*kpi.Day
		errs := make([]error, len(stored))
		if full {
			decoded = make([][]*kpi.Day, len(stored))
			for i := range bs {
				decoded[i] = make([]*kpi.Day, len(bs[i]))
				for k, b := range bs[i] {
					// DecodeDay aliases its input: give it a copy.
					if decoded[i][k], errs[i] = kpi.DecodeDay(bytes.Clone(b), nil); errs[i] != nil {
						break
					}
				}
			}
		} else {
			decoded, errs = kpi.DecodeSummariesByRep(bs)
		}
		for i := range stored {
			if errs[i] != nil {
				s.log.Warn("corrupt day summary; deriving the rep's days", slog.String("rep", string(reps[i].ID)))
				for _, j := range at[i] {
					out[i][j] = nil
				}
			} else {
				for k, d := range decoded[i] {
					j := at[i][k]
					out[i][j] = d
					if !full {
						s.days.put(dayCacheKey{tenant, reps[i].ID, dates[i][j]}, stored[i][j].SummaryVersion, d)
					}
				}
			}
			for j, d := range out[i] {
				if d != nil {
					out[i][j], _ = s.liveDay(reps[i], d)
				}
			}
			if slices.Contains(out[i], nil) {
				stale = append(stale, i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var settings dwell.Settings
	if len(stale) > 0 {
		if settings, err = s.store.GetSettings(ctx, tenant); err != nil {
			return nil, err
		}
	}
	for _, i := range stale {
		for j, d := range out[i] {
			if d != nil {
				continue
			}
			var err error
			if out[i][j], err = s.summarize(ctx, tenant, reps[i], dates[i][j], settings); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
