package server

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// HoldDayListener puts fn before s's day listeners, for the external
// tests: the refresher calls it with each re-derived day's rep after
// deriving the day and before publishing its events and storing its
// summary, so a test can hold a derivation in flight.
func HoldDayListener(s *Server, fn func(rep dwell.RepID)) {
	s.dayListeners = append([]func(context.Context, dayChange) error{func(_ context.Context, c dayChange) error {
		fn(c.rep)
		return nil
	}}, s.dayListeners...)
}
