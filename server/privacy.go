package server

import (
	"context"
	"iter"
	"log/slog"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Privacy (DESIGN.md, "Storage and scale"): fixes are kept for the
// tenant's retention period, and a rep's location history can be erased.
//
// Retention: fixes and rep actions older than the period are refused on
// upload (ingest.go), and the retention sweeper, every RetentionSweep (an
// hour by default), forgets the stored ones once they expire: it deletes
// the fixes, clears the fix each check-in and check-out kept of where the
// phone was (the records themselves, with their outcomes and the
// verification decided at receipt, stay), and deletes the events of the
// tenant's log detected before the period, a few thousand per store write
// so ingest is never held back for long. The summaries of their days stay,
// so reports over old ranges keep their figures; the store re-derives only
// days inside the period after a settings or client change
// (store.Privacy).
//
// Erasure: EraseRepHistory deletes the rep's data in the store and then
// what the server holds in memory about the rep (the event tail, the
// silence tracker). The store raises the erased days' data versions, so
// cached derivations of them are never current again, and refuses a
// summary or events derived from a lower version (PutDaySummary,
// AppendDayEvents): no derivation read before the erase stores a summary
// or publishes events after it, whichever server sharing the store runs
// it (on PostgreSQL, the lease holder's refresher). Fixes uploaded after
// the erase raise the version again and are derived as usual. On one
// server, eraseMu (this server's re-derivations and erasures take turns)
// gives the same guarantee without the store's help.

const (
	// defaultRetentionSweep is how often expired fixes are deleted.
	defaultRetentionSweep = time.Hour
	// firstRetentionSweep bounds the wait for the first sweep after a start.
	firstRetentionSweep = 5 * time.Minute
	// pruneBatch is how many fixes, check-ins and check-outs, or events one
	// store write goes over at most.
	pruneBatch = 5000
	// retentionPage is how many reps one listing returns.
	retentionPage = 256
)

// swept counts what one retention sweep forgot: fixes and events
// deleted, check-ins and check-outs whose fix was cleared.
type swept struct{ fixes, actionFixes, events int }

// sweepRetention deletes every stored fix, and every event of the tenants'
// logs, older than its tenant's retention period at now, and clears the
// fixes of the check-ins and check-outs older than it.
func (s *Server) sweepRetention(ctx context.Context, now time.Time) (swept, error) {
	const op = dwell.Op("server.sweepRetention")
	periods := map[dwell.TenantID]time.Duration{}
	var tenants []dwell.TenantID
	var total swept
	for r, err := range s.dataReps(ctx) {
		if err != nil {
			return total, dwell.E(op, err)
		}
		period, ok := periods[r.Tenant]
		if !ok {
			st, err := s.store.GetSettings(ctx, r.Tenant)
			if err != nil {
				return total, dwell.E(op, err)
			}
			period = st.Retention
			periods[r.Tenant] = period
			tenants = append(tenants, r.Tenant)
		}
		cut := now.Add(-period)
		n, err := pruneAll(func() (int, bool, error) { return s.store.PruneFixes(ctx, r.Tenant, r.Rep, cut, pruneBatch) })
		total.fixes += n
		if err != nil {
			return total, dwell.E(op, err)
		}
		// A check-in's or check-out's fix says where the rep was as
		// much as a fix does.
		n, err = pruneAll(func() (int, bool, error) { return s.store.PruneActionFixes(ctx, r.Tenant, r.Rep, cut, pruneBatch) })
		total.actionFixes += n
		if err != nil {
			return total, dwell.E(op, err)
		}
	}
	// The event logs of the tenants with data: events say where reps were
	// (visits, geofence crossings) and expire with the fixes.
	for _, t := range tenants {
		n, err := pruneAll(func() (int, bool, error) { return s.store.PruneEvents(ctx, t, now.Add(-periods[t]), pruneBatch) })
		if err != nil {
			return total, dwell.E(op, err)
		}
		if n > 0 {
			s.events.forgetTail(t)
			total.events += n
		}
	}
	return total, nil
}

// pruneAll calls step, one store write that forgets a batch, until it
// reports that nothing more is left, and returns the sum of what the calls
// forgot. It stops at the first error.
func pruneAll(step func() (n int, more bool, err error)) (int, error) {
	total := 0
	for more := true; more; {
		n, m, err := step()
		if err != nil {
			return total, err
		}
		total, more = total+n, m
	}
	return total, nil
}

// dataReps yields every rep with stored fixes or actions
// (store.ListDataReps), listing retentionPage of them at a time; a failed
// listing is yielded as the last pair.
func (s *Server) dataReps(ctx context.Context) iter.Seq2[store.RepRef, error] {
	return func(yield func(store.RepRef, error) bool) {
		var after store.RepRef
		for {
			page, err := s.store.ListDataReps(ctx, after, retentionPage)
			if err != nil {
				yield(store.RepRef{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < retentionPage {
				return
			}
			after = page[len(page)-1]
		}
	}
}

// retentionLoop runs sweepRetention every interval (the first time after
// at most firstRetentionSweep) until the server closes.
func (s *Server) retentionLoop(interval time.Duration) {
	defer close(s.pruned)
	timer := time.NewTimer(min(interval, firstRetentionSweep))
	defer timer.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-timer.C:
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			n, err := s.sweepRetention(ctx, s.now())
			cancel()
			if err != nil {
				s.log.Error("deleting expired fixes and events", "fixes", n.fixes, "action_fixes", n.actionFixes, "events", n.events, "err", err)
			} else if n.fixes > 0 || n.actionFixes > 0 || n.events > 0 {
				s.log.Info("deleted expired fixes and events", "fixes", n.fixes, "action_fixes", n.actionFixes, "events", n.events)
			}
			timer.Reset(interval)
		}
	}
}

// eraseRepHistory erases the rep's history in the store and in memory.
// On a shared store the other servers forget the rep too, when their
// change feeds hear of the erasure (store.ChangeRepErased, feed.go).
func (s *Server) eraseRepHistory(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) (store.Erased, error) {
	s.eraseMu.Lock()
	defer s.eraseMu.Unlock()
	e, err := s.store.EraseRepHistory(ctx, tenant, rep)
	if err != nil {
		return e, err
	}
	s.events.forgetTail(tenant)
	s.silence.forget(silentKey{tenant, rep})
	return e, nil
}

func (d *directoryService) EraseRepHistory(ctx context.Context, req *dwellv1.EraseRepHistoryRequest) (*dwellv1.EraseRepHistoryResponse, error) {
	const op = dwell.Op("server.EraseRepHistory")
	p, id, err := callerAndID(ctx, op, collReps, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	e, err := d.s.eraseRepHistory(ctx, p.Tenant, dwell.RepID(id))
	if err != nil {
		return nil, err
	}
	d.s.log.InfoContext(ctx, "rep history erased", slog.String("audit", "erase"),
		slog.String("tenant", string(p.Tenant)), slog.String("subject", p.Subject), slog.String("rep", id),
		slog.Int("fixes", e.Fixes), slog.Int("actions", e.Actions), slog.Int("days", e.Days), slog.Int("events", e.Events))
	return &dwellv1.EraseRepHistoryResponse{
		FixesErased:   int64(e.Fixes),
		ActionsErased: int64(e.Actions),
		DaysErased:    int64(e.Days),
		EventsErased:  int64(e.Events),
	}, nil
}
