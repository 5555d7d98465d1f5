package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// The live path end to end: phones write through IngestService, the
// server's own refresher re-derives the marked rep-days and publishes
// their events, WatchEvents clients receive them. Nothing here calls the
// day listener directly.

// importCity loads a simulated city's clients into the caller's tenant.
func importCity(t testing.TB, e *env, admin context.Context, city *sim.City) {
	t.Helper()
	stream, err := e.dirc.ImportClients(admin)
	if err != nil {
		t.Fatal(err)
	}
	msg := &dwellv1.ImportClientsRequest{}
	for _, c := range city.Clients() {
		kind := dwellv1.ClientKind_CLIENT_KIND_PROSPECT
		if c.Kind == dwell.ClientKindCustomer {
			kind = dwellv1.ClientKind_CLIENT_KIND_CUSTOMER
		}
		msg.Clients = append(msg.Clients, &dwellv1.Client{Name: "clients/" + string(c.ID), DisplayName: c.DisplayName, Kind: kind, Geofence: pbGeofence(c.Fence)})
	}
	if err := stream.Send(msg); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil || len(resp.GetErrors()) > 0 {
		t.Fatalf("import of the simulated city: %v, %v", resp.GetErrors(), err)
	}
}

// phoneCall is one write of a rep's phone, at the instant it reaches the
// server.
type phoneCall struct {
	at   time.Time
	rep  dwell.RepID
	what string
	send func(ctx context.Context, c dwellv1.IngestServiceClient) error
}

// phoneCalls returns the writes of a simulated day as the rep's phone
// makes them, in arrival order: every upload (those resent after a lost
// acknowledgement included, and late ones after the phone was offline),
// and every check-in and check-out when it reaches the server. With
// resend, every third check-in is sent twice, as by a phone that missed
// the first acknowledgement.
func phoneCalls(res *sim.DayResult, resend bool) []phoneCall {
	rep := res.Rep
	name := "reps/" + string(rep)
	var out []phoneCall
	for i, b := range res.Uploads {
		req := &dwellv1.UploadPingsRequest{Rep: name}
		for _, f := range b.Fixes {
			req.Fixes = append(req.Fixes, pbFix(f))
		}
		out = append(out, phoneCall{at: b.ArriveAt, rep: rep, what: fmt.Sprintf("upload %d of %s", i, rep), send: func(ctx context.Context, c dwellv1.IngestServiceClient) error {
			_, err := c.UploadPings(ctx, req)
			return err
		}})
	}
	for i, ci := range res.CheckIns {
		r := &dwellv1.CheckInRequest{Rep: name, RequestId: ci.RequestID, Client: "clients/" + string(ci.Client), CheckInTime: timestamppb.New(ci.Time)}
		if ci.Fix != nil {
			r.Fix = pbFix(*ci.Fix)
		}
		call := phoneCall{at: ci.ReceiveTime, rep: rep, what: "check-in " + ci.RequestID, send: func(ctx context.Context, c dwellv1.IngestServiceClient) error {
			_, err := c.CheckIn(ctx, r)
			return err
		}}
		out = append(out, call)
		if resend && i%3 == 0 {
			call.at = call.at.Add(time.Second)
			call.what += " (resent)"
			out = append(out, call)
		}
	}
	for _, co := range res.CheckOuts {
		r := &dwellv1.CheckOutRequest{Rep: name, RequestId: co.RequestID, Client: "clients/" + string(co.Client), CheckOutTime: timestamppb.New(co.Time),
			Outcome: dwellv1.Outcome(co.Outcome), RejectionReason: dwellv1.RejectionReason(co.RejectionReason), RejectionText: co.RejectionText}
		if co.Fix != nil {
			r.Fix = pbFix(*co.Fix)
		}
		if !co.FollowUpDate.IsZero() {
			r.FollowUpDate = &dwellv1.Date{Year: int32(co.FollowUpDate.Year), Month: int32(co.FollowUpDate.Month), Day: int32(co.FollowUpDate.Day)}
		}
		out = append(out, phoneCall{at: co.ReceiveTime, rep: rep, what: "check-out " + co.RequestID, send: func(ctx context.Context, c dwellv1.IngestServiceClient) error {
			_, err := c.CheckOut(ctx, r)
			return err
		}})
	}
	slices.SortStableFunc(out, func(a, b phoneCall) int { return a.at.Compare(b.at) })
	return out
}

