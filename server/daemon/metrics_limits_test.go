package daemon

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// startMetricsServer serves a one-line GET /metrics on a loopback port
// with the endpoint's limits, idle being how long a kept-alive connection
// may wait, and returns its address.
func startMetricsServer(t *testing.T, idle time.Duration) string {
	t.Helper()
	ms, err := listenMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.idle = idle
	ms.serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "dwell_up 1\n") }), slog.New(slog.DiscardHandler))
	t.Cleanup(ms.close)
	return ms.lis.Addr().String()
}

// get sends GET /metrics on c and reads the answer, failing the test
// unless it is 200.
func get(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: dwelld\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
}

// TestMetricsIdleConnectionClosed: a scraper's kept-alive connection that
// sends nothing more is closed once idle for the endpoint's idle time;
// before, it was kept for good, so whoever reached the port could hold
// any number of dwelld's file descriptors.
func TestMetricsIdleConnectionClosed(t *testing.T) {
	addr := startMetricsServer(t, 300*time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	get(t, c, r)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the idle connection: read %v, want EOF (closed by the server)", err)
	}
	t.Logf("closed %v after its last answer", time.Since(start).Round(time.Millisecond))
}

// TestMetricsConnectionLimit holds as many connections as the endpoint
// serves at once, sending nothing: a scrape on one more is not answered
// until one of them closes, and then is.
func TestMetricsConnectionLimit(t *testing.T) {
	addr := startMetricsServer(t, metricsIdle)
	var held []net.Conn
	for range metricsConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: dwelld\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := r.ReadByte(); err == nil {
		t.Fatalf("a scrape beyond %d connections was answered at once", metricsConns)
	}
	held[0].Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the waiting scrape, once a connection closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the waiting scrape: %s", resp.Status)
	}
}
