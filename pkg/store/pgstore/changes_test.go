package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// feedSeq numbers the tenants and application names of the feed tests:
// the notification channel is per database, so each test keeps to a
// tenant no other test writes.
var feedSeq atomic.Int64

// watcher runs WatchChanges on st for the test and hands over what it
// reports; only the changes of tenant (and resyncs) are kept.
type watcher struct {
	t      *testing.T
	tenant dwell.TenantID
	ch     chan store.Change
	done   chan error
	cancel context.CancelFunc
}

func watch(t *testing.T, st *pgstore.Store, tenant dwell.TenantID) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{t: t, tenant: tenant, ch: make(chan store.Change, 1000), done: make(chan error, 1), cancel: cancel}
	go func() {
		w.done <- st.WatchChanges(ctx, func(c store.Change) {
			if c.Resync || c.Tenant == tenant {
				w.ch <- c
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

// next returns the next change, failing the test if none comes within
// 30 seconds.
func (w *watcher) next(what string) store.Change {
	w.t.Helper()
	select {
	case c := <-w.ch:
		return c
	case err := <-w.done:
		w.t.Fatalf("%s: WatchChanges returned %v", what, err)
	case <-time.After(30 * time.Second):
		w.t.Fatalf("%s: no change reported within 30 s", what)
	}
	return store.Change{}
}

// want reads the next changes and compares them with want, in order.
func (w *watcher) want(what string, want ...store.Change) {
	w.t.Helper()
	got := make([]store.Change, len(want))
	for i := range got {
		got[i] = w.next(what)
	}
	if !reflect.DeepEqual(got, want) {
		w.t.Fatalf("%s: changes = %+v, want %+v", what, got, want)
	}
}

func feedClient(id string) dwell.Client {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	return dwell.Client{ID: dwell.ClientID(id), DisplayName: "Client " + id, Kind: dwell.ClientKindProspect,
		Fence:      dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: -6.2088, Lng: 106.8456}, RadiusM: 75}},
		CreateTime: t0, UpdateTime: t0}
}

func feedEvents(rep string, n int) []dwell.Event {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	evs := make([]dwell.Event, n)
	for i := range evs {
		at := t0.Add(time.Duration(i) * time.Minute)
		evs[i] = dwell.Event{Type: dwell.EventIdleStarted, Rep: dwell.RepID(rep), Time: at, DetectTime: at, Key: fmt.Sprintf("%s/%d", rep, i)}
	}
	return evs
}

// openPG opens a store on dsn, closed when t ends.
func openPG(t testing.TB, dsn string) *pgstore.Store {
	t.Helper()
	return openWith(t, dsn, pgstore.Options{})
}

// openWith opens a store on dsn with opts, closed (and its Close checked)
// when t ends.
func openWith(t testing.TB, dsn string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// TestWatchChanges writes every kind of record the feed follows, from a
// store other than the watching one, and wants one change per written
// client or account, one per settings write, one per append or removal
// of events whatever their number, in commit order, after the first
// resync; and nothing for a write that failed.
func TestWatchChanges(t *testing.T) {
	dsn := pgtest.DSN(t)
	watching, writer := openPG(t, dsn), openPG(t, dsn)
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
	w := watch(t, watching, tn)
	w.want("start", store.Change{Resync: true})
	ctx := context.Background()
	clients := func(ids ...string) []store.Change {
		var cs []store.Change
		for _, id := range ids {
			cs = append(cs, store.Change{Tenant: tn, Kind: store.ChangeClients, ID: id})
		}
		return cs
	}

	if err := writer.CreateClient(ctx, tn, feedClient("c1")); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	w.want("create", clients("c1")...)
	if err := writer.CreateClient(ctx, tn, feedClient("c1")); dwell.KindOf(err) != dwell.AlreadyExists {
		t.Fatalf("CreateClient again: %v, want AlreadyExists", err)
	}
	c := feedClient("c1")
	c.DisplayName = "Renamed"
	if err := writer.UpdateClient(ctx, tn, c); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	w.want("update after a refused create", clients("c1")...)
	if err := writer.PutClients(ctx, tn, []dwell.Client{feedClient("c2"), feedClient("c3/x")}); err != nil {
		t.Fatalf("PutClients: %v", err)
	}
	w.want("import", clients("c2", "c3/x")...)
	if err := writer.DeleteClient(ctx, tn, "c2"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	w.want("delete", clients("c2")...)

	a := dwell.PartnerAccount{ID: "crm", DisplayName: "CRM", Scopes: []dwell.Scope{dwell.ScopeDirectoryRead}, RequestID: "r1"}
	if _, _, err := writer.CreatePartner(ctx, tn, a); err != nil {
		t.Fatalf("CreatePartner: %v", err)
	}
	a.Disabled = true
	if err := writer.UpdatePartner(ctx, tn, a); err != nil {
		t.Fatalf("UpdatePartner: %v", err)
	}
	w.want("partner", store.Change{Tenant: tn, Kind: store.ChangePartners, ID: "crm"}, store.Change{Tenant: tn, Kind: store.ChangePartners, ID: "crm"})
	set := dwell.DefaultSettings()
	set.PartnerAccountsRequired = true
	if err := writer.PutSettings(ctx, tn, set); err != nil {
		t.Fatalf("PutSettings: %v", err)
	}
	w.want("settings", store.Change{Tenant: tn, Kind: store.ChangeSettings})

	// Team writes carry no id: one change per write, whatever it touched.
	team := dwell.Team{ID: "north", DisplayName: "North", Managers: []string{"ana"}}
	if err := writer.CreateTeam(ctx, tn, team); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	team.Managers = []string{"bob"}
	if err := writer.UpdateTeam(ctx, tn, team); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	if err := writer.DeleteTeam(ctx, tn, "north"); err != nil {
		t.Fatalf("DeleteTeam: %v", err)
	}
	teams := store.Change{Tenant: tn, Kind: store.ChangeTeams}
	w.want("teams", teams, teams, teams)

	if _, err := writer.AppendEvents(ctx, tn, feedEvents("r1", 5)); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	if _, err := writer.AppendEvents(ctx, tn, feedEvents("r1", 5)); err != nil {
		t.Fatalf("AppendEvents again: %v", err)
	}
	if _, err := writer.AppendEvents(ctx, tn, feedEvents("r2", 2)); err != nil {
		t.Fatalf("AppendEvents r2: %v", err)
	}
	// The repeat stored nothing: no change for it.
	w.want("append", store.Change{Tenant: tn, Kind: store.ChangeEvents}, store.Change{Tenant: tn, Kind: store.ChangeEvents})
	if n, _, err := writer.PruneEvents(ctx, tn, time.Date(2026, 11, 20, 10, 3, 0, 0, time.UTC), 100); err != nil || n != 3 {
		t.Fatalf("PruneEvents = %d, %v; want 3 deleted", n, err)
	}
	w.want("prune", store.Change{Tenant: tn, Kind: store.ChangeEventsRemoved})
	// An erasure says which rep, events or not.
	if _, err := writer.EraseRepHistory(ctx, tn, "r2"); err != nil {
		t.Fatalf("EraseRepHistory r2: %v", err)
	}
	if _, err := writer.EraseRepHistory(ctx, tn, "r3"); err != nil {
		t.Fatalf("EraseRepHistory r3 (no events): %v", err)
	}
	w.want("erase", store.Change{Tenant: tn, Kind: store.ChangeEventsRemoved},
		store.Change{Tenant: tn, Kind: store.ChangeRepErased, ID: "r2"},
		store.Change{Tenant: tn, Kind: store.ChangeRepErased, ID: "r3"})

	// The watching store's own writes are reported too.
	if err := watching.DeleteClient(ctx, tn, "c1"); err != nil {
		t.Fatalf("DeleteClient on the watching store: %v", err)
	}
	w.want("own write", clients("c1")...)
	select {
	case c := <-w.ch:
		t.Errorf("unexpected change %+v", c)
	default:
	}
}

// TestWatchChangesReconnects kills the listener's connection
// (pg_terminate_backend of its backend): WatchChanges reports a resync
// once it listens again, and the changes after it.
func TestWatchChangesReconnects(t *testing.T) {
	app := fmt.Sprintf("dwell-feed-test-%d", feedSeq.Add(1))
	dsn := pgtest.DSN(t) + " application_name=" + app
	st := openPG(t, dsn)
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
	w := watch(t, st, tn)
	w.want("start", store.Change{Resync: true})
	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		if n := terminateListeners(t, dsn, app); n != 1 {
			t.Fatalf("round %d: terminated %d listeners, want 1", round, n)
		}
		w.want(fmt.Sprintf("round %d: reconnect", round), store.Change{Resync: true})
		id := fmt.Sprintf("c%d", round)
		if err := st.CreateClient(ctx, tn, feedClient(id)); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		w.want(fmt.Sprintf("round %d: create", round), store.Change{Tenant: tn, Kind: store.ChangeClients, ID: id})
	}
}

// terminateListeners ends the backends of application app that listen
// for changes (their last statement is the LISTEN) and returns how many
// it ended.
func terminateListeners(t *testing.T, dsn, app string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(context.Background(), `
		SELECT count(*) FROM (
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND query = 'LISTEN dwell_changes' AND pid <> pg_backend_pid()) k`, app).Scan(&n)
	if err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	return n
}

// TestWatchChangesEnds: WatchChanges returns the context's error once its
// context ends, and dwell.Unavailable on a closed store.
func TestWatchChangesEnds(t *testing.T) {
	st := openPG(t, pgtest.DSN(t))
	ctx, cancel := context.WithCancel(context.Background())
	resynced := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- st.WatchChanges(ctx, func(c store.Change) {
			if c.Resync {
				select {
				case resynced <- struct{}{}:
				default:
				}
			}
		})
	}()
	<-resynced
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WatchChanges after cancel = %v, want context.Canceled", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := st.WatchChanges(context.Background(), func(store.Change) { t.Error("fn called on a closed store") })
	if dwell.KindOf(err) != dwell.Unavailable {
		t.Errorf("WatchChanges on a closed store = %v, want Unavailable", err)
	}
}

// BenchmarkWatchChanges measures the change feed at the store: a
// CreateClient and the wait until a second store's WatchChanges reports
// it (notified; notify-ns/op is the wait after the call returned), beside
// the same CreateClient alone (write).
func BenchmarkWatchChanges(b *testing.B) {
	dsn := pgtest.DSN(b)
	writer, watching := openPG(b, dsn), openPG(b, dsn)
	tn := dwell.TenantID(fmt.Sprintf("feed-%d", feedSeq.Add(1)))
	got := make(chan string, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- watching.WatchChanges(ctx, func(c store.Change) {
			if c.Resync || c.Tenant == tn {
				got <- c.ID
			}
		})
	}()
	b.Cleanup(func() { cancel(); <-done })
	<-got // the first resync
	n := 0
	create := func() string {
		n++
		id := fmt.Sprintf("c%d", n)
		if err := writer.CreateClient(context.Background(), tn, feedClient(id)); err != nil {
			b.Fatalf("CreateClient: %v", err)
		}
		return id
	}
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			create()
		}
	})
	for len(got) > 0 {
		<-got
	}
	b.Run("notified", func(b *testing.B) {
		var wait time.Duration
		for b.Loop() {
			id := create()
			start := time.Now()
			for <-got != id {
			}
			wait += time.Since(start)
		}
		b.ReportMetric(float64(wait.Nanoseconds())/float64(b.N), "notify-ns/op")
	})
}
