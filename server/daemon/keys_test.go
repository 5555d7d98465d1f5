package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a strings.Builder safe for log writes from many
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKeyReload: dwelld reads its keys again every KeyReloadEvery while
// it runs, keeping the keys it has when a reload fails, and stops reading
// them at Close.
func TestKeyReload(t *testing.T) {
	dir := t.TempDir()
	m := NewMain()
	var logs lockedBuffer
	m.Stdout, m.Stderr = &logs, &logs
	if err := m.ParseFlags([]string{"--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	m.Config.KeyReloadEvery = time.Millisecond
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "keys", "acme.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	const warning = "reloading the signing keys"
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), warning); {
		if time.Now().After(deadline) {
			t.Fatalf("no reload failure logged in 10 s with a malformed key file: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := m.keyring.Tenants(); len(got) != 1 || got[0] != DefaultTenant {
		t.Fatalf("keys after failed reloads: %v, want the default tenant's kept", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	n := strings.Count(logs.String(), warning)
	time.Sleep(50 * time.Millisecond)
	if after := strings.Count(logs.String(), warning); after != n {
		t.Fatalf("%d reloads logged after Close, want none: the reloading did not stop", after-n)
	}
}
