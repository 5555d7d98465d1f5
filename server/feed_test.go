package server_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests run two servers on ONE PostgreSQL schema, as two dwelld
// processes sharing a database: each has its own store (connection pool
// and change-feed listener), gRPC listener and client connection, and
// they share the tenants' keys. They run on PostgreSQL whatever storeEnv
// says: the change feed is PostgreSQL's.

// pair is two servers sharing one store.
type pair struct {
	a, b *env
	dsn  string // the shared schema
	appB string // the application_name of b's connections
}

var pairSeq atomic.Int64

// newPair starts the two servers; configureB adjusts b's configuration.
// It returns once b's change feed listens.
func newPair(t testing.TB, configureB func(*server.Config)) *pair {
	t.Helper()
	t.Setenv(storeEnv, "postgres")
	dir := t.TempDir()
	p := &pair{dsn: pgtest.DSN(t)}
	n := pairSeq.Add(1)
	p.appB = fmt.Sprintf("dwell-b-%d-%d", os.Getpid(), n)
	clock := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	p.a = &env{t: t, dir: dir, clock: clock, pgDSN: fmt.Sprintf("%s application_name=dwell-a-%d-%d", p.dsn, os.Getpid(), n)}
	p.a.start()
	t.Cleanup(p.a.stop)
	p.b = &env{t: t, dir: dir, clock: clock, configure: configureB, pgDSN: p.dsn + " application_name=" + p.appB}
	p.b.start()
	t.Cleanup(p.b.stop)
	for _, e := range []*env{p.a, p.b} {
		select {
		case <-server.FeedReady(e.srv):
		case <-time.After(30 * time.Second):
			t.Fatal("a server's change feed did not listen within 30 s")
		}
	}
	return p
}

// eventually polls cond every 20 ms until it holds, failing t after 30 s
// with cond's last account of what it saw.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s; last saw %s", what, saw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// feedSite is where the rep of these tests stays from 07:00 to 08:00 UTC
// on 20 November 2026.
const feedLat, feedLng = -6.2, 106.8

// stayDay uploads, through e, rep ida's fixes of that day: arriving from
// 3 km west, an hour at the site, leaving east. ida must exist.
func stayDay(t testing.TB, e *env) {
	t.Helper()
	stayDayOf(t, e, "ida")
}

// stayDayOf is stayDay for rep.
func stayDayOf(t testing.TB, e *env, rep string) {
	t.Helper()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	var fs []*dwellv1.Fix
	add := func(t time.Time, lat, lng float64) {
		fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f-%d", t.Unix()), DeviceTime: timestamppb.New(t), Position: &dwellv1.LatLng{Lat: lat, Lng: lng}, AccuracyMeters: 10})
	}
	for t := at(6, 50); t.Before(at(7, 0)); t = t.Add(30 * time.Second) {
		add(t, feedLat, feedLng-0.027*float64(at(7, 0).Sub(t))/float64(10*time.Minute))
	}
	for t := at(7, 0); !t.After(at(8, 0)); t = t.Add(30 * time.Second) {
		add(t, feedLat, feedLng)
	}
	for t := at(8, 0).Add(30 * time.Second); !t.After(at(8, 10)); t = t.Add(30 * time.Second) {
		add(t, feedLat, feedLng+0.027*float64(t.Sub(at(8, 0)))/float64(10*time.Minute))
	}
	if _, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, rep), &dwellv1.UploadPingsRequest{Fixes: fs}); err != nil {
		t.Fatalf("UploadPings: %v", err)
	}
}

func createIda(t testing.TB, e *env) {
	t.Helper()
	if _, err := e.dirc.CreateRep(e.admin(acme), &dwellv1.CreateRepRequest{RepId: "ida", Rep: &dwellv1.Rep{DisplayName: "Ida", TimeZone: "UTC"}}); err != nil {
		t.Fatalf("CreateRep: %v", err)
	}
}

