package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// pausedSegments returns the PAUSED segments of a rep's day in GetRepDay,
// as [start, end) pairs.
func (e *env) pausedSegments(rep string, date *dwellv1.Date) [][2]time.Time {
	e.t.Helper()
	d, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/" + rep, Date: date})
	if err != nil {
		e.t.Fatalf("GetRepDay(%s): %v", rep, err)
	}
	var out [][2]time.Time
	for _, s := range d.GetSegments() {
		if s.GetKind() == dwellv1.SegmentKind_SEGMENT_KIND_PAUSED {
			out = append(out, [2]time.Time{s.GetStartTime().AsTime(), s.GetEndTime().AsTime()})
		}
	}
	return out
}

// TestLostResumeThenPause: a rep pauses at 04:00 and the resume is lost;
// the phone keeps tracking and its fixes from 04:01 to 09:00 are accepted;
// then the rep pauses at 09:00 and resumes at 09:30. The first pause ends
// at its first fix (its resume was lost) and the second is a pause of its
// own, in GetRepDay, in what is kept on disk (the resume deletes the
// fixes of 09:00 to 09:30 and no others) and in what a re-send of the
// fixes is answered (duplicates, not refused as paused). The same with a
// pause and a resume at one instant (which GetTrackingConfig reads as
// the timeline does: the pause holds) and with a pause repeated with no
// fix between (the resume deletes from the first of its repeats).
func TestLostResumeThenPause(t *testing.T) {
	h := func(hh, mm int) time.Time { return time.Date(2026, 11, 20, hh, mm, 0, 0, time.UTC) }
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 20}
	for _, c := range []struct {
		name string
		// before runs before the fixes are sent.
		before func(e *env, rep string)
		// wantPaused are the paused intervals once resumed at 09:30.
		wantPaused [][2]time.Time
	}{
		{"a lost resume", func(e *env, rep string) { e.pause(rep, "p1", h(4, 0)) },
			[][2]time.Time{{h(4, 0), h(4, 1)}, {h(9, 0), h(9, 30)}}},
		{"a pause and a resume at one instant", func(e *env, rep string) {
			e.pause(rep, "p1", h(4, 0))
			e.resume(rep, "r1", h(4, 0))
			cfg, err := e.ingest.GetTrackingConfig(e.as(acme, dwell.RoleRep, rep), &dwellv1.GetTrackingConfigRequest{})
			if err != nil {
				e.t.Fatal(err)
			}
			// The timeline holds the pause (the resume first at one
			// instant): so does the configuration.
			if got := e.pausedSegments(rep, date); !cfg.GetPaused() || cfg.GetTrackingEnabled() || !slices.Equal(got, [][2]time.Time{{h(4, 0), e.now()}}) {
				e.t.Fatalf("a pause and a resume at 04:00: config paused %v, enabled %v; GetRepDay paused %v; want paused from 04:00 in both", cfg.GetPaused(), cfg.GetTrackingEnabled(), got)
			}
		}, [][2]time.Time{{h(4, 0), h(4, 1)}, {h(9, 0), h(9, 30)}}},
		{"a pause repeated with no fix between", func(e *env, rep string) {
			// A fix at the pause's very instant, stored before the pause
			// was known: paused time, so the resume deletes it.
			if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, rep), &dwellv1.UploadPingsRequest{Fixes: []*dwellv1.Fix{
				{Id: "at-pause", DeviceTime: timestamppb.New(h(3, 0)), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10}}}); err != nil {
				e.t.Fatal(err)
			}
			e.pause(rep, "p0", h(3, 0))
			e.pause(rep, "p1", h(4, 0))
		}, [][2]time.Time{{h(3, 0), h(4, 1)}, {h(9, 0), h(9, 30)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t) // 10:00 UTC
			e.mustCreateUTCRep("lia")
			rep := e.as(acme, dwell.RoleRep, "lia")
			c.before(e, "lia")
			var sent []*dwellv1.Fix
			for m := 1; m <= 300; m++ { // 04:01 to 09:00
				sent = append(sent, &dwellv1.Fix{Id: fmt.Sprint("f", m), DeviceTime: timestamppb.New(h(4, 0).Add(time.Duration(m) * time.Minute)),
					Position: &dwellv1.LatLng{Lat: -6.2 + float64(m%30)*1e-3, Lng: 106.8}, AccuracyMeters: 10})
			}
			resp, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: sent})
			if err != nil || resp.GetAck().GetAccepted() != 300 {
				t.Fatalf("the fixes after the pause: %v, %v; want 300 accepted", resp.GetAck(), err)
			}
			e.pause("lia", "p2", h(9, 0))
			e.resume("lia", "r2", h(9, 30))

			inPause := func(at time.Time) bool {
				for _, p := range c.wantPaused {
					if !at.Before(p[0]) && at.Before(p[1]) {
						return true
					}
				}
				return false
			}
			if got := e.pausedSegments("lia", date); !slices.Equal(got, c.wantPaused) {
				t.Fatalf("GetRepDay paused %v, want %v", got, c.wantPaused)
			}
			// On disk: exactly the fixes outside the paused intervals.
			var want []time.Time
			for _, f := range sent {
				if at := f.GetDeviceTime().AsTime(); !inPause(at) {
					want = append(want, at)
				}
			}
			if got := e.storedFixTimes("lia"); !slices.Equal(got, want) {
				t.Fatalf("stored %d fixes (%v..), want the %d outside the paused time", len(got), got[:min(3, len(got))], len(want))
			}
			// The phone re-sends the batch (its acknowledgement lost):
			// duplicates, but for the one inside 09:00 to 09:30.
			again, err := e.ingest.UploadPings(rep, &dwellv1.UploadPingsRequest{Fixes: sent})
			if err != nil {
				t.Fatal(err)
			}
			wantAck(t, "the re-send", again.GetAck(), sent, inPause, dwellv1.FixStatus_FIX_STATUS_DUPLICATE)
			cfg, err := e.ingest.GetTrackingConfig(rep, &dwellv1.GetTrackingConfigRequest{})
			if err != nil || cfg.GetPaused() {
				t.Fatalf("tracking config after the resume: %v, %v; want not paused", cfg, err)
			}
			// The stored summary says the same as the inline derivation.
			if err := e.srv.Refresh(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := e.pausedSegments("lia", date); !slices.Equal(got, c.wantPaused) {
				t.Fatalf("GetRepDay after a refresh: paused %v, want %v", got, c.wantPaused)
			}
		})
	}
}
