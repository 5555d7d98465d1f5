package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// runRevisions checks the store-maintained revisions and the conditional
// writes built on them (store's "Revisions and conditional writes").
func runRevisions(t *testing.T, h Harness) {
	for _, r := range revisionedKinds() {
		t.Run("Revisions/"+r.name, func(t *testing.T) { testRevisions(t, h, r) })
		t.Run("ConcurrentConditional/"+r.name, func(t *testing.T) { testConcurrentConditional(t, h, r) })
	}
	for _, k := range lifeKinds() {
		t.Run("Revisions/NextLife/"+k.name, func(t *testing.T) { testNextLife(t, h, k) })
	}
	t.Run("Revisions/settings", func(t *testing.T) { testSettingsRevisions(t, h) })
	t.Run("Revisions/DeleteTeam", func(t *testing.T) { testDeleteTeamRaisesRevisions(t, h) })
}

// revisioned is one kind of record with a revision, seen as one type, so
// that clients, reps, teams, partner accounts and opportunities share the
// cases.
type revisioned struct {
	name   string
	create func(s store.Store) error
	// get reads the record: its revision and a value that tells its
	// versions apart.
	get func(s store.Store) (rev int64, val string, err error)
	// update writes the record with value val, conditionally on rev.
	update func(s store.Store, rev int64, val string) error
	// put writes it with value val through the kind's unconditional bulk
	// write, if it has one.
	put func(s store.Store, val string) error
	// missing updates a record that does not exist, conditionally on rev.
	missing func(s store.Store, rev int64) error
}

