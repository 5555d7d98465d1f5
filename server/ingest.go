package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// ingestService implements dwellv1.IngestServiceServer.
type ingestService struct {
	dwellv1.UnimplementedIngestServiceServer
	s *Server
	// pauses keeps each rep's batches of fixes apart from its pauses and
	// resumes (pauseLocks).
	pauses pauseLocks
}

// maxInFlightBatches bounds how many batches of one StreamPings stream are
// being made durable at once. Pipelining lets one phone's batches share
// group commits instead of paying one fsync each; the bound is the
// backpressure: the stream stops reading until an acknowledgement is sent.
const maxInFlightBatches = 16

// Tracking sent by GetTrackingConfig (trackingPace, offlineBuffer): the
// intervals and delays in seconds, the most that is sent; the tenant's
// silence threshold and retention may make them shorter.
const (
	movingIntervalS     = 30
	stationaryIntervalS = 300
	trackingBatchSize   = 50
	maxBatchDelayS      = 300
	offlineBufferS      = 72 * 3600
	configRefresh       = time.Hour

	// paceFloorS is the least stationary interval and batch delay sent,
	// in seconds: the moving interval. The least silence threshold
	// (dwell.MinSilence, 300 s) gives 100 s, so it holds only should
	// that bound come down.
	paceFloorS = movingIntervalS
	// silenceShare is the share of the silence threshold that the
	// stationary interval, and the batch delay, may each take: a still
	// phone's next fix reaches the server at most two thirds of the
	// threshold after the last one, leaving a third for a slow network
	// and the upload's retries.
	silenceShare = 3
	// offlineMargin is how much less the offline buffer is than what
	// ingest would take: a buffered fix must still be accepted once the
	// upload gets through (a phone's clock a little behind, an upload
	// taking its time).
	offlineMargin = time.Hour
	// longestDay is the longest a rep's local day lasts: 25 hours, a day
	// whose clocks fall back an hour. Ingest refuses data for a local day
	// that began before the rep's prune horizon (dayPruned), and that
	// horizon reaches up to the retention period before now, so a fix is
	// safe from that rule only while its day began within the period:
	// while it is younger than the retention less longestDay.
	longestDay = 25 * time.Hour
	// offlineBufferFloor is the least offline buffer sent, in seconds: an
	// hour of network trouble (a lift, a basement, a tunnel). Only a
	// retention of 1 day leaves less (24 h - longestDay - offlineMargin
	// is negative), and then no buffer keeps every fix from the
	// pruned-day rule (offlineBuffer).
	offlineBufferFloor = 3600
)

// trackingPace returns the stationary interval and the longest batch
// delay, in seconds, that GetTrackingConfig sends for the tenant's silence
// threshold silence (zero: the default): stationaryIntervalS and
// maxBatchDelayS, each at most a third of silence (silenceShare) and at
// least paceFloorS. A still phone that follows them takes its next fix
// at most a third of the threshold after the last and uploads it at most
// a third later, so a rep is never reported silent (REP_SILENT,
// REP_STATE_SILENT) while its phone sends what it was told to.
func trackingPace(silence time.Duration) (stillS, delayS int32) {
	if silence <= 0 {
		silence = dwell.DefaultSilenceMin
	}
	share := int32(silence / silenceShare / time.Second)
	pace := func(most int32) int32 { return max(min(most, share), paceFloorS) }
	return pace(stationaryIntervalS), pace(maxBatchDelayS)
}

// offlineBuffer returns how long, in seconds, GetTrackingConfig tells the
// phone to keep fixes while offline at now, for the tenant's retention
// period (zero: the default) and the rep's prune horizon pruned
// (store.PrunedBefore; zero if none): offlineBufferS, at most the
// retention less longestDay and offlineMargin, at most the time since
// pruned less the same, and at least offlineBufferFloor.
//
// Ingest refuses a fix older than the retention, and one of a local day
// that began before the rep's prune horizon (dayPruned: that day lost
// fixes to retention and is never derived again). The horizon is the cut
// of a sweep, the retention before it ran, so it lies at most the
// retention before now, or where a sweep under a shorter period (since
// raised) left it. A fix kept no longer than the buffer is on a day that
// began after both, so ingest takes every fix the phone kept (and a
// check-in, check-out or call kept as long). With a retention of 1 day
// (or within a day and two hours of a horizon left by a shorter period)
// no buffer can promise that: the floor is sent, and a fix taken in the
// last two hours of a local day (offlineBufferFloor and offlineMargin)
// and kept past its end may be refused once the sweep has pruned the rep
// after that day began.
func offlineBuffer(retention time.Duration, pruned, now time.Time) int32 {
	if retention <= 0 {
		retention = dwell.DefaultSettings().Retention
	}
	keep := retention
	if !pruned.IsZero() {
		keep = min(keep, now.Sub(pruned))
	}
	s := int64((keep - longestDay - offlineMargin) / time.Second)
	return int32(min(max(s, offlineBufferFloor), offlineBufferS))
}

