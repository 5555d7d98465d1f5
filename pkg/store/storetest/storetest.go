// Package storetest is the conformance suite of store.Store: every
// implementation (bbolt now, a PostgreSQL-wire engine later) runs Run from
// its own tests and must pass it unchanged.
//
// The suite asserts on error kinds (dwell.Is, dwell.KindOf), never on error
// text, and compares times with their instants. It needs nothing but a way
// to open an empty store and, optionally, to reopen one.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Harness tells the suite how to get stores.
type Harness struct {
	// Open returns a new, empty store. It should arrange (t.Cleanup) for the
	// store to be closed at the end of the test; the suite may close it
	// earlier itself, so Close must be safe to call twice.
	Open func(t *testing.T) store.Store
	// Reopen closes s and returns a store on the same underlying data, as a
	// restarted server would see it. Nil skips the persistence tests.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs the conformance suite against the stores h opens.
func Run(t *testing.T, h Harness) {
	t.Run("Clients", func(t *testing.T) { testClients(t, h) })
	t.Run("Reps", func(t *testing.T) { testReps(t, withTeams(h, "north", "south")) })
	t.Run("Teams", func(t *testing.T) { testTeams(t, h) })
	t.Run("DeleteTeamFreesReps", func(t *testing.T) { testDeleteTeamFreesReps(t, h) })
	t.Run("ListClientsPages", func(t *testing.T) { testListClientsPages(t, h) })
	t.Run("ListRepsByTeam", func(t *testing.T) { testListRepsByTeam(t, withTeams(h, "north", "south")) })
	t.Run("ListTeamsByManager", func(t *testing.T) { testListTeamsByManager(t, h) })
	t.Run("BadPage", func(t *testing.T) { testBadPage(t, h) })
	t.Run("PutClients", func(t *testing.T) { testPutClients(t, h) })
	t.Run("ConcurrentCreate", func(t *testing.T) { testConcurrentCreate(t, h) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, h) })
	t.Run("TenantIsolation", func(t *testing.T) { testTenantIsolation(t, withTeams(h, "north")) })
	t.Run("AppendFixesDedup", func(t *testing.T) { testAppendFixesDedup(t, h) })
	t.Run("AppendFixesManyBatches", func(t *testing.T) { testAppendFixesManyBatches(t, h) })
	t.Run("ListFixesRange", func(t *testing.T) { testListFixesRange(t, h) })
	t.Run("LastFixTime", func(t *testing.T) { testLastFixTime(t, h) })
	t.Run("FixFields", func(t *testing.T) { testFixFields(t, h) })
	t.Run("ConcurrentAppendFixes", func(t *testing.T) { testConcurrentAppendFixes(t, h) })
	t.Run("CheckIns", func(t *testing.T) { testCheckIns(t, h) })
	t.Run("CheckOuts", func(t *testing.T) { testCheckOuts(t, h) })
	t.Run("Calls", func(t *testing.T) { testCalls(t, h) })
	t.Run("TrackingChanges", func(t *testing.T) { testTrackingChanges(t, h) })
	t.Run("TrackingStates", func(t *testing.T) { testTrackingStates(t, h) })
	t.Run("ResumeMarksPausedDays", func(t *testing.T) { testResumeMarksPausedDays(t, h) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelledContext(t, h) })
	t.Run("Reopen", func(t *testing.T) { testReopen(t, h) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, h) })
	runEvents(t, h)
	runSales(t, h)
	runPrivacy(t, h)
	runPartners(t, h)
	runPausePrivacy(t, h)
	runRevisions(t, h)
	runRepTeams(t, h)
}

const (
	tenantA = dwell.TenantID("acme")
	tenantB = dwell.TenantID("globex")
)

// t0 is a base instant with nanoseconds, so that implementations that
// truncate times fail.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func ctx() context.Context { return context.Background() }

// wantKind fails t unless err has kind k.
func wantKind(t *testing.T, what string, err error, k dwell.Kind) {
	t.Helper()
	if !dwell.Is(k, err) {
		t.Fatalf("%s: error %v of kind %q, want kind %q", what, err, dwell.KindOf(err), k)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equal reports whether got and want are equal, comparing times by instant
// and treating nil and empty slices alike. It ignores the Revision of
// records, which the store sets: the revision cases (revision.go) check it.
func equal(got, want any) bool {
	return reflect.DeepEqual(normalize(reflect.ValueOf(got)), normalize(reflect.ValueOf(want)))
}

var timeType = reflect.TypeFor[time.Time]()

// normalize returns a copy of v with every time.Time in UTC without a
// monotonic reading and every empty slice nil, as a plain any.
func normalize(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	return norm(v).Interface()
}

func norm(v reflect.Value) reflect.Value {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		return reflect.ValueOf(t.Round(0).UTC())
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(norm(v.Elem()))
		return p
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(norm(v.Index(i)))
		}
		return s
	case reflect.Struct:
		s := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Name == "Revision" && f.Type.Kind() == reflect.Int64 {
				continue
			}
			if s.Field(i).CanSet() {
				s.Field(i).Set(norm(v.Field(i)))
			}
		}
		return s
	}
	return v
}

func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !equal(got, want) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

// Directory fixtures.

func client(id string, kind dwell.ClientKind) dwell.Client {
	return dwell.Client{
		ID:          dwell.ClientID(id),
		DisplayName: "Client " + id,
		Kind:        kind,
		Address:     "Jl. Sudirman 1, Jakarta",
		ExternalID:  "crm-" + id,
		Fence:       dwell.Geofence{Circle: &dwell.Circle{Center: dwell.LatLng{Lat: -6.2088, Lng: 106.8456}, RadiusM: 75}},
		CreateTime:  t0,
		UpdateTime:  t0,
	}
}

func polygonClient(id string) dwell.Client {
	c := client(id, dwell.ClientKindCustomer)
	c.Fence = dwell.Geofence{Polygon: &dwell.Polygon{
		Shell: []dwell.LatLng{{Lat: -6.20, Lng: 106.84}, {Lat: -6.20, Lng: 106.85}, {Lat: -6.21, Lng: 106.85}, {Lat: -6.21, Lng: 106.84}},
		Holes: [][]dwell.LatLng{{{Lat: -6.203, Lng: 106.843}, {Lat: -6.203, Lng: 106.844}, {Lat: -6.204, Lng: 106.844}}},
	}}
	return c
}

func rep(id, team string) dwell.Rep {
	return dwell.Rep{
		ID:          dwell.RepID(id),
		DisplayName: "Rep " + id,
		Email:       id + "@example.com",
		TimeZone:    "Asia/Jakarta",
		Team:        dwell.TeamID(team),
		WorkingHours: []dwell.WorkingHours{
			{Weekday: time.Monday, StartMinute: 8 * 60, EndMinute: 17 * 60},
			{Weekday: time.Saturday, StartMinute: 9 * 60, EndMinute: 12 * 60},
		},
		CreateTime: t0,
		UpdateTime: t0,
	}
}

// withTeams returns h whose stores start with tenantA's teams ids, for
// the cases that write reps in them: a rep's team must exist.
func withTeams(h Harness, ids ...string) Harness {
	open := h.Open
	h.Open = func(t *testing.T) store.Store {
		s := open(t)
		for _, id := range ids {
			must(t, "CreateTeam "+id, s.CreateTeam(ctx(), tenantA, team(id, "ana")))
		}
		return s
	}
	return h
}

func team(id string, managers ...string) dwell.Team {
	return dwell.Team{ID: dwell.TeamID(id), DisplayName: "Team " + id, Managers: managers, CreateTime: t0, UpdateTime: t0}
}

