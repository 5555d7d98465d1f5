package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// certReloader serves a TLS certificate from a pair of PEM files and reads
// them again when either file changes (its modification time or size), so
// a renewed certificate is served without a restart. A renewal that cannot
// be loaded (a half-written file, a key that does not match) is logged and
// the previous certificate is kept until a file changes again: a renewal
// that writes the certificate and then the key is loaded once the key is
// written, even if a handshake came between the two writes.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	// seen is the state of the two files at the last load, successful
	// or not.
	seen pairState
}

// pairState is what certReloader watches of its two files.
type pairState struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// same reports whether p and q are the same state.
func (p pairState) same(q pairState) bool {
	return p.certMod.Equal(q.certMod) && p.keyMod.Equal(q.keyMod) && p.certSize == q.certSize && p.keySize == q.keySize
}

// statPair returns the state of the two files.
func (r *certReloader) statPair() (pairState, error) {
	cf, err := os.Stat(r.certFile)
	if err != nil {
		return pairState{}, fmt.Errorf("tls certificate: %w", err)
	}
	kf, err := os.Stat(r.keyFile)
	if err != nil {
		return pairState{}, fmt.Errorf("tls key: %w", err)
	}
	return pairState{certMod: cf.ModTime(), keyMod: kf.ModTime(), certSize: cf.Size(), keySize: kf.Size()}, nil
}

// newTLSCreds returns gRPC server credentials for the certificate and key
// files, failing if they cannot be loaded now.
func newTLSCreds(certFile, keyFile string, log *slog.Logger) (credentials.TransportCredentials, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(); err != nil {
		return nil, err
	}
	return credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}), nil
}

// load reads the pair and keeps it. The caller holds r.mu or has not
// shared r yet.
func (r *certReloader) load() error {
	st, err := r.statPair()
	if err != nil {
		return err
	}
	return r.loadAt(st)
}

// loadAt reads the pair, whose files were in state st before the read,
// and keeps it. The state is recorded even if the pair does not load, so
// that a broken renewal is tried again only once a file changes again.
// A file written after the stat is read again at the next handshake.
func (r *certReloader) loadAt(st pairState) error {
	r.seen = st
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert = &cert
	return nil
}

// get is tls.Config.GetCertificate: the current certificate, reloaded
// first if either file changed. It runs once per handshake; gRPC
// connections are long-lived, so the two stats are not on any hot path,
// and handshakes take their turns under r.mu, which also makes one of
// them, not each, reload a renewal.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, err := r.statPair(); err == nil && !st.same(r.seen) {
		if err := r.loadAt(st); err != nil {
			r.log.Error("reloading the TLS certificate; serving the previous one until a file changes again", "err", err)
		} else {
			r.log.Info("TLS certificate reloaded", "cert", r.certFile, "key", r.keyFile)
		}
	}
	return r.cert, nil
}

// loopback reports whether addr is a loopback TCP address.
func loopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// SelfSignedCert returns a new self-signed certificate (ECDSA P-256, PEM)
// for the given host names and IP addresses, valid from now for validFor,
// and its private key (PEM). It is for tests and first trials: clients
// must be told to trust it (dwellctl --ca cert.pem); production wants a
// certificate from a CA the partners' systems trust.
func SelfSignedCert(hosts []string, now time.Time, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Dwell self-signed"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