// batch validates and stores one batch of fixes for one rep and returns its
// acknowledgement and the violations of every rejected fix (with field
// paths "fixes[i]..."). A store error fails the whole batch: nothing in it
// is acknowledged. A fix taken while its rep had paused tracking is
// rejected on device_time: the rep's pauses are read once for the batch's
// time span (pausesWith, which reads back as far as the pause in force at
// its start began, however old, and counts the batch's valid fixes as
// stored), and no location is kept for a paused time.
//
// A fix that fails only checks of time, that may have passed when it was
// first sent (the rep's working hours, the tenant's retention period, a
// day retention pruned, a pause), is looked up among the rep's stored
// fixes first: a re-sent fix already stored (same id, same device time) is
// a duplicate, as ingest.proto says, not rejected because an
// administrator changed the hours since. Fixes that fail validation
// proper stay rejected.
func (g *ingestService) batch(ctx context.Context, p dwell.Principal, r dwell.Rep, fixes []*dwellv1.Fix) (*dwellv1.BatchAck, []dwell.Violation, error) {
	const op = dwell.Op("server.ingestBatch")
	switch {
	case len(fixes) == 0:
		return nil, nil, invalid(op, []dwell.Violation{{Field: "fixes", Description: "at least one fix is required"}})
	case len(fixes) > dwell.MaxFixesPerBatch:
		return nil, nil, invalid(op, []dwell.Violation{{Field: "fixes", Description: fmt.Sprintf("at most %d fixes per batch, got %d", dwell.MaxFixesPerBatch, len(fixes))}})
	}
	st, err := g.s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, nil, err
	}
	loc, err := g.s.location(r.TimeZone)
	if err != nil {
		return nil, nil, err
	}
	pruned, err := g.s.store.PrunedBefore(ctx, p.Tenant, r.ID)
	if err != nil {
		return nil, nil, err
	}
	now := g.s.now()
	ack := &dwellv1.BatchAck{Results: make([]*dwellv1.FixResult, len(fixes))}
	fs := make([]dwell.Fix, len(fixes))
	vss := make([][]dwell.Violation, len(fixes))
	timeOnly := make([]bool, len(fixes)) // vss[i] are checks of time alone
	var lo time.Time                     // the earliest device time of the fixes valid so far
	var validTimes []time.Time
	for i, pf := range fixes {
		f, vs := fixFromPBValid("", pf)
		for _, v := range dwell.ValidateFix("", f, now, 0) {
			if len(vs) == 0 || v.Field != "device_time" { // a bad Timestamp is said once
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			switch {
			case st.Retention > 0 && f.Time.Before(now.Add(-st.Retention)):
				vs = dwell.ValidateFix("", f, now, st.Retention)
			case !r.InWorkingHours(f.Time, loc):
				vs = []dwell.Violation{{Field: "device_time", Description: "outside the rep's working hours; fixes are not kept outside working hours"}}
			case dayPruned(loc, f.Time, pruned):
				vs = []dwell.Violation{{Field: "device_time", Description: prunedDayDescription}}
			}
			timeOnly[i] = len(vs) > 0
		}
		if len(vs) == 0 {
			if lo.IsZero() || f.Time.Before(lo) {
				lo = f.Time
			}
			validTimes = append(validTimes, f.Time)
		}
		fs[i], vss[i] = f, vs
	}
	var paused []timeline.Pause
	if !lo.IsZero() {
		// From the pauses read to the fixes stored, no pause or resume
		// of the rep may sweep its fixes (pauseLocks).
		mu := g.pauses.of(p.Tenant, r.ID)
		mu.RLock()
		defer mu.RUnlock()
		// Up to the latest a change may carry, not only the batch's
		// span: a pause in the span is refused only once its resume is
		// known (pausedAt), and that may come after the span.
		slices.SortFunc(validTimes, time.Time.Compare)
		var err error
		if paused, err = g.s.pausesWith(ctx, p.Tenant, r.ID, lo, now, validTimes); err != nil {
			return nil, nil, err
		}
	}
	for i, f := range fs {
		if len(vss[i]) == 0 {
			if sp, ok := pausedAt(paused, f.Time); ok {
				vss[i] = []dwell.Violation{{Field: "device_time", Description: pausedDescription(sp)}}
				timeOnly[i] = true
			}
		}
	}
	stored, err := g.storedAmong(ctx, p.Tenant, r.ID, fs, timeOnly)
	if err != nil {
		return nil, nil, err
	}
	valid := make([]dwell.Fix, 0, len(fixes))
	validIdx := make([]int, 0, len(fixes))
	var all []dwell.Violation
	for i, pf := range fixes {
		f, vs := fs[i], vss[i]
		res := &dwellv1.FixResult{Index: int32(i), Id: pf.GetId()}
		ack.Results[i] = res
		switch {
		case stored[i]:
			res.Status = dwellv1.FixStatus_FIX_STATUS_DUPLICATE
			ack.Duplicates++
		case len(vs) > 0:
			all = append(all, rejectFix(ack, res, i, vs)...)
		default:
			valid = append(valid, f)
			validIdx = append(validIdx, i)
		}
	}
	if len(valid) > 0 {
		stored, err := g.s.store.AppendFixes(ctx, p.Tenant, r.ID, valid)
		if err != nil {
			return nil, nil, err
		}
		g.s.refresh.notify()
		for k, ok := range stored {
			res := ack.Results[validIdx[k]]
			if ok {
				res.Status = dwellv1.FixStatus_FIX_STATUS_ACCEPTED
				ack.Accepted++
			} else {
				res.Status = dwellv1.FixStatus_FIX_STATUS_DUPLICATE
				ack.Duplicates++
			}
		}
		if g.s.feed != nil {
			vs, err := g.unkeepPaused(ctx, p.Tenant, r.ID, lo, now, valid, validIdx, ack)
			if err != nil {
				return nil, nil, err
			}
			all = append(all, vs...)
		}
	}
	g.s.metrics.ackedBatch(ack)
	return ack, all, nil
}

