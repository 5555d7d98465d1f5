package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests check WatchEvents' progress cursors (watch.go, "Progress"):
// a stream whose scope skips events tells its client how far it has read,
// and resuming from there is as good as resuming from its last event.

// progressLog is the log as the test published it: each event's sequence
// number and team.
type progressLog struct {
	mu     sync.Mutex
	tenant dwell.TenantID
	team   map[uint64]dwell.TeamID
}

func newProgressLog(tenant dwell.TenantID) *progressLog {
	return &progressLog{tenant: tenant, team: map[uint64]dwell.TeamID{}}
}

// teamEvent returns an event of team's rep (r1 for north, r3 for south,
// as seedWatchTeams makes them) detected at at, with a key of its own.
func teamEvent(team dwell.TeamID, key string, at time.Time) dwell.Event {
	rep := dwell.RepID("r1")
	if team == "south" {
		rep = "r3"
	}
	return dwell.Event{Type: dwell.EventIdleStarted, Rep: rep, Team: team, Time: at, DetectTime: at, Key: key}
}

// publish publishes evs through srv and notes the numbers they were given.
func (l *progressLog) publish(t testing.TB, srv *server.Server, evs ...dwell.Event) []uint64 {
	t.Helper()
	seqs, err := server.PublishEvents(context.Background(), srv, l.tenant, evs)
	if err != nil {
		t.Errorf("PublishEvents: %v", err)
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range seqs {
		if s == 0 {
			t.Errorf("event %q was not appended", evs[i].Key)
			continue
		}
		l.team[s] = evs[i].Team
	}
	return seqs
}

// seq returns the sequence number a cursor names, failing the test for
// what is not a cursor of the log's tenant.
func (l *progressLog) seq(t testing.TB, cursor string) uint64 {
	t.Helper()
	s, ok := server.CursorSeq(l.tenant, cursor)
	if !ok {
		t.Fatalf("%q is not a cursor of %s", cursor, l.tenant)
	}
	return s
}

// of returns, in log order, the numbers of team's events in (after, upTo].
func (l *progressLog) of(team dwell.TeamID, after, upTo uint64) []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint64
	for s, tm := range l.team {
		if tm == team && s > after && s <= upTo {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// recvOne receives one response and fails the test unless it has either
// events or a progress cursor.
func recvOne(t testing.TB, st dwellv1.ReportService_WatchEventsClient) *dwellv1.WatchEventsResponse {
	t.Helper()
	resp, err := st.Recv()
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	if (len(resp.GetEvents()) == 0) == (resp.GetProgressCursor() == "") {
		t.Fatalf("a response with %d events and progress cursor %q: want one or the other", len(resp.GetEvents()), resp.GetProgressCursor())
	}
	return resp
}

// recvProgress receives responses until a progress cursor comes and
// returns it with the events received before it.
func recvProgress(t testing.TB, st dwellv1.ReportService_WatchEventsClient) (string, []*dwellv1.Event) {
	t.Helper()
	var evs []*dwellv1.Event
	for {
		resp := recvOne(t, st)
		if c := resp.GetProgressCursor(); c != "" {
			return c, evs
		}
		evs = append(evs, resp.GetEvents()...)
	}
}

// TestWatchProgressSurvivesRetention: a stream filtered to team north,
// while only south has events, gets progress cursors naming the last
// event it read; once retention has deleted the events after north's last
// event, resuming from that event's cursor is FAILED_PRECONDITION as
// before, but resuming from a progress cursor is not, and the next event
// of north comes, alone. A manager's stream (her teams only) gets them
// too.
func TestWatchProgressSurvivesRetention(t *testing.T) {
	// No refresher: the test's events are the log's only ones.
	e := newWatchEnv(t, true, func(c *server.Config) { c.WatchProgress, c.RefreshWorkers = 50*time.Millisecond, -1 })
	seedWatchTeams(e, acme)
	e.setRetention(2)
	// The retention sweep prunes the logs of the tenants with fixes.
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "r4"), &dwellv1.UploadPingsRequest{Fixes: fixes("r4", 1, e.now())}); err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	// The streams outlive the three days the clock moves on: their
	// tokens are valid for a week.
	partner := e.callerFor(bg, acme, dwell.RolePartner, "crm", 7*24*time.Hour)
	log := newProgressLog(acme)
	north, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/north", SendProgress: true})
	ana, _ := openWatch(t, e.report, e.callerFor(bg, acme, dwell.RoleManager, "ana", 7*24*time.Hour), &dwellv1.WatchEventsRequest{SendProgress: true})

	old := e.now()
	log.publish(t, e.srv, teamEvent("north", "n1", old))
	got := recvAtLeast(t, north, 1)
	if len(got) != 1 || got[0].GetRep() != "reps/r1" {
		t.Fatalf("north's first event: %v", facts(got))
	}
	lastEvent := got[0].GetCursor()
	var south []dwell.Event
	for i := range 5 {
		south = append(south, teamEvent("south", fmt.Sprint("s", i), old))
	}
	seqs := log.publish(t, e.srv, south...)
	var progressOld string
	for name, st := range map[string]dwellv1.ReportService_WatchEventsClient{"north": north, "ana's": ana} {
		p, evs := recvProgress(t, st)
		if name == "ana's" && (len(evs) != 1 || evs[0].GetCursor() != lastEvent) {
			t.Fatalf("ana's stream: events %v before its progress, want north's one", facts(evs))
		}
		if name == "north" && len(evs) != 0 {
			t.Fatalf("north's stream: events %v before its progress, want none", facts(evs))
		}
		if want := seqs[len(seqs)-1]; log.seq(t, p) != want {
			t.Fatalf("%s progress cursor names event %d, want %d, the last one read", name, log.seq(t, p), want)
		}
		if name == "north" {
			progressOld = p
		}
	}

	// Three days on, south goes on; north stays quiet. A second spell, a
	// second progress cursor.
	e.advance(3 * 24 * time.Hour)
	partner = e.caller(bg, acme, dwell.RolePartner, "crm")
	seqs = log.publish(t, e.srv, teamEvent("south", "s-late-1", e.now()), teamEvent("south", "s-late-2", e.now()))
	progressNew, evs := recvProgress(t, north)
	if len(evs) != 0 || log.seq(t, progressNew) != seqs[1] {
		t.Fatalf("north's second progress: %v after events %v, want event %d's cursor alone", progressNew, facts(evs), seqs[1])
	}

	// Retention deletes north's event and the old south ones.
	if _, n, err := server.SweepRetention(t.Context(), e.srv, e.now()); err != nil || n != 6 {
		t.Fatalf("SweepRetention = %d events, %v; want the 6 older than 2 days", n, err)
	}
	wantCode(t, "resuming from north's last event", watchErr(e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/north", Cursor: lastEvent, SendProgress: true}), codes.FailedPrecondition)
	fromOld, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/north", Cursor: progressOld, SendProgress: true})
	fromNew, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/north", Cursor: progressNew, SendProgress: true})
	n2 := log.publish(t, e.srv, teamEvent("north", "n2", e.now()))
	for name, st := range map[string]dwellv1.ReportService_WatchEventsClient{"the old progress cursor": fromOld, "the new one": fromNew} {
		resp := recvOne(t, st)
		if len(resp.GetEvents()) != 1 || log.seq(t, resp.GetEvents()[0].GetCursor()) != n2[0] {
			t.Fatalf("resumed from %s: first response %v, want north's new event alone", name, resp)
		}
	}
}

// TestWatchProgressUnfiltered: a stream that sees every event gets no
// progress response, however quiet the spells between its events, and
// neither does a filtered stream that did not ask for them
// (send_progress); a filtered stream that asked, on the same log in the
// same spells, does (else this test would prove nothing).
func TestWatchProgressUnfiltered(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.WatchProgress = time.Millisecond })
	seedWatchTeams(e, acme)
	bg := context.Background()
	log := newProgressLog(acme)
	all, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RoleAdmin, "admin"), &dwellv1.WatchEventsRequest{SendProgress: true})
	north, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Team: "teams/north", SendProgress: true})
	unasked, _ := openWatch(t, e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Team: "teams/north"})
	const rounds = 40
	total := 0
	var last uint64
	for i := range rounds {
		evs := []dwell.Event{teamEvent("south", fmt.Sprint("s", i), e.now()), teamEvent("south", fmt.Sprint("t", i), e.now())}
		if i%4 == 0 {
			evs = append(evs, teamEvent("north", fmt.Sprint("n", i), e.now()))
		}
		seqs := log.publish(t, e.srv, evs...)
		last = seqs[len(seqs)-1]
		total += len(evs)
		time.Sleep(5 * time.Millisecond)
	}
	for got := 0; got < total; {
		resp := recvOne(t, all)
		if resp.GetProgressCursor() != "" {
			t.Fatalf("the unfiltered stream got a progress cursor after %d of %d events", got, total)
		}
		got += len(resp.GetEvents())
	}
	// The filtered stream ends, once quiet, with a progress cursor at the
	// log's last event, whatever it got before.
	progress := 0
	for {
		resp := recvOne(t, north)
		if c := resp.GetProgressCursor(); c != "" {
			progress++
			if log.seq(t, c) == last {
				break
			}
		}
	}
	// The stream that did not ask got north's events only, up to one
	// published last.
	end := log.publish(t, e.srv, teamEvent("north", "end", e.now()))[0]
	for done := false; !done; {
		resp := recvOne(t, unasked)
		if len(resp.GetEvents()) == 0 {
			t.Fatalf("a stream without send_progress got %v", resp)
		}
		for _, ev := range resp.GetEvents() {
			done = done || log.seq(t, ev.GetCursor()) == end
		}
	}
	t.Logf("%d events in %d rounds; the north stream got %d progress cursors, the unfiltered one and the one that did not ask none", total, rounds, progress)
}

