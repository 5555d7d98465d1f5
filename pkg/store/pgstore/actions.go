package pgstore

// Rep actions: check-ins, check-outs, calls and tracking changes.
//
// Each action is one row of the actions table (schema.go): kind (the
// action* constants below), time (the record's instant: Time, or StartTime
// for a call, in Unix nanoseconds), seq (an identity, so records at one
// instant list in the order recorded), request_id, has_fix (the record
// carries the phone's fix) and rec, the rest of the record as JSON in the
// record structs below (short tags, separate from the domain types; the
// instant and the request id are in their columns, not in rec). A record's
// fix is rec's key "f" and nothing else: PruneActionFixes (privacy.go)
// clears a fix by dropping that key and has_fix, so a new field that holds
// a position must say so there too.
//
// Idempotency is the partial unique index actions_by_request on (tenant,
// rep, kind, request_id) where request_id <> '': a record is an INSERT ...
// ON CONFLICT DO NOTHING RETURNING; when it returns no row the request was
// seen and the stored record is read back in the same transaction. Under
// SERIALIZABLE a concurrent retry of one new request fails with a
// serialization failure once the first commits, and s.write runs it again,
// when it finds the stored record: one creates, all agree.
//
// A new record marks its local day dirty and touches rep_data. A resume
// also marks the days back to the pause before it (markPaused). Unlike
// boltstore, a record with a fix keeps no unfixed horizon: PruneActionFixes
// finds the records that still have a fix by the partial index
// actions_fixed (privacy.go).

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// actionKind is the kind column of an action row.
type actionKind struct {
	code int16
	what string // for messages
}

var (
	actionCheckIn  = actionKind{1, "check-in"}
	actionCheckOut = actionKind{2, "check-out"}
	actionCall     = actionKind{3, "call"}
	actionTracking = actionKind{4, "tracking change"}
)

// Records. Instants inside rec are Unix nanoseconds; a fix without a time
// has none (nil).

type fixRec struct {
	ID          string  `json:"id,omitempty"`
	Time        *int64  `json:"t,omitempty"`
	Lat         float64 `json:"la"`
	Lng         float64 `json:"ln"`
	AccuracyM   float64 `json:"acc"`
	SpeedMPS    float64 `json:"spd"`
	BearingDeg  float64 `json:"brg"`
	AltitudeM   float64 `json:"alt,omitempty"`
	HasAltitude bool    `json:"halt,omitempty"`
	Mock        bool    `json:"mock,omitempty"`
}

// toFixRec returns the record of the fix f, or nil for nil. Its time is
// checked by newAction.
func toFixRec(f *dwell.Fix) *fixRec {
	if f == nil {
		return nil
	}
	return &fixRec{ID: f.ID, Time: optNanos(f.Time), Lat: f.Pos.Lat, Lng: f.Pos.Lng, AccuracyM: f.AccuracyM, SpeedMPS: f.SpeedMPS,
		BearingDeg: f.BearingDeg, AltitudeM: f.AltitudeM, HasAltitude: f.HasAltitude, Mock: f.Mock}
}

func (r *fixRec) domain() *dwell.Fix {
	if r == nil {
		return nil
	}
	return &dwell.Fix{ID: r.ID, Time: fromOptNanos(r.Time), Pos: dwell.LatLng{Lat: r.Lat, Lng: r.Lng}, AccuracyM: r.AccuracyM,
		SpeedMPS: r.SpeedMPS, BearingDeg: r.BearingDeg, AltitudeM: r.AltitudeM, HasAltitude: r.HasAltitude, Mock: r.Mock}
}

type checkInRec struct {
	Client       string  `json:"c"`
	Fix          *fixRec `json:"f,omitempty"`
	Verification int     `json:"v,omitempty"`
	DistanceM    float64 `json:"d,omitempty"`
	ReceiveTime  int64   `json:"rt"`
}

func (r *checkInRec) domain(rep dwell.RepID, requestID string, at time.Time) dwell.CheckIn {
	return dwell.CheckIn{RequestID: requestID, Rep: rep, Client: dwell.ClientID(r.Client), Time: at, Fix: r.Fix.domain(),
		Verification: dwell.Verification(r.Verification), DistanceM: r.DistanceM, ReceiveTime: fromNanos(r.ReceiveTime)}
}

type dateRec struct {
	Year  int `json:"y"`
	Month int `json:"m"`
	Day   int `json:"d"`
}