// storedAmong reports, for each fix of fs marked in which, whether the rep
// has it stored: a fix with its id at its device time (a re-sent fix is
// the same fix). The marked fixes' times are read in runs with no gap over
// an hour between them, one read per run, so that a batch's stray old fix
// does not have the months between read.
func (g *ingestService) storedAmong(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fs []dwell.Fix, which []bool) ([]bool, error) {
	const gap = time.Hour
	out := make([]bool, len(fs))
	var times []time.Time
	for i, f := range fs {
		if which[i] && f.ID != "" {
			times = append(times, f.Time)
		}
	}
	if len(times) == 0 {
		return out, nil
	}
	slices.SortFunc(times, time.Time.Compare)
	type key struct {
		id string
		t  int64
	}
	have := map[key]bool{}
	for i := 0; i < len(times); {
		j := i + 1
		for j < len(times) && times[j].Sub(times[j-1]) <= gap {
			j++
		}
		got, err := g.s.store.ListFixes(ctx, tenant, rep, times[i], times[j-1].Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		for _, f := range got {
			have[key{f.ID, f.Time.UnixNano()}] = true
		}
		i = j
	}
	for i, f := range fs {
		out[i] = which[i] && have[key{f.ID, f.Time.UnixNano()}]
	}
	return out, nil
}

// unkeepPaused reads the rep's pauses again after a batch was stored, on a
// store other servers share (one with a change feed): pauseLocks span one
// server, so another server may have recorded a resume, and swept its
// paused time, between this batch's read of the pauses and its write. A
// resume recorded before this read is seen here: the batch's fixes in its
// paused time are deleted (with the rest of that time's fixes) and
// rejected in ack. One recorded after this read sweeps them itself, since
// a resume sweeps its paused time after it is recorded (sweepPaused) and
// this batch is stored by then. valid are the batch's fixes that were
// written, validIdx their indexes in the batch. It returns the violations
// of the fixes it rejected.
func (g *ingestService) unkeepPaused(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, lo, now time.Time, valid []dwell.Fix, validIdx []int, ack *dwellv1.BatchAck) ([]dwell.Violation, error) {
	paused, err := g.s.pausesFrom(ctx, tenant, rep, lo, now)
	if err != nil {
		return nil, err
	}
	var vs []dwell.Violation
	swept := map[time.Time]bool{}
	for k, f := range valid {
		sp, ok := pausedAt(paused, f.Time)
		if !ok {
			continue
		}
		if !swept[sp.Start] {
			if _, err := g.s.store.DeleteFixesBetween(ctx, tenant, rep, sp.Start, sp.End); err != nil {
				return nil, err
			}
			swept[sp.Start] = true
		}
		res := ack.Results[validIdx[k]]
		if res.Status == dwellv1.FixStatus_FIX_STATUS_ACCEPTED {
			ack.Accepted--
		} else {
			ack.Duplicates--
		}
		vs = append(vs, rejectFix(ack, res, validIdx[k], []dwell.Violation{{Field: "device_time", Description: pausedDescription(sp)}})...)
	}
	return vs, nil
}

// rejectFix marks fix i of a batch rejected for vs in its result res and
// in ack's count, and returns vs with the fix's path ("fixes[i].").
func rejectFix(ack *dwellv1.BatchAck, res *dwellv1.FixResult, i int, vs []dwell.Violation) []dwell.Violation {
	res.Status = dwellv1.FixStatus_FIX_STATUS_REJECTED
	res.Reasons = violationsToPB(vs)
	ack.Rejected++
	out := make([]dwell.Violation, len(vs))
	for j, v := range vs {
		out[j] = dwell.Violation{Field: fmt.Sprintf("fixes[%d].%s", i, v.Field), Description: v.Description}
	}
	return out
}

// UploadPings stores one batch. When no fix of the batch is usable the call
// fails with INVALID_ARGUMENT listing every violation, so a client that
// ignores acknowledgements still learns; otherwise the acknowledgement
// carries the per-fix outcome.
func (g *ingestService) UploadPings(ctx context.Context, req *dwellv1.UploadPingsRequest) (*dwellv1.UploadPingsResponse, error) {
	const op = dwell.Op("server.UploadPings")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := g.s.writeTarget(ctx, op, p, "rep", req.GetRep())
	if err != nil {
		return nil, err
	}
	ack, vs, err := g.batch(ctx, p, r, req.GetFixes())
	if err != nil {
		return nil, err
	}
	if ack.Accepted+ack.Duplicates == 0 {
		return nil, dwell.E(op, dwell.Invalid, "every fix of the batch was rejected; nothing was stored", vs)
	}
	return &dwellv1.UploadPingsResponse{Ack: ack}, nil
}

type batchResult struct {
	resp *dwellv1.StreamPingsResponse
	err  error
}

// StreamPings reads batches and answers each, in order, once it is durable.
// Up to maxInFlightBatches batches are processed concurrently. A request
// error (bad rep, empty or oversized batch) or a store failure ends the
// stream with its status; batches acknowledged before stay stored.
func (g *ingestService) StreamPings(stream dwellv1.IngestService_StreamPingsServer) error {
	const op = dwell.Op("server.StreamPings")
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	p, err := principalFrom(ctx)
	if err != nil {
		return err
	}
	pending := make(chan chan batchResult, maxInFlightBatches)
	recvErr := make(chan error, 1)
	go func() {
		defer close(pending)
		for {
			msg, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				recvErr <- err
				return
			}
			ch := make(chan batchResult, 1)
			select {
			case pending <- ch:
			case <-ctx.Done():
				recvErr <- ctx.Err()
				return
			}
			go func() {
				// This goroutine is outside the interceptors' recover: a
				// panic here would stop the process.
				defer func() {
					if v := recover(); v != nil {
						g.s.log.ErrorContext(ctx, "panic in a StreamPings batch", "panic", v, "stack", string(debug.Stack()))
						ch <- batchResult{err: internalError()}
					}
				}()
				r, err := g.s.writeTarget(ctx, op, p, "rep", msg.GetRep())
				if err != nil {
					ch <- batchResult{err: err}
					return
				}
				ack, _, err := g.batch(ctx, p, r, msg.GetFixes())
				ch <- batchResult{resp: &dwellv1.StreamPingsResponse{BatchId: msg.GetBatchId(), Ack: ack}, err: err}
			}()
		}
	}()
	for ch := range pending {
		res := <-ch
		if res.err != nil {
			return res.err
		}
		if err := stream.Send(res.resp); err != nil {
			return err
		}
	}
	return <-recvErr
}