// TestWatchProgressExactlyOnce publishes north and south events in
// batches, with pauses around the progress interval, while a client
// watching north resumes, each time it gets a progress cursor, half the
// time from it (and else keeps its stream). The union of what it received
// is north's events, each once, in log order; and no progress cursor
// came before an event of north at or before it.
func TestWatchProgressExactlyOnce(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.WatchProgress = 10 * time.Millisecond })
	seedWatchTeams(e, acme)
	runProgressExactlyOnce(t, []*env{e})
}

// TestWatchProgressSharedStore is TestWatchProgressExactlyOnce on two
// servers sharing one PostgreSQL store, both publishing, the stream on
// one and resuming on either: an event appended by the other server that
// the stream's server has not yet heard of through its change feed is
// never passed by a progress cursor.
func TestWatchProgressSharedStore(t *testing.T) {
	short := func(c *server.Config) { c.WatchProgress = 10 * time.Millisecond }
	p := newPair(t, short)
	p.a.configure = short
	p.a.restart()
	select {
	case <-server.FeedReady(p.a.srv):
	case <-time.After(30 * time.Second):
		t.Fatal("server A's change feed did not listen within 30 s of its restart")
	}
	seedWatchTeams(p.a, acme)
	runProgressExactlyOnce(t, []*env{p.b, p.a})
}