// collector follows WatchEvents for one caller, across reconnections,
// keeping every event it receives.
type collector struct {
	t      testing.TB
	c      dwellv1.ReportServiceClient
	ctx    context.Context
	mu     sync.Mutex
	got    []*dwellv1.Event
	ended  chan struct{}
	endErr error
	cancel context.CancelFunc
}

// follow opens a stream after the last event received (from the log's
// start if none) and receives in the background until the stream ends.
func (c *collector) follow(t testing.TB, e *env) {
	t.Helper()
	c.c = e.report
	c.mu.Lock()
	cursor := server.EventCursor(acme, 0)
	if n := len(c.got); n > 0 {
		cursor = c.got[n-1].GetCursor()
	}
	c.mu.Unlock()
	st, cancel := openWatch(t, c.c, c.ctx, &dwellv1.WatchEventsRequest{Cursor: cursor})
	c.ended, c.cancel = make(chan struct{}), cancel
	go func() {
		defer close(c.ended)
		for {
			resp, err := st.Recv()
			if err != nil {
				c.mu.Lock()
				c.endErr = err
				c.mu.Unlock()
				return
			}
			c.mu.Lock()
			c.got = append(c.got, resp.GetEvents()...)
			c.mu.Unlock()
		}
	}()
}

// disconnect ends the stream, as a client going away, and waits for its
// receiver.
func (c *collector) disconnect() {
	c.cancel()
	<-c.ended
}

// lastSeq returns the sequence number of the last event received (0 if
// none).
func (c *collector) lastSeq(t testing.TB) uint64 {
	evs := c.events()
	if len(evs) == 0 {
		return 0
	}
	return cursorSeq(t, evs[len(evs)-1].GetCursor())
}

// events returns a copy of what was received so far.
func (c *collector) events() []*dwellv1.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// waitFor waits until an event with cursor seq at least seq has arrived.
func (c *collector) waitFor(t testing.TB, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs := c.events()
		if n := len(evs); n > 0 && cursorSeq(t, evs[n-1].GetCursor()) >= seq {
			return
		}
		select {
		case <-c.ended:
			c.mu.Lock()
			err := c.endErr
			c.mu.Unlock()
			t.Fatalf("the stream ended before event %d: %v", seq, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %d did not arrive in 20 s; %d events so far", seq, len(evs))
		}
		time.Sleep(time.Millisecond)
	}
}

// liveClock is a server clock the test moves forward as the phones' calls
// arrive; the server reads it from its own goroutines.
type liveClock struct{ ns atomic.Int64 }

func (c *liveClock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *liveClock) advance(t time.Time) {
	for {
		old := c.ns.Load()
		if t.UnixNano() <= old || c.ns.CompareAndSwap(old, t.UnixNano()) {
			return
		}
	}
}