// prunedDayDescription is the violation of data for a rep-day that has
// lost fixes to retention.
const prunedDayDescription = "falls on a day whose fixes or check-in positions were already deleted, in part or whole, by the tenant's retention period; that day can no longer change"

// dayPruned reports whether instant t falls on a local day (in loc) that
// began before pruned, the rep's prune horizon (store.PrunedBefore;
// zero if none). Such a day has lost fixes to retention: its summary keeps
// what was derived while they were there, and new data for it would have
// it derived again without them, even if a retention period raised since
// takes data that old. GetTrackingConfig's offline buffer keeps the fixes
// a phone holds back clear of such days (offlineBuffer).
func dayPruned(loc *time.Location, t, pruned time.Time) bool {
	if pruned.IsZero() || !t.Before(pruned.Add(48*time.Hour)) {
		return false // a day lasts at most 25 hours
	}
	return dwell.DateOf(t, loc).Start(loc).Before(pruned)
}

// actionTime validates the device time of a rep action.
func actionTime(field string, ts *timestamppb.Timestamp, now time.Time, retention time.Duration) (time.Time, []dwell.Violation) {
	t, vs := validTimeFromPB(field, ts)
	switch {
	case len(vs) > 0:
		return t, vs
	case t.IsZero():
		return t, []dwell.Violation{{Field: field, Description: "is required"}}
	case t.After(now.Add(dwell.MaxFutureSkew)):
		return t, []dwell.Violation{{Field: field, Description: "is more than 24 hours ahead of the server clock"}}
	case t.Before(now.Add(-retention)):
		return t, []dwell.Violation{{Field: field, Description: "is older than the tenant's retention period"}}
	}
	return t, nil
}

// actionFix converts and validates the optional fix of a rep action.
func actionFix(pf *dwellv1.Fix, now time.Time, retention time.Duration) (*dwell.Fix, []dwell.Violation) {
	if pf == nil {
		return nil, nil
	}
	f, vs := fixFromPBValid("fix.", pf)
	for _, v := range dwell.ValidateFix("fix", f, now, retention) {
		if v.Field == "fix.id" && f.ID == "" || len(vs) > 0 && v.Field == "fix.device_time" {
			continue // an action's fix need not have an id; a bad Timestamp is said once
		}
		vs = append(vs, v)
	}
	return &f, vs
}

// action is what every rep action (check-in, check-out, call) starts with:
// the caller, the rep it is for, the tenant's retention, the server time,
// the device time of the action and the violations found so far.
type action struct {
	p         dwell.Principal
	rep       dwell.Rep
	retention time.Duration
	now       time.Time
	t         time.Time
	vs        []dwell.Violation
}

// beginAction authorizes a rep action and validates its request_id and
// device time (timeField).
func (g *ingestService) beginAction(ctx context.Context, op dwell.Op, repName, requestID, timeField string, ts *timestamppb.Timestamp) (*action, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := g.s.writeTarget(ctx, op, p, "rep", repName)
	if err != nil {
		return nil, err
	}
	st, err := g.s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	a := &action{p: p, rep: r, retention: st.Retention, now: g.s.now()}
	a.vs = dwell.ValidateRequestID("request_id", requestID)
	var tvs []dwell.Violation
	a.t, tvs = actionTime(timeField, ts, a.now, a.retention)
	a.vs = append(a.vs, tvs...)
	if len(tvs) == 0 {
		pruned, err := g.s.store.PrunedBefore(ctx, p.Tenant, r.ID)
		if err != nil {
			return nil, err
		}
		loc, err := g.s.location(r.TimeZone)
		if err != nil {
			return nil, err
		}
		if dayPruned(loc, a.t, pruned) {
			a.vs = append(a.vs, dwell.Violation{Field: timeField, Description: prunedDayDescription})
		}
	}
	return a, nil
}

// fix converts and validates the optional fix of the action.
func (a *action) fix(pf *dwellv1.Fix) *dwell.Fix {
	f, vs := actionFix(pf, a.now, a.retention)
	a.vs = append(a.vs, vs...)
	return f
}

// client ends validation: it parses the client name, reports every
// violation found so far as INVALID_ARGUMENT, and only then looks the client
// up (NOT_FOUND if it does not exist).
func (g *ingestService) client(ctx context.Context, op dwell.Op, a *action, name string) (dwell.Client, error) {
	id, vs := idFromName(collClients, "client", name)
	a.vs = append(a.vs, vs...)
	if err := invalid(op, a.vs); err != nil {
		return dwell.Client{}, err
	}
	c, err := g.s.store.GetClient(ctx, a.p.Tenant, dwell.ClientID(id))
	if dwell.Is(dwell.NotFound, err) {
		return c, dwell.E(op, dwell.NotFound, "client "+id+" does not exist", err)
	}
	return c, err
}

