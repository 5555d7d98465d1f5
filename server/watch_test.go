package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/timeline"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// newWatchEnv is newEnv with the server configuration adjusted by f.
func newWatchEnv(t testing.TB, sync bool, f func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, noSync: !sync, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), configure: f}
	e.start()
	t.Cleanup(e.stop)
	return e
}

// caller returns a context without deadline carrying a token of the given
// caller, valid for an hour, for streams that outlive a unary call's
// timeout.
func (e *env) caller(ctx context.Context, tenant dwell.TenantID, role dwell.Role, subject string) context.Context {
	e.t.Helper()
	return e.callerFor(ctx, tenant, role, subject, time.Hour)
}

// callerFor is caller with a token valid for ttl, for a stream that must
// outlive a move of the server's clock (a stream ends when its token
// expires).
func (e *env) callerFor(ctx context.Context, tenant dwell.TenantID, role dwell.Role, subject string, ttl time.Duration) context.Context {
	e.t.Helper()
	tok, err := e.kr.Mint(dwell.Principal{Tenant: tenant, Subject: subject, Role: role}, ttl, e.now())
	if err != nil {
		e.t.Fatalf("Mint: %v", err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// openWatch starts WatchEvents and waits for the response headers, after
// which the server has positioned the stream: nothing appended later is
// missed. The stream ends with the test.
func openWatch(t testing.TB, c dwellv1.ReportServiceClient, ctx context.Context, req *dwellv1.WatchEventsRequest) (dwellv1.ReportService_WatchEventsClient, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	st, err := c.WatchEvents(ctx, req)
	if err != nil {
		t.Fatalf("WatchEvents: %v", err)
	}
	if _, err := st.Header(); err != nil {
		t.Fatalf("WatchEvents headers: %v", err)
	}
	return st, cancel
}

// watchErr opens WatchEvents and returns the error it ends with before
// any event (the status of a refused request).
func watchErr(c dwellv1.ReportServiceClient, ctx context.Context, req *dwellv1.WatchEventsRequest) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := c.WatchEvents(ctx, req)
	if err != nil {
		return err
	}
	_, err = st.Recv()
	return err
}

// recvAtLeast receives batches until it has at least n events.
func recvAtLeast(t testing.TB, st dwellv1.ReportService_WatchEventsClient, n int) []*dwellv1.Event {
	t.Helper()
	var out []*dwellv1.Event
	for len(out) < n {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("Recv after %d of %d events: %v", len(out), n, err)
		}
		if len(resp.GetEvents()) == 0 {
			t.Fatal("an empty WatchEventsResponse")
		}
		out = append(out, resp.GetEvents()...)
	}
	return out
}

// cursorSeq returns the position an acme cursor names, failing the test
// for what is not one.
func cursorSeq(t testing.TB, cursor string) uint64 {
	t.Helper()
	seq, ok := server.CursorSeq(acme, cursor)
	if !ok {
		t.Fatalf("%q is not a cursor of acme", cursor)
	}
	return seq
}

// fact is what identifies an event on the wire, cursor aside.
type fact struct {
	typ    dwellv1.EventType
	rep    string
	client string
	at     time.Time
	late   bool
}

func factOf(e *dwellv1.Event) fact {
	return fact{e.GetType(), e.GetRep(), e.GetClient(), e.GetEventTime().AsTime(), e.GetLate()}
}

func factOfDomain(e dwell.Event) fact {
	f := fact{typ: dwellv1.EventType(e.Type), rep: "reps/" + string(e.Rep), at: e.Time.UTC(), late: e.Late}
	if e.Client != "" {
		f.client = "clients/" + string(e.Client)
	}
	return f
}

func facts(evs []*dwellv1.Event) []fact {
	out := make([]fact, len(evs))
	for i, e := range evs {
		out[i] = factOf(e)
	}
	return out
}

// simFeed is simulated reps' days, re-derived upload by upload as the
// refresher would, with the events the log must hold in the order it must
// hold them.
type simFeed struct {
	steps []feedStep
	// logged are the keys already appended, to predict the log's answer.
	logged map[string]bool
}

type feedStep struct {
	rep        dwell.RepID
	date       dwell.Date
	prev, next *timeline.Day
	detect     time.Time
}

// newSimFeed simulates the day of each rep (Realistic phones, Jakarta) and
// interleaves their uploads by arrival.
func newSimFeed(t testing.TB, reps []dwell.RepID) *simFeed {
	t.Helper()
	city, err := sim.NewCity(3, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ix, clients := localFences(t, city.Clients())
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	f := &simFeed{logged: map[string]bool{}}
	for i, rep := range reps {
		res, err := sim.Day(uint64(40+i), city, sim.Realistic(), sim.DayConfig{Rep: rep, Date: dwell.Date{Year: 2026, Month: 11, Day: 19}, Loc: jakarta})
		if err != nil {
			t.Fatal(err)
		}
		var fixes []dwell.Fix
		var prev *timeline.Day
		for _, b := range res.Uploads {
			fixes = append(fixes, b.Fixes...)
			in := timeline.Input{Day: res.Date, Loc: jakarta, Window: timeline.Window{Start: res.Start, End: res.End},
				Fixes: fixes, Fences: ix, Clients: clients, Settings: dwell.DefaultSettings()}
			for _, c := range res.CheckIns {
				if !c.ReceiveTime.After(b.ArriveAt) {
					in.CheckIns = append(in.CheckIns, c.CheckIn)
				}
			}
			for _, c := range res.CheckOuts {
				if !c.ReceiveTime.After(b.ArriveAt) {
					in.CheckOuts = append(in.CheckOuts, c.CheckOut)
				}
			}
			next := timeline.Derive(in)
			f.steps = append(f.steps, feedStep{rep: rep, date: res.Date, prev: prev, next: &next, detect: b.ArriveAt})
			prev = &next
		}
	}
	slices.SortStableFunc(f.steps, func(a, b feedStep) int { return a.detect.Compare(b.detect) })
	return f
}

// run publishes steps [from, to) through the day listener and returns the
// facts the log must have gained, in order.
func (f *simFeed) run(t testing.TB, e *env, tenant dwell.TenantID, teams map[dwell.RepID]dwell.TeamID, from, to int) []fact {
	t.Helper()
	var want []fact
	for _, s := range f.steps[from:to] {
		if err := server.PublishDay(context.Background(), e.srv, tenant, s.rep, s.date, s.prev, s.next, s.detect); err != nil {
			t.Fatalf("PublishDay: %v", err)
		}
		for _, ev := range events.Diff(s.prev, s.next, events.Options{Rep: s.rep, Team: teams[s.rep], DetectTime: s.detect}) {
			if !f.logged[ev.Key] {
				f.logged[ev.Key] = true
				want = append(want, factOfDomain(ev))
			}
		}
	}
	return want
}

// perRep splits facts by rep, keeping their order.
func perRep(fs []fact) map[string][]fact {
	out := map[string][]fact{}
	for _, f := range fs {
		out[f.rep] = append(out[f.rep], f)
	}
	return out
}

// wantSameFacts fails unless got equals want, element by element, and per
// rep.
func wantSameFacts(t testing.TB, what string, got, want []fact) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: received %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: event %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
	g, w := perRep(got), perRep(want)
	for rep := range w {
		if !slices.Equal(g[rep], w[rep]) {
			t.Fatalf("%s: events of %s differ", what, rep)
		}
	}
}

// seedWatchTeams creates teams north (managed by ana) and south (bob) in
// tenant and reps r1, r2 (north), r3 (south) and r4 (no team).
func seedWatchTeams(e *env, tenant dwell.TenantID) map[dwell.RepID]dwell.TeamID {
	admin := e.admin(tenant)
	e.mustCreateTeam(admin, "north", "ana")
	e.mustCreateTeam(admin, "south", "bob")
	teams := map[dwell.RepID]dwell.TeamID{"r1": "north", "r2": "north", "r3": "south", "r4": ""}
	for _, r := range []dwell.RepID{"r1", "r2", "r3", "r4"} {
		e.mustCreateRep(admin, string(r), string(teams[r]))
	}
	return teams
}

// TestWatchResume follows simulated reps' days as they are re-derived,
// drops the stream part-way and resumes from the last cursor, then
// restarts the server on the same bbolt file and resumes again: the
// union of what the client received is every event the log gained,
// exactly once, in log order and in order per rep.
func TestWatchResume(t *testing.T) {
	e := newEnv(t)
	teams := seedWatchTeams(e, acme)
	feed := newSimFeed(t, []dwell.RepID{"r1", "r2", "r3", "r4"})
	n := len(feed.steps)
	ctx := e.caller(context.Background(), acme, dwell.RolePartner, "crm")

	st, cancel := openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{})
	want := feed.run(t, e, acme, teams, 0, n/3)
	if len(want) < 20 {
		t.Fatalf("the first third of the days made only %d events", len(want))
	}
	// Read part of them, then drop the connection's stream.
	got := recvAtLeast(t, st, len(want)/2)
	cancel()
	if len(got) == len(want) {
		t.Fatalf("received all %d events before the disconnect; the test needs some left", len(want))
	}
	// More events while the client is away, then resume.
	want = append(want, feed.run(t, e, acme, teams, n/3, 2*n/3)...)
	st, cancel = openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{Cursor: got[len(got)-1].GetCursor()})
	got = append(got, recvAtLeast(t, st, len(want)-len(got))...)
	wantSameFacts(t, "after the disconnect", facts(got), want)
	cancel()

	// Read only part of the rest, restart the server (store closed and
	// reopened from the same file), publish the rest of the day.
	wantBefore := len(want)
	want = append(want, feed.run(t, e, acme, teams, 2*n/3, 2*n/3+(n-2*n/3)/2)...)
	st, cancel = openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{Cursor: got[len(got)-1].GetCursor()})
	got = append(got, recvAtLeast(t, st, (len(want)-wantBefore)/2+1)...)
	cancel()
	e.restart()
	ctx = e.caller(context.Background(), acme, dwell.RolePartner, "crm")
	// A refresher that lost its memory re-derives a day from scratch:
	// the log keeps what it already holds from being said again.
	last := feed.steps[2*n/3+(n-2*n/3)/2-1]
	if err := server.PublishDay(context.Background(), e.srv, acme, last.rep, last.date, nil, last.next, last.detect); err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Diff(nil, last.next, events.Options{Rep: last.rep, Team: teams[last.rep], DetectTime: last.detect}) {
		if !feed.logged[ev.Key] {
			feed.logged[ev.Key] = true
			want = append(want, factOfDomain(ev))
		}
	}
	want = append(want, feed.run(t, e, acme, teams, 2*n/3+(n-2*n/3)/2, n)...)
	st, _ = openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{Cursor: got[len(got)-1].GetCursor()})
	got = append(got, recvAtLeast(t, st, len(want)-len(got))...)
	wantSameFacts(t, "after the restart", facts(got), want)
	cursors := map[string]bool{}
	for _, ev := range got {
		if cursors[ev.GetCursor()] {
			t.Fatalf("cursor %q received twice", ev.GetCursor())
		}
		cursors[ev.GetCursor()] = true
	}
	t.Logf("%d re-derivations of 4 rep-days, %d events", n, len(got))
}

