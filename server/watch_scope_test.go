package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests check that a WatchEvents stream does not outlive what let
// it open (the caller's teams, its token) and does not skip events the
// retention sweeper deleted under it (watch.go, "Scope" and "Cursors").

// wantEnd receives from a stream that must end with code before it sends
// anything more, and returns its error.
func wantEnd(t testing.TB, what string, st dwellv1.ReportService_WatchEventsClient, code codes.Code) error {
	t.Helper()
	resp, err := st.Recv()
	if err == nil {
		t.Fatalf("%s: sent %v, want the stream to end with %v", what, facts(resp.GetEvents()), code)
	}
	if got := status.Code(err); got != code {
		t.Fatalf("%s: ended with %v, want %v", what, err, code)
	}
	return err
}

// TestWatchManagerLosesTeam: ana manages north and west and watches twice,
// unfiltered and filtered to north. Once an admin has taken north from
// her, no event of north reaches her: the filtered stream ends
// PERMISSION_DENIED, the unfiltered one goes on with west only; as her
// unary calls on north are refused.
func TestWatchManagerLosesTeam(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.RefreshWorkers = -1 })
	seedWatchTeams(e, acme)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "west", "ana")
	e.mustCreateRep(admin, "r5", "west")
	bg := context.Background()
	anaCtx := e.caller(bg, acme, dwell.RoleManager, "ana")
	all, _ := openWatch(t, e.report, anaCtx, &dwellv1.WatchEventsRequest{})
	north, _ := openWatch(t, e.report, anaCtx, &dwellv1.WatchEventsRequest{Team: "teams/north"})

	visit := func(rep dwell.RepID, team dwell.TeamID, key string) dwell.Event {
		return dwell.Event{Type: dwell.EventVisitStarted, Rep: rep, Team: team, Client: "c1", Time: e.now(), DetectTime: e.now(), Key: key}
	}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{visit("r1", "north", "before")}); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]dwellv1.ReportService_WatchEventsClient{"unfiltered": all, "north": north} {
		if got := recvAtLeast(t, st, 1); len(got) != 1 || got[0].GetRep() != "reps/r1" {
			t.Fatalf("%s stream, before the change: %v, want north's event", name, facts(got))
		}
	}

	if _, err := e.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{
		Team:       &dwellv1.Team{Name: "teams/north", Managers: []string{"bob"}},
		UpdateMask: fieldMask("managers"),
	}); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	wantCode(t, "ana's GetRep of north's r1", func() error {
		_, err := e.report.GetRepDay(e.as(acme, dwell.RoleManager, "ana"), &dwellv1.GetRepDayRequest{Rep: "reps/r1", Date: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}})
		return err
	}(), codes.PermissionDenied)

	var after []dwell.Event
	for i := range 3 {
		after = append(after, visit("r1", "north", fmt.Sprint("after-", i)))
	}
	after = append(after, visit("r5", "west", "west-1"))
	if _, err := server.PublishEvents(bg, e.srv, acme, after); err != nil {
		t.Fatal(err)
	}
	wantEnd(t, "the stream filtered to north, taken from ana", north, codes.PermissionDenied)
	got := recvAtLeast(t, all, 1)
	if len(got) != 1 || got[0].GetRep() != "reps/r5" {
		t.Fatalf("the unfiltered stream sent %v after north was taken from ana, want west's event alone", facts(got))
	}

	// A deleted team is lost the same way.
	west, _ := openWatch(t, e.report, anaCtx, &dwellv1.WatchEventsRequest{Team: "teams/west"})
	if _, err := e.dirc.DeleteRep(admin, &dwellv1.DeleteRepRequest{Name: "reps/r5"}); err != nil {
		t.Fatalf("DeleteRep: %v", err)
	}
	if _, err := e.dirc.DeleteTeam(admin, &dwellv1.DeleteTeamRequest{Name: "teams/west"}); err != nil {
		t.Fatalf("DeleteTeam: %v", err)
	}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{visit("r5", "west", "west-2")}); err != nil {
		t.Fatal(err)
	}
	wantEnd(t, "the stream filtered to west, deleted", west, codes.PermissionDenied)
}

// TestWatchTokenExpires: a stream opened with a token ends UNAUTHENTICATED
// once the token expires on the server's clock (Config.Now), with "token
// expired" as a call with it is refused, and no event after: at the next
// event when the clock jumped past the expiry, and by its timer when the
// stream is quiet.
func TestWatchTokenExpires(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.RefreshWorkers = -1 })
	seedWatchTeams(e, acme)
	bg := context.Background()
	partner := e.caller(bg, acme, dwell.RolePartner, "crm") // an hour's token
	st, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{})
	log := newProgressLog(acme)
	log.publish(t, e.srv, teamEvent("north", "n1", e.now()))
	if got := recvAtLeast(t, st, 1); len(got) != 1 {
		t.Fatalf("before the expiry: %v, want one event", facts(got))
	}

	e.advance(2 * time.Hour)
	wantCode(t, "a call with the expired token", func() error {
		_, err := e.dirc.GetSettings(partner, &dwellv1.GetSettingsRequest{})
		return err
	}(), codes.Unauthenticated)
	log.publish(t, e.srv, teamEvent("north", "n2", e.now()))
	err := wantEnd(t, "the stream after its token expired", st, codes.Unauthenticated)
	wantReason(t, "the stream after its token expired", err, codes.Unauthenticated, dwell.ReasonTokenExpired)
	if msg := status.Convert(err).Message(); msg != "token expired" {
		t.Fatalf("the stream ended with %q, want %q", msg, "token expired")
	}

	// A quiet stream: its token, minted now, is refused an hour and 30 s
	// (auth.Leeway) on; the stream opens 200 ms before that (on the
	// server's clock, which then moves past it) and ends by itself when its
	// timer fires, with no event to wake it. Had the clock not moved (it
	// stepped back, TestWatchTokenClockStepsBack), the timer would be set
	// again.
	quiet := e.caller(bg, acme, dwell.RolePartner, "crm")
	e.advance(time.Hour + 30*time.Second - 200*time.Millisecond)
	st, _ = openWatch(t, e.report, quiet, &dwellv1.WatchEventsRequest{})
	e.advance(time.Second)
	wantEnd(t, "the quiet stream at its token's expiry", st, codes.Unauthenticated)
}

