package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// TestDropRecordFix checks how PruneActionFixes rewrites a record: check-in
// and check-out values as stored before PruneActionFixes existed lose
// their "f" member and nothing else, byte for byte, still decode, and a
// record without a fix is left as it is.
func TestDropRecordFix(t *testing.T) {
	const fix = `"f":{"id":"fx-1","t":"2025-03-14T09:26:51.5Z","p":[-6.2,106.8],"acc":8,"spd":-1,"brg":-1,"alt":31,"halt":true},`
	cases := []struct {
		kind     actionKind
		old, new string
	}{
		{checkInKind,
			`{"rid":"ci-1","c":"c1","t":"2025-03-14T09:26:53.589793238Z",` + fix + `"v":2,"d":431.5,"rt":"2025-03-14T09:26:56Z"}`,
			`{"rid":"ci-1","c":"c1","t":"2025-03-14T09:26:53.589793238Z","v":2,"d":431.5,"rt":"2025-03-14T09:26:56Z"}`},
		{checkOutKind,
			`{"rid":"co-1","c":"c1","t":"2025-03-14T10:00:00Z",` + fix + `"o":2,"fu":{"y":2025,"m":3,"d":21},"n":"call back","rt":"2025-03-14T10:00:01Z"}`,
			`{"rid":"co-1","c":"c1","t":"2025-03-14T10:00:00Z","o":2,"fu":{"y":2025,"m":3,"d":21},"n":"call back","rt":"2025-03-14T10:00:01Z"}`},
		{checkOutKind,
			`{"rid":"co-2","c":"c1","t":"2025-03-14T10:00:00Z",` + fix + `"o":4,"rr":7,"rx":"budget frozen","rt":"2025-03-14T10:00:01Z"}`,
			`{"rid":"co-2","c":"c1","t":"2025-03-14T10:00:00Z","o":4,"rr":7,"rx":"budget frozen","rt":"2025-03-14T10:00:01Z"}`},
	}
	for _, c := range cases {
		old := append([]byte{recordV1}, c.old...)
		got, had, err := c.kind.dropFix(old)
		if err != nil || !had || string(got[1:]) != c.new || got[0] != recordV1 {
			t.Errorf("%s dropFix(%s) = %q, %v, %v; want %q, true", c.kind.what, c.old, got, had, err, c.new)
			continue
		}
		// The old record decodes with its fix; the new one as the old
		// without it.
		switch c.kind.what {
		case "check-in":
			var o, n checkInRec
			mustDecode(t, old, &o)
			mustDecode(t, got, &n)
			was, is := o.domain("r"), n.domain("r")
			if was.Fix == nil || was.Fix.AltitudeM != 31 || is.Fix != nil {
				t.Errorf("check-in fix before %+v, after %+v; want it there, then gone", was.Fix, is.Fix)
			}
			was.Fix = nil
			if was != is {
				t.Errorf("check-in after dropFix = %+v, want %+v", is, was)
			}
		default:
			var o, n checkOutRec
			mustDecode(t, old, &o)
			mustDecode(t, got, &n)
			was, is := o.domain("r"), n.domain("r")
			if was.Fix == nil || is.Fix != nil {
				t.Errorf("check-out fix before %+v, after %+v; want it there, then gone", was.Fix, is.Fix)
			}
			was.Fix = nil
			if was != is {
				t.Errorf("check-out after dropFix = %+v, want %+v", is, was)
			}
		}
		// Without a fix there is nothing to do.
		if v, had, err := c.kind.dropFix(got); err != nil || had || v != nil {
			t.Errorf("%s dropFix of a record without a fix = %q, %v, %v; want nil, false, nil", c.kind.what, v, had, err)
		}
	}
	// A corrupt record is an error of kind Other, which fails the write.
	for _, v := range [][]byte{nil, {recordV1, '{'}, {9, '{', '}'}} {
		if _, _, err := checkInKind.dropFix(v); !dwell.Is(dwell.Other, err) {
			t.Errorf("dropFix(%q) error %v, want kind Other", v, err)
		}
	}
	if callKind.dropFix != nil || trackingKind.dropFix != nil {
		t.Errorf("calls and tracking changes have a dropFix; they carry no position")
	}
}

func mustDecode(t *testing.T, v []byte, rec any) {
	t.Helper()
	if err := decodeJSON("test", "record", v, rec); err != nil {
		t.Fatal(err)
	}
}

// TestEraseCountsItsGroup: an upload and an erase of the same rep that
// commit in one group. The erase deletes the rep's bucket, uploaded fixes
// included, and must report them: Bucket.Stats counted only the pages
// already in the file (5 fixes, 0 actions where 25 and 1 were deleted).
func TestEraseCountsItsGroup(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	fixes := func(prefix string, n int) []dwell.Fix {
		var fs []dwell.Fix
		for i := range n {
			fs = append(fs, dwell.Fix{ID: fmt.Sprintf("%s%d", prefix, i), Time: at.Add(time.Duration(i) * time.Minute),
				Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 10})
		}
		return fs
	}
	if _, err := s.AppendFixes(ctx, "acme", "r1", fixes("old", 5)); err != nil {
		t.Fatal(err)
	}
	// Hold the committer so that the next requests queue up and commit
	// together.
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.write(ctx, "test.hold", 1, func(*txn) error { close(started); <-release; return nil })
	}()
	<-started
	appended := make(chan error, 2)
	go func() { _, err := s.AppendFixes(ctx, "acme", "r1", fixes("new", 20)); appended <- err }()
	waitQueued(t, s, 1)
	go func() {
		_, _, err := s.RecordCheckIn(ctx, "acme", dwell.CheckIn{Rep: "r1", RequestID: "ci-1", Client: "c1", Time: at.Add(30 * time.Minute)})
		appended <- err
	}()
	waitQueued(t, s, 2)
	type result struct {
		e   store.Erased
		err error
	}
	erased := make(chan result, 1)
	go func() { e, err := s.EraseRepHistory(ctx, "acme", "r1"); erased <- result{e, err} }()
	waitQueued(t, s, 3)
	close(release)
	for range 2 {
		if err := <-appended; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	r := <-erased
	if r.err != nil {
		t.Fatal(r.err)
	}
	left, err := s.ListFixes(ctx, "acme", "r1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 || r.e.Fixes != 25 || r.e.Actions != 1 {
		t.Errorf("erase left %d fixes and reported %d fixes, %d actions erased; want 0 left, 25 fixes and 1 action", len(left), r.e.Fixes, r.e.Actions)
	}
}

// waitQueued waits until the committer's queue holds n requests.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d requests after 10 s, want %d", len(s.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}