func revisionedKinds() []revisioned {
	return []revisioned{
		{
			name: "client",
			create: func(s store.Store) error {
				return s.CreateClient(ctx(), tenantA, client("c1", dwell.ClientKindProspect))
			},
			get: func(s store.Store) (int64, string, error) {
				c, err := s.GetClient(ctx(), tenantA, "c1")
				return c.Revision, c.DisplayName, err
			},
			update: func(s store.Store, rev int64, val string) error {
				c := client("c1", dwell.ClientKindProspect)
				c.DisplayName, c.Revision = val, rev
				return s.UpdateClient(ctx(), tenantA, c)
			},
			put: func(s store.Store, val string) error {
				c := client("c1", dwell.ClientKindProspect)
				c.DisplayName = val
				return s.PutClients(ctx(), tenantA, []dwell.Client{c, client("c2", dwell.ClientKindCustomer)})
			},
			missing: func(s store.Store, rev int64) error {
				c := client("nope", dwell.ClientKindProspect)
				c.Revision = rev
				return s.UpdateClient(ctx(), tenantA, c)
			},
		},
		{
			name:   "rep",
			create: func(s store.Store) error { return s.CreateRep(ctx(), tenantA, rep("r1", "")) },
			get: func(s store.Store) (int64, string, error) {
				r, err := s.GetRep(ctx(), tenantA, "r1")
				return r.Revision, r.DisplayName, err
			},
			update: func(s store.Store, rev int64, val string) error {
				r := rep("r1", "")
				r.DisplayName, r.Revision = val, rev
				return s.UpdateRep(ctx(), tenantA, r)
			},
			missing: func(s store.Store, rev int64) error {
				r := rep("nope", "")
				r.Revision = rev
				return s.UpdateRep(ctx(), tenantA, r)
			},
		},
		{
			name:   "team",
			create: func(s store.Store) error { return s.CreateTeam(ctx(), tenantA, team("t1", "m1")) },
			get: func(s store.Store) (int64, string, error) {
				tm, err := s.GetTeam(ctx(), tenantA, "t1")
				return tm.Revision, tm.DisplayName, err
			},
			update: func(s store.Store, rev int64, val string) error {
				tm := team("t1", "m1")
				tm.DisplayName, tm.Revision = val, rev
				return s.UpdateTeam(ctx(), tenantA, tm)
			},
			missing: func(s store.Store, rev int64) error {
				tm := team("nope")
				tm.Revision = rev
				return s.UpdateTeam(ctx(), tenantA, tm)
			},
		},
		{
			name: "partner",
			create: func(s store.Store) error {
				a, _, err := s.CreatePartner(ctx(), tenantA, partner("p1", "req-p1", dwell.ScopeDirectoryRead))
				if err == nil && a.Revision != 1 {
					return fmt.Errorf("CreatePartner returned revision %d, want 1", a.Revision)
				}
				return err
			},
			get: func(s store.Store) (int64, string, error) {
				a, err := s.GetPartner(ctx(), tenantA, "p1")
				return a.Revision, a.DisplayName, err
			},
			update: func(s store.Store, rev int64, val string) error {
				a := partner("p1", "req-p1", dwell.ScopeDirectoryRead)
				a.DisplayName, a.Revision = val, rev
				return s.UpdatePartner(ctx(), tenantA, a)
			},
			missing: func(s store.Store, rev int64) error {
				a := partner("nope", "", dwell.ScopeDirectoryRead)
				a.Revision = rev
				return s.UpdatePartner(ctx(), tenantA, a)
			},
		},
		{
			name: "opportunity",
			create: func(s store.Store) error {
				_, err := s.PutOpportunities(ctx(), tenantA, "req-o1", []dwell.Opportunity{opportunity("o1", "r1", "c1", dwell.StageOpen, 100)})
				return err
			},
			get: func(s store.Store) (int64, string, error) {
				o, err := s.GetOpportunity(ctx(), tenantA, "o1")
				return o.Revision, o.ExternalID, err
			},
			update: func(s store.Store, rev int64, val string) error {
				o := opportunity("o1", "r1", "c1", dwell.StageOpen, 100)
				o.ExternalID, o.Revision = val, rev
				return s.UpdateOpportunity(ctx(), tenantA, o)
			},
			put: func(s store.Store, val string) error {
				o := opportunity("o1", "r2", "c1", dwell.StageOpen, 100)
				o.ExternalID = val
				_, err := s.PutOpportunities(ctx(), tenantA, "", []dwell.Opportunity{o})
				return err
			},
			missing: func(s store.Store, rev int64) error {
				o := opportunity("nope", "r1", "c1", dwell.StageOpen, 100)
				o.Revision = rev
				return s.UpdateOpportunity(ctx(), tenantA, o)
			},
		},
	}
}

// wantRevision reads r's record and fails unless it has revision rev and
// value val.
func wantRevision(t *testing.T, s store.Store, r revisioned, what string, rev int64, val string) {
	t.Helper()
	gotRev, gotVal, err := r.get(s)
	must(t, what, err)
	if gotRev != rev || gotVal != val {
		t.Fatalf("%s: revision %d, value %q; want %d, %q", what, gotRev, gotVal, rev, val)
	}
}

func testRevisions(t *testing.T, h Harness, r revisioned) {
	s := h.Open(t)
	must(t, "create", r.create(s))
	_, first, err := r.get(s)
	must(t, "get", err)
	wantRevision(t, s, r, "created", 1, first)

	must(t, "unconditional update", r.update(s, 0, "v2"))
	wantRevision(t, s, r, "after an unconditional update", 2, "v2")
	must(t, "update at the current revision", r.update(s, 2, "v3"))
	wantRevision(t, s, r, "after a conditional update", 3, "v3")

	for _, stale := range []int64{1, 2, 4, dwell.RevisionAbsent} {
		wantKind(t, fmt.Sprintf("update at revision %d of 3", stale), r.update(s, stale, "lost"), dwell.Conflict)
		wantRevision(t, s, r, fmt.Sprintf("after a refused update at %d", stale), 3, "v3")
	}
	wantKind(t, "conditional update of a missing record", r.missing(s, 3), dwell.NotFound)

	if r.put != nil {
		must(t, "bulk put", r.put(s, "v4"))
		wantRevision(t, s, r, "after a bulk put", 4, "v4")
		wantKind(t, "update at the revision before the put", r.update(s, 3, "lost"), dwell.Conflict)
		wantRevision(t, s, r, "after a refused update", 4, "v4")
		must(t, "update after the put", r.update(s, 4, "v5"))
		wantRevision(t, s, r, "after an update after the put", 5, "v5")
	}
	if h.Reopen != nil {
		rev, val, err := r.get(s)
		must(t, "get", err)
		s = h.Reopen(t, s)
		wantRevision(t, s, r, "after reopening", rev, val)
	}
}