// crud is the CRUD surface of one directory resource, so that clients, reps
// and teams share one test.
type crud[T any] struct {
	make   func(id string) T
	change func(T) T
	create func(s store.Store, tenant dwell.TenantID, v T) error
	get    func(s store.Store, tenant dwell.TenantID, id string) (T, error)
	update func(s store.Store, tenant dwell.TenantID, v T) error
	delete func(s store.Store, tenant dwell.TenantID, id string) error
}

func testCRUD[T any](t *testing.T, h Harness, c crud[T]) {
	s := h.Open(t)
	_, err := c.get(s, tenantA, "x1")
	wantKind(t, "get before create", err, dwell.NotFound)
	v := c.make("x1")
	must(t, "create", c.create(s, tenantA, v))
	got, err := c.get(s, tenantA, "x1")
	must(t, "get", err)
	wantEqual(t, "get", got, v)
	wantKind(t, "create again", c.create(s, tenantA, c.change(v)), dwell.AlreadyExists)
	got, err = c.get(s, tenantA, "x1")
	must(t, "get after failed create", err)
	wantEqual(t, "get after failed create", got, v)

	v2 := c.change(v)
	must(t, "update", c.update(s, tenantA, v2))
	got, err = c.get(s, tenantA, "x1")
	must(t, "get after update", err)
	wantEqual(t, "get after update", got, v2)
	wantKind(t, "update missing", c.update(s, tenantA, c.make("x2")), dwell.NotFound)
	_, err = c.get(s, tenantA, "x2")
	wantKind(t, "get after update of missing", err, dwell.NotFound)

	must(t, "delete", c.delete(s, tenantA, "x1"))
	_, err = c.get(s, tenantA, "x1")
	wantKind(t, "get after delete", err, dwell.NotFound)
	wantKind(t, "delete again", c.delete(s, tenantA, "x1"), dwell.NotFound)
	must(t, "create after delete", c.create(s, tenantA, v))
}

func testClients(t *testing.T, h Harness) {
	testCRUD(t, h, crud[dwell.Client]{
		make: func(id string) dwell.Client { return client(id, dwell.ClientKindProspect) },
		change: func(c dwell.Client) dwell.Client {
			c = polygonClient(string(c.ID))
			c.Kind = dwell.ClientKindCustomer
			c.UpdateTime = t0.Add(time.Hour)
			return c
		},
		create: func(s store.Store, tn dwell.TenantID, c dwell.Client) error { return s.CreateClient(ctx(), tn, c) },
		get: func(s store.Store, tn dwell.TenantID, id string) (dwell.Client, error) {
			return s.GetClient(ctx(), tn, dwell.ClientID(id))
		},
		update: func(s store.Store, tn dwell.TenantID, c dwell.Client) error { return s.UpdateClient(ctx(), tn, c) },
		delete: func(s store.Store, tn dwell.TenantID, id string) error {
			return s.DeleteClient(ctx(), tn, dwell.ClientID(id))
		},
	})
}

func testReps(t *testing.T, h Harness) {
	testCRUD(t, h, crud[dwell.Rep]{
		make: func(id string) dwell.Rep { return rep(id, "north") },
		change: func(r dwell.Rep) dwell.Rep {
			r.Team = "south"
			r.WorkingHours = nil
			r.TimeZone = "Europe/Berlin"
			r.UpdateTime = t0.Add(time.Hour)
			return r
		},
		create: func(s store.Store, tn dwell.TenantID, r dwell.Rep) error { return s.CreateRep(ctx(), tn, r) },
		get: func(s store.Store, tn dwell.TenantID, id string) (dwell.Rep, error) {
			return s.GetRep(ctx(), tn, dwell.RepID(id))
		},
		update: func(s store.Store, tn dwell.TenantID, r dwell.Rep) error { return s.UpdateRep(ctx(), tn, r) },
		delete: func(s store.Store, tn dwell.TenantID, id string) error {
			return s.DeleteRep(ctx(), tn, dwell.RepID(id))
		},
	})
}

func testTeams(t *testing.T, h Harness) {
	testCRUD(t, h, crud[dwell.Team]{
		make: func(id string) dwell.Team { return team(id, "mgr-1", "mgr-2") },
		change: func(tm dwell.Team) dwell.Team {
			tm.Managers = []string{"mgr-3"}
			tm.DisplayName = "Renamed"
			tm.UpdateTime = t0.Add(time.Hour)
			return tm
		},
		create: func(s store.Store, tn dwell.TenantID, tm dwell.Team) error { return s.CreateTeam(ctx(), tn, tm) },
		get: func(s store.Store, tn dwell.TenantID, id string) (dwell.Team, error) {
			return s.GetTeam(ctx(), tn, dwell.TeamID(id))
		},
		update: func(s store.Store, tn dwell.TenantID, tm dwell.Team) error { return s.UpdateTeam(ctx(), tn, tm) },
		delete: func(s store.Store, tn dwell.TenantID, id string) error {
			return s.DeleteTeam(ctx(), tn, dwell.TeamID(id))
		},
	})
}

// testDeleteTeamFreesReps: deleting a team leaves its reps without one,
// so a team created again under its id starts empty; other teams' reps
// and other tenants keep theirs.
func testDeleteTeamFreesReps(t *testing.T, h Harness) {
	s := h.Open(t)
	for _, tn := range []dwell.TenantID{tenantA, tenantB} {
		must(t, "CreateTeam", s.CreateTeam(ctx(), tn, team("north", "ana")))
		must(t, "CreateTeam", s.CreateTeam(ctx(), tn, team("south", "rudi")))
		for _, r := range []dwell.Rep{rep("r1", "north"), rep("r2", "north"), rep("r3", "south")} {
			must(t, "CreateRep", s.CreateRep(ctx(), tn, r))
		}
	}
	must(t, "DeleteTeam", s.DeleteTeam(ctx(), tenantA, "north"))
	for _, c := range []struct {
		tenant dwell.TenantID
		rep    dwell.RepID
		team   dwell.TeamID
	}{{tenantA, "r1", ""}, {tenantA, "r2", ""}, {tenantA, "r3", "south"}, {tenantB, "r1", "north"}} {
		r, err := s.GetRep(ctx(), c.tenant, c.rep)
		must(t, "GetRep", err)
		if r.Team != c.team {
			t.Fatalf("%s's %s after deleting north: team %q, want %q", c.tenant, c.rep, r.Team, c.team)
		}
	}
	must(t, "CreateTeam again", s.CreateTeam(ctx(), tenantA, team("north", "eve")))
	reps, _, err := s.ListReps(ctx(), tenantA, store.RepFilter{Team: "north"}, store.Page{Limit: 10})
	must(t, "ListReps", err)
	if len(reps) != 0 {
		t.Fatalf("the team created again under north has reps %v, want none", reps)
	}
	wantKind(t, "DeleteTeam of a deleted team", s.DeleteTeam(ctx(), tenantA, "west"), dwell.NotFound)
}

