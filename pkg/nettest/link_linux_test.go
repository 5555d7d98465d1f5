package nettest_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/nettest"
	"golang.org/x/sys/unix"
)

// TestLink echoes through a link, takes it down, and shows what a
// partition is to TCP: a write is accepted and a read then waits, with no
// error, until the connection's TCP_USER_TIMEOUT (1 s here) gives it up;
// a connection made before Down and used after Up goes on.
func TestLink(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	l := nettest.StartLink(t, "tcp", echo.Addr().String())
	if host := net.ParseIP(l.Host()); host == nil || host.IsLoopback() {
		t.Fatalf("Host() = %q, want an address across the link, not the loopback", l.Host())
	}
	dial := func(userTimeout time.Duration) net.Conn {
		t.Helper()
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatalf("dial %s: %v", l.Addr(), err)
		}
		t.Cleanup(func() { c.Close() })
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(userTimeout.Milliseconds()))
		}); err != nil || serr != nil {
			t.Fatalf("set TCP_USER_TIMEOUT: %v %v", err, serr)
		}
		return c
	}
	roundTrip := func(c net.Conn, msg string, wait time.Duration) error {
		t.Helper()
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		n, err := c.Read(buf)
		if err == nil && string(buf[:n]) != msg {
			t.Fatalf("echo = %q, want %q", buf[:n], msg)
		}
		return err
	}

	bounded, kept := dial(time.Second), dial(time.Hour)
	for _, c := range []net.Conn{bounded, kept} {
		if err := roundTrip(c, "before", 5*time.Second); err != nil {
			t.Fatalf("echo before Down: %v", err)
		}
	}

	l.Down(t)
	down := time.Now()
	err = roundTrip(bounded, "during", 10*time.Second)
	took := time.Since(down)
	var ne net.Error
	switch {
	case err == nil:
		t.Fatal("a round trip succeeded across a link that is down")
	case errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("the read waited out its 10 s deadline: TCP_USER_TIMEOUT (1 s) did not give the connection up")
	case took < 900*time.Millisecond:
		t.Fatalf("the connection failed %v after Down (%v): the partition was not silent, TCP_USER_TIMEOUT was not what ended it", took, err)
	}
	t.Logf("a connection with TCP_USER_TIMEOUT 1 s failed %v after Down: %v", took.Round(time.Millisecond), err)

	// The other connection sent nothing while the link was down: after Up
	// it goes on.
	l.Up(t)
	if err := roundTrip(kept, "after", 10*time.Second); err != nil {
		t.Fatalf("echo after Up on a connection made before Down: %v", err)
	}
}