// visitsAt derives ida's day on e (GetRepDay derives it live, with e's
// geofence index) and returns its visits at client id, and the day's
// visits for a failure message.
func visitsAt(t testing.TB, e *env, id string) (int, string) {
	t.Helper()
	rd, err := e.report.GetRepDay(e.admin(acme), &dwellv1.GetRepDayRequest{Rep: "reps/ida", Date: pbDate(2026, 11, 20)})
	if err != nil {
		t.Fatalf("GetRepDay: %v", err)
	}
	n := 0
	var all []string
	for _, v := range rd.GetVisits() {
		all = append(all, v.GetClient())
		if v.GetClient() == "clients/"+id {
			n++
		}
	}
	return n, fmt.Sprintf("visits at %v", all)
}

// wantVisits waits until ida's day on e has n visits at client id.
func wantVisits(t testing.TB, e *env, what, id string, n int) {
	t.Helper()
	eventually(t, what, func() (bool, string) {
		got, saw := visitsAt(t, e, id)
		return got == n, saw
	})
}

// TestFeedClients: a client created, moved and deleted through server A
// changes the timeline server B derives, through B's geofence index (the
// index is what finds visits from fixes; a check-in's verification reads
// the client from the store and never depended on it).
func TestFeedClients(t *testing.T) {
	p := newPair(t, nil)
	adminA := p.a.admin(acme)
	createIda(t, p.a)
	stayDay(t, p.b)
	if n, saw := visitsAt(t, p.b, "toko"); n != 0 {
		t.Fatalf("before any client: %s", saw)
	}
	if server.FenceCount(p.b.srv, acme) != 0 {
		t.Fatalf("B's index holds %d fences after deriving a day, want it built and empty", server.FenceCount(p.b.srv, acme))
	}
	p.a.mustCreateClient(adminA, "toko", feedLat, feedLng, 60)
	wantVisits(t, p.b, "created on A", "toko", 1)

	move := func(lat, lng float64) {
		t.Helper()
		c := circleClient("toko", lat, lng, 60)
		if _, err := p.a.dirc.UpdateClient(adminA, &dwellv1.UpdateClientRequest{Client: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"geofence"}}}); err != nil {
			t.Fatalf("UpdateClient: %v", err)
		}
	}
	move(feedLat-0.05, feedLng)
	wantVisits(t, p.b, "moved away on A", "toko", 0)
	move(feedLat, feedLng)
	wantVisits(t, p.b, "moved back on A", "toko", 1)
	if _, err := p.a.dirc.DeleteClient(adminA, &dwellv1.DeleteClientRequest{Name: "clients/toko"}); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	wantVisits(t, p.b, "deleted on A", "toko", 0)
	if n := server.FenceCount(p.b.srv, acme); n != 0 {
		t.Errorf("B's index holds %d fences after the delete, want 0", n)
	}

	// An import of 3,000 clients on A (many changes at once: B builds its
	// index again rather than read each) reaches B's index whole.
	stream, err := p.a.dirc.ImportClients(adminA)
	if err != nil {
		t.Fatalf("ImportClients: %v", err)
	}
	const n = 3000
	var msg dwellv1.ImportClientsRequest
	for i := range n {
		msg.Clients = append(msg.Clients, circleClient(fmt.Sprintf("imp-%04d", i), -6.0+float64(i%100)*0.001, 106.0+float64(i/100)*0.001, 60))
		if len(msg.Clients) == 500 {
			if err := stream.Send(&msg); err != nil {
				t.Fatalf("ImportClients Send: %v", err)
			}
			msg.Clients = nil
		}
	}
	if resp, err := stream.CloseAndRecv(); err != nil || resp.GetStored() != n {
		t.Fatalf("ImportClients = %v, %v; want %d stored", resp, err, n)
	}
	eventually(t, "import on A", func() (bool, string) {
		got := server.FenceCount(p.b.srv, acme)
		return got == n, fmt.Sprintf("%d fences in B's index", got)
	})
}

