package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestWatchTokenExpiryPrintsCursor: the server ends a stream at its
// token's expiry (UNAUTHENTICATED "token expired"); dwellctl watch, which
// cannot mend that by retrying, exits 1 but says the cursor to resume from
// with a new token (it said nothing, and a watch restarted without --from
// missed the events in between).
func TestWatchTokenExpiryPrintsCursor(t *testing.T) {
	addr, dataDir := testServer(t)
	kr, err := auth.OpenKeyring(filepath.Join(dataDir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	// A token refused 3 s from now.
	tok, err := kr.Mint(dwell.Principal{Tenant: "default", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour,
		time.Now().Add(-time.Hour-auth.Leeway+3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr, "DWELL_TOKEN": tok}}
	w := startWatch(t, c)
	var code int
	select {
	case code = <-w.code:
		w.code <- code
	case <-time.After(30 * time.Second):
		t.Fatalf("watch still running 30 s after its token expired; stderr:\n%s", w.errs.String())
	}
	errs := w.errs.String()
	t.Logf("exit %d, stderr:\n%s", code, errs)
	if !strings.Contains(errs, "Resume with") {
		t.Fatalf("watch ended at its token's expiry (exit %d) without saying the cursor to resume from", code)
	}
}