// TestWatchNewOnly checks that a stream without a cursor starts after the
// events already logged, and that the cursor its headers give for that
// position resumes it there.
func TestWatchNewOnly(t *testing.T) {
	e := newEnv(t)
	old := dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: e.clock, DetectTime: e.clock, Key: "old"}
	if _, err := server.PublishEvents(context.Background(), e.srv, acme, []dwell.Event{old}); err != nil {
		t.Fatal(err)
	}
	admin := e.caller(context.Background(), acme, dwell.RoleAdmin, "admin")
	st, cancel := openWatch(t, e.report, admin, &dwellv1.WatchEventsRequest{})
	md, err := st.Header()
	if err != nil {
		t.Fatal(err)
	}
	// The headers name the position: lose the stream before any event,
	// publish, and resume from it: the event of the outage comes.
	start := md.Get(server.StartCursorHeader)
	if len(start) != 1 || cursorSeq(t, start[0]) != 1 {
		t.Fatalf("header %s = %q, want the cursor of event 1, the log's end", server.StartCursorHeader, start)
	}
	cancel()
	fresh := old
	fresh.Key, fresh.Type = "new", dwell.EventVisitStarted
	if _, err := server.PublishEvents(context.Background(), e.srv, acme, []dwell.Event{fresh}); err != nil {
		t.Fatal(err)
	}
	st, _ = openWatch(t, e.report, admin, &dwellv1.WatchEventsRequest{Cursor: start[0]})
	got := recvAtLeast(t, st, 1)
	if len(got) != 1 || got[0].GetType() != dwellv1.EventType_EVENT_TYPE_VISIT_STARTED {
		t.Fatalf("received %v, want only the new VISIT_STARTED", got)
	}
	if cursorSeq(t, got[0].GetCursor()) != 2 {
		t.Fatalf("cursor %q, want the one of event 2", got[0].GetCursor())
	}
}

