package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

// PublishEvents publishes evs to the tenant's event log as the server's
// own detectors do, for the external tests.
func PublishEvents(ctx context.Context, s *Server, tenant dwell.TenantID, evs []dwell.Event) ([]uint64, error) {
	return s.events.publish(ctx, tenant, evs)
}

// PublishDay runs the day listener on one re-derivation of a rep-day, with
// the rep's team and the tenant's settings read from the store as the
// refresher does, and returns its error.
func PublishDay(ctx context.Context, s *Server, tenant dwell.TenantID, rep dwell.RepID, date dwell.Date, prev, next *timeline.Day, detect time.Time) error {
	r, err := s.store.GetRep(ctx, tenant, rep)
	if dwell.Is(dwell.NotFound, err) {
		r = dwell.Rep{ID: rep, TimeZone: "UTC"} // as the refresher does
	} else if err != nil {
		return err
	}
	set, err := s.store.GetSettings(ctx, tenant)
	if err != nil {
		return err
	}
	return s.dayEvents(ctx, dayChange{tenant: tenant, rep: rep, team: r.Team, r: r, settings: set, date: date, prev: prev, next: next, detectTime: detect})
}

// SweepSilence runs one sweep for silent reps at instant now.
func SweepSilence(ctx context.Context, s *Server, now time.Time) error {
	return s.sweepSilence(ctx, now)
}

// EventCursor returns the cursor of position seq of tenant's log as
// servers before cursor checks issued it (version 1, no check).
func EventCursor(tenant dwell.TenantID, seq uint64) string {
	d := filterDigest(tenant, "events", "")
	b := make([]byte, 0, 17)
	b = append(b, cursorV1)
	b = append(b, d[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckedCursor returns the cursor this server issues for event e of
// tenant (version 2, with e's check).
func CheckedCursor(tenant dwell.TenantID, e dwell.Event) string { return eventCursor(tenant, e) }

// CursorSeq returns the log position a cursor of tenant names, or false if
// it is not one.
func CursorSeq(tenant dwell.TenantID, cursor string) (uint64, bool) {
	pos, vs := decodeCursor(tenant, cursor)
	return pos.seq, vs == nil
}

// WithCheck returns cursor with its check replaced by check, as a client
// altering it would (the cursor must be of version 2).
func WithCheck(cursor string, check uint64) string {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) != 25 {
		panic("WithCheck: not a version 2 cursor")
	}
	binary.BigEndian.PutUint64(b[17:], check)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SeedSilence seeds the silence tracker from the store at now and returns
// how many reps it seeded.
func SeedSilence(ctx context.Context, s *Server, now time.Time) (int, error) {
	return s.seedSilence(ctx, now)
}
