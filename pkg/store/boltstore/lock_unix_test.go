//go:build unix

package boltstore_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// TestHoldFile checks that HoldFile refuses at once a file an open Store
// holds (ErrLocked, FailedPrecondition), says NotFound of a missing file,
// and holds a closed store's file until released, Open then taking it.
func TestHoldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dwell.db")
	if _, err := boltstore.HoldFile(path); !dwell.Is(dwell.NotFound, err) {
		t.Fatalf("HoldFile of a missing file = %v, want NotFound", err)
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.HoldFile(path); !errors.Is(err, boltstore.ErrLocked) || !dwell.Is(dwell.FailedPrecondition, err) {
		t.Fatalf("HoldFile of an open store's file = %v, want ErrLocked, FailedPrecondition", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	release, err := boltstore.HoldFile(path)
	if err != nil {
		t.Fatalf("HoldFile of a closed store's file: %v", err)
	}
	release()
	s, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open after HoldFile's release: %v", err)
	}
	s.Close()
}
