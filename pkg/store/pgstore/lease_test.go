package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// contender is one store calling Lead: it counts the terms it held the
// lease and whether it holds it now.
type contender struct {
	st      *pgstore.Store
	cancel  context.CancelFunc
	done    chan error
	terms   atomic.Int64
	holding atomic.Bool
}

// leaseProbe watches the contenders of one lease: how many run fn at
// once, and the most that ever did.
type leaseProbe struct {
	mu         sync.Mutex
	now, most  int
	lostCtxErr []error // the context error each term ended with
}

func (p *leaseProbe) enter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now++
	p.most = max(p.most, p.now)
}

func (p *leaseProbe) leave(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now--
	p.lostCtxErr = append(p.lostCtxErr, err)
}

func (p *leaseProbe) max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.most
}

// contend starts Lead(name) on st; fn holds the lease until its context
// ends. The contender stops when the test ends.
func contend(t testing.TB, st *pgstore.Store, name string, p *leaseProbe) *contender {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &contender{st: st, cancel: cancel, done: make(chan error, 1)}
	go func() {
		c.done <- st.Lead(ctx, name, func(ctx context.Context) {
			if p != nil {
				p.enter()
			}
			c.terms.Add(1)
			c.holding.Store(true)
			<-ctx.Done()
			c.holding.Store(false)
			if p != nil {
				p.leave(ctx.Err())
			}
		})
	}()
	t.Cleanup(func() { c.stop() })
	return c
}

// stop cancels the contender and waits for Lead to return; it returns
// Lead's error (nil if already stopped).
func (c *contender) stop() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.cancel = nil
	return <-c.done
}

// waitFor polls cond every 10 ms until it holds, failing t after 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holders returns the contenders that hold the lease now.
func holders(cs []*contender) []*contender {
	var out []*contender
	for _, c := range cs {
		if c.holding.Load() {
			out = append(out, c)
		}
	}
	return out
}

// TestLeadOneHolder runs three stores for one lease on one schema: one
// holds it at a time, and when the holder gives it up (its context ends)
// another takes it over; PostgreSQL names the holder's session throughout.
func TestLeadOneHolder(t *testing.T) {
	dsn := pgtest.DSN(t)
	var p leaseProbe
	var cs []*contender
	for range 3 {
		cs = append(cs, contend(t, openPG(t, dsn), "work", &p))
	}
	waitFor(t, "a store wins the lease", func() bool { return len(holders(cs)) == 1 })
	first := holders(cs)[0]
	pid, err := first.st.LeaseHolder(context.Background(), "work")
	if err != nil || pid == 0 {
		t.Fatalf("LeaseHolder = %d, %v; want the holder's backend", pid, err)
	}
	if err := first.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Lead after its context ended = %v, want context.Canceled", err)
	}
	waitFor(t, "another store takes the lease over", func() bool { return len(holders(cs)) == 1 })
	if holders(cs)[0] == first {
		t.Fatal("the stopped store holds the lease")
	}
	pid2, err := cs[0].st.LeaseHolder(context.Background(), "work")
	if err != nil || pid2 == 0 || pid2 == pid {
		t.Errorf("LeaseHolder after the handover = %d, %v; want a backend other than %d", pid2, err, pid)
	}
	if m := p.max(); m != 1 {
		t.Errorf("%d stores ran the work at once, want 1", m)
	}
}

// TestLeadConnectionKilled ends the holder's session in PostgreSQL: the
// holder's fn sees its context end, and the other store takes over.
func TestLeadConnectionKilled(t *testing.T) {
	dsn := pgtest.DSN(t)
	var p leaseProbe
	cs := []*contender{contend(t, openPG(t, dsn), "work", &p), contend(t, openPG(t, dsn), "work", &p)}
	waitFor(t, "a store wins the lease", func() bool { return len(holders(cs)) == 1 })
	old := holders(cs)[0]
	pid, err := old.st.LeaseHolder(context.Background(), "work")
	if err != nil || pid == 0 {
		t.Fatalf("LeaseHolder = %d, %v", pid, err)
	}
	pgtest.Terminate(t, dsn, pid)
	waitFor(t, "the old holder stops", func() bool { return !old.holding.Load() })
	waitFor(t, "the other store takes over", func() bool {
		h := holders(cs)
		return len(h) == 1 && h[0] != old
	})
	pid2, err := old.st.LeaseHolder(context.Background(), "work")
	if err != nil || pid2 == 0 || pid2 == pid {
		t.Errorf("LeaseHolder after the kill = %d, %v; want a backend other than %d", pid2, err, pid)
	}
	if n := old.terms.Load(); n != 1 {
		t.Errorf("the old holder held %d terms, want 1", n)
	}
}

