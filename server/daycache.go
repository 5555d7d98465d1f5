package server

import (
	"context"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	"github.com/dwellhq/dwell/pkg/store"
)

// dayCache keeps decoded day summaries (what kpi.Compute reads) between
// reports, keyed by rep-day and checked against the version they were
// derived from, so a dashboard that asks for a team's month again decodes
// only the days that changed. A stale entry is never served: a day whose
// stored summary version differs is decoded afresh.
//
// It holds two generations of at most half its capacity each: entries are
// added to the young one and a hit in the old one moves up; when the young
// one is full it becomes the old one and the old one is dropped. That
// approximates least-recently-used at the cost of two map look-ups.
type dayCache struct {
	mu       sync.Mutex
	max      int // entries per generation
	young    map[dayCacheKey]cachedDay
	old      map[dayCacheKey]cachedDay
	disabled bool
}

type dayCacheKey struct {
	tenant dwell.TenantID
	rep    dwell.RepID
	date   dwell.Date
}

type cachedDay struct {
	version uint64
	day     *kpi.Day
}

// dayCacheDays is the default capacity in rep-days (about 1 KB each).
const dayCacheDays = 200_000

func newDayCache(days int) *dayCache {
	c := &dayCache{max: days / 2}
	c.young, c.old = map[dayCacheKey]cachedDay{}, map[dayCacheKey]cachedDay{}
	c.disabled = days <= 0
	return c
}

// get returns the cached day of k derived from version v, or nil. The day
// is shared: callers must not modify it.
func (c *dayCache) get(k dayCacheKey, v uint64) *kpi.Day {
	if c.disabled {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.young[k]; ok && e.version == v {
		return e.day
	}
	if e, ok := c.old[k]; ok && e.version == v {
		c.putLocked(k, e)
		return e.day
	}
	return nil
}

// put caches day as k's derivation from version v.
func (c *dayCache) put(k dayCacheKey, v uint64, day *kpi.Day) {
	if c.disabled {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, cachedDay{v, day})
}

func (c *dayCache) putLocked(k dayCacheKey, e cachedDay) {
	if len(c.young) >= c.max {
		c.old, c.young = c.young, make(map[dayCacheKey]cachedDay, c.max)
	}
	c.young[k] = e
}

// clear drops every entry.
func (c *dayCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.young)
	clear(c.old)
}

// len returns the number of days cached.
func (c *dayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.young) + len(c.old)
}

// warmChunk is how many reps one read of WarmReports decodes.
const warmChunk = 256

// WarmReports fills the cache of decoded days with the stored summaries of
// every rep of the tenants over the last store.RederiveDays days (UTC
// dates), so that the first team reports after a start read no summaries
// but those written since: without it the first GetKpis of a large team
// after a restart decodes every day of the range (about twice the time of
// a warm one). It stops when the cache's young generation is full, at the
// first error, or when ctx is done, and returns how many days it cached.
// Days still dirty are derived inline as a report would.
func (s *Server) WarmReports(ctx context.Context, tenants []dwell.TenantID) (int, error) {
	const op = dwell.Op("server.WarmReports")
	today := dwell.DateOf(s.now(), time.UTC)
	// Not the KPIs' look-back (kpiLookBackDays) before them: those older
	// days would take the cache's room from the recent days of a large
	// tenant's later reps; the first GetKpis reads them once.
	from, to := today.AddDays(-store.RederiveDays), today.AddDays(1)
	n := 0
	for _, t := range tenants {
		reps, err := s.allReps(ctx, t)
		if err != nil {
			return n, dwell.E(op, err)
		}
		for len(reps) > 0 && n < s.days.max {
			chunk := reps[:min(len(reps), warmChunk)]
			reps = reps[len(chunk):]
			// The stored days only: the paused days without data that
			// the reports add (pausedDays) are derived at each report
			// and never cached.
			days, err := s.storedDaySummaries(ctx, t, chunk, from, to, false)
			if err != nil {
				return n, dwell.E(op, err)
			}
			for _, ds := range days {
				n += len(ds)
			}
		}
	}
	return n, nil
}