// TestFeedPartners: a partner scope taken away, an account disabled and
// accounts required, each through server A, refuse the partner's calls on
// server B, which had loaded the grants before; an account deleted on A
// stays refused on B after A stops requiring accounts.
func TestFeedPartners(t *testing.T) {
	p := newPair(t, nil)
	adminA := p.a.admin(acme)
	scopes := []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ, dwellv1.PartnerScope_PARTNER_SCOPE_REPORTS_READ}
	if _, err := p.a.dirc.CreatePartner(adminA, &dwellv1.CreatePartnerRequest{PartnerId: "crm", RequestId: "crm-1",
		Partner: &dwellv1.Partner{DisplayName: "CRM", Scopes: scopes}}); err != nil {
		t.Fatalf("CreatePartner: %v", err)
	}
	listClients := func(subject string) error {
		_, err := p.b.dirc.ListClients(p.b.as(acme, dwell.RolePartner, subject), &dwellv1.ListClientsRequest{})
		return err
	}
	listTeams := func(subject string) error {
		_, err := p.b.dirc.ListTeams(p.b.as(acme, dwell.RolePartner, subject), &dwellv1.ListTeamsRequest{})
		return err
	}
	refused := func(call func(string) error, subject string) func() (bool, string) {
		return func() (bool, string) {
			err := call(subject)
			return status.Code(err) == codes.PermissionDenied, fmt.Sprintf("%v", err)
		}
	}
	wantAllowed(t, "crm on B before", listClients("crm"))
	wantAllowed(t, "an unregistered partner on B before", listClients("other"))

	if _, err := p.a.dirc.UpdatePartner(adminA, &dwellv1.UpdatePartnerRequest{
		Partner:    &dwellv1.Partner{Name: "partners/crm", Scopes: scopes[1:]},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"scopes"}}}); err != nil {
		t.Fatalf("UpdatePartner: %v", err)
	}
	eventually(t, "directory read taken away on A", refused(listClients, "crm"))

	wantAllowed(t, "crm on B, another directory call, before it is disabled", listTeams("other"))
	if _, err := p.a.dirc.UpdatePartner(adminA, &dwellv1.UpdatePartnerRequest{
		Partner:    &dwellv1.Partner{Name: "partners/crm", Disabled: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"disabled"}}}); err != nil {
		t.Fatalf("UpdatePartner: %v", err)
	}
	eventually(t, "disabled on A", func() (bool, string) {
		_, err := p.b.report.GetRepDay(p.b.as(acme, dwell.RolePartner, "crm"), &dwellv1.GetRepDayRequest{Rep: "reps/r1", Date: pbDate(2026, 11, 19)})
		return status.Code(err) == codes.PermissionDenied, fmt.Sprintf("%v", err)
	})

	if _, err := p.a.dirc.UpdateSettings(adminA, &dwellv1.UpdateSettingsRequest{
		Settings:   &dwellv1.Settings{PartnerAccountsRequired: true},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"partner_accounts_required"}}}); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	eventually(t, "accounts required on A", refused(listTeams, "other"))

	// Deleted on A, then accounts no longer required: once B sees the
	// setting it has read the deletion too (grants are read again whole,
	// from the store), and crm's token stays refused there.
	crm := p.b.as(acme, dwell.RolePartner, "crm")
	if _, err := p.a.dirc.DeletePartner(adminA, &dwellv1.DeletePartnerRequest{Name: "partners/crm"}); err != nil {
		t.Fatalf("DeletePartner: %v", err)
	}
	if _, err := p.a.dirc.UpdateSettings(adminA, &dwellv1.UpdateSettingsRequest{
		Settings:   &dwellv1.Settings{PartnerAccountsRequired: false},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"partner_accounts_required"}}}); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	eventually(t, "accounts no longer required on A", func() (bool, string) {
		err := listTeams("other")
		return status.Code(err) != codes.PermissionDenied, fmt.Sprintf("%v", err)
	})
	_, err := p.b.dirc.ListClients(crm, &dwellv1.ListClientsRequest{})
	wantRefused(t, "crm on B after its deletion on A", err, "partners/crm was deleted")
}

// TestFeedWatchEvents: a WatchEvents stream on server B receives the
// visit events that server A's refresher derived from the fixes it took
// in, although B derives nothing (no refresher) and its own tail of the
// log, from an event B published, says nothing of them.
func TestFeedWatchEvents(t *testing.T) {
	p := newPair(t, func(c *server.Config) { c.RefreshWorkers = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, _ := openWatch(t, p.b.report, p.b.caller(ctx, acme, dwell.RoleAdmin, "admin"), &dwellv1.WatchEventsRequest{})
	at := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	if _, err := server.PublishEvents(ctx, p.b.srv, acme, []dwell.Event{{Type: dwell.EventIdleStarted, Rep: "ida", Time: at, DetectTime: at, Key: "feed-local"}}); err != nil {
		t.Fatalf("PublishEvents on B: %v", err)
	}
	if got := recvAtLeast(t, st, 1); len(got) != 1 || got[0].GetType() != dwellv1.EventType_EVENT_TYPE_IDLE_STARTED {
		t.Fatalf("B's own event: %v", got)
	}

	adminA := p.a.admin(acme)
	createIda(t, p.a)
	p.a.mustCreateClient(adminA, "toko", feedLat, feedLng, 60)
	stayDay(t, p.a)
	if err := p.a.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh on A: %v", err)
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("Recv on B, waiting for A's VISIT_STARTED: %v", err)
		}
		for _, e := range resp.GetEvents() {
			if e.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED && e.GetClient() == "clients/toko" {
				return
			}
		}
	}
}