// pageAll lists every page with the given limit and returns the ids in
// order, checking that only the last page says no more follow.
func pageAll[T any](t *testing.T, limit int, list func(p store.Page) ([]T, bool, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	p := store.Page{Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		items, more, err := list(p)
		must(t, "list", err)
		if len(items) > limit {
			t.Fatalf("page of %d items, limit %d", len(items), limit)
		}
		if more && len(items) != limit {
			t.Fatalf("page of %d items says more follow, limit %d", len(items), limit)
		}
		for _, it := range items {
			ids = append(ids, id(it))
		}
		if !more {
			return ids
		}
		p.After = ids[len(ids)-1]
	}
}

func testListClientsPages(t *testing.T, h Harness) {
	s := h.Open(t)
	var all, prospects []string
	// Created out of order; listed in id order.
	for _, i := range []int{7, 3, 22, 0, 15, 9, 1, 18, 11, 4, 20, 13, 6, 2, 17, 5, 24, 10, 8, 14, 21, 12, 16, 19, 23} {
		kind := dwell.ClientKindCustomer
		if i%3 == 0 {
			kind = dwell.ClientKindProspect
		}
		must(t, "create", s.CreateClient(ctx(), tenantA, client(fmt.Sprintf("c%02d", i), kind)))
	}
	for i := range 25 {
		all = append(all, fmt.Sprintf("c%02d", i))
		if i%3 == 0 {
			prospects = append(prospects, fmt.Sprintf("c%02d", i))
		}
	}
	id := func(c dwell.Client) string { return string(c.ID) }
	for _, limit := range []int{1, 7, 25, 100} {
		got := pageAll(t, limit, func(p store.Page) ([]dwell.Client, bool, error) {
			return s.ListClients(ctx(), tenantA, store.ClientFilter{}, p)
		}, id)
		wantEqual(t, fmt.Sprintf("ids with limit %d", limit), got, all)
		got = pageAll(t, limit, func(p store.Page) ([]dwell.Client, bool, error) {
			return s.ListClients(ctx(), tenantA, store.ClientFilter{Kind: dwell.ClientKindProspect}, p)
		}, id)
		wantEqual(t, fmt.Sprintf("prospect ids with limit %d", limit), got, prospects)
	}
	// Exactly one full page: no more.
	items, more, err := s.ListClients(ctx(), tenantA, store.ClientFilter{Kind: dwell.ClientKindProspect}, store.Page{Limit: len(prospects)})
	must(t, "list", err)
	if len(items) != len(prospects) || more {
		t.Fatalf("full page: %d items, more=%v; want %d, false", len(items), more, len(prospects))
	}
	// After an id that does not exist: starts at the next one.
	items, _, err = s.ListClients(ctx(), tenantA, store.ClientFilter{}, store.Page{After: "c10a", Limit: 2})
	must(t, "list after missing id", err)
	wantEqual(t, "list after c10a", []string{string(items[0].ID), string(items[1].ID)}, []string{"c11", "c12"})
	// Items come back whole.
	items, _, err = s.ListClients(ctx(), tenantA, store.ClientFilter{}, store.Page{After: "c04", Limit: 1})
	must(t, "list one", err)
	wantEqual(t, "listed client", items, []dwell.Client{client("c05", dwell.ClientKindCustomer)})
	// Empty tenant.
	items, more, err = s.ListClients(ctx(), tenantB, store.ClientFilter{}, store.Page{Limit: 10})
	must(t, "list empty tenant", err)
	if len(items) != 0 || more {
		t.Fatalf("empty tenant: %d items, more=%v", len(items), more)
	}
}

func testListRepsByTeam(t *testing.T, h Harness) {
	s := h.Open(t)
	var north, all []string
	for i := range 12 {
		id := fmt.Sprintf("r%02d", i)
		tm := "south"
		if i%2 == 1 {
			tm = "north"
			north = append(north, id)
		}
		if i == 11 {
			tm = ""
			north = north[:len(north)-1]
		}
		all = append(all, id)
		must(t, "create", s.CreateRep(ctx(), tenantA, rep(id, tm)))
	}
	id := func(r dwell.Rep) string { return string(r.ID) }
	for _, limit := range []int{1, 2, 5, 50} {
		got := pageAll(t, limit, func(p store.Page) ([]dwell.Rep, bool, error) {
			return s.ListReps(ctx(), tenantA, store.RepFilter{Team: "north"}, p)
		}, id)
		wantEqual(t, fmt.Sprintf("north with limit %d", limit), got, north)
		got = pageAll(t, limit, func(p store.Page) ([]dwell.Rep, bool, error) {
			return s.ListReps(ctx(), tenantA, store.RepFilter{}, p)
		}, id)
		wantEqual(t, fmt.Sprintf("all with limit %d", limit), got, all)
	}
	got := pageAll(t, 3, func(p store.Page) ([]dwell.Rep, bool, error) {
		return s.ListReps(ctx(), tenantA, store.RepFilter{Team: "west"}, p)
	}, id)
	if len(got) != 0 {
		t.Fatalf("team west: %v, want none", got)
	}
}

func testListTeamsByManager(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "create", s.CreateTeam(ctx(), tenantA, team("t1", "ana", "budi")))
	must(t, "create", s.CreateTeam(ctx(), tenantA, team("t2", "citra")))
	must(t, "create", s.CreateTeam(ctx(), tenantA, team("t3", "budi")))
	must(t, "create", s.CreateTeam(ctx(), tenantA, team("t4")))
	id := func(tm dwell.Team) string { return string(tm.ID) }
	for _, tc := range []struct {
		manager string
		want    []string
	}{
		{"budi", []string{"t1", "t3"}},
		{"citra", []string{"t2"}},
		{"dewi", nil},
		{"", []string{"t1", "t2", "t3", "t4"}},
	} {
		got := pageAll(t, 1, func(p store.Page) ([]dwell.Team, bool, error) {
			return s.ListTeams(ctx(), tenantA, store.TeamFilter{Manager: tc.manager}, p)
		}, id)
		wantEqual(t, fmt.Sprintf("teams of %q", tc.manager), got, tc.want)
	}
}

func testBadPage(t *testing.T, h Harness) {
	s := h.Open(t)
	_, _, err := s.ListClients(ctx(), tenantA, store.ClientFilter{}, store.Page{Limit: 0})
	wantKind(t, "ListClients limit 0", err, dwell.Invalid)
	_, _, err = s.ListReps(ctx(), tenantA, store.RepFilter{}, store.Page{Limit: -1})
	wantKind(t, "ListReps limit -1", err, dwell.Invalid)
	_, _, err = s.ListTeams(ctx(), tenantA, store.TeamFilter{}, store.Page{})
	wantKind(t, "ListTeams zero page", err, dwell.Invalid)
}

func testPutClients(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "create", s.CreateClient(ctx(), tenantA, client("a", dwell.ClientKindProspect)))
	must(t, "put nothing", s.PutClients(ctx(), tenantA, nil))
	b := client("b", dwell.ClientKindCustomer)
	a2 := polygonClient("a")
	a2.DisplayName = "A, imported"
	// An import replaces what a stored client is, not when it was
	// created: "a" keeps its CreateTime, and takes the import's
	// UpdateTime.
	a2.CreateTime, a2.UpdateTime = t0.Add(48*time.Hour), t0.Add(48*time.Hour)
	must(t, "put", s.PutClients(ctx(), tenantA, []dwell.Client{b, a2, client("c", dwell.ClientKindProspect)}))
	a2.CreateTime = t0
	for _, want := range []dwell.Client{a2, b, client("c", dwell.ClientKindProspect)} {
		got, err := s.GetClient(ctx(), tenantA, want.ID)
		must(t, "get", err)
		want.Revision = got.Revision
		wantEqual(t, "client "+string(want.ID), got, want)
	}
	items, more, err := s.ListClients(ctx(), tenantA, store.ClientFilter{}, store.Page{Limit: 10})
	must(t, "list", err)
	if len(items) != 3 || more {
		t.Fatalf("listed %d clients, more=%v; want 3, false", len(items), more)
	}
	// Created by PutClients, so Create now finds it.
	wantKind(t, "create imported", s.CreateClient(ctx(), tenantA, client("c", dwell.ClientKindProspect)), dwell.AlreadyExists)
}