// TestWatchStuckConsumer opens a stream that is never read while events
// keep coming: publishing is not held up by it (were it, the publishing
// loop would never finish), and the stream ends with RESOURCE_EXHAUSTED
// after what it had sent; resuming from the last cursor received yields
// the rest.
func TestWatchStuckConsumer(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.WatchBuffer, c.WatchStall = 256, 300*time.Millisecond })
	// A client with fixed flow-control windows (64 KiB), so that gRPC
	// stops taking the server's messages as soon as its window is full.
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	report := dwellv1.NewReportServiceClient(conn)
	ctx := e.caller(context.Background(), acme, dwell.RolePartner, "crm")
	stuck, _ := openWatch(t, report, ctx, &dwellv1.WatchEventsRequest{})

	// Far more than the buffer, gRPC's windows and write quota hold
	// (about 100 bytes an event on the wire).
	const total, batch = 20000, 50
	var want []fact
	for i := 0; i < total; i += batch {
		evs := make([]dwell.Event, batch)
		for j := range evs {
			at := e.clock.Add(time.Duration(i+j) * time.Second)
			evs[j] = dwell.Event{Type: dwell.EventIdleStarted, Rep: dwell.RepID(fmt.Sprintf("r%d", (i+j)%7)), Time: at, DetectTime: at, Key: fmt.Sprint(i + j)}
			want = append(want, factOfDomain(evs[j]))
		}
		if _, err := server.PublishEvents(context.Background(), e.srv, acme, evs); err != nil {
			t.Fatal(err)
		}
	}
	// Give the stream its grace period, then read: what the server had
	// sent, in order, then the status.
	time.Sleep(time.Second)
	var got []*dwellv1.Event
	var end error
	for {
		resp, err := stuck.Recv()
		if err != nil {
			end = err
			break
		}
		got = append(got, resp.GetEvents()...)
	}
	if status.Code(end) != codes.ResourceExhausted {
		t.Fatalf("the stuck stream ended with %v after %d events, want RESOURCE_EXHAUSTED", end, len(got))
	}
	wantReason(t, "the stuck stream", end, codes.ResourceExhausted, dwell.ReasonSlowConsumer)
	if len(got) == 0 || len(got) >= total {
		t.Fatalf("the stuck stream delivered %d of %d events before it ended", len(got), total)
	}
	wantSameFacts(t, "before the overflow", facts(got), want[:len(got)])
	before := len(got)
	// Resume: the rest, exactly once.
	st, _ := openWatch(t, report, ctx, &dwellv1.WatchEventsRequest{Cursor: got[len(got)-1].GetCursor()})
	got = append(got, recvAtLeast(t, st, total-len(got))...)
	wantSameFacts(t, "after resuming", facts(got), want)
	t.Logf("the stuck stream ended after %d of %d events: %v", before, total, status.Convert(end).Message())
}

