package server_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests check the cursors' checks (watch.go, "Cursors"): a cursor
// names its position and the event there, so that a resume on a log that
// no longer follows it (restored from a backup) is refused rather than
// silently skipping the events appended since the restore.

// wantRestored checks that err is the refusal of a cursor the log no
// longer follows: FAILED_PRECONDITION, telling the client to watch
// without a cursor.
func wantRestored(t *testing.T, what string, err error) {
	t.Helper()
	wantReason(t, what, err, codes.FailedPrecondition, dwell.ReasonLogRestored)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "restored from a backup") || !strings.Contains(msg, "without a cursor") {
		t.Fatalf("%s: message %q does not say the log was restored and to watch without a cursor", what, msg)
	}
}

// backupTo copies e's bbolt store, while it serves, to path (Backup).
func (e *env) backupTo(path string) {
	e.t.Helper()
	f, err := os.Create(path)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.(*boltstore.Store).Backup(e.t.Context(), f, nil); err != nil {
		e.t.Fatalf("Backup: %v", err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
}

// restoreFrom stops e's server, replaces its store file with the backup
// at path and starts the server again on it, as README's restore does
// (dwelld started on the backup's data).
func (e *env) restoreFrom(path string) {
	e.t.Helper()
	e.stop()
	src, err := os.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(e.dir, "dwell.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		e.t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

// TestWatchCursorAfterRestore is the reviewer's scenario: a partner
// follows the log past a backup; the store is restored from the backup,
// and new events take the positions the partner's cursor already passed.
// Its cursor (an event's, or a progress cursor) is refused
// FAILED_PRECONDITION, before the log reaches its position and after,
// instead of resuming after it and skipping the new events; a cursor of
// the restored log works, a version 1 cursor (no check) is taken as it
// was, and a cursor whose check was altered is refused.
func TestWatchCursorAfterRestore(t *testing.T) {
	t.Setenv(storeEnv, "bolt") // the restore is a bbolt file's (README, Backups)
	e := newWatchEnv(t, true, func(c *server.Config) { c.WatchProgress = 50 * time.Millisecond })
	bg := context.Background()
	seedWatchTeams(e, acme)
	publish := func(evs ...dwell.Event) []uint64 {
		t.Helper()
		seqs, err := server.PublishEvents(bg, e.srv, acme, evs)
		if err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	partner := e.caller(bg, acme, dwell.RolePartner, "crm")
	all, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{})
	north, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Team: "teams/north", SendProgress: true})

	// Three events, then the backup, then three more (south's, which the
	// north stream reads past and tells as progress).
	publish(teamEvent("north", "a1", e.now()), teamEvent("south", "a2", e.now()), teamEvent("south", "a3", e.now()))
	backup := filepath.Join(t.TempDir(), "dwell.db")
	e.backupTo(backup)
	e.advance(time.Minute)
	publish(teamEvent("south", "b4", e.now()), teamEvent("south", "b5", e.now()), teamEvent("south", "b6", e.now()))
	got := recvAtLeast(t, all, 6)
	if len(got) != 6 || cursorSeq(t, got[5].GetCursor()) != 6 {
		t.Fatalf("the partner's stream received %v, want events 1 to 6", facts(got))
	}
	eventCursor := got[5].GetCursor()
	progress, evs := recvProgress(t, north)
	if len(evs) != 1 || cursorSeq(t, progress) != 6 {
		t.Fatalf("north's stream: events %v then progress at %d, want north's event then progress at 6", facts(evs), cursorSeq(t, progress))
	}
	// dwelld is restored from the backup: the log ends at event 3 again.
	e.restoreFrom(backup)
	partner = e.caller(bg, acme, dwell.RolePartner, "crm")
	resume := func(cursor string, team string) error {
		return watchErr(e.report, partner, &dwellv1.WatchEventsRequest{Cursor: cursor, Team: team, SendProgress: team != ""})
	}
	wantRestored(t, "an event cursor beyond the restored log's end", resume(eventCursor, ""))
	wantRestored(t, "a progress cursor beyond the restored log's end", resume(progress, "teams/north"))

	// New events take numbers 4 to 7, which the cursors passed (6): the
	// partner would skip 4 to 6.
	e.advance(time.Minute)
	fresh := publish(teamEvent("north", "d4", e.now()), teamEvent("north", "d5", e.now()), teamEvent("south", "d6", e.now()), teamEvent("north", "d7", e.now()))
	if fresh[0] != 4 || fresh[3] != 7 {
		t.Fatalf("the restored log numbered the new events %v, want 4 to 7", fresh)
	}
	wantRestored(t, "an event cursor of an event the restore lost", resume(eventCursor, ""))
	wantRestored(t, "a progress cursor of an event the restore lost", resume(progress, "teams/north"))

	// A version 1 cursor (of a server before checks) is taken as before:
	// it cannot tell.
	st, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, 6)})
	if got := recvAtLeast(t, st, 1); cursorSeq(t, got[0].GetCursor()) != 7 {
		t.Fatalf("a version 1 cursor of position 6 resumed with %v, want event 7", facts(got))
	}

	// Watching without a cursor starts at the log's end, and the start
	// header's cursor resumes there; a cursor of the restored log resumes
	// after its event, all of the new ones coming.
	st, _ = openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{})
	md, err := st.Header()
	if err != nil {
		t.Fatal(err)
	}
	start := md.Get(server.StartCursorHeader)
	if len(start) != 1 || cursorSeq(t, start[0]) != 7 {
		t.Fatalf("start header %q, want the cursor of position 7", start)
	}
	openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: start[0]})
	st, _ = openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: server.EventCursor(acme, 0)})
	got = recvAtLeast(t, st, 7)
	if len(got) != 7 || got[3].GetRep() != "reps/r1" || cursorSeq(t, got[6].GetCursor()) != 7 {
		t.Fatalf("from the log's start: %v, want the 3 events kept and the 4 new ones", facts(got))
	}
	st, _ = openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: got[2].GetCursor()})
	if again := recvAtLeast(t, st, 4); len(again) != 4 || again[0].GetCursor() != got[3].GetCursor() {
		t.Fatalf("resuming after event 3 of the restored log: %v, want the 4 new events", facts(again))
	}

	// A cursor whose check was altered is refused, whatever the position.
	for _, c := range []string{got[2].GetCursor(), got[6].GetCursor(), start[0]} {
		seq := cursorSeq(t, c)
		wantRestored(t, fmt.Sprintf("the cursor of event %d with another check", seq), resume(server.WithCheck(c, 12345), ""))
	}
}

