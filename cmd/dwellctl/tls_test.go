package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/server/daemon"
)

// TestTLS runs a dwelld that serves TLS with a self-signed certificate:
// dwellctl reaches it when told to trust the certificate, and not over
// plaintext or without trusting it.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, err := daemon.SelfSignedCert([]string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := daemon.NewMain()
	var logs bytes.Buffer
	m.Stdout, m.Stderr = &logs, &logs
	args := []string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--log-level", "warn", "--tls-cert", certFile, "--tls-key", keyFile}
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": m.Addr()}}
	if r := c.must(0, "--ca", certFile, "health"); strings.TrimSpace(r.stdout) != "SERVING" {
		t.Errorf("health over TLS printed %q", r.stdout)
	}
	if r := c.with("DWELL_CA", certFile).must(0, "health"); strings.TrimSpace(r.stdout) != "SERVING" {
		t.Errorf("health with DWELL_CA printed %q", r.stdout)
	}
	// A token travels over TLS as well: an admin reads the directory.
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", filepath.Join(dir, "data"), "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	c.with("DWELL_TOKEN", tok, "DWELL_CA", certFile).must(0, "reps", "list")
	// The hint says what is wrong: not a server that is down.
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"health"}, "hint: " + m.Addr() + " closed the connection before answering, as a dwelld serving TLS does to a plaintext client: add --tls, or --ca FILE"},
		{[]string{"--tls", "health"}, "hint: dwellctl does not trust dwelld's certificate: give --ca FILE"},
	} {
		r := c.must(1, tc.args...)
		if !strings.Contains(r.stderr, "UNAVAILABLE") || !strings.Contains(r.stderr, tc.hint) || strings.Contains(r.stderr, "is dwelld running") {
			t.Errorf("dwellctl %v: stderr %q, want UNAVAILABLE and %q only", tc.args, r.stderr, tc.hint)
		}
	}
	if r := c.must(2, "--ca", filepath.Join(dir, "missing.pem"), "health"); !strings.Contains(r.stderr, "--ca") {
		t.Errorf("a missing CA file: stderr %q", r.stderr)
	}
	if r := c.must(2, "--ca", keyFile, "health"); !strings.Contains(r.stderr, "no PEM certificate") {
		t.Errorf("a CA file without a certificate: stderr %q", r.stderr)
	}
}

// TestUnavailableHints: an unreachable dwelld gets the hint that asks
// whether it runs there; a plaintext one dialled with TLS, the hint to
// leave TLS out.
func TestUnavailableHints(t *testing.T) {
	addr, _ := testServer(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close() // nothing listens there now: connection refused
	c := &cli{t: t, env: map[string]string{}}
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"--addr", closed, "health"}, "hint: is dwelld running at " + closed + "? (--addr or DWELL_ADDR)"},
		{[]string{"--addr", addr, "--tls", "health"}, "hint: " + addr + " answers without TLS: leave out --tls and --ca"},
	} {
		r := c.must(1, tc.args...)
		if !strings.Contains(r.stderr, "UNAVAILABLE") || strings.Count(r.stderr, "hint:") != 1 || !strings.Contains(r.stderr, tc.hint) {
			t.Errorf("dwellctl %v: stderr %q, want UNAVAILABLE and %q only", tc.args, r.stderr, tc.hint)
		}
	}
}

// TestUnavailableHint: the hint of each UNAVAILABLE message as gRPC words
// it; a host that does not resolve gets the "is dwelld running" hint too,
// and a message the hints know nothing of gets none.
func TestUnavailableHint(t *testing.T) {
	const addr = "dwell.example:7070"
	for _, tc := range []struct {
		msg  string
		tls  bool
		want string
	}{
		{`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`, false, "hint: is dwelld running at dwell.example:7070?"},
		{`name resolver error: produced zero addresses`, false, "hint: is dwelld running at dwell.example:7070?"},
		{`connection error: desc = "transport: Error while dialing: dial tcp: lookup dwell.example: no such host"`, true, "hint: is dwelld running at dwell.example:7070?"},
		{`connection error: desc = "error reading server preface: EOF"`, false, "add --tls, or --ca FILE"},
		{`connection error: desc = "error reading server preface: EOF"`, true, ""},
		{`connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`, true, "give --ca FILE"},
		{`connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`, true, "answers without TLS"},
		{`the server is shutting down`, false, ""},
		// Any other failure to reach the address keeps the hint.
		{`connection error: desc = "transport: Error while dialing: dial tcp [2001:db8::1]:7070: connect: no route to host"`, false, "hint: is dwelld running at dwell.example:7070?"},
		{`connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:7070: connect: network is unreachable"`, false, "hint: is dwelld running at dwell.example:7070?"},
		{`connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:7070: i/o timeout"`, true, "hint: is dwelld running at dwell.example:7070?"},
		{`connection error: desc = "transport: Error while dialing: dial tcp: lookup dwell.example on 127.0.0.53:53: server misbehaving"`, false, "hint: is dwelld running at dwell.example:7070?"},
	} {
		got := unavailableHint(tc.msg, addr, tc.tls)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("unavailableHint(%q, tls %v) = %q, want %q", tc.msg, tc.tls, got, tc.want)
		}
	}
}