// TestWatchTenantIsolation checks that a partner of one tenant never
// receives another tenant's events, and cannot use its cursors.
func TestWatchTenantIsolation(t *testing.T) {
	e := newEnv(t)
	bg := context.Background()
	stA, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	stB, _ := openWatch(t, e.report, e.caller(bg, globex, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	var wantA, wantB []fact
	for i := range 50 {
		at := e.clock.Add(time.Duration(i) * time.Minute)
		a := dwell.Event{Type: dwell.EventVisitStarted, Rep: "ra", Client: "c1", Time: at, DetectTime: at, Key: fmt.Sprint(i)}
		b := dwell.Event{Type: dwell.EventVisitEnded, Rep: "rb", Client: "c1", Time: at, DetectTime: at, Key: fmt.Sprint(i)}
		if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{a}); err != nil {
			t.Fatal(err)
		}
		if _, err := server.PublishEvents(bg, e.srv, globex, []dwell.Event{b}); err != nil {
			t.Fatal(err)
		}
		wantA, wantB = append(wantA, factOfDomain(a)), append(wantB, factOfDomain(b))
	}
	gotA, gotB := recvAtLeast(t, stA, len(wantA)), recvAtLeast(t, stB, len(wantB))
	wantSameFacts(t, "acme's partner", facts(gotA), wantA)
	wantSameFacts(t, "globex's partner", facts(gotB), wantB)
	// Nothing more is pending for either (a marker proves the stream
	// went on past the other tenant's events).
	marker := dwell.Event{Type: dwell.EventRepSilent, Rep: "ra", Time: e.clock, DetectTime: e.clock, Key: "marker"}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{marker}); err != nil {
		t.Fatal(err)
	}
	if next := recvAtLeast(t, stA, 1); len(next) != 1 || factOf(next[0]) != factOfDomain(marker) {
		t.Fatalf("after the marker acme received %v", next)
	}
	err := watchErr(e.report, e.caller(bg, globex, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Cursor: gotA[10].GetCursor()})
	wantViolation(t, "globex with acme's cursor", err, "cursor")
}