// TestWatchCursorOfErasedEvent checks that a cursor whose event was
// erased since it was issued (EraseRepHistory deletes the rep's events)
// is taken as before: there is nothing left to check it against, and the
// events after it come.
func TestWatchCursorOfErasedEvent(t *testing.T) {
	e := newEnv(t)
	bg := context.Background()
	seedWatchTeams(e, acme)
	partner := e.caller(bg, acme, dwell.RolePartner, "crm")
	st, _ := openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{})
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{teamEvent("north", "n1", e.now()), teamEvent("south", "s2", e.now())}); err != nil {
		t.Fatal(err)
	}
	got := recvAtLeast(t, st, 2)
	if _, err := e.dirc.EraseRepHistory(e.admin(acme), &dwellv1.EraseRepHistoryRequest{Name: "reps/r1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{teamEvent("south", "s3", e.now())}); err != nil {
		t.Fatal(err)
	}
	st, _ = openWatch(t, e.report, partner, &dwellv1.WatchEventsRequest{Cursor: got[0].GetCursor()})
	if after := recvAtLeast(t, st, 2); len(after) != 2 || after[0].GetCursor() != got[1].GetCursor() || cursorSeq(t, after[1].GetCursor()) != 3 {
		t.Fatalf("resuming from the erased event 1: %v, want events 2 and 3", facts(after))
	}
}