// runProgressExactlyOnce runs TestWatchProgressExactlyOnce's check, with
// events published through each of envs in turn and the stream opened on
// envs[0] first, then on each in turn.
func runProgressExactlyOnce(t *testing.T, envs []*env) {
	bg := context.Background()
	log := newProgressLog(acme)
	ctx, cancel := context.WithTimeout(bg, 2*time.Minute)
	defer cancel()
	// A resume ends the stream it replaces, as a client does: the server
	// holds at most 16 streams of one caller (Config.WatchStreamsPerCaller).
	endLast := func() {}
	open := func(i int, cursor string) dwellv1.ReportService_WatchEventsClient {
		endLast()
		e := envs[i%len(envs)]
		st, cancel := openWatch(t, e.report, e.caller(ctx, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{Team: "teams/north", Cursor: cursor, SendProgress: true})
		endLast = cancel
		return st
	}
	st := open(0, server.EventCursor(acme, 0))

	// The publisher: batches of 1 to 6 events, a third of them north's,
	// then a pause of up to three progress intervals; last, a marker:
	// north's event of rep r2, the only one.
	const batches = 150
	done, stop := make(chan struct{}), make(chan struct{})
	defer func() {
		close(stop)
		<-done
	}()
	var marker uint64
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(7, 9))
		at := envs[0].now()
		for i := range batches {
			var evs []dwell.Event
			for j := range 1 + rng.IntN(6) {
				team := dwell.TeamID("south")
				if rng.IntN(3) == 0 {
					team = "north"
				}
				evs = append(evs, teamEvent(team, fmt.Sprintf("%d/%d", i, j), at))
			}
			log.publish(t, envs[i%len(envs)].srv, evs...)
			select {
			case <-time.After(time.Duration(rng.IntN(30)) * time.Millisecond):
			case <-stop:
				return
			}
		}
		m := teamEvent("north", "marker", at)
		m.Rep = "r2"
		if seqs := log.publish(t, envs[len(envs)-1].srv, m); len(seqs) == 1 {
			marker = seqs[0]
		}
	}()

	// The client. position is its cursor: the last event's or progress
	// cursor received.
	var got []uint64
	var position uint64
	progress, resumes := 0, 0
	rng := rand.New(rand.NewPCG(3, 5))
	for sawMarker := false; !sawMarker; {
		resp := recvOne(t, st)
		for _, ev := range resp.GetEvents() {
			s := log.seq(t, ev.GetCursor())
			if s <= position {
				t.Fatalf("event %d received at position %d: repeated or out of order", s, position)
			}
			got = append(got, s)
			position = s
			sawMarker = sawMarker || ev.GetRep() == "reps/r2"
		}
		c := resp.GetProgressCursor()
		if c == "" {
			continue
		}
		progress++
		p := log.seq(t, c)
		if p <= position {
			t.Fatalf("progress cursor %d at position %d: not beyond what the stream had sent", p, position)
		}
		// Every north event up to p must have come already. (One whose
		// publish has not returned yet is not in log, and is checked
		// by the union below.)
		if missed := slices.DeleteFunc(log.of("north", 0, p), func(s uint64) bool { _, ok := slices.BinarySearch(got, s); return ok }); len(missed) > 0 {
			t.Fatalf("progress cursor %d came before north's events %v", p, missed)
		}
		position = p
		if rng.IntN(2) == 0 {
			resumes++
			st = open(resumes, c)
		}
	}
	// The marker came: the publisher is done, or about to be.
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the publisher did not end within a minute of its marker's delivery")
	}
	if marker == 0 {
		t.Fatal("the marker was not published")
	}
	if want := log.of("north", 0, marker); !slices.Equal(got, want) {
		t.Fatalf("received north's events %v,\nwant %v", got, want)
	}
	if progress < 5 || resumes == 0 {
		t.Fatalf("%d progress cursors, %d resumes from one: too few for the test to say anything", progress, resumes)
	}
	t.Logf("%d north events of %d batches; %d progress cursors, %d resumes from one", len(got), batches, progress, resumes)
}