// TestWatchScope checks what each role sees and may ask for.
func TestWatchScope(t *testing.T) {
	e := newEnv(t)
	teams := seedWatchTeams(e, acme)
	bg := context.Background()
	ana := e.caller(bg, acme, dwell.RoleManager, "ana")
	all, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RoleAdmin, "admin"), &dwellv1.WatchEventsRequest{})
	mine, _ := openWatch(t, e.report, ana, &dwellv1.WatchEventsRequest{})
	north, _ := openWatch(t, e.report, ana, &dwellv1.WatchEventsRequest{Team: "teams/north", Types: []dwellv1.EventType{dwellv1.EventType_EVENT_TYPE_VISIT_STARTED}})
	south, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Team: "teams/south"})

	var evs []dwell.Event
	for i, rep := range []dwell.RepID{"r1", "r2", "r3", "r4", "r1", "r3"} {
		at := e.clock.Add(time.Duration(i) * time.Minute)
		typ := dwell.EventVisitStarted
		if i%2 == 1 {
			typ = dwell.EventIdleStarted
		}
		evs = append(evs, dwell.Event{Type: typ, Rep: rep, Team: teams[rep], Time: at, DetectTime: at, Key: fmt.Sprint(i)})
	}
	if _, err := server.PublishEvents(bg, e.srv, acme, evs); err != nil {
		t.Fatal(err)
	}
	pick := func(keep func(dwell.Event) bool) []fact {
		var out []fact
		for _, ev := range evs {
			if keep(ev) {
				out = append(out, factOfDomain(ev))
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		st   dwellv1.ReportService_WatchEventsClient
		want []fact
	}{
		{"admin", all, pick(func(dwell.Event) bool { return true })},
		{"ana, her teams", mine, pick(func(ev dwell.Event) bool { return ev.Team == "north" })},
		{"ana, north's visit starts", north, pick(func(ev dwell.Event) bool { return ev.Team == "north" && ev.Type == dwell.EventVisitStarted })},
		{"partner, south", south, pick(func(ev dwell.Event) bool { return ev.Team == "south" })},
	} {
		// Each stream then gets a marker of its own scope, so nothing
		// out of scope can hide behind the count.
		wantSameFacts(t, c.name, facts(recvAtLeast(t, c.st, len(c.want))), c.want)
	}
	marker := dwell.Event{Type: dwell.EventVisitStarted, Rep: "r2", Team: "north", Time: e.clock, DetectTime: e.clock, Key: "marker"}
	other := dwell.Event{Type: dwell.EventVisitStarted, Rep: "r3", Team: "south", Time: e.clock, DetectTime: e.clock, Key: "marker-south"}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{other, marker}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []dwellv1.ReportService_WatchEventsClient{mine, north} {
		if next := recvAtLeast(t, st, 1); len(next) != 1 || factOf(next[0]) != factOfDomain(marker) {
			t.Fatalf("after the markers ana received %v, want only north's", facts(next))
		}
	}

	wantCode(t, "ana watching south", watchErr(e.report, ana, &dwellv1.WatchEventsRequest{Team: "teams/south"}), codes.PermissionDenied)
	wantCode(t, "ana watching a team that does not exist", watchErr(e.report, ana, &dwellv1.WatchEventsRequest{Team: "teams/west"}), codes.PermissionDenied)
	wantCode(t, "a rep", watchErr(e.report, e.caller(bg, acme, dwell.RoleRep, "r1"), &dwellv1.WatchEventsRequest{}), codes.PermissionDenied)
	wantCode(t, "a partner, unknown team", watchErr(e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Team: "teams/west"}), codes.NotFound)
}

