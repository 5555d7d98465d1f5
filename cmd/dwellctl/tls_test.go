package main

import (
	"bytes"
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
	for _, bad := range [][]string{
		{"health"},          // plaintext against TLS
		{"--tls", "health"}, // the self-signed certificate is not trusted
	} {
		if r := c.must(1, bad...); !strings.Contains(r.stderr, "UNAVAILABLE") {
			t.Errorf("dwellctl %v: stderr %q, want UNAVAILABLE", bad, r.stderr)
		}
	}
	if r := c.must(2, "--ca", filepath.Join(dir, "missing.pem"), "health"); !strings.Contains(r.stderr, "--ca") {
		t.Errorf("a missing CA file: stderr %q", r.stderr)
	}
	if r := c.must(2, "--ca", keyFile, "health"); !strings.Contains(r.stderr, "no PEM certificate") {
		t.Errorf("a CA file without a certificate: stderr %q", r.stderr)
	}
}
