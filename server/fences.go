package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// fenceLoadPage is how many clients are read per store call when a tenant's
// fence index is built.
const fenceLoadPage = 5000

// fences keeps one geofence index per tenant, built from the store at
// startup (Server.LoadFences) or on first use, and kept in step with every
// client write made through DirectoryService, and, through the store's
// change feed (feed.go: refresh, reload), with other servers' writes some
// milliseconds after their commit.
//
// Queries never lock: once built, an index is returned without taking any
// mutex, and geofence.Index serves readers lock-free while it is updated.
// Client writes of one tenant are serialised by that tenant's mutex, held
// across the store write and the index update, so the index applies changes
// in the order the store committed them.
type fences struct {
	store store.Store

	mu      sync.Mutex // guards tenants
	tenants map[dwell.TenantID]*tenantFences
}

type tenantFences struct {
	write sync.Mutex                     // serialises client writes and the build
	ix    atomic.Pointer[geofence.Index] // nil until built
}

func newFences(st store.Store) *fences {
	return &fences{store: st, tenants: map[dwell.TenantID]*tenantFences{}}
}

func (f *fences) tenant(t dwell.TenantID) *tenantFences {
	f.mu.Lock()
	defer f.mu.Unlock()
	tf, ok := f.tenants[t]
	if !ok {
		tf = &tenantFences{}
		f.tenants[t] = tf
	}
	return tf
}

// index returns the tenant's index, building it from the store the first
// time. A failed build is retried on the next call.
func (f *fences) index(ctx context.Context, t dwell.TenantID) (*geofence.Index, error) {
	tf := f.tenant(t)
	if ix := tf.ix.Load(); ix != nil {
		return ix, nil
	}
	tf.write.Lock()
	defer tf.write.Unlock()
	return f.buildLocked(ctx, t, tf)
}

// buildLocked loads every client of the tenant into a new index, once.
func (f *fences) buildLocked(ctx context.Context, t dwell.TenantID, tf *tenantFences) (*geofence.Index, error) {
	if ix := tf.ix.Load(); ix != nil {
		return ix, nil
	}
	ix, err := f.load(ctx, t)
	if err != nil {
		return nil, err
	}
	tf.ix.Store(ix)
	return ix, nil
}

// load returns a new index of every client of the tenant.
func (f *fences) load(ctx context.Context, t dwell.TenantID) (*geofence.Index, error) {
	const op = dwell.Op("server.buildFences")
	all, err := f.list(ctx, t)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	ix := geofence.New(geofence.Options{})
	if err := ix.PutAll(all); err != nil {
		return nil, dwell.E(op, err)
	}
	return ix, nil
}

// list reads every client's fence of the tenant from the store, a page
// of fenceLoadPage at a time.
func (f *fences) list(ctx context.Context, t dwell.TenantID) ([]geofence.Fence, error) {
	var all []geofence.Fence
	page := store.Page{Limit: fenceLoadPage}
	for {
		cs, more, err := f.store.ListClients(ctx, t, store.ClientFilter{}, page)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			all = append(all, geofence.Fence{ID: string(c.ID), Geofence: c.Fence})
		}
		if !more || len(cs) == 0 {
			return all, nil
		}
		page.After = string(cs[len(cs)-1].ID)
	}
}

// write runs the store write w for tenant t and, if it succeeds, applies
// the same change to the tenant's index with apply.
func (f *fences) write(ctx context.Context, t dwell.TenantID, w func() error, apply func(ix *geofence.Index) error) error {
	tf := f.tenant(t)
	tf.write.Lock()
	defer tf.write.Unlock()
	ix, err := f.buildLocked(ctx, t, tf)
	if err != nil {
		return err
	}
	if err := w(); err != nil {
		return err
	}
	if err := apply(ix); err != nil {
		// The store holds the change but the index does not: drop the
		// index so the next use rebuilds it from the store, rather than
		// serve a stale one.
		tf.ix.Store(nil)
		return dwell.E(dwell.Op("server.fences.write"), err)
	}
	return nil
}

