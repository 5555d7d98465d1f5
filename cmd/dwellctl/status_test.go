package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// noonZone returns a fixed-offset IANA zone in which now is between 11:30
// and 12:30, so that the last twenty minutes are today there.
func noonZone(now time.Time) string {
	h := 12 - now.UTC().Add(30*time.Minute).Hour()
	switch {
	case h > 0:
		return fmt.Sprintf("Etc/GMT-%d", h) // Etc/GMT-7 is UTC+7
	case h < 0:
		return fmt.Sprintf("Etc/GMT+%d", -h)
	}
	return "UTC"
}

// TestReportStatus: a manager's "report status" shows its team's rep who
// has stood still for twenty minutes as idle, and the one without data as
// such, in the table and in JSON.
func TestReportStatus(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	mint := func(role, subject string) string {
		return strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", role, "--subject", subject).stdout)
	}
	admin := c.with("DWELL_TOKEN", mint("admin", "admin"))
	admin.must(0, "teams", "create", "north", "--name", "North", "--manager", "mgr-1")
	zone := noonZone(time.Now())
	admin.must(0, "reps", "create", "budi", "--name", "Budi", "--time-zone", zone, "--team", "north")
	admin.must(0, "reps", "create", "ani", "--name", "Ani", "--time-zone", zone, "--team", "north")

	// Budi has stood at one spot for the last twenty minutes.
	start := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	req := &dwellv1.UploadPingsRequest{}
	for i := range 40 {
		req.Fixes = append(req.Fixes, &dwellv1.Fix{Id: fmt.Sprintf("f%02d", i), DeviceTime: timestamppb.New(start.Add(time.Duration(i) * 30 * time.Second)),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 10})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := dwellv1.NewIngestServiceClient(grpcConn(t, addr, mint("rep", "budi"))).UploadPings(ctx, req); err != nil {
		t.Fatal(err)
	}

	mgr := c.with("DWELL_TOKEN", mint("manager", "mgr-1"))
	out := mgr.must(0, "report", "status").stdout
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "REP") {
		t.Fatalf("report status:\n%s", out)
	}
	if !strings.Contains(lines[1], "reps/ani") || !strings.Contains(lines[1], "no data") {
		t.Errorf("report status, Ani: %q, want no data", lines[1])
	}
	if !strings.Contains(lines[2], "reps/budi") || !strings.Contains(lines[2], "tracking") || !strings.Contains(lines[2], "idle") ||
		!strings.Contains(lines[2], "-6.20000,106.80000 ±10 m") {
		t.Errorf("report status, Budi: %q, want tracking, idle, at -6.2,106.8", lines[2])
	}
	js := decodeJSON[[]map[string]any](t, mgr.must(0, "report", "status", "--rep", "budi", "-o", "json").stdout)
	if len(js) != 1 || js[0]["state"] != "REP_STATE_TRACKING" || js[0]["kind"] != "SEGMENT_KIND_IDLE" || js[0]["time_zone"] != zone {
		t.Errorf("report status --rep budi -o json: %v", js)
	}
	// A team the manager does not manage is refused.
	mgr.must(1, "report", "status", "--team", "south")
	mgr.must(2, "report", "status", "--team", "north", "--rep", "budi")
}

// TestPrintStatusesAheadOfClock: a rep whose phone's clock runs ahead of
// the server's (fixes are taken up to 24 h ahead) has a state since, and a
// last fix at, times after as_of_time: the table shows them as lasting 0s
// and "just now", not as negative durations.
func TestPrintStatusesAheadOfClock(t *testing.T) {
	asOf := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	printStatuses(&b, []*dwellv1.RepStatus{
		{Rep: "reps/budi", TimeZone: "Asia/Jakarta", State: dwellv1.RepState_REP_STATE_TRACKING, Kind: dwellv1.SegmentKind_SEGMENT_KIND_IDLE,
			SinceTime: timestamppb.New(asOf.Add(30 * time.Minute)), LastFixTime: timestamppb.New(asOf.Add(23 * time.Minute)),
			LastFixLocation: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, LastFixAccuracyMeters: 10},
		{Rep: "reps/ani", TimeZone: "Asia/Jakarta", State: dwellv1.RepState_REP_STATE_TRACKING, Kind: dwellv1.SegmentKind_SEGMENT_KIND_IDLE,
			SinceTime: timestamppb.New(asOf.Add(-20 * time.Minute)), LastFixTime: timestamppb.New(asOf.Add(-3 * time.Minute)),
			LastFixLocation: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, LastFixAccuracyMeters: 10},
	}, asOf)
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 3 {
		t.Fatalf("report status table:\n%s", b.String())
	}
	budi, ani := strings.Fields(lines[1]), strings.Fields(lines[2])
	// REP STATE DOING SINCE FOR CLIENT, then LAST FIX: a time and its age.
	if got := strings.Join(budi[:9], " "); got != "reps/budi tracking idle 12:30 0s - 12:23 (just now)" {
		t.Errorf("a rep ahead of the clock: %q, want %q\n%s", got, "reps/budi tracking idle 12:30 0s - 12:23 (just now)", b.String())
	}
	if got := strings.Join(ani[:9], " "); got != "reps/ani tracking idle 11:40 20m - 11:57 (3m ago)" {
		t.Errorf("a rep behind the clock: %q, want %q\n%s", got, "reps/ani tracking idle 11:40 20m - 11:57 (3m ago)", b.String())
	}
	if strings.Contains(b.String(), "-30m") || strings.Contains(b.String(), "-23m") {
		t.Errorf("negative durations in the table:\n%s", b.String())
	}
}