// retryOf accepts the answer of a rep action whose request id was already
// stored (existed) only as a retry: an action at the same client. A retry
// may differ otherwise (the phone's fix moved on), but a request id reused
// for another client is refused on request_id: answering with the stored
// action would acknowledge one that was never recorded.
func retryOf(op dwell.Op, existed bool, what string, stored, asked dwell.ClientID) error {
	if !existed || stored == asked {
		return nil
	}
	return invalidBecause(op, dwell.ReasonRequestIDReused, []dwell.Violation{{Field: "request_id", Description: "was already used for a " + what + " at " +
		resourceName(collClients, string(stored)) + "; an action at another client needs a request id of its own"}})
}

func (g *ingestService) CheckIn(ctx context.Context, req *dwellv1.CheckInRequest) (*dwellv1.CheckInResponse, error) {
	const op = dwell.Op("server.CheckIn")
	a, err := g.beginAction(ctx, op, req.GetRep(), req.GetRequestId(), "check_in_time", req.GetCheckInTime())
	if err != nil {
		return nil, err
	}
	f := a.fix(req.GetFix())
	c, err := g.client(ctx, op, a, req.GetClient())
	if err != nil {
		return nil, err
	}
	ver, dist := timeline.Verify(c, f, a.t)
	ci, existed, err := g.s.store.RecordCheckIn(ctx, a.p.Tenant, dwell.CheckIn{
		RequestID: req.GetRequestId(), Rep: a.rep.ID, Client: c.ID, Time: a.t, Fix: f,
		Verification: ver, DistanceM: dist, ReceiveTime: a.now.UTC(),
	})
	if err == nil {
		err = retryOf(op, existed, "check-in", ci.Client, c.ID)
	}
	if err != nil {
		return nil, err
	}
	if !existed {
		g.s.metrics.checkIn(ci.Verification)
	}
	g.s.refresh.notify()
	return &dwellv1.CheckInResponse{
		Verification:   dwellv1.Verification(ci.Verification),
		DistanceMeters: ci.DistanceM,
		ReceiveTime:    tsOrNil(ci.ReceiveTime),
	}, nil
}

func (g *ingestService) CheckOut(ctx context.Context, req *dwellv1.CheckOutRequest) (*dwellv1.CheckOutResponse, error) {
	const op = dwell.Op("server.CheckOut")
	a, err := g.beginAction(ctx, op, req.GetRep(), req.GetRequestId(), "check_out_time", req.GetCheckOutTime())
	if err != nil {
		return nil, err
	}
	co := dwell.CheckOut{
		RequestID: req.GetRequestId(), Rep: a.rep.ID, Time: a.t, Fix: a.fix(req.GetFix()),
		Outcome:         dwell.Outcome(req.GetOutcome()),
		RejectionReason: dwell.RejectionReason(req.GetRejectionReason()),
		RejectionText:   req.GetRejectionText(),
		Notes:           req.GetNotes(),
		ReceiveTime:     a.now.UTC(),
	}
	if req.GetFollowUpDate() != nil {
		co.FollowUpDate = dateFromPB(req.GetFollowUpDate())
	}
	a.vs = append(a.vs, validateOutcome(co, req.GetFollowUpDate() != nil)...)
	if co.Outcome == dwell.OutcomeFollowUp && !co.FollowUpDate.IsZero() && !a.t.IsZero() && len(dwell.ValidateDate("", co.FollowUpDate)) == 0 {
		// A follow-up due before it was given could never be done, and
		// KPI 7 would count it undone in whichever range held its date.
		loc, err := g.s.location(a.rep.TimeZone)
		if err != nil {
			return nil, err
		}
		if day := dwell.DateOf(a.t, loc); co.FollowUpDate.Before(day) {
			a.vs = append(a.vs, dwell.Violation{Field: "follow_up_date", Description: fmt.Sprintf("is before the check-out's day (%v in the rep's time zone); a follow-up is due on or after it", day)})
		}
	}
	c, err := g.client(ctx, op, a, req.GetClient())
	if err != nil {
		return nil, err
	}
	co.Client = c.ID
	stored, existed, err := g.s.store.RecordCheckOut(ctx, a.p.Tenant, co)
	if err == nil {
		err = retryOf(op, existed, "check-out", stored.Client, c.ID)
	}
	if err != nil {
		return nil, err
	}
	g.s.refresh.notify()
	return &dwellv1.CheckOutResponse{ReceiveTime: tsOrNil(stored.ReceiveTime)}, nil
}

// validateOutcome checks the outcome fields of a check-out together.
func validateOutcome(co dwell.CheckOut, hasDate bool) []dwell.Violation {
	var vs []dwell.Violation
	if co.Outcome <= dwell.OutcomeUnspecified || co.Outcome > dwell.OutcomeNoDecision {
		vs = append(vs, dwell.Violation{Field: "outcome", Description: "is required: POSITIVE, FOLLOW_UP, WON, REJECTED or NO_DECISION"})
	}
	switch {
	case co.Outcome == dwell.OutcomeFollowUp && !hasDate:
		vs = append(vs, dwell.Violation{Field: "follow_up_date", Description: "is required for a FOLLOW_UP outcome"})
	case co.Outcome == dwell.OutcomeFollowUp:
		vs = append(vs, dwell.ValidateDate("follow_up_date", co.FollowUpDate)...)
	case hasDate:
		vs = append(vs, dwell.Violation{Field: "follow_up_date", Description: "is only allowed with a FOLLOW_UP outcome"})
	}
	switch {
	case co.Outcome == dwell.OutcomeRejected && (co.RejectionReason <= dwell.RejectionReasonUnspecified || co.RejectionReason > dwell.RejectionOther):
		vs = append(vs, dwell.Violation{Field: "rejection_reason", Description: "is required for a REJECTED outcome"})
	case co.Outcome != dwell.OutcomeRejected && co.RejectionReason != dwell.RejectionReasonUnspecified:
		vs = append(vs, dwell.Violation{Field: "rejection_reason", Description: "is only allowed with a REJECTED outcome"})
	case co.RejectionReason == dwell.RejectionOther:
		vs = append(vs, dwell.ValidateText("rejection_text", co.RejectionText, true)...)
	}
	if co.RejectionReason != dwell.RejectionOther {
		vs = append(vs, dwell.ValidateText("rejection_text", co.RejectionText, false)...)
	}
	vs = append(vs, dwell.ValidateText("notes", co.Notes, false)...)
	return vs
}

