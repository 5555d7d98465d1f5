package pgstore_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// TestRevisionColumnAdded: a database of the first release (layout 1, its
// tables without revision columns) gets the column in every table at
// Open, every stored record at revision 1, and is raised to layout 3; a
// database of a newer layout is refused.
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
	tables := []string{"reps", "clients", "teams", "settings", "partners", "opportunities"}
	for _, table := range tables {
		if _, err := conn.Exec(ctx, `ALTER TABLE `+table+` DROP COLUMN revision`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `UPDATE dwell_meta SET value = 1 WHERE name = 'layout'`); err != nil {
		t.Fatal(err)
	}
	again := openPG(t, dsn)
	for _, table := range tables {
		var ok bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'revision')`, table).Scan(&ok)
		if err != nil || !ok {
			t.Fatalf("table %s has no revision column after Open (%v)", table, err)
		}
	}
	var layout int64
	if err := conn.QueryRow(ctx, `SELECT value FROM dwell_meta WHERE name = 'layout'`).Scan(&layout); err != nil || layout != 3 {
		t.Fatalf("layout after Open = %d, %v; want 3", layout, err)
	}
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
	if _, err := conn.Exec(ctx, `UPDATE dwell_meta SET value = 4 WHERE name = 'layout'`); err != nil {
		t.Fatal(err)
	}
	if s, err := pgstore.Open(ctx, dsn, pgstore.Options{}); !dwell.Is(dwell.FailedPrecondition, err) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a layout 4 database = %v, want kind FailedPrecondition", err)
	}
}
