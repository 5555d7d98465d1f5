package nettest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// EnvRequireLink names the environment variable that makes StartLink fail
// a test, instead of skipping it, on a machine where it cannot make a
// link (CI sets it: there the kernel-level tests must run).
const EnvRequireLink = "DWELL_TEST_NETNS"

// Link is a TCP forwarder to one address that the test's process reaches
// over a real network link: a veth pair to a network namespace of its
// own, where the forwarder listens. Down takes the namespace's end of the
// link down, so the kernel drops every packet sent either way without a
// word (no FIN, no RST, no error on send): a partition as TCP itself sees
// it, which only TCP's own bounds notice (TCP_USER_TIMEOUT, keepalive
// probes), unlike a Gate's. Up brings it back; connections that TCP has
// not given up on go on.
//
// A Link needs root (network namespaces, veth) and iproute2's ip command;
// StartLink skips the test without them, or fails it when EnvRequireLink
// is set. All methods are safe for concurrent use.
type Link struct {
	ns, dev, peer string
	ln            net.Listener
}

// linkSeq numbers the links of the process, for unique names and
// addresses among the test processes running at once.
var linkSeq atomic.Int64

// StartLink starts a link to addr on network ("tcp" or "unix"), torn down
// when the test ends.
func StartLink(t testing.TB, network, addr string) *Link {
	t.Helper()
	if err := linkAvailable(); err != nil {
		if os.Getenv(EnvRequireLink) != "" {
			t.Fatalf("nettest.StartLink: %v (%s is set, so a link is required)", err, EnvRequireLink)
		}
		t.Skipf("nettest.StartLink: %v (set %s=1 to fail instead)", err, EnvRequireLink)
	}
	pid, seq := os.Getpid(), linkSeq.Add(1)
	l := &Link{
		ns:   fmt.Sprintf("dwell-test-%d-%d", pid, seq),
		dev:  fmt.Sprintf("dwa%dx%d", pid%10_000_000, seq%100),
		peer: "dwb0",
	}
	// A /30 of 10.128.0.0/14 per process and link: 14 bits of the pid,
	// 2 of the sequence number.
	n := (pid&0x3fff)<<2 | int(seq&3)
	addr4 := func(host int) string {
		return fmt.Sprintf("10.%d.%d.%d", 128+n>>14, n>>6&0xff, (n&0x3f)<<2|host)
	}
	ours, theirs := addr4(1), addr4(2)

	t.Cleanup(func() {
		_ = ip("link", "del", l.dev) // deletes both ends
		_ = ip("netns", "del", l.ns)
	})
	for _, args := range [][]string{
		{"netns", "add", l.ns},
		{"link", "add", l.dev, "type", "veth", "peer", "name", l.peer, "netns", l.ns},
		{"addr", "add", ours + "/30", "dev", l.dev},
		{"link", "set", l.dev, "up"},
		{"-n", l.ns, "addr", "add", theirs + "/30", "dev", l.peer},
		{"-n", l.ns, "link", "set", l.peer, "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatalf("nettest.StartLink: %v", err)
		}
	}
	ln, err := listenIn(l.ns, net.JoinHostPort(theirs, "0"))
	if err != nil {
		t.Fatalf("nettest.StartLink: %v", err)
	}
	l.ln = ln
	t.Cleanup(func() { ln.Close() })
	go forward(ln, network, addr, func(c, u net.Conn) {
		go splice(c, u)
		go splice(u, c)
	})
	return l
}

// Addr returns the forwarder's address, host:port across the link.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Host returns the forwarder's IP address across the link.
func (l *Link) Host() string { return l.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the forwarder's port.
func (l *Link) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Down takes the link down: from now on the kernel drops every packet on
// it, either way, silently. It fails t if the link cannot be changed.
func (l *Link) Down(t testing.TB) {
	t.Helper()
	if err := ip("-n", l.ns, "link", "set", l.peer, "down"); err != nil {
		t.Fatalf("nettest: link down: %v", err)
	}
}

// Up brings the link back.
func (l *Link) Up(t testing.TB) {
	t.Helper()
	if err := ip("-n", l.ns, "link", "set", l.peer, "up"); err != nil {
		t.Fatalf("nettest: link up: %v", err)
	}
}

// linkAvailable says why this process cannot make a link, or nil.
func linkAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("a link needs root (network namespaces and veth)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("a link needs iproute2's ip command: %w", err)
	}
	return nil
}

// ip runs the ip command with args.
func ip(args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %v: %w: %s", args, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// listenIn listens on addr in the named network namespace. The socket is
// made on an OS thread moved into the namespace for the purpose; the
// thread ends with its goroutine (locked, it is not reused), and the
// socket stays in the namespace wherever it is used from.
func listenIn(ns, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- result{err: fmt.Errorf("open namespace %s: %w", ns, err)}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("enter namespace %s: %w", ns, err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- result{ln, err}
	}()
	r := <-ch
	return r.ln, r.err
}

// splice copies src to dst until either side ends, then closes both.
func splice(dst io.WriteCloser, src io.ReadCloser) {
	defer dst.Close()
	defer src.Close()
	_, _ = io.Copy(dst, src)
}
