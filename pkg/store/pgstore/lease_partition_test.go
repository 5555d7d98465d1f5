package pgstore_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// gate is a TCP proxy to a PostgreSQL server that can stop forwarding
// without closing anything: a network partition between a process and
// the database, where neither side sees a FIN or an RST. frozen stops
// every connection, new ones too; cut stops those open now for good,
// as when a failover moved the database elsewhere, and new ones pass.
type gate struct {
	ln     net.Listener
	frozen atomic.Bool
	// conns numbers the connections accepted; those numbered up to cutAt
	// are stopped.
	conns, cutAt atomic.Int64
}

// cut stops the connections open now, for the rest of the test.
func (g *gate) cut() { g.cutAt.Store(g.conns.Load()) }

// stopped reports whether connection id may not forward now.
func (g *gate) stopped(id int64) bool { return g.frozen.Load() || id <= g.cutAt.Load() }

// newGate starts a gate in front of the server of dsn and returns it with
// the connection string of dsn through it.
func newGate(t *testing.T, dsn string) (*gate, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, addr := "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if strings.HasPrefix(cfg.Host, "/") {
		network, addr = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial(network, addr)
			if err != nil {
				c.Close()
				continue
			}
			id := g.conns.Add(1)
			go g.pipe(c, u, id)
			go g.pipe(u, c, id)
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = fmt.Sprintf("127.0.0.1:%d", port)
		return g, u.String()
	}
	// Later keywords win in a key=value string.
	return g, fmt.Sprintf("%s host=127.0.0.1 port=%d", dsn, port)
}

// pipe copies src to dst, of connection id, while the gate lets it; while
// it is stopped it holds what it read and reads nothing more. It ends
// when either side closes.
func (g *gate) pipe(dst io.WriteCloser, src io.ReadCloser, id int64) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		for g.stopped(id) {
			time.Sleep(10 * time.Millisecond)
		}
		n, err := src.Read(buf)
		for g.stopped(id) {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLeadHolderPartitioned cuts the lease holder off from the database
// without closing its connection: the holder stops (its ping fails), the
// server ends its silent session, and the other store takes the lease
// over within seconds, never while the holder still works. Without the
// session's timeouts PostgreSQL kept the session, and the lease, for as
// long as the operating system's TCP keepalive took: hours.
func TestLeadHolderPartitioned(t *testing.T) {
	dsn := pgtest.DSN(t)
	g, gated := newGate(t, dsn)
	var p leaseProbe
	a := contend(t, openPG(t, gated), "work", &p)
	t.Cleanup(func() { g.frozen.Store(false) }) // runs first: a then closes as usual
	waitFor(t, "the store behind the gate wins the lease", func() bool { return a.holding.Load() })
	b := contend(t, openPG(t, dsn), "work", &p)
	time.Sleep(2 * time.Second) // b tries, and fails, at least once
	if b.holding.Load() {
		t.Fatal("both stores hold the lease")
	}
	g.frozen.Store(true)
	cut := time.Now()
	waitFor(t, "the cut-off holder stops", func() bool { return !a.holding.Load() })
	stopped := time.Since(cut)
	waitFor(t, "the other store takes the lease over", func() bool { return b.holding.Load() })
	t.Logf("the holder stopped %v after the cut, the other took over after %v", stopped, time.Since(cut))
	if m := p.max(); m != 1 {
		t.Errorf("%d stores ran the work at once, want 1", m)
	}
}
