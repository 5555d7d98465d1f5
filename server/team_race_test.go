package server_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// teamRaceRounds is how many times TestMoveIntoDeletedTeam races writes
// of reps into a team with that team's deletion. Before the store checked
// the team inside the rep's write, a rep ended up in the deleted team
// within a few rounds on both stores.
const teamRaceRounds = 150

// wantNoTeam fails unless err is the answer a rep write gets when its
// team does not exist at the server's own check: INVALID_ARGUMENT with
// the violation "team north does not exist" on field.
func wantNoTeam(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantViolation(t, what, err, field)
	if got, want := violations(err)[field], "team north does not exist"; got != want {
		t.Fatalf("%s: violation on %s = %q, want %q", what, field, got, want)
	}
}

// TestMoveIntoDeletedTeam races, round after round, DeleteTeam(north)
// with an UpdateRep moving ida into north, a CreateRep of a new rep in
// north and an ImportReps row putting a third rep in north. None of those
// reps was in north before, so their revisions do not guard them; the
// store's check of the team inside each rep write does. Every round must
// end with no rep in the deleted team (else the managers of a team
// created later under the same id would read it), and each write either
// succeeded (it came first: DeleteTeam took the rep out) or got exactly
// the answer of a team missing at the server's check.
func TestMoveIntoDeletedTeam(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	createIda(t, e)
	var moved, created, imported int
	for round := range teamRaceRounds {
		e.mustCreateTeam(ctx, "north", "m0")
		newcomer := fmt.Sprintf("new%03d", round)
		var upErr, createErr, importErr, delErr error
		var imp *dwellv1.ImportRepsResponse
		var wg sync.WaitGroup
		wg.Go(func() {
			_, upErr = e.dirc.UpdateRep(ctx, &dwellv1.UpdateRepRequest{Rep: &dwellv1.Rep{Name: "reps/ida", Team: "teams/north"}, UpdateMask: mask("team")})
		})
		wg.Go(func() {
			_, createErr = e.dirc.CreateRep(ctx, &dwellv1.CreateRepRequest{RepId: newcomer, Rep: &dwellv1.Rep{DisplayName: "New", TimeZone: "UTC", Team: "teams/north"}})
		})
		wg.Go(func() {
			imp, importErr = importReps(t, e, ctx, []*dwellv1.Rep{repRow("imp", "UTC", "north")})
		})
		wg.Go(func() {
			_, delErr = e.dirc.DeleteTeam(ctx, &dwellv1.DeleteTeamRequest{Name: "teams/north"})
		})
		wg.Wait()
		if delErr != nil {
			t.Fatalf("round %d: DeleteTeam: %v", round, delErr)
		}
		if upErr == nil {
			moved++
		} else {
			wantNoTeam(t, fmt.Sprintf("round %d: UpdateRep into north", round), upErr, "rep.team")
		}
		if createErr == nil {
			created++
		} else {
			wantNoTeam(t, fmt.Sprintf("round %d: CreateRep in north", round), createErr, "rep.team")
		}
		if importErr != nil {
			t.Fatalf("round %d: ImportReps: %v", round, importErr)
		}
		switch {
		case imp.GetStored() == 1 && len(imp.GetErrors()) == 0:
			imported++
		case imp.GetStored() == 0 && len(imp.GetErrors()) == 1:
			re := imp.GetErrors()[0]
			fes := re.GetFieldErrors()
			if re.GetRow() != 0 || re.GetName() != "reps/imp" || len(fes) != 1 || fes[0].GetField() != "team" || fes[0].GetDescription() != "team north does not exist" {
				t.Fatalf("round %d: ImportReps row error %v, want row 0 reps/imp: team: team north does not exist", round, re)
			}
		default:
			t.Fatalf("round %d: ImportReps answered %v, want the row stored or refused for its team", round, imp)
		}
		lr, err := e.dirc.ListReps(ctx, &dwellv1.ListRepsRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range lr.GetReps() {
			if r.GetTeam() != "" {
				// What the reviewer saw: a team created later under the
				// same id hands the rep to its managers.
				e.mustCreateTeam(ctx, "north", "newmgr")
				leak, lerr := e.dirc.ListReps(e.as(acme, dwell.RoleManager, "newmgr"), &dwellv1.ListRepsRequest{Team: "teams/north"})
				t.Fatalf("round %d: %s is in team %q after DeleteTeam succeeded (UpdateRep: %v; CreateRep: %v; ImportReps: %v); the new team's manager lists %v (%v)",
					round, r.GetName(), r.GetTeam(), upErr, createErr, imp, leak.GetReps(), lerr)
			}
		}
		if createErr == nil {
			if _, err := e.dirc.DeleteRep(ctx, &dwellv1.DeleteRepRequest{Name: "reps/" + newcomer}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d rounds: ida moved in before the delete in %d, the new rep created in %d, the row imported in %d; the others were refused", teamRaceRounds, moved, created, imported)
}