func (g *ingestService) LogCall(ctx context.Context, req *dwellv1.LogCallRequest) (*dwellv1.LogCallResponse, error) {
	const op = dwell.Op("server.LogCall")
	a, err := g.beginAction(ctx, op, req.GetRep(), req.GetRequestId(), "start_time", req.GetStartTime())
	if err != nil {
		return nil, err
	}
	if ts := req.GetTalkSeconds(); ts < 0 || ts > 86400 {
		a.vs = append(a.vs, dwell.Violation{Field: "talk_seconds", Description: "must be between 0 and 86400 seconds"})
	}
	dir, out := dwell.CallDirection(req.GetDirection()), dwell.CallOutcome(req.GetOutcome())
	if dir <= dwell.CallDirectionUnspecified || dir > dwell.CallInbound {
		a.vs = append(a.vs, dwell.Violation{Field: "direction", Description: "is required: OUTBOUND or INBOUND"})
	}
	if out <= dwell.CallOutcomeUnspecified || out > dwell.CallFailed {
		a.vs = append(a.vs, dwell.Violation{Field: "outcome", Description: "is required: CONNECTED, NO_ANSWER, BUSY, VOICEMAIL or FAILED"})
	} else if out != dwell.CallConnected && req.GetTalkSeconds() > 0 {
		a.vs = append(a.vs, dwell.Violation{Field: "talk_seconds", Description: "must be 0 unless the call connected"})
	}
	a.vs = append(a.vs, dwell.ValidateText("notes", req.GetNotes(), false)...)
	c, err := g.client(ctx, op, a, req.GetClient())
	if err != nil {
		return nil, err
	}
	call, existed, err := g.s.store.RecordCall(ctx, a.p.Tenant, dwell.Call{
		RequestID: req.GetRequestId(), Rep: a.rep.ID, Client: c.ID, StartTime: a.t,
		TalkSeconds: req.GetTalkSeconds(), Direction: dir, Outcome: out,
		Notes: req.GetNotes(), ReceiveTime: a.now.UTC(),
	})
	if err == nil {
		err = retryOf(op, existed, "call", call.Client, c.ID)
	}
	if err != nil {
		return nil, err
	}
	g.s.refresh.notify()
	return &dwellv1.LogCallResponse{ReceiveTime: tsOrNil(call.ReceiveTime)}, nil
}

func (g *ingestService) PauseTracking(ctx context.Context, req *dwellv1.PauseTrackingRequest) (*dwellv1.PauseTrackingResponse, error) {
	c, err := g.trackingChange(ctx, "server.PauseTracking", req.GetRep(), req.GetRequestId(), "pause_time", req.GetPauseTime(), true)
	if err != nil {
		return nil, err
	}
	return &dwellv1.PauseTrackingResponse{ReceiveTime: tsOrNil(c.ReceiveTime)}, nil
}

func (g *ingestService) ResumeTracking(ctx context.Context, req *dwellv1.ResumeTrackingRequest) (*dwellv1.ResumeTrackingResponse, error) {
	c, err := g.trackingChange(ctx, "server.ResumeTracking", req.GetRep(), req.GetRequestId(), "resume_time", req.GetResumeTime(), false)
	if err != nil {
		return nil, err
	}
	return &dwellv1.ResumeTrackingResponse{ReceiveTime: tsOrNil(c.ReceiveTime)}, nil
}

// trackingChange records a pause or a resume: PauseTracking and
// ResumeTracking differ only in which. Both keep their request ids in one
// index, so a request id of a pause sent with a resume (or the reverse) is
// refused: it cannot be a retry, and answering with the stored change
// would acknowledge a resume that never happened.
func (g *ingestService) trackingChange(ctx context.Context, op dwell.Op, repName, requestID, timeField string, ts *timestamppb.Timestamp, paused bool) (dwell.TrackingChange, error) {
	a, err := g.beginAction(ctx, op, repName, requestID, timeField, ts)
	if err != nil {
		return dwell.TrackingChange{}, err
	}
	if err := invalid(op, a.vs); err != nil {
		return dwell.TrackingChange{}, err
	}
	mu := g.pauses.of(a.p.Tenant, a.rep.ID)
	mu.Lock()
	defer mu.Unlock()
	c, existed, err := g.s.store.RecordTrackingChange(ctx, a.p.Tenant, dwell.TrackingChange{
		RequestID: requestID, Rep: a.rep.ID, Time: a.t, Paused: paused, ReceiveTime: a.now.UTC(),
	})
	if err != nil {
		return dwell.TrackingChange{}, err
	}
	if existed && c.Paused != paused {
		was, is := "pause", "resume"
		if paused {
			was, is = is, was
		}
		return dwell.TrackingChange{}, invalidBecause(op, dwell.ReasonRequestIDReused, []dwell.Violation{{Field: "request_id",
			Description: "was already used for a " + was + "; a " + is + " needs a request id of its own"}})
	}
	// A retry sweeps too: the first call may have stopped between the
	// record and the sweep.
	if err := g.sweepPaused(ctx, a.p.Tenant, a.rep.ID, c.Time, a.now); err != nil {
		return dwell.TrackingChange{}, err
	}
	g.s.refresh.notify()
	return c, nil
}