// settle runs the refresher until no rep-day is dirty and returns the
// tenant's last event sequence number: every event the data written so
// far causes is then in the log.
func settle(t testing.TB, e *env) uint64 {
	t.Helper()
	ctx := context.Background()
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if marks, err := e.st.ListDirtyDays(ctx, store.DayKey{}, 1); err != nil || len(marks) > 0 {
		t.Fatalf("after Refresh: dirty days %v, %v", marks, err)
	}
	last, err := e.st.LastEventSeq(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	return last
}

// TestLiveEventsEndToEnd streams three simulated reps' days (Realistic
// phones: batches, resent batches, offline phones uploading late,
// check-ins and check-outs, some check-ins sent twice) through
// IngestService while a partner and the manager of one team watch. Half
// way, the server is closed with work still marked for the refresher and
// started again on the same bbolt file; both watchers resume from their
// last cursor. Once the refresher has settled, the partner has every event
// of the log exactly once, in log order; every visit of each rep's final
// day has a VISIT_STARTED for its client and every visit that ended
// (SettleAfter before the day's last fix) a VISIT_ENDED; the manager of
// "south" has exactly the events of its rep and none of the others.
func TestLiveEventsEndToEnd(t *testing.T) {
	clk := &liveClock{}
	clk.advance(time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC))
	e := newWatchEnv(t, true, func(c *server.Config) { c.Now, c.SilenceSweep = clk.now, -1 })
	bg := context.Background()
	// Tokens minted at the start of the simulated day, valid all day.
	as := func(role dwell.Role, subject string) context.Context {
		tok, err := e.kr.Mint(dwell.Principal{Tenant: acme, Subject: subject, Role: role}, 48*time.Hour, clk.now())
		if err != nil {
			t.Fatalf("Mint: %v", err)
		}
		return metadata.AppendToOutgoingContext(bg, "authorization", "Bearer "+tok)
	}
	admin := as(dwell.RoleAdmin, "admin")
	city, err := sim.NewCity(5, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	importCity(t, e, admin, city)
	e.mustCreateTeam(admin, "north", "ana")
	e.mustCreateTeam(admin, "south", "bob")
	teams := map[dwell.RepID]string{"n1": "north", "n2": "north", "s1": "south"}
	reps := []dwell.RepID{"n1", "n2", "s1"}
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	var calls []phoneCall
	phones := map[dwell.RepID]context.Context{}
	for i, rep := range reps {
		e.mustCreateRep(admin, string(rep), teams[rep])
		phones[rep] = as(dwell.RoleRep, string(rep))
		res, err := sim.Day(uint64(70+i), city, sim.Realistic(), sim.DayConfig{Rep: rep, Date: dwell.Date{Year: 2026, Month: 11, Day: 19}, Loc: jakarta})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, phoneCalls(res, true)...)
	}
	slices.SortStableFunc(calls, func(a, b phoneCall) int { return a.at.Compare(b.at) })

	partner := &collector{t: t, ctx: as(dwell.RolePartner, "crm")}
	south := &collector{t: t, ctx: as(dwell.RoleManager, "bob")}
	partner.follow(t, e)
	south.follow(t, e)
	run := func(cs []phoneCall) {
		for _, c := range cs {
			clk.advance(c.at)
			ctx, cancel := context.WithTimeout(phones[c.rep], 30*time.Second)
			err := c.send(ctx, e.ingest)
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
		}
	}
	half := len(calls) / 2
	run(calls[:half-40])
	// The watchers go away; the phones go on; the server is closed right
	// after the last write, with whatever the refresher has not yet done
	// left marked (the marks are durable and the next server drains them
	// at start). The watchers come back to the new server with their last
	// cursors and must get what was published meanwhile from the log.
	partner.disconnect()
	south.disconnect()
	away := partner.lastSeq(t)
	run(calls[half-40 : half])
	// The background refresher publishes at its own pace (it rests after
	// each busy pass, longer on a loaded machine): let it publish some of
	// what the watchers miss, so that the resumption is exercised, but stop
	// the server with the rest still marked.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if head, err := e.st.LastEventSeq(bg, acme); err != nil || head > away {
			break
		}
	}
	e.stop()
	e.start()
	partner.follow(t, e)
	south.follow(t, e)
	pending, err := e.st.LastEventSeq(bg, acme)
	if err != nil {
		t.Fatal(err)
	}
	missed := pending - away
	if missed == 0 {
		t.Fatal("no event was published while the watchers were away: the resumption is not exercised")
	}
	run(calls[half:])
	last := settle(t, e)
	if last == 0 {
		t.Fatal("the day published no event")
	}
	partner.waitFor(t, last)
	// A final event of s1 marks the end of what the manager can receive:
	// whatever else it would be sent comes before it.
	seqs, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{{Type: dwell.EventRepSilent, Rep: "s1", Team: "south", Time: clk.now(), DetectTime: clk.now(), Key: "end-of-test"}})
	if err != nil {
		t.Fatal(err)
	}
	partner.waitFor(t, seqs[0])
	south.waitFor(t, seqs[0])

	got := partner.events()
	got = got[:len(got)-1] // the end marker
	// Every event of the log, exactly once, in log order.
	if len(got) != int(last) {
		t.Errorf("the partner received %d events, the log holds %d", len(got), last)
	}
	seenFact := map[fact]bool{}
	for i, ev := range got {
		if s := cursorSeq(t, ev.GetCursor()); s != uint64(i+1) {
			t.Fatalf("event %d has sequence %d: lost, repeated or out of order across the restart", i, s)
		}
		f := factOf(ev)
		f.late = false // a fact told again later would differ in that alone
		if seenFact[f] {
			t.Errorf("event %v repeats", f)
		}
		seenFact[f] = true
	}

	// In order per rep: an end follows (in the log) a start of the same
	// rep and client that began no later.
	opened := map[string][]time.Time{}
	for _, ev := range got {
		k := ev.GetRep() + " " + ev.GetClient()
		at := ev.GetEventTime().AsTime()
		switch ev.GetType() {
		case dwellv1.EventType_EVENT_TYPE_VISIT_STARTED, dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED:
			opened[ev.GetType().String()+k] = append(opened[ev.GetType().String()+k], at)
		case dwellv1.EventType_EVENT_TYPE_VISIT_ENDED, dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED:
			start := dwellv1.EventType_EVENT_TYPE_VISIT_STARTED
			if ev.GetType() == dwellv1.EventType_EVENT_TYPE_GEOFENCE_EXITED {
				start = dwellv1.EventType_EVENT_TYPE_GEOFENCE_ENTERED
			}
			if !slices.ContainsFunc(opened[start.String()+k], func(s time.Time) bool { return !s.After(at) }) {
				t.Errorf("%s %v at %v comes before any %v of it", k, ev.GetType(), at, start)
			}
		}
	}

	// Every visit of the final day is told.
	started, ended := map[string]int{}, map[string]int{}
	for _, ev := range got {
		k := ev.GetRep() + " " + ev.GetClient()
		switch ev.GetType() {
		case dwellv1.EventType_EVENT_TYPE_VISIT_STARTED:
			started[k]++
		case dwellv1.EventType_EVENT_TYPE_VISIT_ENDED:
			ended[k]++
		}
	}
	visits, endedVisits := 0, 0
	for _, rep := range reps {
		day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/" + string(rep), Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 19}})
		if err != nil {
			t.Fatalf("GetRepDay(%s): %v", rep, err)
		}
		segs := day.GetSegments()
		if len(segs) == 0 {
			t.Fatalf("%s: an empty day", rep)
		}
		dayEnd := segs[len(segs)-1].GetEndTime().AsTime()
		for _, v := range day.GetVisits() {
			visits++
			k := v.GetRep() + " " + v.GetClient()
			if started[k] == 0 {
				t.Errorf("%s: visit %v-%v has no VISIT_STARTED", k, v.GetStartTime().AsTime(), v.GetEndTime().AsTime())
			}
			if dayEnd.Sub(v.GetEndTime().AsTime()) >= events.SettleAfter {
				endedVisits++
				if ended[k] == 0 {
					t.Errorf("%s: visit %v-%v ended (the day goes on to %v) but has no VISIT_ENDED", k, v.GetStartTime().AsTime(), v.GetEndTime().AsTime(), dayEnd)
				}
			}
		}
	}
	if visits == 0 || endedVisits == 0 {
		t.Fatalf("the final days have %d visits, %d ended: nothing was checked", visits, endedVisits)
	}

	// The manager of south: exactly s1's events, in the same order.
	var want []string
	for _, ev := range partner.events() {
		if ev.GetRep() == "reps/s1" {
			want = append(want, ev.GetCursor())
		}
	}
	var mgr []string
	for _, ev := range south.events() {
		if ev.GetRep() != "reps/s1" {
			t.Errorf("the manager of south received %v of %s", ev.GetType(), ev.GetRep())
		}
		mgr = append(mgr, ev.GetCursor())
	}
	if !slices.Equal(mgr, want) {
		t.Errorf("the manager of south received %d events, want the %d of s1 (same cursors, same order)", len(mgr), len(want))
	}
	// Offline phones upload late: what their data reveals is marked late,
	// and a late event was detected more than LateAfter after it happened.
	late := 0
	for _, ev := range got {
		if ev.GetLate() {
			late++
			if d := ev.GetDetectTime().AsTime().Sub(ev.GetEventTime().AsTime()); d <= events.LateAfter {
				t.Errorf("%v is late but was detected %v after it happened", factOf(ev), d)
			}
		}
	}
	if late == 0 || late == len(got) {
		t.Errorf("%d of %d events are late; the Realistic phones upload both on time and late", late, len(got))
	}
	t.Logf("%d phone calls, %d events (%d late, %d of s1; %d published while the watchers were away), %d visits (%d ended) in the final days", len(calls), len(got), late, len(want)-1, missed, visits, endedVisits)
}

