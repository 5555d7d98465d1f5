// Package nettest gives tests a TCP proxy, Gate, that can stop forwarding
// without closing anything: a network partition between a process and a
// server, where neither side sees a FIN or an RST. It is for tests of how
// long a client or a server takes to notice a dead connection (keepalive,
// pings, timeouts), which a closed connection does not exercise.
//
// A Gate runs in the test's process, so the operating system still
// acknowledges what is sent to it: it partitions the conversation, not
// TCP, and what only TCP would notice (TCP_USER_TIMEOUT, keepalive
// probes) goes unnoticed behind it. For those there is Link (Linux, as
// root): a forwarder across a real veth link to a network namespace,
// whose Down makes the kernel drop every packet, a partition as TCP
// itself sees it.
package nettest

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// Gate is a TCP proxy on the loopback to one address. Freeze stops every
// connection, new ones too, until Thaw; Cut stops the connections open
// now for good, as when a failover moved the server elsewhere, and lets
// new ones pass. A stopped connection holds what it read and reads
// nothing more. All methods are safe for concurrent use.
type Gate struct {
	ln     net.Listener
	frozen atomic.Bool
	// conns numbers the connections accepted; those numbered up to cutAt
	// are stopped.
	conns, cutAt atomic.Int64
}

// Start starts a gate in front of addr on network ("tcp" or "unix"). It
// is closed, and every connection it stopped let go, when the test ends.
func Start(t testing.TB, network, addr string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("nettest.Start: %v", err)
	}
	g := &Gate{ln: ln}
	t.Cleanup(func() {
		g.frozen.Store(false)
		g.cutAt.Store(0)
		ln.Close()
	})
	go forward(ln, network, addr, func(c, u net.Conn) {
		id := g.conns.Add(1)
		go g.pipe(c, u, id)
		go g.pipe(u, c, id)
	})
	return g
}

// forward accepts connections on ln until it is closed, dials addr on
// network for each and hands both to conn; a connection whose dial fails
// is closed.
func forward(ln net.Listener, network, addr string, conn func(c, u net.Conn)) {
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
		conn(c, u)
	}
}

// Addr returns the gate's address, host:port on the loopback.
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// Port returns the gate's port.
func (g *Gate) Port() int { return g.ln.Addr().(*net.TCPAddr).Port }

// Freeze stops every connection, and those accepted later, until Thaw.
func (g *Gate) Freeze() { g.frozen.Store(true) }

// Thaw lets the connections Freeze stopped go on (not those Cut stopped).
func (g *Gate) Thaw() { g.frozen.Store(false) }

// Cut stops the connections open now until the test ends; new ones pass.
func (g *Gate) Cut() { g.cutAt.Store(g.conns.Load()) }

// Release lets every stopped connection go on, those Cut stopped too.
func (g *Gate) Release() {
	g.frozen.Store(false)
	g.cutAt.Store(0)
}

// stopped reports whether connection id may not forward now.
func (g *Gate) stopped(id int64) bool { return g.frozen.Load() || id <= g.cutAt.Load() }

// pipe copies src to dst, of connection id, while the gate lets it. It
// ends when either side closes.
func (g *Gate) pipe(dst io.WriteCloser, src io.ReadCloser, id int64) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		g.wait(id)
		n, err := src.Read(buf)
		g.wait(id)
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

// wait returns once connection id may forward.
func (g *Gate) wait(id int64) {
	for g.stopped(id) {
		time.Sleep(10 * time.Millisecond)
	}
}