// TestWatchBadRequests checks that unusable cursors and filters are
// INVALID_ARGUMENT with the field named.
func TestWatchBadRequests(t *testing.T) {
	e := newEnv(t)
	bg := context.Background()
	ev := dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: e.clock, DetectTime: e.clock}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{ev, ev}); err != nil {
		t.Fatal(err)
	}
	partner := e.caller(bg, acme, dwell.RolePartner, "crm")
	good := server.EventCursor(acme, 1)
	for _, c := range []struct {
		name  string
		req   *dwellv1.WatchEventsRequest
		field string
	}{
		{"garbage cursor", &dwellv1.WatchEventsRequest{Cursor: "not a cursor!"}, "cursor"},
		{"truncated cursor", &dwellv1.WatchEventsRequest{Cursor: good[:len(good)-3]}, "cursor"},
		{"another tenant's cursor", &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(globex, 1)}, "cursor"},
		{"a cursor ahead of the log", &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, 3)}, "cursor"},
		{"a page token as cursor", &dwellv1.WatchEventsRequest{Cursor: "AQAAAAAAAAAAcjE"}, "cursor"},
		{"unspecified type", &dwellv1.WatchEventsRequest{Types: []dwellv1.EventType{dwellv1.EventType_EVENT_TYPE_VISIT_ENDED, 0}}, "types[1]"},
		{"unknown type", &dwellv1.WatchEventsRequest{Types: []dwellv1.EventType{99}}, "types[0]"},
		{"bad team name", &dwellv1.WatchEventsRequest{Team: "north"}, "team"},
	} {
		wantViolation(t, c.name, watchErr(e.report, partner, c.req), c.field)
	}
	// The good cursor works: event 2 follows.
	st, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: good})
	if got := recvAtLeast(t, st, 1); len(got) != 1 || cursorSeq(t, got[0].GetCursor()) != 2 {
		t.Fatalf("resuming after event 1 received %v", got)
	}
}

// TestWatchServerClose checks that closing the server ends its streams
// with UNAVAILABLE, so a graceful stop does not wait for them.
func TestWatchServerClose(t *testing.T) {
	e := newEnv(t)
	st, _ := openWatch(t, e.report, e.caller(context.Background(), acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	e.srv.Close()
	_, err := st.Recv()
	wantReason(t, "a stream of a closing server", err, codes.Unavailable, dwell.ReasonServerShuttingDown)
}

// TestRepSilent checks the silence sweeper: one REP_SILENT per silence,
// counted in the rep's working time.
func TestRepSilent(t *testing.T) {
	// The days are told to the day listener by hand (PublishDay); the
	// refresher would derive others from the fixes stored.
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep, c.RefreshWorkers = -1, -1 })
	bg := context.Background()
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north", "ana")
	// Working hours 08:00-18:00 Jakarta (01:00-11:00 UTC), Monday to
	// Friday.
	var hours []*dwellv1.WorkingHours
	for d := 1; d <= 5; d++ {
		hours = append(hours, &dwellv1.WorkingHours{DayOfWeek: int32(d), StartMinute: 8 * 60, EndMinute: 18 * 60})
	}
	if _, err := e.dirc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "r1", Rep: &dwellv1.Rep{DisplayName: "R1", TimeZone: "Asia/Jakarta", Team: "teams/north", WorkingHours: hours}}); err != nil {
		t.Fatal(err)
	}
	st, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RoleManager, "ana"), &dwellv1.WatchEventsRequest{})

	// Thursday 2026-11-19, last fix 10:00 Jakarta (03:00 UTC).
	date := dwell.Date{Year: 2026, Month: 11, Day: 19}
	last := time.Date(2026, 11, 19, 3, 0, 0, 0, time.UTC)
	day := &timeline.Day{Start: last.Add(-time.Hour), End: last,
		Segments: []timeline.Segment{{Kind: timeline.KindTravel, Start: last.Add(-time.Hour), End: last}}}
	if err := server.PublishDay(bg, e.srv, acme, "r1", date, nil, day, last); err != nil {
		t.Fatal(err)
	}
	sweep := func(now time.Time) {
		t.Helper()
		if err := server.SweepSilence(bg, e.srv, now); err != nil {
			t.Fatal(err)
		}
	}
	// The sweeper tells a silence only of a rep with a stored fix (not
	// one whose history was erased): the days' last fixes are stored.
	storeFix := func(at time.Time) {
		t.Helper()
		f := dwell.Fix{ID: fmt.Sprintf("f-%d", at.Unix()), Time: at, Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10, SpeedMPS: -1, BearingDeg: -1}
		if _, err := e.st.AppendFixes(bg, acme, "r1", []dwell.Fix{f}); err != nil {
			t.Fatal(err)
		}
	}
	storeFix(last)
	sweep(last.Add(29 * time.Minute))
	sweep(last.Add(30 * time.Minute))
	sweep(last.Add(45 * time.Minute))
	// Later fix, 17:50 Jakarta: silent 30 working minutes later is the
	// next morning, 08:20.
	late := time.Date(2026, 11, 19, 10, 50, 0, 0, time.UTC)
	day2 := &timeline.Day{Start: last, End: late, Segments: []timeline.Segment{{Kind: timeline.KindTravel, Start: last, End: late}}}
	storeFix(late)
	if err := server.PublishDay(bg, e.srv, acme, "r1", date, day, day2, late); err != nil {
		t.Fatal(err)
	}
	sweep(late.Add(12 * time.Hour))                       // 05:50 Friday, before work
	sweep(time.Date(2026, 11, 20, 1, 20, 0, 0, time.UTC)) // 08:20 Friday
	sweep(time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))

	want := []fact{
		{typ: dwellv1.EventType_EVENT_TYPE_REP_SILENT, rep: "reps/r1", at: last.Add(30 * time.Minute)},
		{typ: dwellv1.EventType_EVENT_TYPE_REP_SILENT, rep: "reps/r1", at: time.Date(2026, 11, 20, 1, 20, 0, 0, time.UTC)},
	}
	wantSameFacts(t, "silences", facts(recvAtLeast(t, st, 2)), want)
	// A restart forgets the tracker, not the log: the same silence is not
	// published twice.
	if err := server.PublishDay(bg, e.srv, acme, "r1", date, nil, day2, late); err != nil {
		t.Fatal(err)
	}
	sweep(time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))
	head, err := e.st.LastEventSeq(bg, acme)
	if err != nil || head != 2 {
		t.Fatalf("the log holds %d events (%v), want the 2 silences", head, err)
	}
}