// TestWatchProgressManagerGainsTeam: ana manages north, and her stream
// (with send_progress) has the teams she managed when it started. She is
// made a manager of south while it runs, and south has an event: instead
// of a progress cursor past it (a resume from which would never give it
// to her), the stream ends UNAVAILABLE at its next progress, and her
// resume from the last cursor she received brings it, under her new
// scope.
func TestWatchProgressManagerGainsTeam(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.WatchProgress, c.RefreshWorkers = 50*time.Millisecond, -1 })
	seedWatchTeams(e, acme)
	bg := context.Background()
	log := newProgressLog(acme)
	anaCtx := e.caller(bg, acme, dwell.RoleManager, "ana")
	st, _ := openWatch(t, e.report, anaCtx, &dwellv1.WatchEventsRequest{SendProgress: true})
	n1 := log.publish(t, e.srv, teamEvent("north", "n1", e.now()))[0]
	if got := recvAtLeast(t, st, 1); len(got) != 1 {
		t.Fatalf("north's first event: got %v", got)
	}
	last := server.EventCursor(acme, n1)
	log.publish(t, e.srv, teamEvent("south", "s1", e.now()))
	if err := e.st.UpdateTeam(bg, acme, dwell.Team{ID: "south", DisplayName: "Team south", Managers: []string{"bob", "ana"}}); err != nil {
		t.Fatal(err)
	}
	sAfter := log.publish(t, e.srv, teamEvent("south", "s-after", e.now()))[0]
	for {
		resp, err := st.Recv()
		if err != nil {
			wantReason(t, "the stream of a manager given a team", err, codes.Unavailable, dwell.ReasonWatchScopeChanged)
			break
		}
		if len(resp.GetEvents()) > 0 {
			t.Fatalf("events of a team ana did not manage at the start: %v", resp.GetEvents())
		}
		// A progress sent before she was given south is right.
		if c := resp.GetProgressCursor(); log.seq(t, c) >= sAfter {
			t.Fatalf("a progress cursor at %d passes south's event %d, given to ana's new team", log.seq(t, c), sAfter)
		} else {
			last = c
		}
	}
	resumed, _ := openWatch(t, e.report, anaCtx, &dwellv1.WatchEventsRequest{Cursor: last, SendProgress: true})
	for {
		resp := recvOne(t, resumed)
		for _, ev := range resp.GetEvents() {
			if log.seq(t, ev.GetCursor()) == sAfter {
				return
			}
		}
	}
}