// testConcurrentConditional has many writers update one record at once,
// each conditionally on the revision they all read (which a
// group-committing store may apply in one transaction, and a shared
// database in concurrent ones): exactly one may win, the others get
// dwell.Conflict, and the record holds the winner's value.
func testConcurrentConditional(t *testing.T, h Harness, r revisioned) {
	s := h.Open(t)
	must(t, "create", r.create(s))
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = r.update(s, 1, fmt.Sprint("writer ", i)) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both updated revision 1", winner, i)
		case err == nil:
			winner = i
		case !dwell.Is(dwell.Conflict, err):
			t.Fatalf("writer %d: %v, want nil or kind %q", i, err, dwell.Conflict)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer of %d updated revision 1", n)
	}
	wantRevision(t, s, r, "after the race", 2, fmt.Sprint("writer ", winner))
}

func testSettingsRevisions(t *testing.T, h Harness) {
	s := h.Open(t)
	get := func(what string) dwell.Settings {
		t.Helper()
		set, err := s.GetSettings(ctx(), tenantA)
		must(t, what, err)
		return set
	}
	if got := get("defaults"); got.Revision != 0 {
		t.Fatalf("default settings have revision %d, want 0", got.Revision)
	}
	set := dwell.DefaultSettings()
	set.IdleMin = 7 * time.Minute
	wantKind(t, "put at revision 1 while none are stored", s.PutSettings(ctx(), tenantA, withRevision(set, 1)), dwell.Conflict)
	if got := get("after the refused put"); got.Revision != 0 || got.IdleMin != dwell.DefaultSettings().IdleMin {
		t.Fatalf("after a refused put: %+v, want the defaults", got)
	}
	must(t, "first put, none stored", s.PutSettings(ctx(), tenantA, withRevision(set, dwell.RevisionAbsent)))
	if got := get("after the first put"); got.Revision != 1 || got.IdleMin != 7*time.Minute {
		t.Fatalf("after the first put: %+v, want revision 1, idle 7m", got)
	}
	set.IdleMin = 9 * time.Minute
	wantKind(t, "second put of settings read when none were stored", s.PutSettings(ctx(), tenantA, withRevision(set, dwell.RevisionAbsent)), dwell.Conflict)
	wantKind(t, "put at a later revision", s.PutSettings(ctx(), tenantA, withRevision(set, 2)), dwell.Conflict)
	if got := get("after the refused puts"); got.Revision != 1 || got.IdleMin != 7*time.Minute {
		t.Fatalf("after refused puts: %+v, want revision 1, idle 7m", got)
	}
	must(t, "put at the current revision", s.PutSettings(ctx(), tenantA, withRevision(set, 1)))
	must(t, "unconditional put", s.PutSettings(ctx(), tenantA, withRevision(set, 0)))
	if got := get("after two puts"); got.Revision != 3 || got.IdleMin != 9*time.Minute {
		t.Fatalf("after two more puts: %+v, want revision 3, idle 9m", got)
	}
	if got, err := s.GetSettings(ctx(), tenantB); err != nil || got.Revision != 0 {
		t.Fatalf("another tenant's settings: revision %d, %v; want 0, nil", got.Revision, err)
	}
}