type checkOutRec struct {
	Client          string   `json:"c"`
	Fix             *fixRec  `json:"f,omitempty"`
	Outcome         int      `json:"o,omitempty"`
	FollowUpDate    *dateRec `json:"fu,omitempty"`
	RejectionReason int      `json:"rr,omitempty"`
	RejectionText   string   `json:"rx,omitempty"`
	Notes           string   `json:"n,omitempty"`
	ReceiveTime     int64    `json:"rt"`
}

func (r *checkOutRec) domain(rep dwell.RepID, requestID string, at time.Time) dwell.CheckOut {
	c := dwell.CheckOut{RequestID: requestID, Rep: rep, Client: dwell.ClientID(r.Client), Time: at, Fix: r.Fix.domain(),
		Outcome: dwell.Outcome(r.Outcome), RejectionReason: dwell.RejectionReason(r.RejectionReason),
		RejectionText: r.RejectionText, Notes: r.Notes, ReceiveTime: fromNanos(r.ReceiveTime)}
	if d := r.FollowUpDate; d != nil {
		c.FollowUpDate = dwell.Date{Year: d.Year, Month: time.Month(d.Month), Day: d.Day}
	}
	return c
}

type callRec struct {
	Client      string `json:"c"`
	TalkSeconds int64  `json:"ts,omitempty"`
	Direction   int    `json:"d,omitempty"`
	Outcome     int    `json:"o,omitempty"`
	Notes       string `json:"n,omitempty"`
	ReceiveTime int64  `json:"rt"`
}

func (r *callRec) domain(rep dwell.RepID, requestID string, at time.Time) dwell.Call {
	return dwell.Call{RequestID: requestID, Rep: rep, Client: dwell.ClientID(r.Client), StartTime: at, TalkSeconds: r.TalkSeconds,
		Direction: dwell.CallDirection(r.Direction), Outcome: dwell.CallOutcome(r.Outcome), Notes: r.Notes,
		ReceiveTime: fromNanos(r.ReceiveTime)}
}

type trackingRec struct {
	Paused      bool  `json:"p,omitempty"`
	ReceiveTime int64 `json:"rt"`
}

func (r *trackingRec) domain(rep dwell.RepID, requestID string, at time.Time) dwell.TrackingChange {
	return dwell.TrackingChange{RequestID: requestID, Rep: rep, Time: at, Paused: r.Paused, ReceiveTime: fromNanos(r.ReceiveTime)}
}

// actionRec is the record struct R of a rep action of domain type T.
type actionRec[T any, R any] interface {
	*R
	domain(rep dwell.RepID, requestID string, at time.Time) T
}

// action is a rep action ready to store: its columns and its record.
type action struct {
	kind      actionKind
	rep       dwell.RepID
	requestID string
	at        time.Time
	atNanos   int64
	hasFix    bool
	rec       []byte
}

// newAction checks the parts of a rep action the store depends on (tenant
// and rep ids, a request id of at most maxRequestIDBytes bytes, instants in
// range) and encodes its record. Failures are dwell.Invalid, as in
// boltstore.
func newAction(op dwell.Op, tenant dwell.TenantID, kind actionKind, rep dwell.RepID, requestID string, at, receive time.Time, fix *dwell.Fix, rec any) (action, error) {
	if err := checkRepRef(op, tenant, "rep", rep); err != nil {
		return action{}, err
	}
	if err := checkRequestID(op, requestID); err != nil {
		return action{}, err
	}
	n, ok := nanos(at)
	if !ok {
		return action{}, timeInvalid(op, "time", at)
	}
	if _, ok := nanos(receive); !ok {
		return action{}, timeInvalid(op, "receive_time", receive)
	}
	if fix != nil {
		if _, ok := nanos(fix.Time); !ok && !fix.Time.IsZero() {
			return action{}, timeInvalid(op, "fix.time", fix.Time)
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return action{}, dwell.E(op, dwell.Invalid, "encoding the "+kind.what, err)
	}
	return action{kind: kind, rep: rep, requestID: requestID, at: at, atNanos: n, hasFix: fix != nil, rec: b}, nil
}

// recordOnce stores a unless the rep has a record of its kind with its
// request id, and returns what a later read gives: stored (the decoded form
// of a) or, with existed = true, the earlier record. after, if not nil,
// runs in the same transaction once a new record is stored.
func recordOnce[T any, R any, PR actionRec[T, R]](ctx context.Context, s *Store, op dwell.Op, tenant dwell.TenantID, a action,
	stored T, after func(ctx context.Context, tx pgx.Tx) error) (T, bool, error) {
	var prev T
	var existed bool
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		existed = false
		var seq int64
		err := tx.QueryRow(ctx, `
			INSERT INTO actions (tenant, rep, kind, time, request_id, has_fix, rec)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (tenant, rep, kind, request_id) WHERE request_id <> '' DO NOTHING
			RETURNING seq`,
			string(tenant), string(a.rep), a.kind.code, a.atNanos, a.requestID, a.hasFix, a.rec).Scan(&seq)
		if err == pgx.ErrNoRows {
			existed = true
			var at int64
			var raw []byte
			err := tx.QueryRow(ctx, `SELECT time, rec FROM actions WHERE tenant = $1 AND rep = $2 AND kind = $3 AND request_id = $4`,
				string(tenant), string(a.rep), a.kind.code, a.requestID).Scan(&at, &raw)
			if err == pgx.ErrNoRows {
				return dwell.E(dwell.Other, fmt.Sprintf("%s for request %q is indexed but missing", a.kind.what, a.requestID))
			}
			if err != nil {
				return err
			}
			prev, err = decodeAction[T, R, PR](a.kind, a.rep, a.requestID, at, raw)
			return err
		}
		if err != nil {
			return err
		}
		if err := s.markInstants(ctx, tx, tenant, a.rep, []time.Time{a.at}); err != nil {
			return err
		}
		if a.kind == actionCheckIn || a.kind == actionCheckOut {
			if err := s.markDayBefore(ctx, tx, tenant, a.rep, a.at); err != nil {
				return err
			}
		}
		if err := touchRepData(ctx, tx, tenant, a.rep); err != nil {
			return err
		}
		if after != nil {
			return after(ctx, tx)
		}
		return nil
	})
	switch {
	case err != nil:
		var zero T
		return zero, false, err
	case existed:
		return prev, true, nil
	}
	return stored, false, nil
}

