package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestStdoutWriteFailureExits1 checks that output lost to a failed write
// (stdout on a full disk) is never a success: every command exits 1 with
// the write error once on stderr, whether or not it checked the error of
// its own printing, and the import it ran is stored all the same.
func TestStdoutWriteFailureExits1(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	a := c.with("DWELL_TOKEN", tok)
	csv := "id,display_name,kind,lat,lng,radius_m\na,A,prospect,-6.2,106.8,50\n"
	for _, tc := range []struct {
		args   []string
		prefix string
	}{
		{[]string{"clients", "import", "-", "--format", "csv", "-o", "json"}, "dwellctl clients import: writing the output: "},
		{[]string{"clients", "import", "-", "--format", "csv"}, "dwellctl clients import: writing the output: "},
		{[]string{"clients", "list", "-o", "json"}, "dwellctl clients list: writing the output: "},
		{[]string{"clients", "list"}, "dwellctl clients list: writing the output: "},
		{[]string{"clients", "get", "a"}, "dwellctl clients get: writing the output: "},
		{[]string{"settings", "get", "-o", "json"}, "dwellctl settings: "}, // checks the error itself
		{[]string{"help"}, "dwellctl: writing the output: "},
	} {
		var errb bytes.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(csv), failingWriter{}, &errb, func(k string) string { return a.env[k] })
		if code != exitFail {
			t.Errorf("dwellctl %s with stdout failing (ENOSPC): exit %d, stderr %q; want 1", strings.Join(tc.args, " "), code, errb.String())
		}
		if tc.prefix == "" {
			continue
		}
		if n := strings.Count(errb.String(), "no space left on device"); n != 1 || !strings.Contains(errb.String(), tc.prefix+"no space left on device\n") {
			t.Errorf("dwellctl %s with stdout failing: stderr %q, want %q once", strings.Join(tc.args, " "), errb.String(), tc.prefix+"no space left on device")
		}
	}
	// The import was done; only its summary was lost.
	if r := a.must(0, "clients", "get", "a"); !strings.Contains(r.stdout, "clients/a") {
		t.Errorf("clients get a after the import:\n%s", r.stdout)
	}
	a.must(0, "reps", "create", "r1", "--name", "R1", "--time-zone", "Asia/Jakarta")
	var errb bytes.Buffer
	code := run(context.Background(), []string{"report", "kpis", "--rep", "r1", "-o", "json"}, strings.NewReader(""), failingWriter{}, &errb, func(k string) string { return a.env[k] })
	if code != exitFail || errb.String() != "dwellctl report kpis: writing the output: no space left on device\n" {
		t.Errorf("report kpis -o json with stdout failing: exit %d, stderr %q", code, errb.String())
	}
}

// TestUsageHidesToken: a usage message (a command's flags misplaced) lists
// the global flags, but not the bearer token given before the command,
// which would stay in a terminal's or a CI job's log.
func TestUsageHidesToken(t *testing.T) {
	const secret = "eyJsecret-token-value"
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--token", secret, "teams", "create", "north", "--bogus"}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	if code == exitOK {
		t.Fatalf("teams create with a bad flag: exit 0")
	}
	if strings.Contains(out.String()+errb.String(), secret) {
		t.Errorf("the usage message shows the bearer token:\n%s", errb.String())
	}
	if !strings.Contains(errb.String(), "-token") {
		t.Errorf("the usage message lists no -token flag:\n%s", errb.String())
	}
}
