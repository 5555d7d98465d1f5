package daemon

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePair writes a new self-signed certificate and key to the two files,
// stamped with modification time at.
func writePair(t *testing.T, certFile, keyFile string, at time.Time) []byte {
	t.Helper()
	cert, key, err := SelfSignedCert([]string{"127.0.0.1", "localhost"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, at, at); err != nil {
			t.Fatal(err)
		}
	}
	return cert
}

func derOf(t *testing.T, certPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.IPAddresses) != 1 || len(c.DNSNames) != 1 {
		t.Fatalf("certificate names: %v %v, want 127.0.0.1 and localhost", c.IPAddresses, c.DNSNames)
	}
	return b.Bytes
}

// TestCertReload checks that a renewed certificate is served at the next
// handshake, and that a broken renewal keeps the previous one.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	first := writePair(t, certFile, keyFile, t0)
	var logs bytes.Buffer
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := r.load(); err != nil {
		t.Fatal(err)
	}
	served := func() []byte {
		t.Helper()
		c, err := r.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	if !bytes.Equal(served(), derOf(t, first)) {
		t.Fatal("the first certificate is not served")
	}
	second := writePair(t, certFile, keyFile, t0.Add(time.Minute))
	if !bytes.Equal(served(), derOf(t, second)) {
		t.Fatal("the renewed certificate is not served")
	}
	// A half-written renewal: the previous certificate stays, and the
	// failure is logged once.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERT"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(certFile, t0.Add(2*time.Minute), t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(), derOf(t, second)) || !bytes.Equal(served(), derOf(t, second)) {
		t.Fatal("a broken renewal replaced the served certificate")
	}
	if n := bytes.Count(logs.Bytes(), []byte("reloading the TLS certificate")); n != 1 {
		t.Fatalf("the broken renewal was logged %d times, want once:\n%s", n, logs.String())
	}
	if _, err := newTLSCreds(certFile, keyFile, slog.Default()); err == nil {
		t.Fatal("newTLSCreds of a broken certificate = nil error")
	}
}

// TestCertReloadKeyWrittenLast renews the pair as a renewal tool may: the
// certificate file first, the key file a moment later, with a handshake
// in between (which cannot load the new certificate with the old key).
// Once the key is written, the next handshake serves the new certificate;
// until then the old one.
func TestCertReloadKeyWrittenLast(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writePair(t, certFile, keyFile, time.Now().Add(-time.Hour))
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if err := r.load(); err != nil {
		t.Fatal(err)
	}
	served := func() []byte {
		t.Helper()
		c, err := r.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	// The renewal, generated elsewhere and copied in.
	nd := t.TempDir()
	renewed := writePair(t, filepath.Join(nd, "cert.pem"), filepath.Join(nd, "key.pem"), time.Now())
	newKey, err := os.ReadFile(filepath.Join(nd, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, renewed, 0o600); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(), derOf(t, first)) { // a phone reconnects between the two copies
		t.Fatal("a certificate without its key replaced the served one")
	}
	if err := os.WriteFile(keyFile, newKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served(), derOf(t, renewed)) {
		t.Fatal("both renewed files are in place, yet the old certificate is still served")
	}
}
