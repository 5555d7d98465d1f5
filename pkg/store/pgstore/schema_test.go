package pgstore_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestRevisionColumnAdded: a database made before records had revisions
// (its tables without the column) gets the column at Open, every stored
// record at revision 1.
func TestRevisionColumnAdded(t *testing.T) {
	dsn := pgtest.DSN(t)
	st := openPG(t, dsn)
	ctx := t.Context()
	if err := st.CreateTeam(ctx, "acme", dwell.Team{ID: "north", DisplayName: "North"}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"reps", "clients", "teams", "settings", "partners", "opportunities"} {
		if _, err := conn.Exec(ctx, `ALTER TABLE `+table+` DROP COLUMN revision`); err != nil {
			t.Fatal(err)
		}
	}
	again := openPG(t, dsn)
	tm, err := again.GetTeam(ctx, "acme", "north")
	if err != nil || tm.Revision != 1 {
		t.Fatalf("GetTeam after the column was added back = %+v, %v; want revision 1", tm, err)
	}
	tm.DisplayName = "North 2"
	if err := again.UpdateTeam(ctx, "acme", tm); err != nil {
		t.Fatalf("UpdateTeam at revision 1: %v", err)
	}
	if tm, err := again.GetTeam(ctx, "acme", "north"); err != nil || tm.Revision != 2 {
		t.Fatalf("GetTeam after UpdateTeam = %+v, %v; want revision 2", tm, err)
	}
}