// TestFeedEventsRemoved: events erased through server A (EraseRepHistory
// deletes the rep's events) are no longer served by server B, whose tail
// held them: a stream on B from the log's start gets the next event, not
// the erased ones.
func TestFeedEventsRemoved(t *testing.T) {
	p := newPair(t, func(c *server.Config) { c.RefreshWorkers = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	at := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	ev := func(rep string, i int) dwell.Event {
		return dwell.Event{Type: dwell.EventIdleStarted, Rep: dwell.RepID(rep), Time: at, DetectTime: at, Key: fmt.Sprintf("%s-%d", rep, i)}
	}
	if _, err := server.PublishEvents(ctx, p.b.srv, acme, []dwell.Event{ev("ida", 1), ev("ida", 2), ev("ida", 3)}); err != nil {
		t.Fatalf("PublishEvents on B: %v", err)
	}
	if _, err := p.a.dirc.EraseRepHistory(p.a.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/ida"}); err != nil {
		t.Fatalf("EraseRepHistory on A: %v", err)
	}
	if _, err := server.PublishEvents(ctx, p.a.srv, acme, []dwell.Event{ev("bob", 1)}); err != nil {
		t.Fatalf("PublishEvents on A: %v", err)
	}
	eventually(t, "B serves the log without the erased events", func() (bool, string) {
		sctx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		st, err := p.b.report.WatchEvents(p.b.caller(sctx, acme, dwell.RoleAdmin, "admin"), &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, 0)})
		if err != nil {
			t.Fatalf("WatchEvents: %v", err)
		}
		resp, err := st.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		first := resp.GetEvents()[0]
		return first.GetRep() == "reps/bob", "first event of " + first.GetRep()
	})
}

