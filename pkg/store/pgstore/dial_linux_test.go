package pgstore

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sys/unix"
)

// TestBoundDial dials through a configuration boundDial set and reads the
// socket's options back from the kernel: keepalive on, with the idle time,
// interval and count of dialKeepalive, and TCP_USER_TIMEOUT of
// dialUserTimeout. TestCallOnDeadPath shows what the kernel does with them
// when the path dies.
func TestBoundDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			_, _ = c.Read(make([]byte, 1))
		}
	}()
	cfg, err := pgconn.ParseConfig("host=127.0.0.1 connect_timeout=7")
	if err != nil {
		t.Fatal(err)
	}
	boundDial(cfg)
	c, err := cfg.DialFunc(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	get := func(level, name int) int {
		var v int
		var gerr error
		if err := raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, name) }); err != nil {
			t.Fatal(err)
		}
		if gerr != nil {
			t.Fatalf("getsockopt(%d, %d): %v", level, name, gerr)
		}
		return v
	}
	for _, o := range []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE (s)", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(dialKeepalive.Idle / time.Second)},
		{"TCP_KEEPINTVL (s)", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(dialKeepalive.Interval / time.Second)},
		{"TCP_KEEPCNT", unix.IPPROTO_TCP, unix.TCP_KEEPCNT, dialKeepalive.Count},
		{"TCP_USER_TIMEOUT (ms)", unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(dialUserTimeout.Milliseconds())},
	} {
		if got := get(o.level, o.opt); got != o.want {
			t.Errorf("%s = %d, want %d", o.name, got, o.want)
		}
	}
	if cfg.ConnectTimeout != 7*time.Second {
		t.Errorf("ConnectTimeout = %v, want 7s (kept from the connection string)", cfg.ConnectTimeout)
	}

	// A Unix socket is dialled too, without the TCP options.
	dir := t.TempDir()
	uln, err := net.Listen("unix", dir+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	uc, err := cfg.DialFunc(context.Background(), "unix", dir+"/s")
	if err != nil {
		t.Fatalf("dial a Unix socket: %v", err)
	}
	uc.Close()
}