// testConcurrentCreate checks that concurrent creates of one id (which a
// group-committing store may apply in one transaction) let exactly one win,
// and that the losers do not disturb the other writes committed with them.
func testConcurrentCreate(t *testing.T, h Harness) {
	s := h.Open(t)
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	others := make([]error, n)
	for i := range n {
		wg.Go(func() {
			c := client("same", dwell.ClientKindProspect)
			c.DisplayName = fmt.Sprint("writer ", i)
			errs[i] = s.CreateClient(ctx(), tenantA, c)
			others[i] = s.CreateClient(ctx(), tenantA, client(fmt.Sprintf("own-%02d", i), dwell.ClientKindCustomer))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !dwell.Is(dwell.AlreadyExists, err):
			t.Fatalf("create %d: %v, want nil or kind %q", i, err, dwell.AlreadyExists)
		}
		must(t, "own create", others[i])
	}
	if wins != 1 {
		t.Fatalf("%d creates of one id succeeded, want 1", wins)
	}
	items, _, err := s.ListClients(ctx(), tenantA, store.ClientFilter{}, store.Page{Limit: 100})
	must(t, "list", err)
	if len(items) != n+1 {
		t.Fatalf("listed %d clients, want %d", len(items), n+1)
	}
}

func testSettings(t *testing.T, h Harness) {
	s := h.Open(t)
	got, err := s.GetSettings(ctx(), tenantA)
	must(t, "get default", err)
	wantEqual(t, "default settings", got, dwell.DefaultSettings())
	want := dwell.Settings{Retention: 90 * 24 * time.Hour, VisitMin: 3 * time.Minute, IdleMin: 10 * time.Minute}
	must(t, "put", s.PutSettings(ctx(), tenantA, want))
	got, err = s.GetSettings(ctx(), tenantA)
	must(t, "get", err)
	wantEqual(t, "settings", got, want)
	want.IdleMin = 7 * time.Minute
	must(t, "put again", s.PutSettings(ctx(), tenantA, want))
	got, err = s.GetSettings(ctx(), tenantA)
	must(t, "get", err)
	wantEqual(t, "replaced settings", got, want)
}

func testTenantIsolation(t *testing.T, h Harness) {
	s := h.Open(t)
	ca, cb := client("c1", dwell.ClientKindProspect), client("c1", dwell.ClientKindCustomer)
	cb.DisplayName = "Globex's c1"
	must(t, "create A", s.CreateClient(ctx(), tenantA, ca))
	must(t, "create B", s.CreateClient(ctx(), tenantB, cb))
	must(t, "create rep A", s.CreateRep(ctx(), tenantA, rep("r1", "north")))
	must(t, "create team A", s.CreateTeam(ctx(), tenantA, team("t1", "ana")))
	got, err := s.GetClient(ctx(), tenantB, "c1")
	must(t, "get B", err)
	wantEqual(t, "B's client", got, cb)
	_, err = s.GetRep(ctx(), tenantB, "r1")
	wantKind(t, "B's rep", err, dwell.NotFound)
	_, err = s.GetTeam(ctx(), tenantB, "t1")
	wantKind(t, "B's team", err, dwell.NotFound)
	wantKind(t, "update A's rep in B", s.UpdateRep(ctx(), tenantB, rep("r1", "x")), dwell.NotFound)
	must(t, "delete A", s.DeleteClient(ctx(), tenantA, "c1"))
	got, err = s.GetClient(ctx(), tenantB, "c1")
	must(t, "get B after deleting A", err)
	wantEqual(t, "B's client", got, cb)
	reps, _, err := s.ListReps(ctx(), tenantB, store.RepFilter{}, store.Page{Limit: 10})
	must(t, "list B's reps", err)
	if len(reps) != 0 {
		t.Fatalf("B lists %d reps, want 0", len(reps))
	}

	// Fixes: same rep id and fix ids in both tenants.
	fa := fixes("r1", 0, 5)
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", fa)
	must(t, "append A", err)
	wantStored(t, "append A", stored, allTrue(5))
	fb := fixes("r1", 3, 4) // ids 3..6, overlapping A's 3 and 4
	stored, err = s.AppendFixes(ctx(), tenantB, "r1", fb)
	must(t, "append B", err)
	wantStored(t, "append B", stored, allTrue(4))
	list, err := s.ListFixes(ctx(), tenantB, "r1", t0.Add(-time.Hour), t0.Add(time.Hour))
	must(t, "list B", err)
	wantEqual(t, "B's fixes", list, fb)

	// Settings and rep actions.
	must(t, "settings A", s.PutSettings(ctx(), tenantA, dwell.Settings{Retention: time.Hour, VisitMin: time.Minute, IdleMin: time.Minute}))
	set, err := s.GetSettings(ctx(), tenantB)
	must(t, "settings B", err)
	wantEqual(t, "B's settings", set, dwell.DefaultSettings())
	ci := checkIn("r1", "req-1", t0)
	_, existed, err := s.RecordCheckIn(ctx(), tenantA, ci)
	must(t, "check-in A", err)
	_, existed2, err := s.RecordCheckIn(ctx(), tenantB, ci)
	must(t, "check-in B", err)
	if existed || existed2 {
		t.Fatalf("same request id in two tenants: existed = %v, %v; want false, false", existed, existed2)
	}
}

// Fix fixtures.

// fixes returns n fixes of rep with ids "<rep>-fix-<i>" for i from first,
// one second apart from t0 + first seconds.
func fixes(rep string, first, n int) []dwell.Fix {
	out := make([]dwell.Fix, n)
	for j := range n {
		i := first + j
		out[j] = dwell.Fix{
			ID:         fmt.Sprintf("%s-fix-%06d", rep, i),
			Time:       t0.Add(time.Duration(i) * time.Second),
			Pos:        dwell.LatLng{Lat: -6.2 + float64(i)*1e-5, Lng: 106.8 + float64(i)*1e-5},
			AccuracyM:  float64(5 + i%40),
			SpeedMPS:   float64(i % 7),
			BearingDeg: -1,
		}
	}
	return out
}

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}

func wantStored(t *testing.T, what string, got, want []bool) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: stored = %v, want %v", what, got, want)
	}
}

func testAppendFixesDedup(t *testing.T, h Harness) {
	s := h.Open(t)
	batch := fixes("r1", 0, 10)
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", batch)
	must(t, "first", err)
	wantStored(t, "first", stored, allTrue(10))
	stored, err = s.AppendFixes(ctx(), tenantA, "r1", batch)
	must(t, "again", err)
	wantStored(t, "again", stored, make([]bool, 10))

	// Duplicates inside one batch, and a re-sent id with another time and
	// position: the id decides.
	resent := batch[4]
	resent.Time = resent.Time.Add(time.Hour)
	resent.Pos.Lat += 1
	in := append(fixes("r1", 10, 3), fixes("r1", 11, 1)[0], resent, fixes("r1", 10, 1)[0], fixes("r1", 13, 1)[0])
	stored, err = s.AppendFixes(ctx(), tenantA, "r1", in)
	must(t, "batch with duplicates", err)
	wantStored(t, "batch with duplicates", stored, []bool{true, true, true, false, false, false, true})

	// The same ids for another rep are new.
	other := fixes("r1", 0, 3)
	stored, err = s.AppendFixes(ctx(), tenantA, "r2", other)
	must(t, "other rep", err)
	wantStored(t, "other rep", stored, allTrue(3))

	got, err := s.ListFixes(ctx(), tenantA, "r1", t0.Add(-time.Hour), t0.Add(24*time.Hour))
	must(t, "list", err)
	wantEqual(t, "stored fixes", got, fixes("r1", 0, 14))

	stored, err = s.AppendFixes(ctx(), tenantA, "r1", nil)
	must(t, "empty batch", err)
	if len(stored) != 0 {
		t.Fatalf("empty batch: stored = %v", stored)
	}
}

