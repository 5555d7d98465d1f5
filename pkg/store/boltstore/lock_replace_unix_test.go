//go:build unix

package boltstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// TestOpenFileReplacedWhileLocked: dwellctl backup holds HoldFile(dst)
// around its rename of a new file over dst. A dwelld (Open) that starts
// during the hold opens the old file and waits for its lock; once the lock
// is released it must serve the file now at dst, not the old, unlinked
// one, or what it stores (and acknowledges) is gone at its next start.
func TestOpenFileReplacedWhileLocked(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "dwell.db")
	for _, p := range []string{dst, dst + ".new"} {
		s, err := boltstore.Open(p, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	release, err := boltstore.HoldFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan *boltstore.Store, 1)
	go func() {
		s, err := boltstore.Open(dst, boltstore.Options{})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	time.Sleep(300 * time.Millisecond) // the dwelld has opened dst and waits for its lock
	if err := os.Rename(dst+".new", dst); err != nil {
		t.Fatal(err)
	}
	release()
	s := <-opened
	if s == nil {
		return
	}
	ctx := context.Background()
	if err := s.CreateTeam(ctx, "acme", dwell.Team{ID: "north", DisplayName: "North"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := boltstore.Open(dst, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.GetTeam(ctx, "acme", "north"); err != nil {
		t.Fatalf("the team the dwelld stored (acknowledged) is not in %s: %v: it ran on the replaced file", dst, err)
	}
}
