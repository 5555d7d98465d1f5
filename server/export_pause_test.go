package server

import (
	"context"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
)

// DeriveOpenPauses makes the reports derive inline every day whose open
// pause holds the present (on) instead of reading its current summary as
// liveDay does (off, the default).
func DeriveOpenPauses(s *Server, on bool) { s.deriveOpen.Store(on) }

// LiveDayBothWays returns a rep-day as a report reads it from its current
// stored summary (liveDay; served is false when it derives the day
// instead, or the summary is not current) and as the report's inline
// derivation summarises it (summarize), each as its encoded summary and
// detail. open reports whether the stored summary holds an open pause.
func LiveDayBothWays(ctx context.Context, s *Server, t dwell.TenantID, rep dwell.RepID, date dwell.Date) (stored, derived []byte, served, open bool, err error) {
	r, err := s.store.GetRep(ctx, t, rep)
	if err != nil {
		return nil, nil, false, false, err
	}
	sum, detail, err := s.store.GetDaySummary(ctx, t, rep, date)
	if err != nil {
		return nil, nil, false, false, err
	}
	if sum.Current() && detail != nil {
		kd, err := kpi.DecodeDay(sum.Summary, detail)
		if err != nil {
			return nil, nil, false, false, err
		}
		open = kd.OpenPause
		if d, ok := s.liveDay(r, kd); ok {
			stored, served = append(d.EncodeSummary(), d.EncodeDetail()...), true
		}
	}
	d, err := summarizeStored(ctx, s, t, r, date)
	if err != nil {
		return nil, nil, false, false, err
	}
	return stored, append(d.EncodeSummary(), d.EncodeDetail()...), served, open, nil
}