// repSilences returns the REP_SILENT events in acme's log.
func (e *env) repSilences() []dwell.Event {
	e.t.Helper()
	evs, err := e.st.ListEvents(context.Background(), acme, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []dwell.Event
	for _, ev := range evs {
		if ev.Type == dwell.EventRepSilent {
			out = append(out, ev)
		}
	}
	return out
}

// TestSilenceSeededAfterRestart checks that a restart does not leave a
// rep who fell silent before it unwatched: the tracker is seeded with each
// rep's last stored fix.
func TestSilenceSeededAfterRestart(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	admin := e.admin(acme)
	e.mustCreateRep(admin, "r1", "")
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "r1"), &dwellv1.UploadPingsRequest{Fixes: fixes("r1", 20, e.now())}); err != nil {
		t.Fatal(err)
	}
	last := e.now().Add(-30 * time.Second) // the last of the fixes
	if err := e.srv.Refresh(bg); err != nil {
		t.Fatal(err)
	}
	e.restart()
	silentAt := last.Add(dwell.DefaultSilenceMin)
	sweep := func() {
		t.Helper()
		if err := server.SweepSilence(bg, e.srv, silentAt.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	sweep()
	if got := e.repSilences(); len(got) != 0 {
		t.Fatalf("an unseeded tracker found %d silences", len(got))
	}
	n, err := server.SeedSilence(bg, e.srv, e.now())
	if err != nil || n != 1 {
		t.Fatalf("SeedSilence = %d, %v; want the one rep", n, err)
	}
	sweep()
	got := e.repSilences()
	if len(got) != 1 || got[0].Rep != "r1" || !got[0].Time.Equal(silentAt) {
		t.Fatalf("silences after seeding: %+v; want r1 silent at %v", got, silentAt)
	}
	// Seeding again after another restart publishes nothing new.
	e.restart()
	if _, err := server.SeedSilence(bg, e.srv, e.now()); err != nil {
		t.Fatal(err)
	}
	sweep()
	if got := e.repSilences(); len(got) != 1 {
		t.Fatalf("after a second restart the log holds %d silences, want 1", len(got))
	}
}

// TestWatchConcurrent runs publishers and watchers at once (for -race):
// every watcher receives every event in log order.
func TestWatchConcurrent(t *testing.T) {
	e := newWatchEnv(t, false, nil)
	bg := context.Background()
	ctx := e.caller(bg, acme, dwell.RolePartner, "crm")
	const watchers, publishers, each = 4, 4, 50
	streams := make([]dwellv1.ReportService_WatchEventsClient, watchers)
	for i := range streams {
		streams[i], _ = openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{})
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				at := e.clock.Add(time.Duration(i) * time.Second)
				ev := dwell.Event{Type: dwell.EventVisitStarted, Rep: dwell.RepID(fmt.Sprintf("r%d", p)), Time: at, DetectTime: at, Key: fmt.Sprintf("%d/%d", p, i)}
				if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{ev}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	got := make([][]*dwellv1.Event, watchers)
	for i, st := range streams {
		wg.Go(func() { got[i] = recvAtLeast(t, st, publishers*each) })
	}
	wg.Wait()
	logged, err := e.st.ListEvents(bg, acme, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]fact, len(logged))
	for i, ev := range logged {
		want[i] = factOfDomain(ev)
	}
	for i := range got {
		wantSameFacts(t, fmt.Sprintf("watcher %d", i), facts(got[i]), want)
	}
}