// sweepPaused deletes the rep's stored fixes inside the paused intervals
// that a pause or resume at instant at closes, ends or falls in, once they
// have an end: fixes that arrived before the pause (a phone's offline
// queue, a partner relay). The intervals are those of pausesFrom(at):
// read from as far back as the interval in force at at began (a resume
// that ends a pause repeated since deletes from the first of its repeats)
// up to the latest a change may carry (now + dwell.MaxFutureSkew), every
// one of them the interval the day's timeline shows paused, so exactly
// the fixes it leaves out go. A pause followed by fixes and then by
// another pause ends at the first of those fixes (its resume was lost,
// timeline.Pauses): its interval holds no fix but one at its very
// instant, and the fixes after it stay. A pause not resumed yet deletes
// nothing: the fixes stored after it may be the phone's from after a
// resume still on its way (an offline queue that sent its fixes first),
// and the day's timeline ends such a pause at the first of them; the
// resume, when it comes, deletes those of the paused time. (New fixes
// after a pause not resumed are taken for the same reason; see pausedAt.)
// The deletion is durable on return.
func (g *ingestService) sweepPaused(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, at, now time.Time) error {
	paused, err := g.s.pausesFrom(ctx, tenant, rep, at, now)
	if err != nil {
		return err
	}
	for _, sp := range paused {
		if sp.End.IsZero() {
			continue
		}
		if _, err := g.s.store.DeleteFixesBetween(ctx, tenant, rep, sp.Start, sp.End); err != nil {
			return err
		}
	}
	return nil
}

// pauseLocks keeps each rep's batches of fixes apart from its pauses and
// resumes, so that no fix lands in a paused time: a batch holds its rep's
// lock shared from reading the rep's pauses to storing its fixes (batches
// of one rep still run together and share group commits), a pause or a
// resume holds it exclusively from recording the change to deleting the
// fixes of its paused time. Without it a batch checked against the pauses
// of before a pause could store its fixes after the pause swept its time.
// Reps share 64 locks by a hash of (tenant, rep), so memory stays fixed.
// The lock spans one server only; on a store other servers share, a batch
// reads the pauses again once stored (unkeepPaused).
type pauseLocks [64]sync.RWMutex

// of returns the lock of a rep (FNV-1a of tenant and rep id).
func (l *pauseLocks) of(tenant dwell.TenantID, rep dwell.RepID) *sync.RWMutex {
	h := uint32(2166136261)
	for _, s := range [2]string{string(tenant), string(rep)} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint32(s[i])) * 16777619
		}
		h = (h ^ 0xff) * 16777619 // a separator no id byte string can fake
	}
	return &l[h%uint32(len(l))]
}

// pausedAt returns the closed paused interval of spans (sorted, disjoint)
// that holds instant t, if any. A pause not resumed yet holds nothing: a
// phone that sends fixes after it is tracking again (its resume may be
// queued behind them, or lost), as the timeline reads it, and the resume,
// when it comes, deletes the fixes of the paused time (sweepPaused). A
// pause ended by a fix (its resume lost; timeline.Pause.ByFix) holds its
// own instant only: a fix between it and that fix would end it instead.
func pausedAt(spans []timeline.Pause, t time.Time) (timeline.Pause, bool) {
	i := sort.Search(len(spans), func(i int) bool { return t.Before(spans[i].End) || spans[i].End.IsZero() })
	if i < len(spans) && !spans[i].End.IsZero() && !t.Before(spans[i].Start) && (!spans[i].ByFix || t.Equal(spans[i].Start)) {
		return spans[i], true
	}
	return timeline.Pause{}, false
}

// pausesFrom returns the rep's paused intervals (timeline.Pauses, with the
// rep's stored fixes) from instant from up to the latest a tracking change
// may carry, now + dwell.MaxFutureSkew: a pause is closed by a resume that
// may be dated after any span the caller looks at. It reads enough history
// that the interval in force at from is the one the rep's whole history
// gives (a pause repeated with no fix between began at the first of them,
// and one ended by a fix ends at the first fix after that): from the
// latest instant before from that holds a change, it steps back to the one
// before while that instant holds pauses only and no fix lies between the
// two. An interval before from may come cut short (its start not the
// first of its repeats).
func (s *Server) pausesFrom(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, now time.Time) ([]timeline.Pause, error) {
	return s.pausesWith(ctx, tenant, rep, from, now, nil)
}

