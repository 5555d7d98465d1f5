package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// TestLoad runs a short load against a real server and checks the report
// against what the server stored.
func TestLoad(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	r := c.must(0, "load", "--data-dir", dataDir, "--reps", "12", "--streams", "4", "--batch", "50", "--duration", "1500ms", "-o", "json", "--progress")
	rep := decodeJSON[loadReport](t, r.stdout)
	if rep.Accepted == 0 || rep.Accepted != rep.FixesSent || rep.Duplicates != 0 || rep.Rejected != 0 || len(rep.Errors) != 0 {
		t.Fatalf("load report: %+v; want every fix sent accepted, no duplicates, rejections or errors\nstderr:\n%s", rep, r.stderr)
	}
	if rep.BatchesAcked != rep.BatchesSent || rep.FixesSent != rep.BatchesSent*50 || rep.Streams != 4 || rep.Reps != 12 {
		t.Fatalf("load report: %+v; want every batch of 50 acknowledged", rep)
	}
	l := rep.LatencyMS
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || rep.FixesPerSecond <= 0 {
		t.Fatalf("latency %+v, %g fixes/s: want 0 < p50 <= p90 <= p99 <= max and a positive rate", l, rep.FixesPerSecond)
	}
	if !strings.Contains(r.stderr, "fixes accepted") {
		t.Errorf("no progress line on stderr:\n%s", r.stderr)
	}

	// The server holds exactly what was acknowledged: the fix counts of
	// the reps' days add up to the accepted fixes.
	tok, err := mintToken(dataDir, dwell.Principal{Tenant: "default", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := dwellv1.NewReportServiceClient(grpcConn(t, addr, tok))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stored int64
	// Each rep's replay fills days backwards from a week ago, so its days
	// with fixes are contiguous.
	for i := 1; i <= 12; i++ {
		for d := 0; d < loadDaysBack; d++ {
			day := dwellDate(time.Now().AddDate(0, 0, -7-d), jakartaZone(t))
			resp, err := rc.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: fmt.Sprintf("reps/load-%04d", i), Date: pbDate(day)})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetFixCount() == 0 {
				break
			}
			stored += int64(resp.GetFixCount())
		}
	}
	// The day after the replayed one holds nothing.
	extra, err := rc.GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/load-0001", Date: pbDate(dwellDate(time.Now().AddDate(0, 0, -6), jakartaZone(t)))})
	if err != nil {
		t.Fatal(err)
	}
	stored += int64(extra.GetFixCount())
	if stored != rep.Accepted {
		t.Fatalf("the reps' days hold %d fixes, the load reported %d accepted", stored, rep.Accepted)
	}

	// A second run reuses the reps and sends fresh fixes; the table form.
	r = c.must(0, "load", "--data-dir", dataDir, "--reps", "3", "--streams", "8", "--batch", "10", "--rate", "200", "--duration", "500ms")
	for _, want := range []string{"3 over 3 streams, batches of 10, 200 fixes/s per rep", "Ack latency:", "p99", "Errors:", "none"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("load table lacks %q:\n%s", want, r.stdout)
		}
	}

	// An admin may set up the reps but not upload for them: the run stops
	// at once and says why.
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	r = c.with("DWELL_TOKEN", admin).must(1, "load", "--reps", "3", "--duration", "20s", "-o", "json")
	if rep := decodeJSON[loadReport](t, r.stdout); rep.Errors["PERMISSION_DENIED"] == 0 || rep.Seconds > 10 || !strings.Contains(r.stderr, "partner token") {
		t.Errorf("load with an admin token: %+v\n%s", rep, r.stderr)
	}

	c.must(2, "load", "--batch", "0")
	c.must(2, "load", "--duration", "0s")
	if r := c.must(1, "load", "--data-dir", t.TempDir(), "--duration", "1s"); !strings.Contains(r.stderr, "keys") {
		t.Errorf("load with a data dir without keys: %s", r.stderr)
	}
}

func jakartaZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLoadCountsErrors stops the server in the middle of a run: the load
// goes on trying, counts the failures under their status code and exits 1.
func TestLoadCountsErrors(t *testing.T) {
	m := daemon.NewMain()
	m.Config.Listen = "127.0.0.1:0"
	m.Config.DataDir = t.TempDir()
	m.Config.LogLevel = "error"
	m.Config.DrainTimeout = 50 * time.Millisecond
	m.Stdout, m.Stderr = io.Discard, io.Discard
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": m.Addr()}}
	done := make(chan result, 1)
	go func() {
		done <- c.run("load", "--data-dir", m.Config.DataDir, "--reps", "4", "--streams", "2", "--batch", "20", "--duration", "3s", "-o", "json")
	}()
	// Stop the server once fixes are flowing: when the first rep's day has
	// some.
	tok, err := mintToken(m.Config.DataDir, dwell.Principal{Tenant: "default", Subject: "admin", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := dwellv1.NewReportServiceClient(grpcConn(t, m.Addr(), tok))
	day := pbDate(dwellDate(time.Now().AddDate(0, 0, -7), jakartaZone(t)))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := rc.GetRepDay(t.Context(), &dwellv1.GetRepDayRequest{Rep: "reps/load-0001", Date: day})
		if err == nil && resp.GetFixCount() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fixes arrived in 20 s: %v", err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != exitFail {
		t.Fatalf("load across a server stop: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep := decodeJSON[loadReport](t, r.stdout)
	if len(rep.Errors) == 0 || rep.Accepted == 0 || rep.Accepted > rep.FixesSent {
		t.Fatalf("load across a server stop: %+v; want some accepted, errors by code", rep)
	}
	t.Logf("%d accepted of %d sent, errors %v", rep.Accepted, rep.FixesSent, rep.Errors)
	for code := range rep.Errors {
		if code != "UNAVAILABLE" && code != "CANCELED" {
			t.Errorf("error code %q, want UNAVAILABLE (the server went away)", code)
		}
	}
}
