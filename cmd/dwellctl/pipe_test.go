//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Environment of a test binary run again as dwellctl itself (main, as a
// shell runs it), with these arguments as JSON.
const (
	asDwellctlEnv  = "DWELLCTL_TEST_AS_MAIN"
	asDwellctlArgs = "DWELLCTL_TEST_ARGS"
)

// runAsDwellctl runs main when this test binary was started by
// startDwellctl, and reports whether it did (then the test must return:
// main has exited the process already).
func runAsDwellctl(t *testing.T) bool {
	if os.Getenv(asDwellctlEnv) != "1" {
		return false
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(asDwellctlArgs)), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"dwellctl"}, args...)
	main()
	return true
}

// startDwellctl starts this test binary again, running only test (which
// calls runAsDwellctl first), as "dwellctl args" with env added, its
// stdout a pipe whose reader has gone (as "dwellctl ... | head -1" once
// head has exited) and its stderr written to stderr.
func startDwellctl(t *testing.T, test string, env []string, stderr *syncWriter, args ...string) *exec.Cmd {
	t.Helper()
	a, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader is gone before anything is written
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(append(os.Environ(), asDwellctlEnv+"=1", asDwellctlArgs+"="+string(a)), env...)
	cmd.Stdout, cmd.Stderr = w, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A test that fails before it waited for the process ends it; killing
	// one already waited for does nothing.
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

// exitOf waits for cmd and returns its exit status, or -1 and how it
// ended when a signal killed it or it could not be waited for.
func exitOf(cmd *exec.Cmd) (int, string) {
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1, err.Error()
	}
	if st := cmd.ProcessState; st.ExitCode() >= 0 {
		return st.ExitCode(), ""
	}
	return -1, cmd.ProcessState.String()
}

// TestClosedPipeExits1: dwellctl writing to a pipe whose reader has gone
// (dwellctl clients list --all | head -1, clients import FILE | true) is
// not killed by SIGPIPE without a word: it exits 1 with the broken pipe on
// stderr, as the exit status documentation says, and the import is done.
func TestClosedPipeExits1(t *testing.T) {
	if runAsDwellctl(t) {
		return
	}
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	a := c.with("DWELL_TOKEN", tok)
	file := t.TempDir() + "/clients.csv"
	if err := os.WriteFile(file, []byte("id,display_name,kind,lat,lng,radius_m\nacme,Acme,prospect,-6.2,106.8,50\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DWELL_ADDR=" + addr, "DWELL_TOKEN=" + tok}
	for _, tc := range []struct {
		args   []string
		prefix string
	}{
		{[]string{"clients", "import", file}, "dwellctl clients import: writing the output: "},
		{[]string{"clients", "list", "--all"}, "dwellctl clients list: writing the output: "},
		{[]string{"help"}, "dwellctl: writing the output: "},
	} {
		var stderr syncWriter
		code, sig := exitOf(startDwellctl(t, "TestClosedPipeExits1", env, &stderr, tc.args...))
		if code != exitFail || !strings.Contains(stderr.String(), tc.prefix) || !strings.Contains(stderr.String(), "broken pipe") {
			t.Errorf("dwellctl %s | (closed): exit %d %s, stderr %q; want 1 and %q naming the broken pipe",
				strings.Join(tc.args, " "), code, sig, stderr.String(), tc.prefix)
		}
	}
	// The import was done; only its summary was lost.
	if r := a.must(0, "clients", "get", "acme"); !strings.Contains(r.stdout, "clients/acme") {
		t.Errorf("clients get acme after the import:\n%s", r.stdout)
	}
}

// TestWatchClosedPipePrintsCursor: a watch whose reader has gone (watch |
// head -2) stops at its first event with status 1 and tells on stderr the
// cursor to resume from, so that nothing is lost to the partner.
func TestWatchClosedPipePrintsCursor(t *testing.T) {
	if runAsDwellctl(t) {
		return
	}
	w := newWatchTenant(t, nil)
	admin := w.cli.with("DWELL_TOKEN", w.adminTok)
	admin.must(0, "reps", "create", "rep-1", "--name", "Budi Santoso", "--time-zone", "Asia/Jakarta")
	var stderr syncWriter
	cmd := startDwellctl(t, "TestWatchClosedPipePrintsCursor", []string{"DWELL_ADDR=" + w.addr, "DWELL_TOKEN=" + w.partnerTok}, &stderr, "watch")
	waitFor(t, "the watch's stream", func() bool { return strings.Contains(stderr.String(), "Watching new events.") }, stderr.String)

	day, err := sim.Day(watchSeed, w.city, sim.Realistic(), sim.DayConfig{Rep: "rep-1", Date: w.date, Loc: w.jakarta})
	if err != nil {
		t.Fatal(err)
	}
	ic := dwellv1.NewIngestServiceClient(grpcConn(t, w.addr, w.partnerTok))
	exited := make(chan struct{})
	var code int
	var sig string
	go func() { defer close(exited); code, sig = exitOf(cmd) }()
	for _, b := range day.Uploads {
		if _, err := ic.UploadPings(ctxT(t), &dwellv1.UploadPingsRequest{Rep: "reps/rep-1", Fixes: simFixesPB(b.Fixes)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("the watch still runs 60 s after the day's events; stderr:\n%s", stderr.String())
	}
	errs := stderr.String()
	if code != exitFail || !strings.Contains(errs, "Resume with: dwellctl watch --from ") || !strings.Contains(errs, "broken pipe") || strings.Contains(errs, "reconnecting") {
		t.Fatalf("watch | (closed): exit %d %s, stderr:\n%s\nwant status 1, the broken pipe and the cursor to resume from, without reconnecting", code, sig, errs)
	}
	// The cursor is the stream's starting position: no event reached the
	// reader, so a watch resumed from it gets the day's first event.
	cursor := strings.Fields(errs[strings.Index(errs, "Resume with: dwellctl watch --from "):])[5]
	resumed := startWatch(t, w.cli.with("DWELL_TOKEN", w.partnerTok), "--from", cursor)
	waitFor(t, "the resumed watch's events", func() bool { return len(resumed.cursors()) > 0 }, resumed.errs.String)
}
