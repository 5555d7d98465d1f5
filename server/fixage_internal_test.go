package server

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/timeline"
)

// TestFixAgeCoversStationaryInterval keeps timeline.MaxFixAge, beyond
// which a check-in's fix is STALE_FIX, at least twice the longest
// stationary interval GetTrackingConfig sends: a still phone at a client
// checks in with its last fix, and one that missed a sample must still be
// verified.
func TestFixAgeCoversStationaryInterval(t *testing.T) {
	for _, silence := range []time.Duration{0, 5 * time.Minute, time.Hour, 24 * time.Hour} {
		still, _ := trackingPace(silence)
		if got := 2 * time.Duration(still) * time.Second; got > timeline.MaxFixAge {
			t.Errorf("silence %v: stationary interval %d s, twice it %v exceeds timeline.MaxFixAge %v", silence, still, got, timeline.MaxFixAge)
		}
	}
}
