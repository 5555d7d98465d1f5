package main

import (
	"strings"
	"testing"
)

// TestRepsImport loads reps from CSV through a real server: good rows are
// stored with their hours and team, a row the server refuses is listed by
// its line, a malformed file sends nothing.
func TestRepsImport(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	admin := c.with("DWELL_TOKEN", tok)
	admin.must(0, "teams", "create", "north", "--name", "North")

	csv := "id,name,time_zone,team,hours,email\n" +
		"budi,Budi,Asia/Jakarta,north,\"mon-fri 08:00-17:00, sat 09:00-13:00\",budi@example.com\n" +
		"sari,Sari,Asia/Jakarta,,,\n" +
		"eko,Eko,Mars/Olympus,north,,\n"
	r := admin.runIn(csv, "reps", "import", "-", "-o", "json")
	if r.code != 1 {
		t.Fatalf("reps import: exit %d, want 1 (a row failed)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum := decodeJSON[struct {
		Received, Stored int64
		Errors           []importRowJSON
	}](t, r.stdout)
	if sum.Received != 3 || sum.Stored != 2 || len(sum.Errors) != 1 || sum.Errors[0].Line != 4 || sum.Errors[0].FieldErrors[0].Field != "time_zone" {
		t.Fatalf("reps import -o json = %s, want 3 received, 2 stored, line 4 failed on time_zone", r.stdout)
	}
	r = admin.must(0, "reps", "get", "budi", "-o", "json")
	if !strings.Contains(r.stdout, `"team": "teams/north"`) || !strings.Contains(r.stdout, "budi@example.com") || strings.Count(r.stdout, `"start_minute"`) != 6 {
		t.Fatalf("reps get budi after import = %s", r.stdout)
	}

	// A malformed file: nothing is sent.
	if r := admin.runIn("id,name,time_zone,hours\nx,X,UTC,someday 25:00-26:00\n", "reps", "import", "-"); r.code != 1 || !strings.Contains(r.stderr, "line 2") || !strings.Contains(r.stderr, "nothing was sent") {
		t.Fatalf("malformed reps import: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := admin.must(1, "reps", "get", "x"); !strings.Contains(r.stderr, "NOT_FOUND") {
		t.Fatalf("reps get x after a malformed import: %q", r.stderr)
	}
}