// TestWatchPruneWhileLagging: a stream that lags behind the log (its
// client does not read) while the retention sweeper deletes the events
// after its position ends FAILED_PRECONDITION, as a resume from its
// position would, instead of skipping them: its client receives a run of
// consecutive events from its cursor and then the error, never an event
// after the deleted ones.
func TestWatchPruneWhileLagging(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) {
		c.RefreshWorkers, c.WatchBuffer, c.WatchStall = -1, 4, time.Minute
	})
	seedWatchTeams(e, acme)
	e.setRetention(2)
	// The retention sweep prunes the logs of the tenants with fixes.
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "r4"), &dwellv1.UploadPingsRequest{Fixes: fixes("r4", 1, e.now())}); err != nil {
		t.Fatal(err)
	}
	log := newProgressLog(acme)
	const old = 6000
	for b := 0; b < old; b += 500 {
		var evs []dwell.Event
		for i := b; i < b+500; i++ {
			evs = append(evs, teamEvent("north", fmt.Sprint("old-", i), e.now()))
		}
		log.publish(t, e.srv, evs...)
	}
	e.advance(72 * time.Hour)
	for i := range 10 {
		log.publish(t, e.srv, teamEvent("north", fmt.Sprint("new-", i), e.now()))
	}
	// A client with fixed flow-control windows (64 KiB), so that gRPC
	// stops taking the server's messages, about 100 bytes an event, long
	// before the stream has read the old events (TestWatchStuckConsumer):
	// the stream lags behind until the client reads.
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	st, _ := openWatch(t, dwellv1.NewReportServiceClient(conn), e.caller(context.Background(), acme, dwell.RolePartner, "crm"),
		&dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, 1)})
	if _, n, err := server.SweepRetention(t.Context(), e.srv, e.now()); err != nil || n != old {
		t.Fatalf("SweepRetention = %d events, %v; want the %d older than 2 days", n, err, old)
	}
	next := uint64(2) // the event the stream must send next
	for {
		resp, err := st.Recv()
		if err != nil {
			wantReason(t, fmt.Sprintf("the stream after events 2 to %d, overtaken by the sweep", next-1), err, codes.FailedPrecondition, dwell.ReasonStreamPruned)
			break
		}
		for _, ev := range resp.GetEvents() {
			if s := log.seq(t, ev.GetCursor()); s != next {
				t.Fatalf("the stream sent event %d after %d: events %d to %d were skipped", s, next-1, next, s-1)
			}
			next++
		}
	}
	t.Logf("events 2 to %d came before the error", next-1)
	if next > old {
		t.Fatalf("the stream sent all %d old events after its cursor; the sweep was meant to overtake it", old-1)
	}
}

// TestWatchManagerLosesTeamSharedStore is TestWatchManagerLosesTeam with
// ana's streams on one server and the admin's team write and the events
// on another sharing the PostgreSQL store: the write reaches her streams
// through the change feed (its teams notification, committed before the
// events), before the events do.
func TestWatchManagerLosesTeamSharedStore(t *testing.T) {
	p := newPair(t, nil)
	seedWatchTeams(p.a, acme)
	admin := p.a.admin(acme)
	p.a.mustCreateTeam(admin, "west", "ana")
	p.a.mustCreateRep(admin, "r5", "west")
	bg := context.Background()
	anaCtx := p.b.caller(bg, acme, dwell.RoleManager, "ana")
	all, _ := openWatch(t, p.b.report, anaCtx, &dwellv1.WatchEventsRequest{})
	north, _ := openWatch(t, p.b.report, anaCtx, &dwellv1.WatchEventsRequest{Team: "teams/north"})
	visit := func(rep dwell.RepID, team dwell.TeamID, key string) dwell.Event {
		return dwell.Event{Type: dwell.EventVisitStarted, Rep: rep, Team: team, Client: "c1", Time: p.a.now(), DetectTime: p.a.now(), Key: key}
	}
	if _, err := server.PublishEvents(bg, p.a.srv, acme, []dwell.Event{visit("r1", "north", "before")}); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]dwellv1.ReportService_WatchEventsClient{"unfiltered": all, "north": north} {
		if got := recvAtLeast(t, st, 1); len(got) != 1 || got[0].GetRep() != "reps/r1" {
			t.Fatalf("%s stream, before the change: %v, want north's event", name, facts(got))
		}
	}
	if _, err := p.a.dirc.UpdateTeam(admin, &dwellv1.UpdateTeamRequest{
		Team:       &dwellv1.Team{Name: "teams/north", Managers: []string{"bob"}},
		UpdateMask: fieldMask("managers"),
	}); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	if _, err := server.PublishEvents(bg, p.a.srv, acme, []dwell.Event{
		visit("r1", "north", "after-1"), visit("r1", "north", "after-2"), visit("r5", "west", "west-1"),
	}); err != nil {
		t.Fatal(err)
	}
	wantEnd(t, "the stream filtered to north, taken from ana on the other server", north, codes.PermissionDenied)
	if got := recvAtLeast(t, all, 1); len(got) != 1 || got[0].GetRep() != "reps/r5" {
		t.Fatalf("the unfiltered stream sent %v after north was taken from ana, want west's event alone", facts(got))
	}
}
