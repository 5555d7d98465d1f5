package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestTokenMintPostgres mints tokens from the keys of a dwelld run with
// --postgres, given by --postgres or DWELL_POSTGRES, and refuses a database
// where dwelld never ran without creating anything there.
func TestTokenMintPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	c := &cli{t: t, env: map[string]string{}}
	if r := c.must(1, "token", "mint", "--postgres", dsn, "--tenant", "default", "--role", "admin", "--subject", "a"); !strings.Contains(r.stderr, "no Dwell tables") {
		t.Fatalf("mint from a database without dwelld's tables: stderr %q", r.stderr)
	}
	m := startDaemon(t, filepath.Join(t.TempDir(), "d"), dsn)

	tok := strings.TrimSpace(c.must(0, "token", "mint", "--postgres", dsn, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	c.env = map[string]string{"DWELL_ADDR": m.Addr(), "DWELL_TOKEN": tok}
	c.must(0, "teams", "create", "--name", "North", "north")
	// DWELL_POSTGRES alone names the database.
	c.env["DWELL_POSTGRES"] = dsn
	c.env["DWELL_TOKEN"] = strings.TrimSpace(c.must(0, "token", "mint", "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	if r := c.must(0, "teams", "list"); !strings.Contains(r.stdout, "North") {
		t.Fatalf("teams list with a token minted through DWELL_POSTGRES printed %q, want the team", r.stdout)
	}
	if r := c.must(1, "token", "mint", "--tenant", "acme", "--role", "admin", "--subject", "a"); !strings.Contains(r.stderr, "no signing key in the database") {
		t.Fatalf("mint for a tenant without a key: stderr %q", r.stderr)
	}
}

// syncWriter is a strings.Builder safe for the server's log writes from
// many goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