// TestFeedResync: clients written while server B could not hear of it
// (by a store whose session fires no triggers: the changes are never
// notified) reach B's geofence index once B's listener connection is
// killed (pg_terminate_backend) and B, reconnected, resyncs: one created
// at the rep's stop, one moved there from far away, one deleted. The
// resync brings B's index in step (the same index, not a new build), and
// puts and deletes only what it missed.
func TestFeedResync(t *testing.T) {
	p := newPair(t, nil)
	createIda(t, p.a)
	stayDay(t, p.a)
	if n, saw := visitsAt(t, p.b, "hidden"); n != 0 || server.FenceCount(p.b.srv, acme) != 0 {
		t.Fatalf("before any client: %s, B's index holds %d fences", saw, server.FenceCount(p.b.srv, acme))
	}
	ctx := context.Background()
	now := p.a.now()
	at := dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: feedLat, Lng: feedLng}, RadiusM: 60}}
	client := func(id string, g dwell.Geofence) dwell.Client {
		return dwell.Client{ID: dwell.ClientID(id), DisplayName: id, Kind: dwell.ClientKindProspect, Fence: g, CreateTime: now, UpdateTime: now}
	}
	// Notified: B hears of these and builds its index with them.
	adminA := p.a.admin(acme)
	p.a.mustCreateClient(adminA, "doomed", feedLat, feedLng, 60) // at the stop, deleted unheard below
	p.a.mustCreateClient(adminA, "mover", feedLat+0.5, feedLng, 60)
	for i := range 18 {
		p.a.mustCreateClient(adminA, fmt.Sprint("c", i), feedLat+0.5, feedLng+0.01*float64(i), 60)
	}
	wantVisits(t, p.b, "before the unheard changes", "doomed", 1)
	ix, err := server.FenceIndex(ctx, p.b.srv, acme)
	if err != nil {
		t.Fatalf("B's index: %v", err)
	}
	eventually(t, "B's index holds the 20 clients", func() (bool, string) {
		return ix.Len() == 20, fmt.Sprint(ix.Len(), " fences")
	})

	silent, err := pgstore.Open(ctx, p.dsn+" session_replication_role=replica", pgstore.Options{})
	if err != nil {
		t.Fatalf("Open a store without triggers: %v", err)
	}
	defer silent.Close()
	if err := silent.CreateClient(ctx, acme, client("hidden", at)); err != nil {
		t.Fatalf("CreateClient without triggers: %v", err)
	}
	mover, err := silent.GetClient(ctx, acme, "mover")
	if err != nil {
		t.Fatal(err)
	}
	mover.Fence = at
	if err := silent.UpdateClient(ctx, acme, mover); err != nil {
		t.Fatalf("UpdateClient without triggers: %v", err)
	}
	if err := silent.DeleteClient(ctx, acme, "doomed"); err != nil {
		t.Fatalf("DeleteClient without triggers: %v", err)
	}
	// Not notified: B cannot know yet (the day on A, whose index is
	// built on first use now, would show it).
	if n, saw := visitsAt(t, p.b, "hidden"); n != 0 {
		t.Fatalf("B saw a client that was never notified (%s): the test's premise is broken", saw)
	}
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND query = 'LISTEN dwell_changes') k`, p.appB).Scan(&killed); err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listeners of B, want 1", killed)
	}
	wantVisits(t, p.b, "after B's resync", "hidden", 1)
	var ids []string
	for _, m := range ix.Query(dwell.LatLng{Lat: feedLat, Lng: feedLng}, 10, nil) {
		ids = append(ids, m.ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"hidden", "mover"}) {
		t.Errorf("after the resync B's index has %v at the stop, want [hidden mover] (created and moved there unheard; doomed deleted)", ids)
	}
	if got, err := server.FenceIndex(ctx, p.b.srv, acme); err != nil || got != ix || got.Len() != 20 {
		t.Errorf("after the resync B's index is %p with %d fences, want the same index %p (brought in step, not built anew) with 20", got, got.Len(), ix)
	}
}

// BenchmarkFeedPropagation measures how long a client created through
// server A takes to reach server B's geofence index (remote: the create
// call, then polling B's index every 20 µs until it holds the fence;
// prop-ns/op is the wait after the call returned), beside the same call
// with its local visibility on A (local: in A's index when the call
// returns).
func BenchmarkFeedPropagation(b *testing.B) {
	p := newPair(b, func(c *server.Config) { c.RefreshWorkers = -1 })
	ctx := context.Background()
	for _, e := range []*env{p.a, p.b} {
		if err := e.srv.LoadFences(ctx, []dwell.TenantID{acme}); err != nil {
			b.Fatal(err)
		}
	}
	adminA := p.a.caller(ctx, acme, dwell.RoleAdmin, "admin")
	n := 0
	create := func() {
		n++
		id := fmt.Sprintf("c%d", n)
		lat := -6.0 - float64(n%1000)*0.001
		lng := 106.0 + float64(n/1000)*0.001
		if _, err := p.a.dirc.CreateClient(adminA, &dwellv1.CreateClientRequest{ClientId: id, Client: circleClient(id, lat, lng, 50)}); err != nil {
			b.Fatalf("CreateClient: %v", err)
		}
	}
	b.Run("local", func(b *testing.B) {
		for b.Loop() {
			want := server.FenceCount(p.a.srv, acme) + 1
			create()
			if got := server.FenceCount(p.a.srv, acme); got != want {
				b.Fatalf("A's index holds %d fences after the create, want %d", got, want)
			}
		}
	})
	b.Run("remote", func(b *testing.B) {
		var wait time.Duration
		for b.Loop() {
			want := server.FenceCount(p.b.srv, acme) + 1
			create()
			start := time.Now()
			for server.FenceCount(p.b.srv, acme) < want {
				time.Sleep(20 * time.Microsecond)
			}
			wait += time.Since(start)
		}
		b.ReportMetric(float64(wait.Nanoseconds())/float64(b.N), "prop-ns/op")
	})
}