func withRevision(s dwell.Settings, rev int64) dwell.Settings {
	s.Revision = rev
	return s
}

// testDeleteTeamRaisesRevisions checks that DeleteTeam, which clears the
// team of its reps, raises their revisions: a masked update of a rep read
// before it must not put the deleted team back.
func testDeleteTeamRaisesRevisions(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, "team", s.CreateTeam(ctx(), tenantA, team("t1", "m1")))
	must(t, "rep", s.CreateRep(ctx(), tenantA, rep("r1", "t1")))
	must(t, "other rep", s.CreateRep(ctx(), tenantA, rep("r2", "")))
	read, err := s.GetRep(ctx(), tenantA, "r1")
	must(t, "get", err)
	must(t, "delete team", s.DeleteTeam(ctx(), tenantA, "t1"))
	got, err := s.GetRep(ctx(), tenantA, "r1")
	must(t, "get", err)
	if got.Revision != 2 || got.Team != "" {
		t.Fatalf("rep of the deleted team: revision %d, team %q; want 2, none", got.Revision, got.Team)
	}
	read.DisplayName = "renamed"
	wantKind(t, "update of the rep read before", s.UpdateRep(ctx(), tenantA, read), dwell.Conflict)
	other, err := s.GetRep(ctx(), tenantA, "r2")
	must(t, "get", err)
	if other.Revision != 1 {
		t.Fatalf("rep of no team: revision %d, want 1", other.Revision)
	}
}

// lifeKind is a kind of record that can be deleted and created again
// under its id, seen as one type: clients, reps, teams and partner
// accounts. Each life starts again at revision 1; its CreateTime tells
// the lives apart.
type lifeKind struct {
	name string
	// create stores the record anew, created at created, with value val.
	create func(s store.Store, created time.Time, val string) error
	// get reads it: its revision, creation instant and value.
	get func(s store.Store) (rev int64, created time.Time, val string, err error)
	// update writes it with value val conditionally on rev, as read in the
	// life created at created.
	update func(s store.Store, rev int64, created time.Time, val string) error
	delete func(s store.Store) error
	// goneTeam, if not nil, is update with a team that does not exist.
	goneTeam func(s store.Store, rev int64, created time.Time) error
}