// testAppendFixesManyBatches stores more fixes than fit in memory-sized
// buffers of a naive implementation, in many batches, then re-sends them
// all: every re-sent fix must be a duplicate.
func testAppendFixesManyBatches(t *testing.T, h Harness) {
	s := h.Open(t)
	const batches, size = 30, 500
	for b := range batches {
		stored, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", b*size, size))
		must(t, "append", err)
		wantStored(t, fmt.Sprint("batch ", b), stored, allTrue(size))
	}
	for b := batches - 1; b >= 0; b-- {
		in := fixes("r1", b*size, size)
		in = append(in, fixes("r1", batches*size+b, 1)...)
		stored, err := s.AppendFixes(ctx(), tenantA, "r1", in)
		must(t, "re-send", err)
		want := make([]bool, size+1)
		want[size] = true
		wantStored(t, fmt.Sprint("re-sent batch ", b), stored, want)
	}
	got, err := s.ListFixes(ctx(), tenantA, "r1", t0, t0.Add(24*time.Hour))
	must(t, "list", err)
	if len(got) != batches*size+batches {
		t.Fatalf("listed %d fixes, want %d", len(got), batches*size+batches)
	}
}

func testListFixesRange(t *testing.T, h Harness) {
	s := h.Open(t)
	all := fixes("r1", 0, 20)
	// Out of order, in three batches, with two fixes at the same instant
	// (ties go by id) and one before 1970.
	tie := all[10]
	tie.ID = "r1-fix-000010-tie"
	old := all[0]
	old.ID = "r1-fix-1969"
	old.Time = time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
	order := []int{19, 3, 7, 0, 12, 15, 1, 9, 18, 4, 11, 2, 16, 6, 13, 5, 17, 8, 14, 10}
	var in []dwell.Fix
	for _, i := range order {
		in = append(in, all[i])
	}
	for _, part := range [][]dwell.Fix{in[:7], append(in[7:13:13], tie, old), in[13:]} {
		_, err := s.AppendFixes(ctx(), tenantA, "r1", part)
		must(t, "append", err)
	}
	withTie := append(slices.Clone(all[:11]), tie)
	withTie = append(withTie, all[11:]...)
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []dwell.Fix
	}{
		{"everything", time.Time{}, t0.Add(time.Hour), append([]dwell.Fix{old}, withTie...)},
		{"from is inclusive, to exclusive", all[5].Time, all[9].Time, all[5:9]},
		{"tie by id", all[10].Time, all[11].Time, []dwell.Fix{all[10], tie}},
		{"single instant", all[3].Time, all[3].Time.Add(1), all[3:4]},
		{"before 1970", time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), []dwell.Fix{old}},
		{"empty range", all[5].Time, all[5].Time, nil},
		{"inverted range", all[9].Time, all[5].Time, nil},
		{"after the last", all[19].Time.Add(1), t0.Add(time.Hour), nil},
	} {
		got, err := s.ListFixes(ctx(), tenantA, "r1", tc.from, tc.to)
		must(t, tc.name, err)
		wantEqual(t, tc.name, got, tc.want)
	}
	got, err := s.ListFixes(ctx(), tenantA, "nobody", time.Time{}, t0.Add(time.Hour))
	must(t, "unknown rep", err)
	if len(got) != 0 {
		t.Fatalf("unknown rep has %d fixes", len(got))
	}
}

func testLastFixTime(t *testing.T, h Harness) {
	s := h.Open(t)
	at, err := s.LastFixTime(ctx(), tenantA, "r1")
	must(t, "LastFixTime", err)
	if !at.IsZero() {
		t.Fatalf("LastFixTime of a rep without fixes = %v, want zero", at)
	}
	// Out of order: the latest by time, not the last sent.
	fs := fixes("r1", 0, 30)
	_, err = s.AppendFixes(ctx(), tenantA, "r1", append(fs[20:], fs[:20]...))
	must(t, "AppendFixes", err)
	at, err = s.LastFixTime(ctx(), tenantA, "r1")
	must(t, "LastFixTime", err)
	if !at.Equal(fs[29].Time) {
		t.Fatalf("LastFixTime = %v, want %v", at, fs[29].Time)
	}
	if at, err := s.LastFixTime(ctx(), tenantB, "r1"); err != nil || !at.IsZero() {
		t.Fatalf("LastFixTime in another tenant = %v, %v; want zero", at, err)
	}
}

func testFixFields(t *testing.T, h Harness) {
	s := h.Open(t)
	in := []dwell.Fix{
		{ID: "plain", Time: t0, Pos: dwell.LatLng{Lat: -6.175392, Lng: 106.827153}, AccuracyM: 12.5, SpeedMPS: -1, BearingDeg: -1},
		{ID: "full", Time: t0.Add(1), Pos: dwell.LatLng{Lat: 89.9999999, Lng: -179.9999999}, AccuracyM: 0, SpeedMPS: 13.37,
			BearingDeg: 359.9, AltitudeM: -12.25, HasAltitude: true, Mock: true},
		{ID: "zero-altitude", Time: t0.Add(2), Pos: dwell.LatLng{Lat: 0, Lng: 0}, AccuracyM: 500, SpeedMPS: 0, BearingDeg: 0, HasAltitude: true},
		{ID: "x", Time: t0.Add(3), Pos: dwell.LatLng{Lat: -90, Lng: 180}, AccuracyM: 3, SpeedMPS: 70, BearingDeg: -1, Mock: true},
		{ID: strings.Repeat("ü", dwell.MaxFixIDBytes/2), Time: t0.Add(4), SpeedMPS: -1, BearingDeg: 42},
		{ID: "id with spaces", Time: t0.Add(5), SpeedMPS: -1, BearingDeg: 42},
	}
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", in)
	must(t, "append", err)
	wantStored(t, "append", stored, allTrue(len(in)))
	got, err := s.ListFixes(ctx(), tenantA, "r1", t0, t0.Add(time.Second))
	must(t, "list", err)
	wantEqual(t, "fixes", got, in)
}