// TestLeadSchemas: a lease of one name in two schemas of one database is
// two leases, held at once.
func TestLeadSchemas(t *testing.T) {
	a := contend(t, openPG(t, pgtest.DSN(t)), "work", nil)
	b := contend(t, openPG(t, pgtest.DSN(t)), "work", nil)
	waitFor(t, "both schemas' leases are held", func() bool { return a.holding.Load() && b.holding.Load() })
}

// TestLeadNames: two names on one schema are two leases.
func TestLeadNames(t *testing.T) {
	st := openPG(t, pgtest.DSN(t))
	a := contend(t, st, "one", nil)
	b := contend(t, st, "two", nil)
	waitFor(t, "both leases are held", func() bool { return a.holding.Load() && b.holding.Load() })
}

// TestLeadStoreClosed: closing the store ends fn's context and Lead
// returns Unavailable; on a closed store Lead runs nothing.
func TestLeadStoreClosed(t *testing.T) {
	dsn := pgtest.DSN(t)
	st, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	c := contend(t, st, "work", nil)
	waitFor(t, "the store wins the lease", c.holding.Load)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-c.done:
		c.cancel = nil
		if dwell.KindOf(err) != dwell.Unavailable {
			t.Errorf("Lead after Close = %v, want Unavailable", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Lead did not return within 20 s of Close")
	}
	if c.holding.Load() {
		t.Error("fn still runs after Lead returned")
	}
	other := openPG(t, dsn)
	if pid, err := other.LeaseHolder(context.Background(), "work"); err != nil || pid != 0 {
		t.Errorf("LeaseHolder after Close = %d, %v; want 0 (released)", pid, err)
	}
	err = st.Lead(context.Background(), "work", func(context.Context) { t.Error("fn ran on a closed store") })
	if dwell.KindOf(err) != dwell.Unavailable {
		t.Errorf("Lead on a closed store = %v, want Unavailable", err)
	}
}

// BenchmarkLeaseTakeover measures how long the work stops when the
// holder's session is killed: from pg_terminate_backend until the other
// store's fn starts (takeover). The baseline, in the same run, is the
// first acquisition: from Lead's call until fn starts, the lease free
// (first). A standby tries every 2 s, so a takeover should take about 1 s
// on average, at most 2 s plus a connection.
func BenchmarkLeaseTakeover(b *testing.B) {
	dsn := pgtest.DSN(b)
	sa, sb := openPG(b, dsn), openPG(b, dsn)
	var seq atomic.Int64
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			name := fmt.Sprintf("first-%d", seq.Add(1))
			won := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- sa.Lead(ctx, name, func(ctx context.Context) { close(won); <-ctx.Done() }) }()
			<-won
			b.StopTimer()
			cancel()
			<-done
			b.StartTimer()
		}
	})
	b.Run("takeover", func(b *testing.B) {
		name := fmt.Sprintf("takeover-%d", seq.Add(1))
		won := make(chan *pgstore.Store, 2)
		var cs []*contender
		for _, st := range []*pgstore.Store{sa, sb} {
			ctx, cancel := context.WithCancel(context.Background())
			c := &contender{st: st, cancel: cancel, done: make(chan error, 1)}
			go func() {
				c.done <- st.Lead(ctx, name, func(ctx context.Context) {
					won <- st
					<-ctx.Done()
				})
			}()
			cs = append(cs, c)
		}
		defer func() {
			for _, c := range cs {
				_ = c.stop()
			}
		}()
		holder := <-won
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			pid, err := holder.LeaseHolder(context.Background(), name)
			if err != nil || pid == 0 {
				b.Fatalf("LeaseHolder = %d, %v", pid, err)
			}
			b.StartTimer()
			pgtest.Terminate(b, dsn, pid)
			next := <-won
			if next == holder {
				b.Fatal("the killed holder won the lease back first")
			}
			holder = next
			// The store that lost waits 4 s before it tries again: let it
			// reach its steady retries, as a standby does, before the
			// next kill.
			b.StopTimer()
			time.Sleep(5 * time.Second)
			b.StartTimer()
		}
	})
}
