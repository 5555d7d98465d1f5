package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/kpi"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// leaderOf waits until one server of p holds the background lease and
// returns it first and the other second.
func leaderOf(t testing.TB, p *pair) (leader, other *env) {
	t.Helper()
	eventually(t, "a leader", func() (bool, string) {
		switch {
		case server.Leading(p.a.srv):
			leader, other = p.a, p.b
		case server.Leading(p.b.srv):
			leader, other = p.b, p.a
		default:
			return false, "neither server leads"
		}
		return true, ""
	})
	return leader, other
}

// storedVisits returns ida's visits at client id on 20 November as e's
// store's summary of that day has them, and whether the summary is
// current (derived from the day's latest data version).
func storedVisits(t testing.TB, e *env, id string) (int, bool) {
	t.Helper()
	sum, det, err := e.st.GetDaySummary(context.Background(), acme, "ida", dwell.Date{Year: 2026, Month: 11, Day: 20})
	if err != nil {
		t.Fatalf("GetDaySummary: %v", err)
	}
	if sum.Summary == nil {
		return 0, false
	}
	d, err := kpi.DecodeDay(sum.Summary, det)
	if err != nil {
		t.Fatalf("DecodeDay: %v", err)
	}
	n := 0
	for _, v := range d.Visits {
		if string(v.Client) == id {
			n++
		}
	}
	return n, sum.Current()
}

// clientPair starts two servers on one store, with ida's day (stayDay)
// at client toko and its summary stored, and returns them, the leader and
// the other server, and move, which moves toko's site through the other
// server to latitude lat (feedLng).
func clientPair(t *testing.T) (p *pair, leader, other *env, move func(lat float64)) {
	t.Helper()
	p = newPair(t, nil)
	leader, other = leaderOf(t, p)
	admin := other.admin(acme)
	createIda(t, other)
	other.mustCreateClient(admin, "toko", feedLat, feedLng, 60)
	stayDay(t, other)
	wantVisits(t, leader, "the client in the leader's index", "toko", 1)
	if err := leader.srv.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	move = func(lat float64) {
		t.Helper()
		c := circleClient("toko", lat, feedLng, 60)
		if _, err := other.dirc.UpdateClient(admin, &dwellv1.UpdateClientRequest{Client: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"geofence"}}}); err != nil {
			t.Fatalf("UpdateClient: %v", err)
		}
	}
	return p, leader, other, move
}

// TestFeedSummaryAfterClientMove: a client moved through one server marks
// the tenant's days for derivation; the leader's refresher, running at
// once, derives them with a geofence index that holds the move (it waits
// for its change feed to catch up with the write), so the summary it
// stores as current agrees with the day. A summary derived from the old
// index would be stored as current and kept, by every report that reads
// summaries, until the day's data next changes (for a finished day:
// never). Each round moves the client away or back and runs the
// leader's pass right after the move returns, before the leader could
// have applied it without waiting.
func TestFeedSummaryAfterClientMove(t *testing.T) {
	_, l, o, move := clientPair(t)
	ctx := context.Background()
	const rounds = 60
	wrong := 0
	for i := range rounds {
		want, lat := 1, feedLat // back at the site: one visit
		if i%2 == 0 {
			want, lat = 0, feedLat-0.05 // 5.5 km away: none
		}
		move(lat)
		if err := l.srv.Refresh(ctx); err != nil {
			t.Fatalf("round %d: Refresh on the leader: %v", i, err)
		}
		if got, current := storedVisits(t, l, "toko"); current && got != want {
			wrong++
			t.Logf("round %d: the stored summary is current with %d visit(s) at toko; the day has %d", i, got, want)
		}
		// The live day agrees once the leader applied the move, whatever
		// the stored summary says.
		wantVisits(t, l, "the live day on the leader", "toko", want)
	}
	if wrong > 0 {
		t.Errorf("%d of %d rounds stored a current summary that disagrees with the day", wrong, rounds)
	}
	// A report that reads summaries (ListVisits) agrees on either server.
	for _, e := range []*env{l, o} {
		lv, err := e.report.ListVisits(e.admin(acme), &dwellv1.ListVisitsRequest{Rep: "reps/ida", Client: "clients/toko",
			StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 20)})
		if err != nil {
			t.Fatalf("ListVisits: %v", err)
		}
		if got, want := len(lv.GetVisits()), (rounds-1)%2; got != want {
			t.Errorf("ListVisits after the last move = %d visits at toko, want %d", got, want)
		}
	}
}

// TestFeedSummaryAfterMissedChange: the leader's change feed loses its
// connection and a client is moved through the other server meanwhile, so
// the leader misses the move's notification; the leader's refresher,
// running at once, derives the days the move marked only once the
// reconnected feed's resync rebuilt the geofence index, so the summary it
// stores as current has the move. Deriving before the resync would store
// the old index's answer as current, for good. Each round moves the
// client away or back.
func TestFeedSummaryAfterMissedChange(t *testing.T) {
	p, l, _, move := clientPair(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	// The application_name of the leader's connections.
	_, app, _ := strings.Cut(l.pgDSN, "application_name=")
	const rounds = 6
	wrong := 0
	for i := range rounds {
		want, lat := 1, feedLat // back at the site: one visit
		if i%2 == 0 {
			want, lat = 0, feedLat-0.05 // 5.5 km away: none
		}
		var killed int
		// pg_terminate_backend waits (up to 5 s) for the listener to
		// end; the leader reconnects 50 ms after it notices.
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
			WHERE application_name = $1 AND query = 'LISTEN dwell_changes') k`, app).Scan(&killed); err != nil {
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		if killed != 1 {
			t.Fatalf("round %d: terminated %d listeners of the leader (%s), want 1", i, killed, app)
		}
		move(lat)
		if err := l.srv.Refresh(ctx); err != nil {
			t.Fatalf("round %d: Refresh on the leader: %v", i, err)
		}
		if got, current := storedVisits(t, l, "toko"); !current || got != want {
			wrong++
			t.Logf("round %d: the stored summary has %d visit(s) at toko (current: %v); the day has %d", i, got, current, want)
		}
		wantVisits(t, l, "the live day on the leader after its resync", "toko", want)
	}
	if wrong > 0 {
		t.Errorf("%d of %d rounds left a summary that is not current or disagrees with the day", wrong, rounds)
	}
}

// BenchmarkFeedSync measures what the refresher's wait for its change feed
// costs per page of marks (sync: a token through the feed, with no change
// before it), beside one read of the store on the same server's pool in
// the same run (read: LastEventSeq, a one-row select).
func BenchmarkFeedSync(b *testing.B) {
	p := newPair(b, func(c *server.Config) { c.RefreshWorkers = -1 })
	ctx := context.Background()
	b.Run("sync", func(b *testing.B) {
		for b.Loop() {
			if err := server.FeedSync(ctx, p.b.srv); err != nil {
				b.Fatalf("FeedSync: %v", err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.b.st.LastEventSeq(ctx, acme); err != nil {
				b.Fatalf("LastEventSeq: %v", err)
			}
		}
	})
}