// settle waits for this server's client write of tenant t in progress,
// if any, to have updated the index. A client write marks the tenant's
// days in the store's transaction, before its index update: a refresher
// that listed those marks and derived at once would derive them with the
// index of before and store the summary as current (a deleted client's
// visits kept), so it settles each tenant of the marks it lists first.
func (f *fences) settle(t dwell.TenantID) {
	if tf := f.existing(t); tf != nil {
		tf.write.Lock()
		tf.write.Unlock() //nolint:staticcheck // an empty critical section: a barrier
	}
}

// existing returns the tenant's entry, or nil if the tenant was never
// used.
func (f *fences) existing(t dwell.TenantID) *tenantFences {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tenants[t]
}

// refresh brings client id of tenant t in the tenant's index to what the
// store holds now: put if it exists, removed if not, under the tenant's
// write mutex, so that it is ordered with this server's client writes.
// Re-reading makes it idempotent and order-free: whatever the order of
// refreshes and writes, the last step applies the store's latest state.
// A tenant whose index is not built is left alone (its build reads the
// store). If the store cannot be read, the index is dropped, to be
// rebuilt on its next use, rather than kept stale.
func (f *fences) refresh(ctx context.Context, t dwell.TenantID, id dwell.ClientID) error {
	const op = dwell.Op("server.fences.refresh")
	tf := f.existing(t)
	if tf == nil {
		return nil
	}
	tf.write.Lock()
	defer tf.write.Unlock()
	ix := tf.ix.Load()
	if ix == nil {
		return nil
	}
	c, err := f.store.GetClient(ctx, t, id)
	switch {
	case err == nil:
		err = ix.Put(string(id), c.Fence)
	case dwell.Is(dwell.NotFound, err):
		ix.Delete(string(id))
		err = nil
	}
	if err != nil {
		tf.ix.Store(nil)
		return dwell.E(op, err)
	}
	return nil
}

// reload brings the tenant's index, if it is built, in step with every
// client the store holds (a build in progress is waited for, then brought
// in step) (geofence.Index.SetAll): fences whose geometry
// changed or that are new are put, those of clients gone deleted, the
// rest left as they are, so that a resync after a lost connection costs
// about what it missed, not a new index (seconds of every core and twice
// the memory for a million fences). Queries go on meanwhile, lock-free;
// client writes wait for it. It returns how many fences it put and
// deleted. If the store cannot be read, the index is dropped, to be built
// on its next use, rather than kept stale.
func (f *fences) reload(ctx context.Context, t dwell.TenantID) (put, deleted int, err error) {
	const op = dwell.Op("server.fences.reload")
	tf := f.existing(t)
	if tf == nil {
		return 0, 0, nil
	}
	tf.write.Lock()
	defer tf.write.Unlock()
	ix := tf.ix.Load()
	if ix == nil {
		return 0, 0, nil
	}
	all, err := f.list(ctx, t)
	if err == nil {
		put, deleted, err = ix.SetAll(all)
	}
	if err != nil {
		tf.ix.Store(nil)
		return 0, 0, dwell.E(op, err)
	}
	return put, deleted, nil
}

// size returns how many fences the tenant's index holds, or -1 if it is
// not built.
func (f *fences) size(t dwell.TenantID) int {
	tf := f.existing(t)
	if tf == nil {
		return -1
	}
	if ix := tf.ix.Load(); ix != nil {
		return ix.Len()
	}
	return -1
}

// used returns the tenants whose index is built, being built or was
// dropped: every tenant with an entry. An index's build creates the
// entry before it reads the store, so a resync that reloads these
// (reload waits for the build's write mutex) also catches up a build that
// read the store before a change the feed missed.
func (f *fences) used() []dwell.TenantID {
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := make([]dwell.TenantID, 0, len(f.tenants))
	for t := range f.tenants {
		ts = append(ts, t)
	}
	return ts
}