// pausesWith is pausesFrom with the fixes at the sorted instants extra
// counted as stored: a batch's valid fixes, so that a fix between a pause
// and a later one ends the first (as it will once stored) rather than
// being refused as paused, whatever order the fixes and changes came in.
func (s *Server) pausesWith(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, now time.Time, extra []time.Time) ([]timeline.Pause, error) {
	changes, err := s.store.ListTrackingState(ctx, tenant, rep, from, now.Add(dwell.MaxFutureSkew+time.Nanosecond))
	if err != nil {
		return nil, err
	}
	var ferr error
	firstFix := func(after, before time.Time) time.Time {
		if ferr != nil {
			return time.Time{}
		}
		f, err := s.firstFixBetween(ctx, tenant, rep, after, before)
		if err != nil {
			ferr = err
		}
		// The first of extra after after, if before f.
		if i, _ := slices.BinarySearchFunc(extra, after, func(x, t time.Time) int {
			if x.After(t) {
				return 1
			}
			return -1
		}); i < len(extra) && extra[i].Before(before) && (f.IsZero() || extra[i].Before(f)) {
			f = extra[i]
		}
		return f
	}
	for len(changes) > 0 && changes[0].Time.Before(from) {
		e := changes[0].Time
		resumed := false
		for _, c := range changes {
			if !c.Time.Equal(e) {
				break
			}
			resumed = resumed || !c.Paused
		}
		if resumed {
			break // not paused before e, or a resume at e ended it
		}
		// Only pauses at e: the rep may have been paused before, the
		// pause at e a repeat of an earlier one.
		before, err := s.store.ListTrackingState(ctx, tenant, rep, e, e.Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		n := 0
		for n < len(before) && before[n].Time.Before(e) {
			n++
		}
		if n == 0 {
			break // no change before e
		}
		if f := firstFix(before[0].Time, e); ferr != nil {
			return nil, ferr
		} else if !f.IsZero() {
			break // a fix ended whatever pause came before e
		}
		changes = append(before[:n:n], changes...)
	}
	ps := timeline.Pauses(changes, firstFix)
	if ferr != nil {
		return nil, ferr
	}
	return ps, nil
}

// firstFixBetween returns the time of the rep's first stored fix strictly
// after after and strictly before before, or the zero time if there is
// none. It reads spans growing eightfold from 5 minutes, so that a pause
// followed by a phone still tracking costs a few fixes' read, not those of
// the hours or days up to the next pause.
func (s *Server) firstFixBetween(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, after, before time.Time) (time.Time, error) {
	lo := after.Add(time.Nanosecond)
	for span := 5 * time.Minute; lo.Before(before); span *= 8 {
		hi := lo.Add(span)
		if !hi.Before(before) || span > 365*24*time.Hour {
			hi = before
		}
		fs, err := s.store.ListFixes(ctx, tenant, rep, lo, hi)
		if err != nil {
			return time.Time{}, err
		}
		if len(fs) > 0 {
			return fs[0].Time, nil
		}
		lo = hi
	}
	return time.Time{}, nil
}

// pausedDescription is the violation of a fix whose device time falls in
// the closed pause p.
func pausedDescription(p timeline.Pause) string {
	end := ", resumed at "
	if p.ByFix {
		end = ", tracking again from a fix at " // its resume was lost
	}
	return "falls in a time the rep paused tracking (paused at " + p.Start.UTC().Format(time.RFC3339Nano) +
		end + p.End.UTC().Format(time.RFC3339Nano) + "); no location is kept for a paused time"
}

func (g *ingestService) GetTrackingConfig(ctx context.Context, req *dwellv1.GetTrackingConfigRequest) (*dwellv1.GetTrackingConfigResponse, error) {
	const op = dwell.Op("server.GetTrackingConfig")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var id dwell.RepID
	switch {
	case req.GetRep() == "" && p.Role == dwell.RoleRep:
		id = dwell.RepID(p.Subject)
	default:
		rid, err := nameID(op, collReps, "rep", req.GetRep())
		if err != nil {
			return nil, err
		}
		id = dwell.RepID(rid)
	}
	if err := g.s.canReadRep(ctx, op, p, id); err != nil {
		return nil, err
	}
	r, err := g.s.store.GetRep(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	loc, err := g.s.location(r.TimeZone)
	if err != nil {
		return nil, err
	}
	now := g.s.now()
	refresh := now.Add(configRefresh)
	if c := r.NextWorkingChange(now, loc); !c.IsZero() && c.Before(refresh) {
		refresh = c
	}
	// Changes up to a day ahead: the phone's clock may run ahead a little.
	// However old the last pause, ingest refuses fixes until its resume,
	// so the phone learns of it however old it is. Paused is the last
	// interval of timeline.Pauses not resumed, so a pause and a resume at
	// one instant read as the timeline reads them (the resume first, the
	// pause holds), not in the order they arrived. Whether the last pause
	// is resumed does not depend on the fixes, so none are read.
	changes, err := g.s.store.ListTrackingState(ctx, p.Tenant, id, now, now.Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	ps := timeline.Pauses(changes, nil)
	paused := len(ps) > 0 && ps[len(ps)-1].End.IsZero()
	// The pace follows the tenant's silence threshold and the buffer its
	// retention, read at the call: a phone asks again by refresh_time.
	settings, err := g.s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	stillS, delayS := trackingPace(settings.SilenceMin)
	// The buffer keeps clear of the days retention pruned (offlineBuffer).
	pruned, err := g.s.store.PrunedBefore(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetTrackingConfigResponse{
		Paused:                    paused,
		TrackingEnabled:           r.InWorkingHours(now, loc) && !paused,
		MovingIntervalSeconds:     movingIntervalS,
		StationaryIntervalSeconds: stillS,
		BatchSize:                 trackingBatchSize,
		MaxBatchDelaySeconds:      delayS,
		OfflineBufferSeconds:      offlineBuffer(settings.Retention, pruned, now),
		WorkingHours:              workingHoursToPB(r.WorkingHours),
		TimeZone:                  r.TimeZone,
		RefreshTime:               timestamppb.New(refresh),
	}, nil
}
