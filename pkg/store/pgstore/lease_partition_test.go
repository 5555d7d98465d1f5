package pgstore_test

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/nettest"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// newGate starts a gate (nettest.Gate) in front of the server of dsn and
// returns it with the connection string of dsn through it.
func newGate(t *testing.T, dsn string) (*nettest.Gate, string) {
	t.Helper()
	var g *nettest.Gate
	through := proxied(t, dsn, func(network, addr string) (string, int) {
		g = nettest.Start(t, network, addr)
		return "127.0.0.1", g.Port()
	})
	return g, through
}

// proxied starts a proxy in front of the server of dsn with start, which
// is given the server's network and address and returns the proxy's host
// and port, and returns the connection string of dsn through the proxy.
func proxied(t *testing.T, dsn string, start func(network, addr string) (host string, port int)) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, addr := "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if strings.HasPrefix(cfg.Host, "/") {
		network, addr = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	host, port := start(network, addr)
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = net.JoinHostPort(host, strconv.Itoa(port))
		return u.String()
	}
	// Later keywords win in a key=value string.
	return fmt.Sprintf("%s host=%s port=%d", dsn, host, port)
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
	t.Cleanup(g.Release) // runs first: a then closes as usual
	waitFor(t, "the store behind the gate wins the lease", func() bool { return a.holding.Load() })
	b := contend(t, openPG(t, dsn), "work", &p)
	time.Sleep(2 * time.Second) // b tries, and fails, at least once
	if b.holding.Load() {
		t.Fatal("both stores hold the lease")
	}
	g.Freeze()
	cut := time.Now()
	waitFor(t, "the cut-off holder stops", func() bool { return !a.holding.Load() })
	stopped := time.Since(cut)
	waitFor(t, "the other store takes the lease over", func() bool { return b.holding.Load() })
	t.Logf("the holder stopped %v after the cut, the other took over after %v", stopped, time.Since(cut))
	if m := p.max(); m != 1 {
		t.Errorf("%d stores ran the work at once, want 1", m)
	}
}
