package server

import (
	"fmt"
	"sync"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Defaults of the caps on concurrent WatchEvents streams (Config).
//
// A partner integration runs a few streams (one per worker or team filter,
// and for a moment two of each while a client resumes on a new connection
// before the server has seen the old one end); a manager's dashboards run
// some (a browser tab each). Sixteen per caller leaves room for all of that
// while a runaway client (a reconnect loop that never closes its streams)
// is refused at the seventeenth. A tenant's streams are its callers'
// together: 256 covers dozens of managers with a dashboard each besides the
// partners' streams, and bounds what one tenant makes the server hold: an
// idle stream costs a few kilobytes and three goroutines, a stream whose
// client reads nothing at most its queue (Config.WatchBuffer events, about
// a megabyte at the default) until WatchStall ends it.
const (
	defaultWatchStreamsPerCaller = 16
	defaultWatchStreamsPerTenant = 256
)

// watchLimits counts the WatchEvents streams open on this server per tenant
// and per caller (tenant, role and subject), and refuses a stream beyond
// either cap with RESOURCE_EXHAUSTED (LIMIT_REACHED). The counts are of
// this server alone: servers sharing a store count their own.
type watchLimits struct {
	perCaller, perTenant int // <= 0: no cap
	mu                   sync.Mutex
	callers              map[dwell.Principal]int // IssuedAt zeroed
	tenants              map[dwell.TenantID]int
}

func newWatchLimits(perCaller, perTenant int) *watchLimits {
	return &watchLimits{perCaller: perCaller, perTenant: perTenant,
		callers: map[dwell.Principal]int{}, tenants: map[dwell.TenantID]int{}}
}

// acquire counts a stream of p, or refuses it when p or its tenant already
// has as many as its cap allows. The release it returns, called once when
// the stream ends, uncounts it.
func (l *watchLimits) acquire(op dwell.Op, p dwell.Principal) (release func(), err error) {
	key := dwell.Principal{Tenant: p.Tenant, Subject: p.Subject, Role: p.Role}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perCaller > 0 && l.callers[key] >= l.perCaller {
		return nil, dwell.E(op, dwell.ResourceExhausted, dwell.ReasonLimitReached, fmt.Sprintf(
			"this caller already has %d WatchEvents streams open on this server, the most it may; end one before opening another", l.perCaller))
	}
	if l.perTenant > 0 && l.tenants[p.Tenant] >= l.perTenant {
		return nil, dwell.E(op, dwell.ResourceExhausted, dwell.ReasonLimitReached, fmt.Sprintf(
			"the tenant already has %d WatchEvents streams open on this server, the most it may; end one before opening another", l.perTenant))
	}
	l.callers[key]++
	l.tenants[p.Tenant]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.callers[key]--; l.callers[key] == 0 {
				delete(l.callers, key)
			}
			if l.tenants[p.Tenant]--; l.tenants[p.Tenant] == 0 {
				delete(l.tenants, p.Tenant)
			}
		})
	}, nil
}

// watchQueue is a stream's queue of items for its sender, of at most max
// items. Unlike a buffered channel of that capacity, it holds memory only
// for what is queued: an idle stream's queue is empty, and one emptied
// gives its memory back.
type watchQueue struct {
	max   int
	mu    sync.Mutex
	items []watchItem
	// ready holds a token when an item was pushed since the sender last
	// took it; space when an item was popped since the reader last took
	// it. Each has room for one token, so a signal is never lost and a
	// push or pop never blocks.
	ready chan struct{}
	space chan struct{}
}

func newWatchQueue(max int) *watchQueue {
	return &watchQueue{max: max, ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// push queues it unless the queue is full, and tells whether it did.
func (q *watchQueue) push(it watchItem) bool {
	q.mu.Lock()
	if len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	signal(q.ready)
	return true
}

// pop takes the oldest item, if any.
func (q *watchQueue) pop() (watchItem, bool) {
	q.mu.Lock()
	if len(q.items) == 0 {
		q.mu.Unlock()
		return watchItem{}, false
	}
	it := q.items[0]
	q.items[0] = watchItem{} // drop the event's references
	if q.items = q.items[1:]; len(q.items) == 0 {
		q.items = nil // give the array back
	}
	q.mu.Unlock()
	signal(q.space)
	return it, true
}

// signal leaves a token in c unless one is there.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
