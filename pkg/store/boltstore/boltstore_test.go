package boltstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/storetest"
)

// paths remembers the file of every store the harness opened, for Reopen.
var paths sync.Map // *boltstore.Store -> string

func open(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	paths.Store(s, path)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) store.Store {
			return open(t, filepath.Join(t.TempDir(), "dwell.db"))
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			path, ok := paths.Load(s)
			if !ok {
				t.Fatal("Reopen of a store the harness did not open")
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, path.(string))
		},
	})
}

func TestOpenLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	// bbolt's lock is per open file description, so a second Open in the
	// same process waits for it like another process would.
	path := filepath.Join(t.TempDir(), "dwell.db")
	open(t, path)
	_, err := boltstore.Open(path, boltstore.Options{})
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
}

func TestOptionsNow(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "dwell.db"), boltstore.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, _, err := s.RecordCall(context.Background(), "t", dwell.Call{RequestID: "x", Rep: "r", StartTime: at.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !c.ReceiveTime.Equal(at) {
		t.Fatalf("ReceiveTime = %v, want the injected clock's %v", c.ReceiveTime, at)
	}
}

func TestInvalidInput(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "dwell.db"))
	ctx := context.Background()
	for name, err := range map[string]error{
		"empty tenant": s.CreateClient(ctx, "", dwell.Client{ID: "c"}),
		"empty id":     s.CreateRep(ctx, "t", dwell.Rep{}),
		"long id":      s.CreateTeam(ctx, "t", dwell.Team{ID: dwell.TeamID(strings.Repeat("x", dwell.MaxIDBytes+1))}),
		"empty fix id": func() error {
			_, err := s.AppendFixes(ctx, "t", "r", []dwell.Fix{{ID: "a", Time: time.Now()}, {Time: time.Now()}})
			return err
		}(),
		"fix in 2300": func() error {
			_, err := s.AppendFixes(ctx, "t", "r", []dwell.Fix{{ID: "a", Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}})
			return err
		}(),
		"empty rep": func() error { _, _, err := s.RecordCheckIn(ctx, "t", dwell.CheckIn{Time: time.Now()}); return err }(),
	} {
		if !dwell.Is(dwell.Invalid, err) {
			t.Errorf("%s: %v, want kind %q", name, err, dwell.Invalid)
		}
	}
	// Nothing of the bad batch was stored.
	got, err := s.ListFixes(ctx, "t", "r", time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(got) != 0 {
		t.Fatalf("after invalid batch: %d fixes, %v", len(got), err)
	}
	var ve []dwell.Violation
	_, err = s.AppendFixes(ctx, "t", "r", []dwell.Fix{{ID: "a", Time: time.Now()}, {Time: time.Now()}})
	if ve = dwell.ViolationsOf(err); len(ve) != 1 || ve[0].Field != "fixes[1].id" {
		t.Fatalf("violations = %+v, want one for fixes[1].id", ve)
	}
}