// TestCloseDuringRefreshLosesNoEvent closes the server while its
// refresher is busy, several times: each round uploads the whole days of
// four new reps (one batch each) and closes the server at once, so that a
// pass is deriving and storing summaries when Close cancels it. Whatever
// the pass did not finish, the next server must: once it has settled,
// every visit of every final day has its VISIT_STARTED in the log. (A
// summary stored by the cancelled pass whose events were then not
// published would be the "previous day" of every later derivation, and
// its visits would never be told.)
func TestCloseDuringRefreshLosesNoEvent(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	admin := e.admin(acme)
	city, err := sim.NewCity(9, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	importCity(t, e, admin, city)
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	date := dwell.Date{Year: 2026, Month: 11, Day: 19}
	var reps []dwell.RepID
	for round := range 6 {
		admin := e.admin(acme)
		for i := range 4 {
			rep := dwell.RepID(fmt.Sprintf("r%d-%d", round, i))
			reps = append(reps, rep)
			e.mustCreateRep(admin, string(rep), "")
			res, err := sim.Day(uint64(100*round+i), city, sim.Realistic(), sim.DayConfig{Rep: rep, Date: date, Loc: jakarta})
			if err != nil {
				t.Fatal(err)
			}
			req := &dwellv1.UploadPingsRequest{Rep: "reps/" + string(rep)}
			for _, f := range res.AllFixes() {
				req.Fixes = append(req.Fixes, pbFix(f))
			}
			if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, string(rep)), req); err != nil {
				t.Fatalf("upload of %s: %v", rep, err)
			}
		}
		e.restart()
	}
	last := settle(t, e)
	evs, err := e.st.ListEvents(bg, acme, 0, int(last))
	if err != nil {
		t.Fatal(err)
	}
	started := map[string]bool{}
	for _, ev := range evs {
		if ev.Type == dwell.EventVisitStarted {
			started["reps/"+string(ev.Rep)+" clients/"+string(ev.Client)] = true
		}
	}
	admin = e.admin(acme)
	visits, missing := 0, 0
	for _, rep := range reps {
		day, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/" + string(rep), Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 19}})
		if err != nil {
			t.Fatalf("GetRepDay(%s): %v", rep, err)
		}
		for _, v := range day.GetVisits() {
			visits++
			if !started[v.GetRep()+" "+v.GetClient()] {
				missing++
				t.Errorf("%s at %s, %v-%v: no VISIT_STARTED", v.GetRep(), v.GetClient(), v.GetStartTime().AsTime(), v.GetEndTime().AsTime())
			}
		}
	}
	t.Logf("%d reps, %d visits, %d events, %d visits never told", len(reps), visits, len(evs), missing)
}