// testConcurrentAppendFixes has many goroutines upload overlapping batches
// for a few reps at once, as phones re-sending after lost acks do: every fix
// must be reported stored exactly once and listed exactly once.
func testConcurrentAppendFixes(t *testing.T, h Harness) {
	s := h.Open(t)
	const (
		writers = 24
		reps    = 3
		perRep  = 600
		batch   = 50
	)
	type key struct{ rep, id string }
	var mu sync.Mutex
	count := map[key]int{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			r := fmt.Sprintf("r%d", w%reps)
			// Each writer sends all its rep's fixes, starting at its own
			// offset, so that writers overlap on every fix.
			start := (w / reps) * (perRep / (writers / reps))
			for b := 0; b < perRep; b += batch {
				first := (start + b) % perRep
				n := min(batch, perRep-first)
				in := fixes(r, first, n)
				stored, err := s.AppendFixes(ctx(), tenantA, dwell.RepID(r), in)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, ok := range stored {
					if ok {
						count[key{r, in[i].ID}]++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for r := range reps {
		rp := fmt.Sprintf("r%d", r)
		for _, f := range fixes(rp, 0, perRep) {
			if n := count[key{rp, f.ID}]; n != 1 {
				t.Fatalf("fix %s of %s reported stored %d times, want 1", f.ID, rp, n)
			}
		}
		got, err := s.ListFixes(ctx(), tenantA, dwell.RepID(rp), t0, t0.Add(24*time.Hour))
		must(t, "list", err)
		wantEqual(t, "fixes of "+rp, got, fixes(rp, 0, perRep))
	}
}

// Rep action fixtures.

func checkIn(rep, requestID string, at time.Time) dwell.CheckIn {
	return dwell.CheckIn{
		RequestID:    requestID,
		Rep:          dwell.RepID(rep),
		Client:       "c1",
		Time:         at,
		Fix:          &dwell.Fix{ID: "f-" + requestID, Time: at.Add(-2 * time.Second), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 8, SpeedMPS: -1, BearingDeg: -1},
		Verification: dwell.VerificationOutsideGeofence,
		DistanceM:    431.5,
		ReceiveTime:  at.Add(3 * time.Second),
	}
}

func checkOut(rep, requestID string, at time.Time) dwell.CheckOut {
	return dwell.CheckOut{
		RequestID:       requestID,
		Rep:             dwell.RepID(rep),
		Client:          "c1",
		Time:            at,
		Outcome:         dwell.OutcomeRejected,
		RejectionReason: dwell.RejectionOther,
		RejectionText:   "budget frozen until Q3",
		Notes:           "met the buyer",
		ReceiveTime:     at.Add(time.Second),
	}
}

func call(rep, requestID string, at time.Time) dwell.Call {
	return dwell.Call{
		RequestID:   requestID,
		Rep:         dwell.RepID(rep),
		Client:      "c1",
		StartTime:   at,
		TalkSeconds: 185,
		Direction:   dwell.CallOutbound,
		Outcome:     dwell.CallConnected,
		Notes:       "follow-up call",
		ReceiveTime: at.Add(time.Minute),
	}
}

// actions is the surface of one kind of rep action.
type actions[T any] struct {
	make   func(rep, requestID string, at time.Time) T
	change func(T) T
	record func(s store.Store, tenant dwell.TenantID, v T) (T, bool, error)
	list   func(s store.Store, tenant dwell.TenantID, rep string, from, to time.Time) ([]T, error)
}

func testActions[T any](t *testing.T, h Harness, a actions[T]) {
	s := h.Open(t)
	first := a.make("r1", "req-1", t0.Add(10*time.Minute))
	got, existed, err := a.record(s, tenantA, first)
	must(t, "record", err)
	if existed {
		t.Fatal("first record: existed = true")
	}
	wantEqual(t, "first record", got, first)

	// A retry, even with different content, returns the stored record.
	got, existed, err = a.record(s, tenantA, a.change(first))
	must(t, "retry", err)
	if !existed {
		t.Fatal("retry: existed = false")
	}
	wantEqual(t, "retry", got, first)

	// The same request id for another rep is another request.
	_, existed, err = a.record(s, tenantA, a.make("r2", "req-1", t0))
	must(t, "other rep", err)
	if existed {
		t.Fatal("same request id for another rep: existed = true")
	}

	// More records, out of time order, one without a request id (never
	// deduplicated) and two at the same instant.
	early := a.make("r1", "req-2", t0)
	late := a.make("r1", "req-3", t0.Add(time.Hour))
	same := a.make("r1", "req-4", t0.Add(10*time.Minute))
	noID1 := a.make("r1", "", t0.Add(20*time.Minute))
	noID2 := a.make("r1", "", t0.Add(20*time.Minute))
	for _, v := range []T{late, early, same, noID1, noID2} {
		_, existed, err := a.record(s, tenantA, v)
		must(t, "record", err)
		if existed {
			t.Fatal("new record: existed = true")
		}
	}
	list, err := a.list(s, tenantA, "r1", time.Time{}, t0.Add(24*time.Hour))
	must(t, "list", err)
	wantEqual(t, "all records", list, []T{early, first, same, noID1, noID2, late})
	list, err = a.list(s, tenantA, "r1", t0.Add(10*time.Minute), t0.Add(time.Hour))
	must(t, "list range", err)
	wantEqual(t, "records in range", list, []T{first, same, noID1, noID2})
	list, err = a.list(s, tenantA, "r1", t0.Add(time.Hour), t0)
	must(t, "list inverted", err)
	if len(list) != 0 {
		t.Fatalf("inverted range: %d records", len(list))
	}
	list, err = a.list(s, tenantB, "r1", time.Time{}, t0.Add(24*time.Hour))
	must(t, "list other tenant", err)
	if len(list) != 0 {
		t.Fatalf("other tenant: %d records", len(list))
	}

	// Concurrent retries of one new request: one stores, all agree.
	const n = 16
	var wg sync.WaitGroup
	res := make([]T, n)
	ex := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { res[i], ex[i], errs[i] = a.record(s, tenantA, a.make("r3", "req-x", t0)) })
	}
	wg.Wait()
	created := 0
	for i := range n {
		must(t, "concurrent record", errs[i])
		if !ex[i] {
			created++
		}
		wantEqual(t, "concurrent record", res[i], a.make("r3", "req-x", t0))
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent retries created the record, want 1", created, n)
	}
}

func testCheckIns(t *testing.T, h Harness) {
	testActions(t, h, actions[dwell.CheckIn]{
		make: checkIn,
		change: func(c dwell.CheckIn) dwell.CheckIn {
			c.Client, c.Fix, c.Verification = "c2", nil, dwell.VerificationNoFix
			return c
		},
		record: func(s store.Store, tn dwell.TenantID, c dwell.CheckIn) (dwell.CheckIn, bool, error) {
			return s.RecordCheckIn(ctx(), tn, c)
		},
		list: func(s store.Store, tn dwell.TenantID, r string, from, to time.Time) ([]dwell.CheckIn, error) {
			return s.ListCheckIns(ctx(), tn, dwell.RepID(r), from, to)
		},
	})
}

func testCheckOuts(t *testing.T, h Harness) {
	testActions(t, h, actions[dwell.CheckOut]{
		make: checkOut,
		change: func(c dwell.CheckOut) dwell.CheckOut {
			c.Outcome, c.FollowUpDate = dwell.OutcomeFollowUp, dwell.Date{Year: 2025, Month: 4, Day: 1}
			c.RejectionReason, c.RejectionText = dwell.RejectionReasonUnspecified, ""
			return c
		},
		record: func(s store.Store, tn dwell.TenantID, c dwell.CheckOut) (dwell.CheckOut, bool, error) {
			return s.RecordCheckOut(ctx(), tn, c)
		},
		list: func(s store.Store, tn dwell.TenantID, r string, from, to time.Time) ([]dwell.CheckOut, error) {
			return s.ListCheckOuts(ctx(), tn, dwell.RepID(r), from, to)
		},
	})
	// A follow-up date and a fix survive the round trip.
	s := h.Open(t)
	c := checkOut("r1", "fu", t0)
	c.Outcome, c.RejectionReason, c.RejectionText = dwell.OutcomeFollowUp, dwell.RejectionReasonUnspecified, ""
	c.FollowUpDate = dwell.Date{Year: 2025, Month: 12, Day: 31}
	c.Fix = &dwell.Fix{ID: "", Time: t0, Pos: dwell.LatLng{Lat: 1, Lng: 2}, AccuracyM: 30, SpeedMPS: 0.5, BearingDeg: 90, AltitudeM: 12, HasAltitude: true}
	_, _, err := s.RecordCheckOut(ctx(), tenantA, c)
	must(t, "record follow-up", err)
	list, err := s.ListCheckOuts(ctx(), tenantA, "r1", t0, t0.Add(1))
	must(t, "list follow-up", err)
	wantEqual(t, "follow-up", list, []dwell.CheckOut{c})
}

func testCalls(t *testing.T, h Harness) {
	testActions(t, h, actions[dwell.Call]{
		make: call,
		change: func(c dwell.Call) dwell.Call {
			c.TalkSeconds, c.Outcome = 0, dwell.CallNoAnswer
			return c
		},
		record: func(s store.Store, tn dwell.TenantID, c dwell.Call) (dwell.Call, bool, error) {
			return s.RecordCall(ctx(), tn, c)
		},
		list: func(s store.Store, tn dwell.TenantID, r string, from, to time.Time) ([]dwell.Call, error) {
			return s.ListCalls(ctx(), tn, dwell.RepID(r), from, to)
		},
	})
}

func trackingChange(rep, requestID string, at time.Time) dwell.TrackingChange {
	return dwell.TrackingChange{RequestID: requestID, Rep: dwell.RepID(rep), Time: at, Paused: true, ReceiveTime: at.Add(time.Second)}
}

func testTrackingChanges(t *testing.T, h Harness) {
	testActions(t, h, actions[dwell.TrackingChange]{
		make: trackingChange,
		change: func(c dwell.TrackingChange) dwell.TrackingChange {
			c.Paused = false
			return c
		},
		record: func(s store.Store, tn dwell.TenantID, c dwell.TrackingChange) (dwell.TrackingChange, bool, error) {
			return s.RecordTrackingChange(ctx(), tn, c)
		},
		list: func(s store.Store, tn dwell.TenantID, r string, from, to time.Time) ([]dwell.TrackingChange, error) {
			return s.ListTrackingChanges(ctx(), tn, dwell.RepID(r), from, to)
		},
	})
}

// testResumeMarksPausedDays checks that a resume marks every day back to
// the pause before it: those days were derived with the pause still open.
func testResumeMarksPausedDays(t *testing.T, h Harness) {
	s := h.Open(t)
	pauseAt := time.Date(2025, 3, 14, 20, 0, 0, 0, time.UTC)
	_, _, err := s.RecordTrackingChange(ctx(), tenantA, trackingChange("r1", "p", pauseAt))
	must(t, "RecordTrackingChange", err)
	summarizeDirty(t, s)
	resume := trackingChange("r1", "r", pauseAt.Add(60*time.Hour)) // the 17th, 08:00
	resume.Paused = false
	_, _, err = s.RecordTrackingChange(ctx(), tenantA, resume)
	must(t, "RecordTrackingChange", err)
	got := dirtyDates(t, s)
	wantEqual(t, "days marked by the resume", got, []dwell.Date{day(2025, 3, 14), day(2025, 3, 15), day(2025, 3, 16), day(2025, 3, 17)})

	// A pause of 60 days: the last 31 days before the resume are marked,
	// and the resume's own.
	summarizeDirty(t, s)
	_, _, err = s.RecordTrackingChange(ctx(), tenantA, trackingChange("r2", "p", pauseAt))
	must(t, "RecordTrackingChange", err)
	long := trackingChange("r2", "r", pauseAt.Add(60*24*time.Hour))
	long.Paused = false
	summarizeDirty(t, s)
	_, _, err = s.RecordTrackingChange(ctx(), tenantA, long)
	must(t, "RecordTrackingChange", err)
	marks := dirtyDays(t, s)
	end := dwell.DateOf(long.Time, time.UTC)
	if len(marks) != 32 || marks[0].Date != end.AddDays(-31) || marks[len(marks)-1].Date != end {
		t.Fatalf("a 60-day pause's resume marked %d days, %v to %v; want the 32 days %v to %v", len(marks), marks[0].Date, marks[len(marks)-1].Date, end.AddDays(-31), end)
	}

	// A day that lost fixes to PruneFixes, or a check-in's fix to
	// PruneActionFixes, before the resume keeps its summary: it is not
	// marked.
	for _, c := range []struct {
		rep   string
		prune func(rep string) (int, bool, error)
	}{
		{"r3", func(rep string) (int, bool, error) {
			morning := fixes(rep, 0, 2)
			for i := range morning {
				morning[i].Time = pauseAt.Add(-10*time.Hour + time.Duration(i)*time.Minute) // the 14th, 10:00
			}
			_, err := s.AppendFixes(ctx(), tenantA, dwell.RepID(rep), morning)
			must(t, "AppendFixes", err)
			return s.PruneFixes(ctx(), tenantA, dwell.RepID(rep), pauseAt.Add(-8*time.Hour), 100)
		}},
		{"r4", func(rep string) (int, bool, error) {
			_, _, err := s.RecordCheckIn(ctx(), tenantA, checkIn(rep, "ci", pauseAt.Add(-10*time.Hour)))
			must(t, "RecordCheckIn", err)
			return s.PruneActionFixes(ctx(), tenantA, dwell.RepID(rep), pauseAt.Add(-8*time.Hour), 100)
		}},
	} {
		summarizeDirty(t, s)
		_, _, err = s.RecordTrackingChange(ctx(), tenantA, trackingChange(c.rep, "p", pauseAt))
		must(t, "RecordTrackingChange", err)
		n, _, err := c.prune(c.rep)
		must(t, "prune "+c.rep, err)
		wantEqual(t, "pruned of "+c.rep, n > 0, true)
		summarizeDirty(t, s)
		late := trackingChange(c.rep, "r", pauseAt.Add(60*time.Hour))
		late.Paused = false
		_, _, err = s.RecordTrackingChange(ctx(), tenantA, late)
		must(t, "RecordTrackingChange", err)
		got = dirtyDates(t, s)
		wantEqual(t, "days marked by a resume after a prune of "+c.rep, got, []dwell.Date{day(2025, 3, 15), day(2025, 3, 16), day(2025, 3, 17)})
	}
}

// testCancelledContext checks that a write whose context is already done is
// refused with the context's error and writes nothing.
func testCancelledContext(t *testing.T, h Harness) {
	s := h.Open(t)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.CreateClient(cctx, tenantA, client("c1", dwell.ClientKindProspect))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("create with cancelled context: %v, want context.Canceled", err)
	}
	_, err = s.AppendFixes(cctx, tenantA, "r1", fixes("r1", 0, 3))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("append with cancelled context: %v, want context.Canceled", err)
	}
	_, err = s.GetClient(ctx(), tenantA, "c1")
	wantKind(t, "get after cancelled create", err, dwell.NotFound)
	stored, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 0, 3))
	must(t, "append after cancelled append", err)
	wantStored(t, "append after cancelled append", stored, allTrue(3))
}