// markDayBefore marks dirty the rep's local day before the one of a
// check-in or check-out at instant at, if that day has a data version (a
// day without one has no check-in to close) and did not begin before the
// rep's prune horizon (it keeps its summary): the derivation of a day
// pairs its check-ins with the check-outs of the next day
// (timeline.Input), so a check-out there, or a check-in between, changes
// it. As boltstore's markDayBefore.
func (s *Store) markDayBefore(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, at time.Time) error {
	loc, err := s.repZone(ctx, tx, tenant, rep)
	if err != nil {
		return err
	}
	d := dwell.DateOf(at, loc).AddDays(-1)
	horizon, err := pruneHorizon(ctx, tx, tenant, rep)
	if err != nil {
		return err
	}
	if d.Start(loc).Before(horizon) { // a zero horizon keeps every day
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE days SET version = version + 1, dirty = true
		WHERE tenant = $1 AND rep = $2 AND day = $3 AND version > 0`, string(tenant), string(rep), pgDate(d))
	return err
}

// decodeAction returns the domain value of a stored action.
func decodeAction[T any, R any, PR actionRec[T, R]](kind actionKind, rep dwell.RepID, requestID string, at int64, raw []byte) (T, error) {
	var r R
	if err := json.Unmarshal(raw, &r); err != nil {
		var zero T
		return zero, dwell.E(dwell.Other, fmt.Sprintf("corrupt %s record", kind.what), err)
	}
	return PR(&r).domain(rep, requestID, fromNanos(at)), nil
}

// RecordCheckIn implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCheckIn(ctx context.Context, tenant dwell.TenantID, c dwell.CheckIn) (dwell.CheckIn, bool, error) {
	const op = dwell.Op("pgstore.RecordCheckIn")
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := &checkInRec{Client: string(c.Client), Fix: toFixRec(c.Fix), Verification: int(c.Verification), DistanceM: c.DistanceM,
		ReceiveTime: boundNanos(c.ReceiveTime)}
	a, err := newAction(op, tenant, actionCheckIn, c.Rep, c.RequestID, c.Time, c.ReceiveTime, c.Fix, rec)
	if err != nil {
		return dwell.CheckIn{}, false, err
	}
	return recordOnce[dwell.CheckIn, checkInRec](ctx, s, op, tenant, a, rec.domain(c.Rep, c.RequestID, fromNanos(a.atNanos)), nil)
}

// RecordCheckOut implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCheckOut(ctx context.Context, tenant dwell.TenantID, c dwell.CheckOut) (dwell.CheckOut, bool, error) {
	const op = dwell.Op("pgstore.RecordCheckOut")
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := &checkOutRec{Client: string(c.Client), Fix: toFixRec(c.Fix), Outcome: int(c.Outcome), RejectionReason: int(c.RejectionReason),
		RejectionText: c.RejectionText, Notes: c.Notes, ReceiveTime: boundNanos(c.ReceiveTime)}
	if d := c.FollowUpDate; !d.IsZero() {
		rec.FollowUpDate = &dateRec{Year: d.Year, Month: int(d.Month), Day: d.Day}
	}
	a, err := newAction(op, tenant, actionCheckOut, c.Rep, c.RequestID, c.Time, c.ReceiveTime, c.Fix, rec)
	if err != nil {
		return dwell.CheckOut{}, false, err
	}
	return recordOnce[dwell.CheckOut, checkOutRec](ctx, s, op, tenant, a, rec.domain(c.Rep, c.RequestID, fromNanos(a.atNanos)), nil)
}

// RecordCall implements store.Store. A zero ReceiveTime is set from the
// store's clock.
func (s *Store) RecordCall(ctx context.Context, tenant dwell.TenantID, c dwell.Call) (dwell.Call, bool, error) {
	const op = dwell.Op("pgstore.RecordCall")
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := &callRec{Client: string(c.Client), TalkSeconds: c.TalkSeconds, Direction: int(c.Direction), Outcome: int(c.Outcome),
		Notes: c.Notes, ReceiveTime: boundNanos(c.ReceiveTime)}
	a, err := newAction(op, tenant, actionCall, c.Rep, c.RequestID, c.StartTime, c.ReceiveTime, nil, rec)
	if err != nil {
		return dwell.Call{}, false, err
	}
	return recordOnce[dwell.Call, callRec](ctx, s, op, tenant, a, rec.domain(c.Rep, c.RequestID, fromNanos(a.atNanos)), nil)
}

// RecordTrackingChange implements store.Store. A zero ReceiveTime is set
// from the store's clock. A resume also marks the days of the pause before
// it (markPaused).
func (s *Store) RecordTrackingChange(ctx context.Context, tenant dwell.TenantID, c dwell.TrackingChange) (dwell.TrackingChange, bool, error) {
	const op = dwell.Op("pgstore.RecordTrackingChange")
	if c.ReceiveTime.IsZero() {
		c.ReceiveTime = s.now()
	}
	rec := &trackingRec{Paused: c.Paused, ReceiveTime: boundNanos(c.ReceiveTime)}
	a, err := newAction(op, tenant, actionTracking, c.Rep, c.RequestID, c.Time, c.ReceiveTime, nil, rec)
	if err != nil {
		return dwell.TrackingChange{}, false, err
	}
	var after func(ctx context.Context, tx pgx.Tx) error
	if !c.Paused {
		after = func(ctx context.Context, tx pgx.Tx) error { return s.markPaused(ctx, tx, tenant, c.Rep, a.atNanos) }
	}
	return recordOnce[dwell.TrackingChange, trackingRec](ctx, s, op, tenant, a, rec.domain(c.Rep, c.RequestID, fromNanos(a.atNanos)), after)
}

// maxPausedDays bounds the days a resume marks back to its pause.
const maxPausedDays = 31

// markPaused marks, for a resume of rep at instant at (Unix nanoseconds),
// every local day from the pause before it (if the last change before it
// is a pause) to the resume: the days of an open pause were derived as
// paused up to their end or the present, and now end at the resume. Of a
// longer pause only the last maxPausedDays days before the resume are
// marked, and none that began before the rep's prune horizon (the later of
// rep_data's fixes_pruned and actions_cleared): such a day lost data to
// retention and keeps its summary. As boltstore's markPaused.
func (s *Store) markPaused(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, at int64) error {
	var pauseAt int64
	var raw []byte
	err := tx.QueryRow(ctx, `SELECT time, rec FROM actions WHERE tenant = $1 AND rep = $2 AND kind = $3 AND time < $4
		ORDER BY time DESC, seq DESC LIMIT 1`, string(tenant), string(rep), actionTracking.code, at).Scan(&pauseAt, &raw)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	prev, err := decodeAction[dwell.TrackingChange, trackingRec](actionTracking, rep, "", pauseAt, raw)
	if err != nil || !prev.Paused {
		return err
	}
	// Half-day steps: a step of a day could leap over a 23-hour local day.
	end := fromNanos(at)
	from := prev.Time
	if limit := end.Add(-maxPausedDays * 24 * time.Hour); from.Before(limit) {
		from = limit
	}
	var steps []time.Time
	for t := from; !t.After(end); t = t.Add(12 * time.Hour) {
		steps = append(steps, t)
	}
	return s.markKeptDays(ctx, tx, tenant, rep, steps)
}

// ListCheckIns implements store.Store.
func (s *Store) ListCheckIns(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckIn, error) {
	return listActions[dwell.CheckIn, checkInRec](ctx, s, "pgstore.ListCheckIns", actionCheckIn, tenant, rep, from, to, false)
}

// ListCheckOuts implements store.Store.
func (s *Store) ListCheckOuts(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.CheckOut, error) {
	return listActions[dwell.CheckOut, checkOutRec](ctx, s, "pgstore.ListCheckOuts", actionCheckOut, tenant, rep, from, to, false)
}

// ListCalls implements store.Store.
func (s *Store) ListCalls(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Call, error) {
	return listActions[dwell.Call, callRec](ctx, s, "pgstore.ListCalls", actionCall, tenant, rep, from, to, false)
}

// ListTrackingChanges implements store.Store.
func (s *Store) ListTrackingChanges(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	return listActions[dwell.TrackingChange, trackingRec](ctx, s, "pgstore.ListTrackingChanges", actionTracking, tenant, rep, from, to, false)
}

// ListTrackingState implements store.Store in one statement: the changes
// from the latest instant before from (a backward step of the primary key)
// to to. Ingest calls it for every batch of fixes.
func (s *Store) ListTrackingState(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	return listActions[dwell.TrackingChange, trackingRec](ctx, s, "pgstore.ListTrackingState", actionTracking, tenant, rep, from, to, true)
}

// ListTrackingStates implements store.Store in one statement: each rep's
// changes from the latest instant of one before from (or from) to to.
func (s *Store) ListTrackingStates(ctx context.Context, tenant dwell.TenantID, reps []dwell.RepID, from, to time.Time) ([][]dwell.TrackingChange, error) {
	const op = dwell.Op("pgstore.ListTrackingStates")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, err
	}
	out := make([][]dwell.TrackingChange, len(reps))
	at := make(map[string][]int, len(reps)) // a rep's indexes in reps
	ids := make([]string, 0, len(reps))
	for i, r := range reps {
		out[i] = []dwell.TrackingChange{}
		if _, ok := at[string(r)]; !ok {
			ids = append(ids, string(r))
		}
		at[string(r)] = append(at[string(r)], i)
	}
	if !from.Before(to) || len(reps) == 0 {
		return out, nil
	}
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		for i := range out {
			out[i] = out[i][:0]
		}
		rows, err := tx.Query(ctx, `SELECT a.rep, a.time, a.request_id, a.rec FROM actions a
			WHERE a.tenant = $1 AND a.rep = ANY($2) AND a.kind = $5 AND a.time < $4
			AND a.time >= coalesce((SELECT max(b.time) FROM actions b
				WHERE b.tenant = $1 AND b.rep = a.rep AND b.kind = $5 AND b.time < $3), $3)
			ORDER BY a.rep, a.time, a.seq`,
			string(tenant), ids, boundNanos(from), boundNanos(to), actionTracking.code)
		if err != nil {
			return err
		}
		var rep, requestID string
		var t int64
		var raw []byte
		_, err = pgx.ForEachRow(rows, []any{&rep, &t, &requestID, &raw}, func() error {
			v, err := decodeAction[dwell.TrackingChange, trackingRec](actionTracking, dwell.RepID(rep), requestID, t, raw)
			for _, i := range at[rep] {
				out[i] = append(out[i], v)
			}
			return err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listActions returns rep's actions of kind with from <= time < to, in
// time order, ties in the order recorded; with state, from is first moved
// back to the latest instant of such an action before it, if any.
func listActions[T any, R any, PR actionRec[T, R]](ctx context.Context, s *Store, op dwell.Op, kind actionKind,
	tenant dwell.TenantID, rep dwell.RepID, from, to time.Time, state bool) ([]T, error) {
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, err
	}
	out := []T{}
	if !from.Before(to) {
		return out, nil
	}
	lower := `$3`
	if state {
		lower = `coalesce((SELECT max(time) FROM actions WHERE tenant = $1 AND rep = $2 AND kind = $5 AND time < $3), $3)`
	}
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT time, request_id, rec FROM actions
			WHERE tenant = $1 AND rep = $2 AND kind = $5 AND time >= `+lower+` AND time < $4
			ORDER BY time, seq`,
			string(tenant), string(rep), boundNanos(from), boundNanos(to), kind.code)
		if err != nil {
			return err
		}
		var at int64
		var requestID string
		var raw []byte
		_, err = pgx.ForEachRow(rows, []any{&at, &requestID, &raw}, func() error {
			v, err := decodeAction[T, R, PR](kind, rep, requestID, at, raw)
			out = append(out, v)
			return err
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
