package boltstore_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
)

// TestStats: every commit is told to OnCommit with its requests and
// items, and counted in Stats; a fsynced commit takes time to write, one
// with NoSync is not counted as a sync; a request that fails on its own
// terms fails alone, in a commit that still succeeds.
func TestStats(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoSync=%v", noSync), func(t *testing.T) {
			var mu sync.Mutex
			var told []boltstore.Commit
			st, err := boltstore.Open(filepath.Join(t.TempDir(), "dwell.db"), boltstore.Options{NoSync: noSync, OnCommit: func(c boltstore.Commit) {
				mu.Lock()
				told = append(told, c)
				mu.Unlock()
			}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx := t.Context()
			if err := st.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "UTC"}); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "UTC"}); !dwell.Is(dwell.AlreadyExists, err) {
				t.Fatalf("second CreateRep: %v, want AlreadyExists", err)
			}
			t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
			fs := make([]dwell.Fix, 10)
			for i := range fs {
				fs[i] = dwell.Fix{ID: fmt.Sprintf("f%d", i), Time: t0.Add(time.Duration(i) * time.Second), Pos: dwell.LatLng{Lat: 1, Lng: 1}, AccuracyM: 5, SpeedMPS: -1, BearingDeg: -1}
			}
			if _, err := st.AppendFixes(ctx, "acme", "r1", fs); err != nil {
				t.Fatal(err)
			}
			s := st.Stats()
			if s.Commits != 3 || s.FailedCommits != 0 || s.Requests != 3 {
				t.Errorf("Stats = %+v, want 3 commits of 1 request each, none failed", s)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(told) != 3 {
				t.Fatalf("OnCommit told %d commits, want 3: %+v", len(told), told)
			}
			if c := told[2]; c.Requests != 1 || c.Items != len(fs) || c.Failed {
				t.Errorf("the fixes' commit was told as %+v, want 1 request of %d items", c, len(fs))
			}
			var sum time.Duration
			for _, c := range told {
				if c.Write <= 0 {
					t.Errorf("commit %+v took no time to write", c)
				}
				sum += c.Write
			}
			switch {
			case noSync && (s.Syncs != 0 || s.SyncTime != 0):
				t.Errorf("with NoSync: %d syncs taking %v, want none", s.Syncs, s.SyncTime)
			case !noSync && (s.Syncs != 3 || s.SyncTime != sum):
				t.Errorf("%d syncs taking %v, want 3 taking the commits' %v", s.Syncs, s.SyncTime, sum)
			}
		})
	}
}