// testReopen checks that everything written survives a close and reopen,
// including what deduplication and idempotency depend on.
func testReopen(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("no Reopen hook")
	}
	s := h.Open(t)
	c := polygonClient("c1")
	r := rep("r1", "north")
	tm := team("north", "ana")
	set := dwell.Settings{Retention: 30 * 24 * time.Hour, VisitMin: 4 * time.Minute, IdleMin: 6 * time.Minute}
	must(t, "client", s.CreateClient(ctx(), tenantA, c))
	must(t, "team", s.CreateTeam(ctx(), tenantA, tm))
	must(t, "rep", s.CreateRep(ctx(), tenantA, r))
	must(t, "settings", s.PutSettings(ctx(), tenantA, set))
	// Enough fixes that a write-behind index holds some merged and some
	// pending at the reopen.
	const n = 6000
	for b := 0; b < n; b += 1000 {
		_, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", b, 1000))
		must(t, "append", err)
	}
	ci, co, cl := checkIn("r1", "a", t0), checkOut("r1", "b", t0), call("r1", "c", t0)
	_, _, err := s.RecordCheckIn(ctx(), tenantA, ci)
	must(t, "check-in", err)
	_, _, err = s.RecordCheckOut(ctx(), tenantA, co)
	must(t, "check-out", err)
	_, _, err = s.RecordCall(ctx(), tenantA, cl)
	must(t, "call", err)

	for round := range 2 {
		s = h.Reopen(t, s)
		what := fmt.Sprintf("after reopen %d: ", round+1)
		gc, err := s.GetClient(ctx(), tenantA, "c1")
		must(t, what+"client", err)
		wantEqual(t, what+"client", gc, c)
		gr, err := s.GetRep(ctx(), tenantA, "r1")
		must(t, what+"rep", err)
		wantEqual(t, what+"rep", gr, r)
		gt, err := s.GetTeam(ctx(), tenantA, "north")
		must(t, what+"team", err)
		wantEqual(t, what+"team", gt, tm)
		gs, err := s.GetSettings(ctx(), tenantA)
		must(t, what+"settings", err)
		wantEqual(t, what+"settings", gs, set)
		got, err := s.ListFixes(ctx(), tenantA, "r1", t0, t0.Add(24*time.Hour))
		must(t, what+"fixes", err)
		wantEqual(t, what+"fixes", got, fixes("r1", 0, n+round))
		// Every fix is still known: a re-send stores only the new one.
		in := append(fixes("r1", 0, n+round), fixes("r1", n+round, 1)...)
		stored, err := s.AppendFixes(ctx(), tenantA, "r1", in)
		must(t, what+"re-send", err)
		want := make([]bool, n+round+1)
		want[n+round] = true
		wantStored(t, what+"re-send", stored, want)
		gci, existed, err := s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "a", t0.Add(time.Hour)))
		must(t, what+"check-in retry", err)
		if !existed {
			t.Fatal(what + "check-in retry: existed = false")
		}
		wantEqual(t, what+"check-in", gci, ci)
		gco, existed, err := s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "b", t0.Add(time.Hour)))
		must(t, what+"check-out retry", err)
		if !existed {
			t.Fatal(what + "check-out retry: existed = false")
		}
		wantEqual(t, what+"check-out", gco, co)
		gcl, existed, err := s.RecordCall(ctx(), tenantA, call("r1", "c", t0.Add(time.Hour)))
		must(t, what+"call retry", err)
		if !existed {
			t.Fatal(what + "call retry: existed = false")
		}
		wantEqual(t, what+"call", gcl, cl)
	}
}

