package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkDemo checks a demo's output: live check-ins, the end of the day,
// the team's reports and one day row per rep; and, when the run sent new
// data (wantEvents), live events.
func checkDemo(t *testing.T, r result, reps int, wantEvents bool) {
	t.Helper()
	out := r.stdout
	i := strings.Index(out, "Each rep's day (GetRepDay)")
	if i < 0 {
		t.Fatalf("the demo printed no rep days:\n%s\nstderr:\n%s", out, r.stderr)
	}
	if !strings.Contains(out, "checks in at") || !strings.Contains(out, "-- day over:") {
		t.Errorf("the demo printed no live check-ins or no end of day:\n%s", out)
	}
	if wantEvents && !strings.Contains(out, "event:") {
		t.Errorf("the demo printed no live events:\n%s", out)
	}
	for _, section := range []string{"Time breakdown of teams/demo", "KPIs of teams/demo"} {
		if !strings.Contains(out, section) {
			t.Errorf("the demo lacks %q", section)
		}
	}
	// The column of verified check-ins is not named like KPI 3's
	// "verified visits", which counts every visit.
	if !strings.Contains(out[i:], "VISITS  CHECK-INS OK  WITH CLIENTS") || strings.Contains(out[i:], "VERIFIED") {
		t.Errorf("the demo's day table header:\n%s", out[i:])
	}
	var rows [][]string
	for _, line := range strings.Split(out[i:], "\n") {
		if strings.HasPrefix(line, "demo-") {
			rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1))
		}
	}
	if len(rows) != reps {
		t.Fatalf("the demo's day table has %d rep rows, want %d:\n%s", len(rows), reps, out[i:])
	}
	for _, cells := range rows {
		if len(cells) < 10 {
			t.Fatalf("day row %q: want 10 or 11 columns", cells)
		}
		visits, _ := strconv.Atoi(cells[2])
		fixes, _ := strconv.Atoi(cells[9])
		if visits == 0 || fixes < 100 {
			t.Errorf("%s: %d visits, %d fixes; want a working day's worth", cells[0], visits, fixes)
		}
	}
}

func TestDemoInProcess(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	svgDir := filepath.Join(t.TempDir(), "pictures")
	r := c.must(0, "demo", "--day", "1500ms", "--reps", "3", "--clients", "60", "--svg", svgDir)
	checkDemo(t, r, 3, true)
	for _, rep := range []string{"demo-01", "demo-02", "demo-03"} {
		b, err := os.ReadFile(filepath.Join(svgDir, rep+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		if s := parseSVG(t, b); s.segRects == 0 || s.fixDots < 100 || s.fences == 0 {
			t.Errorf("%s.svg: %+v; want a drawn working day", rep, s)
		}
	}
	if !strings.Contains(r.stdout, "Started dwelld in-process") || !strings.Contains(r.stdout, "gone now") {
		t.Errorf("in-process demo output:\n%s", r.stdout)
	}
}

// TestDemoAgainstRunningServer runs the demo against a running dwelld, as
// the README shows (--addr, --data-dir): in a tenant of its own ("demo",
// which it creates), so that the default tenant's client c0001 stays as
// it was, with no demo team, reps or sites beside it.
func TestDemoAgainstRunningServer(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	rt := newRealTenant(t, c, dataDir)
	for run := range 2 { // the second run reuses the team and reps
		r := c.must(0, "demo", "--data-dir", dataDir, "--day", "1s", "--reps", "2", "--clients", "40")
		if created := strings.Contains(r.stdout, `Created tenant "demo"`); created != (run == 0) {
			t.Errorf("run %d said it created its tenant: %v\n%s", run, created, r.stdout)
		}
		// The second run sends the same fixes again: duplicates change no
		// day, so no event is new.
		checkDemo(t, r, 2, run == 0)
		if strings.Contains(r.stdout, "Started dwelld in-process") {
			t.Fatalf("with DWELL_ADDR the demo started its own server:\n%s", r.stdout)
		}
	}
	// --addr before or after the command also means that server.
	noEnv := &cli{t: t, env: map[string]string{}}
	for _, args := range [][]string{
		{"--addr", addr, "demo", "--data-dir", dataDir, "--day", "300ms", "--reps", "1", "--clients", "40", "--quiet"},
		{"demo", "--addr", addr, "--data-dir", dataDir, "--day", "300ms", "--reps", "1", "--clients", "40", "--quiet"},
	} {
		if r := noEnv.must(0, args...); strings.Contains(r.stdout, "Started dwelld in-process") {
			t.Errorf("dwellctl %s started its own server", strings.Join(args, " "))
		}
	}

	// The demo's data stays: a manager of the team reads a rep's day.
	mgr := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "demo", "--role", "manager", "--subject", "demo-manager").stdout)
	if r := c.with("DWELL_TOKEN", mgr).must(0, "report", "day", "demo-01", "--date", "yesterday"); !strings.Contains(r.stdout, "Visits") {
		t.Errorf("report day after the demo:\n%s", r.stdout)
	}
	rt.check(t, "demo --addr --data-dir")

	// Told to run in the default tenant, it replaces nothing there.
	r := c.must(1, "demo", "--data-dir", dataDir, "--tenant", "default", "--day", "300ms", "--reps", "1", "--clients", "40", "--quiet")
	if !strings.Contains(r.stderr, "clients/c0001") || !strings.Contains(r.stderr, "--tenant") {
		t.Errorf("demo --tenant default with a client c0001 of its own: stderr\n%s", r.stderr)
	}
	rt.check(t, "demo --tenant default")
	c.must(2, "demo", "--reps", "0")
	if r := c.must(2, "demo", "--day", "1s"); !strings.Contains(r.stderr, "--data-dir") {
		t.Errorf("demo against a server without a token: %s", r.stderr)
	}
}