func lifeKinds() []lifeKind {
	return []lifeKind{
		{
			name: "client",
			create: func(s store.Store, created time.Time, val string) error {
				c := client("c1", dwell.ClientKindProspect)
				c.DisplayName, c.CreateTime = val, created
				return s.CreateClient(ctx(), tenantA, c)
			},
			get: func(s store.Store) (int64, time.Time, string, error) {
				c, err := s.GetClient(ctx(), tenantA, "c1")
				return c.Revision, c.CreateTime, c.DisplayName, err
			},
			update: func(s store.Store, rev int64, created time.Time, val string) error {
				c := client("c1", dwell.ClientKindProspect)
				c.DisplayName, c.Revision, c.CreateTime = val, rev, created
				return s.UpdateClient(ctx(), tenantA, c)
			},
			delete: func(s store.Store) error { return s.DeleteClient(ctx(), tenantA, "c1") },
		},
		{
			name: "rep",
			create: func(s store.Store, created time.Time, val string) error {
				r := rep("r1", "")
				r.DisplayName, r.CreateTime = val, created
				return s.CreateRep(ctx(), tenantA, r)
			},
			get: func(s store.Store) (int64, time.Time, string, error) {
				r, err := s.GetRep(ctx(), tenantA, "r1")
				return r.Revision, r.CreateTime, r.DisplayName, err
			},
			update: func(s store.Store, rev int64, created time.Time, val string) error {
				r := rep("r1", "")
				r.DisplayName, r.Revision, r.CreateTime = val, rev, created
				return s.UpdateRep(ctx(), tenantA, r)
			},
			delete: func(s store.Store) error { return s.DeleteRep(ctx(), tenantA, "r1") },
			goneTeam: func(s store.Store, rev int64, created time.Time) error {
				r := rep("r1", "gone")
				r.DisplayName, r.Revision, r.CreateTime = "stale", rev, created
				return s.UpdateRep(ctx(), tenantA, r)
			},
		},
		{
			name: "team",
			create: func(s store.Store, created time.Time, val string) error {
				tm := team("t1", "m1")
				tm.DisplayName, tm.CreateTime = val, created
				return s.CreateTeam(ctx(), tenantA, tm)
			},
			get: func(s store.Store) (int64, time.Time, string, error) {
				tm, err := s.GetTeam(ctx(), tenantA, "t1")
				return tm.Revision, tm.CreateTime, tm.DisplayName, err
			},
			update: func(s store.Store, rev int64, created time.Time, val string) error {
				tm := team("t1", "m1")
				tm.DisplayName, tm.Revision, tm.CreateTime = val, rev, created
				return s.UpdateTeam(ctx(), tenantA, tm)
			},
			delete: func(s store.Store) error { return s.DeleteTeam(ctx(), tenantA, "t1") },
		},
		{
			name: "partner",
			create: func(s store.Store, created time.Time, val string) error {
				a := partner("p1", "req-p1-"+val, dwell.ScopeDirectoryRead)
				a.DisplayName, a.CreateTime = val, created
				return createPartner(s, tenantA, a)
			},
			get: func(s store.Store) (int64, time.Time, string, error) {
				a, err := s.GetPartner(ctx(), tenantA, "p1")
				return a.Revision, a.CreateTime, a.DisplayName, err
			},
			update: func(s store.Store, rev int64, created time.Time, val string) error {
				a := partner("p1", "req-p1-"+val, dwell.ScopeDirectoryRead)
				a.DisplayName, a.Revision, a.CreateTime = val, rev, created
				return s.UpdatePartner(ctx(), tenantA, a)
			},
			delete: func(s store.Store) error { return s.DeletePartner(ctx(), tenantA, "p1", t0.Add(time.Minute)) },
		},
	}
}

// testNextLife checks that a conditional update read in one life of a
// record does not pass on the next one, created again under the same id
// and back at revision 1: it fails with dwell.Conflict and writes nothing
// (else a masked update racing a delete and a create would write the
// deleted record's fields, a client's geofence among them, over the new
// one), ahead of the update's own checks (a rep's team); an update read
// in the new life passes.
func testNextLife(t *testing.T, h Harness, k lifeKind) {
	s := h.Open(t)
	must(t, "create life 1", k.create(s, t0, "life 1"))
	rev, created1, _, err := k.get(s)
	must(t, "get life 1", err)
	must(t, "delete", k.delete(s))
	created2 := t0.Add(time.Hour + 7) // nanoseconds apart too
	must(t, "create life 2", k.create(s, created2, "life 2"))
	want := func(what string, rev int64, created time.Time, val string) {
		t.Helper()
		gotRev, gotCreated, gotVal, err := k.get(s)
		must(t, what, err)
		if gotRev != rev || !gotCreated.Equal(created) || gotVal != val {
			t.Fatalf("%s: revision %d, created %v, value %q; want %d, %v, %q", what, gotRev, gotCreated, gotVal, rev, created, val)
		}
	}
	want("life 2", 1, created2, "life 2")

	wantKind(t, "update read in life 1, at its revision 1", k.update(s, rev, created1, "stale"), dwell.Conflict)
	want("after the refused update", 1, created2, "life 2")
	if k.goneTeam != nil {
		wantKind(t, "update read in life 1 with a team that is gone", k.goneTeam(s, rev, created1), dwell.Conflict)
		want("after the refused update with a gone team", 1, created2, "life 2")
	}
	must(t, "update read in life 2", k.update(s, 1, created2, "v2"))
	want("after the update read in life 2", 2, created2, "v2")
}