// testClosed checks that every method of a closed store fails with
// dwell.Unavailable and that closing twice is harmless.
func testClosed(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "close", s.Close())
	must(t, "close again", s.Close())
	p := store.Page{Limit: 10}
	calls := map[string]func() error{
		"CreateClient": func() error { return s.CreateClient(ctx(), tenantA, client("c1", dwell.ClientKindProspect)) },
		"GetClient":    func() error { _, err := s.GetClient(ctx(), tenantA, "c1"); return err },
		"UpdateClient": func() error { return s.UpdateClient(ctx(), tenantA, client("c1", dwell.ClientKindProspect)) },
		"DeleteClient": func() error { return s.DeleteClient(ctx(), tenantA, "c1") },
		"ListClients":  func() error { _, _, err := s.ListClients(ctx(), tenantA, store.ClientFilter{}, p); return err },
		"PutClients": func() error {
			return s.PutClients(ctx(), tenantA, []dwell.Client{client("c1", dwell.ClientKindProspect)})
		},
		"CreateRep":     func() error { return s.CreateRep(ctx(), tenantA, rep("r1", "")) },
		"GetRep":        func() error { _, err := s.GetRep(ctx(), tenantA, "r1"); return err },
		"UpdateRep":     func() error { return s.UpdateRep(ctx(), tenantA, rep("r1", "")) },
		"DeleteRep":     func() error { return s.DeleteRep(ctx(), tenantA, "r1") },
		"ListReps":      func() error { _, _, err := s.ListReps(ctx(), tenantA, store.RepFilter{}, p); return err },
		"CreateTeam":    func() error { return s.CreateTeam(ctx(), tenantA, team("t1")) },
		"GetTeam":       func() error { _, err := s.GetTeam(ctx(), tenantA, "t1"); return err },
		"UpdateTeam":    func() error { return s.UpdateTeam(ctx(), tenantA, team("t1")) },
		"DeleteTeam":    func() error { return s.DeleteTeam(ctx(), tenantA, "t1") },
		"ListTeams":     func() error { _, _, err := s.ListTeams(ctx(), tenantA, store.TeamFilter{}, p); return err },
		"AppendFixes":   func() error { _, err := s.AppendFixes(ctx(), tenantA, "r1", fixes("r1", 0, 1)); return err },
		"ListFixes":     func() error { _, err := s.ListFixes(ctx(), tenantA, "r1", time.Time{}, t0); return err },
		"RecordCheckIn": func() error { _, _, err := s.RecordCheckIn(ctx(), tenantA, checkIn("r1", "a", t0)); return err },
		"RecordCheckOut": func() error {
			_, _, err := s.RecordCheckOut(ctx(), tenantA, checkOut("r1", "a", t0))
			return err
		},
		"RecordCall":    func() error { _, _, err := s.RecordCall(ctx(), tenantA, call("r1", "a", t0)); return err },
		"ListCheckIns":  func() error { _, err := s.ListCheckIns(ctx(), tenantA, "r1", time.Time{}, t0); return err },
		"ListCheckOuts": func() error { _, err := s.ListCheckOuts(ctx(), tenantA, "r1", time.Time{}, t0); return err },
		"ListCalls":     func() error { _, err := s.ListCalls(ctx(), tenantA, "r1", time.Time{}, t0); return err },
		"GetSettings":   func() error { _, err := s.GetSettings(ctx(), tenantA); return err },
		"PutSettings":   func() error { return s.PutSettings(ctx(), tenantA, dwell.DefaultSettings()) },
	}
	for name, call := range calls {
		wantKind(t, name+" after Close", call(), dwell.Unavailable)
	}
}

// testTrackingStates: ListTrackingStates answers each rep (in the order
// asked, a rep asked twice twice, one never paused with nothing) what
// ListTrackingState answers it alone, over windows before, across and
// after the changes.
func testTrackingStates(t *testing.T, h Harness) {
	s := h.Open(t)
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, c := range []dwell.TrackingChange{
		trackingChange("a", "a1", min(10)), trackingChange("a", "a2", min(10)), trackingChange("a", "a3", min(50)),
		trackingChange("b", "b1", min(30)), trackingChange("c", "c1", min(-600)),
	} {
		if c.RequestID == "a2" || c.RequestID == "a3" {
			c.Paused = false
		}
		_, _, err := s.RecordTrackingChange(ctx(), tenantA, c)
		must(t, "RecordTrackingChange", err)
	}
	_, _, err := s.RecordTrackingChange(ctx(), tenantB, trackingChange("a", "other", min(20)))
	must(t, "RecordTrackingChange", err)
	reps := []dwell.RepID{"c", "a", "none", "b", "a"}
	for _, w := range [][2]int{{0, 5}, {0, 40}, {15, 40}, {20, 60}, {60, 90}, {-1000, 1000}, {40, 40}} {
		from, to := min(w[0]), min(w[1])
		got, err := s.ListTrackingStates(ctx(), tenantA, reps, from, to)
		must(t, "ListTrackingStates", err)
		if len(got) != len(reps) {
			t.Fatalf("ListTrackingStates(%v) = %d lists, want %d", reps, len(got), len(reps))
		}
		for i, r := range reps {
			want, err := s.ListTrackingState(ctx(), tenantA, r, from, to)
			must(t, "ListTrackingState", err)
			wantEqual(t, fmt.Sprintf("window %v, rep %s", w, r), got[i], want)
		}
	}
}