// TestSilenceSetting checks the tenant's silence threshold over the API:
// set alone, refused out of range, kept by a full update that does not
// know it.
func TestSilenceSetting(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	got, err := e.dirc.GetSettings(admin, &dwellv1.GetSettingsRequest{})
	if err != nil || got.GetSettings().GetSilenceMinSeconds() != 1800 {
		t.Fatalf("default silence threshold %v (%v), want 1800 s", got.GetSettings().GetSilenceMinSeconds(), err)
	}
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	up, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{SilenceMinSeconds: 3600}, UpdateMask: mask("silence_min_seconds")})
	if err != nil || up.GetSettings().GetSilenceMinSeconds() != 3600 || up.GetSettings().GetIdleMinSeconds() != 300 {
		t.Fatalf("UpdateSettings(silence 3600) = %v, %v", up, err)
	}
	for _, bad := range []int32{0, 60, 86401} {
		_, err := e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: &dwellv1.Settings{SilenceMinSeconds: bad}, UpdateMask: mask("silence_min_seconds")})
		wantViolation(t, fmt.Sprintf("silence %d s", bad), err, "settings.silence_min_seconds")
	}
	full := &dwellv1.Settings{RetentionDays: 90, VisitMinSeconds: 240, IdleMinSeconds: 600}
	up, err = e.dirc.UpdateSettings(admin, &dwellv1.UpdateSettingsRequest{Settings: full})
	if err != nil || up.GetSettings().GetSilenceMinSeconds() != 3600 || up.GetSettings().GetIdleMinSeconds() != 600 {
		t.Fatalf("a full update without silence_min_seconds = %v, %v; want it kept at 3600", up, err)
	}
	st, err := e.st.GetSettings(context.Background(), acme)
	if err != nil || st.SilenceMin != time.Hour {
		t.Fatalf("stored silence threshold %v (%v), want 1h", st.SilenceMin, err)
	}
}

// TestWatchSlowConsumer checks that a client slower than the events, and
// bursts larger than the stream's queue, do not cut a stream whose client
// keeps reading: the log holds what the client has not taken yet.
func TestWatchSlowConsumer(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.WatchBuffer, c.WatchStall = 16, 300*time.Millisecond })
	ctx := e.caller(context.Background(), acme, dwell.RolePartner, "crm")
	st, _ := openWatch(t, e.report, ctx, &dwellv1.WatchEventsRequest{})
	var want []fact
	for i := range 4 {
		evs := make([]dwell.Event, 500)
		for j := range evs {
			at := e.clock.Add(time.Duration(i*500+j) * time.Second)
			evs[j] = dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: at, DetectTime: at, Key: fmt.Sprint(i*500 + j)}
			want = append(want, factOfDomain(evs[j]))
		}
		if _, err := server.PublishEvents(context.Background(), e.srv, acme, evs); err != nil {
			t.Fatal(err)
		}
	}
	var got []*dwellv1.Event
	for len(got) < len(want) {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("the slow stream ended after %d of %d events: %v", len(got), len(want), err)
		}
		got = append(got, resp.GetEvents()...)
		time.Sleep(2 * time.Millisecond) // a slow client
	}
	wantSameFacts(t, "a slow client", facts(got), want)
}
