package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// importReps streams rows to ImportReps as ctx's caller, 300 a message,
// and returns the answer. A server that refuses the call may end the
// stream before a message is sent: Send then says io.EOF, and the status
// comes from CloseAndRecv.
func importReps(t *testing.T, e *env, ctx context.Context, rows []*dwellv1.Rep) (*dwellv1.ImportRepsResponse, error) {
	t.Helper()
	stream, err := e.dirc.ImportReps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(len(rows), 300)
		if err := stream.Send(&dwellv1.ImportRepsRequest{Reps: rows[:n]}); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	return stream.CloseAndRecv()
}

func repRow(id, zone, team string) *dwellv1.Rep {
	r := &dwellv1.Rep{Name: "reps/" + id, DisplayName: "Rep " + id, TimeZone: zone,
		WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: 1, StartMinute: 8 * 60, EndMinute: 17 * 60}}}
	if team != "" {
		r.Team = "teams/" + team
	}
	return r
}

// TestImportReps loads 2,500 reps over three chunks, 40 of which replace
// reps created before (a new zone, team and name, create_time kept), with
// bad rows among them and an id repeated (the later row wins): every good
// row is stored as sent, every bad one is reported with its row and field,
// and nothing of a bad row is stored.
func TestImportReps(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(acme)
	e.mustCreateTeam(admin, "north")
	e.mustCreateTeam(admin, "south")
	for i := range 40 {
		e.mustCreateRep(admin, fmt.Sprintf("r%04d", i), "north")
	}
	before, err := e.st.GetRep(t.Context(), acme, "r0000")
	if err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour)

	const n = 2500
	var rows []*dwellv1.Rep
	want := map[string]*dwellv1.Rep{}
	bad := map[int64]string{} // row -> the field at fault
	for i := range n {
		id := fmt.Sprintf("r%04d", i)
		r := repRow(id, "Europe/Paris", []string{"north", "south", ""}[i%3])
		switch {
		case i%250 == 7:
			r.TimeZone, bad[int64(len(rows))] = "Mars/Olympus", "time_zone"
		case i%250 == 8:
			r.Team, bad[int64(len(rows))] = "teams/nowhere", "team"
		case i%250 == 9:
			r.Name, bad[int64(len(rows))] = "reps/", "name"
		case i%250 == 10:
			r.DisplayName, bad[int64(len(rows))] = "", "display_name"
		default:
			want[id] = r
		}
		rows = append(rows, r)
	}
	// r0001 again, later in the stream: this row wins.
	again := repRow("r0001", "Asia/Tokyo", "south")
	again.DisplayName = "Rep r0001, moved"
	rows = append(rows, again)
	want["r0001"] = again

	resp, err := importReps(t, e, admin, rows)
	if err != nil {
		t.Fatalf("ImportReps: %v", err)
	}
	good := int64(len(rows) - len(bad))
	// The reps created before whose rows were bad stay as they were.
	kept, created := 0, 0
	for i := range 40 {
		if _, ok := want[fmt.Sprintf("r%04d", i)]; !ok {
			kept++
		}
	}
	created = len(want) - (40 - kept)
	if resp.GetReceived() != int64(len(rows)) || resp.GetStored() != good || resp.GetCreated() != int64(created) {
		t.Fatalf("import = received %d stored %d created %d; want %d, %d, %d", resp.GetReceived(), resp.GetStored(), resp.GetCreated(), len(rows), good, created)
	}
	if len(resp.GetErrors()) != len(bad) {
		t.Fatalf("%d row errors, want %d: %v", len(resp.GetErrors()), len(bad), resp.GetErrors())
	}
	for _, re := range resp.GetErrors() {
		field, ok := bad[re.GetRow()]
		if !ok || len(re.GetFieldErrors()) == 0 || re.GetFieldErrors()[0].GetField() != field {
			t.Errorf("row error %v, want a violation on %q", re, field)
		}
	}
	got, _, err := e.st.ListReps(t.Context(), acme, store.RepFilter{}, store.Page{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)+kept {
		t.Fatalf("%d reps stored, want %d", len(got), len(want)+kept)
	}
	for _, r := range got {
		w, ok := want[string(r.ID)]
		if !ok {
			if r.TimeZone != "Asia/Jakarta" || r.Team != "north" {
				t.Fatalf("rep %s, whose row was bad, changed: %+v", r.ID, r)
			}
			continue
		}
		pb, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/" + string(r.ID)})
		if err != nil {
			t.Fatal(err)
		}
		g := pb.GetRep()
		if g.GetDisplayName() != w.GetDisplayName() || g.GetTimeZone() != w.GetTimeZone() || g.GetTeam() != w.GetTeam() ||
			len(g.GetWorkingHours()) != 1 || !proto.Equal(g.GetWorkingHours()[0], w.GetWorkingHours()[0]) {
			t.Fatalf("rep %s = %v, want %v", r.ID, g, w)
		}
		if !g.GetUpdateTime().AsTime().Equal(e.now()) {
			t.Fatalf("rep %s update_time %v, want %v", r.ID, g.GetUpdateTime().AsTime(), e.now())
		}
	}
	after, err := e.st.GetRep(t.Context(), acme, "r0000")
	if err != nil {
		t.Fatal(err)
	}
	if !after.CreateTime.Equal(before.CreateTime) || after.TimeZone != "Europe/Paris" {
		t.Fatalf("replaced rep: create_time %v zone %s, want the original %v and Europe/Paris", after.CreateTime, after.TimeZone, before.CreateTime)
	}
}

// TestImportRepsNewZoneDerivesAgain: a row that gives a rep a new time
// zone derives the rep's recent days again, as UpdateRep does, so the
// breakdown cuts the day in the new zone.
func TestImportRepsNewZoneDerivesAgain(t *testing.T) {
	e := newEnv(t)
	uploadSimDay(t, e)
	admin := e.admin(acme)
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	row := &dwellv1.Rep{Name: "reps/rep-1", DisplayName: "Sim", TimeZone: "America/Los_Angeles"}
	if resp, err := importReps(t, e, admin, []*dwellv1.Rep{row}); err != nil || resp.GetStored() != 1 || resp.GetCreated() != 0 {
		t.Fatalf("ImportReps = %v, %v; want 1 row stored, none created", resp, err)
	}
	if err := e.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	date := &dwellv1.Date{Year: 2026, Month: 11, Day: 19}
	rd, err := e.report.GetRepDay(admin, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	bd, err := e.report.GetTimeBreakdown(admin, &dwellv1.GetTimeBreakdownRequest{Reps: []string{"reps/rep-1"}, StartDate: date, EndDate: date})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(bd.GetTotal(), rd.GetTotals()) {
		t.Fatalf("after an import with a new zone: breakdown %v, GetRepDay %v", bd.GetTotal(), rd.GetTotals())
	}
}

// TestImportRepsAccess: only admins and partners import reps; a rep or a
// manager is PERMISSION_DENIED and nothing is stored.
func TestImportRepsAccess(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		role dwell.Role
		code codes.Code
	}{{dwell.RoleRep, codes.PermissionDenied}, {dwell.RoleManager, codes.PermissionDenied}, {dwell.RolePartner, codes.OK}} {
		id := fmt.Sprintf("by-%d", c.role)
		_, err := importReps(t, e, e.as(acme, c.role, "someone"), []*dwellv1.Rep{repRow(id, "Asia/Jakarta", "")})
		if status.Code(err) != c.code {
			t.Fatalf("ImportReps as %s = %v, want %v", c.role, err, c.code)
		}
		_, err = e.st.GetRep(t.Context(), acme, dwell.RepID(id))
		if stored := err == nil; stored != (c.code == codes.OK) {
			t.Fatalf("ImportReps as %s: stored %v", c.role, stored)
		}
	}
	// An empty stream is an empty answer.
	if resp, err := importReps(t, e, e.admin(acme), nil); err != nil || resp.GetReceived() != 0 || resp.GetStored() != 0 {
		t.Fatalf("empty ImportReps = %v, %v", resp, err)
	}
}

// TestImportRepsAcrossDeleteAndCreate imports a row for rep "ana" while
// another admin deletes ana and creates her again between the row's read
// of the rep and its write, and, apart, while another server's masked
// update writes ana there. The replace is conditional on the rep as read,
// its revision and its life (create_time): across the delete it must not
// write the deleted rep's create_time over the new rep (whose etag would
// then name a life that no longer exists) but replace the new rep,
// keeping her create_time; across the write it reads again and the row
// still replaces the rep whole.
func TestImportRepsAcrossDeleteAndCreate(t *testing.T) {
	for _, between := range []string{"delete and create", "another server's write"} {
		t.Run(between, func(t *testing.T) {
			hs := &hookedStore{}
			e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
			e.configure = func(c *server.Config) { hs.Store = c.Store; c.Store = hs }
			e.start()
			t.Cleanup(e.stop)
			adm := e.admin(acme)
			first, err := e.dirc.CreateRep(adm, &dwellv1.CreateRepRequest{RepId: "ana", Rep: &dwellv1.Rep{DisplayName: "Ana", TimeZone: "Asia/Jakarta"}})
			if err != nil {
				t.Fatal(err)
			}
			e.advance(time.Second)
			// created is the create_time the stored rep must keep, and
			// wantRev her revision after the import.
			created, wantRev := first.GetRep().GetCreateTime().AsTime(), int64(2)
			ran := false
			hs.repHook = func() {
				ran = true
				if between == "another server's write" {
					cur, err := e.st.GetRep(t.Context(), acme, "ana")
					if err != nil {
						t.Error(err)
						return
					}
					cur.DisplayName = "Ana, renamed"
					if err := e.st.UpdateRep(t.Context(), acme, cur); err != nil {
						t.Error(err)
					}
					wantRev = 3
					return
				}
				if _, err := e.dirc.DeleteRep(adm, &dwellv1.DeleteRepRequest{Name: "reps/ana"}); err != nil {
					t.Error(err)
				}
				e.advance(time.Second)
				resp, err := e.dirc.CreateRep(adm, &dwellv1.CreateRepRequest{RepId: "ana", Rep: &dwellv1.Rep{DisplayName: "Ana again", TimeZone: "Europe/Berlin"}})
				if err != nil {
					t.Error(err)
				}
				created = resp.GetRep().GetCreateTime().AsTime()
			}
			hs.repArmed.Store(true)
			resp, err := importReps(t, e, adm, []*dwellv1.Rep{repRow("ana", "Europe/Paris", "")})
			if !ran {
				t.Fatal("the writes between the import's read and its write did not run")
			}
			if err != nil || resp.GetStored() != 1 || resp.GetCreated() != 0 {
				t.Fatalf("ImportReps = %v, %v; want 1 row stored, replacing the rep", resp, err)
			}
			got, err := e.st.GetRep(t.Context(), acme, "ana")
			if err != nil {
				t.Fatal(err)
			}
			if got.DisplayName != "Rep ana" || got.TimeZone != "Europe/Paris" || !got.CreateTime.Equal(created) || got.Revision != wantRev {
				t.Errorf("stored rep: %q in %s, created %v, revision %d; want the row (Rep ana, Europe/Paris), created %v, revision %d",
					got.DisplayName, got.TimeZone, got.CreateTime, got.Revision, created, wantRev)
			}
			pb, err := e.dirc.GetRep(adm, &dwellv1.GetRepRequest{Name: "reps/ana"})
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%d-%d", wantRev, created.UnixNano()); pb.GetRep().GetEtag() != want {
				t.Errorf("GetRep etag %q, want %q (the live rep's revision and create_time)", pb.GetRep().GetEtag(), want)
			}
		})
	}
}

// TestImportRepsRepeatedIDTeamGone: two rows for rep r1, the later naming
// team south, which another admin deletes between the rows' checks and
// the write. The later row replaced the earlier in the pending chunk, so
// when the store refuses it neither row is stored, and the answer must
// say so for both: stored 0, an error for each row.
func TestImportRepsRepeatedIDTeamGone(t *testing.T) {
	hs := &hookedStore{}
	e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	e.configure = func(c *server.Config) { hs.Store = c.Store; c.Store = hs }
	e.start()
	t.Cleanup(e.stop)
	adm := e.admin(acme)
	e.mustCreateTeam(adm, "north")
	e.mustCreateTeam(adm, "south")
	ran := false
	hs.repHook = func() {
		ran = true
		if _, err := e.dirc.DeleteTeam(adm, &dwellv1.DeleteTeamRequest{Name: "teams/south"}); err != nil {
			t.Error(err)
		}
	}
	hs.repArmed.Store(true)
	resp, err := importReps(t, e, adm, []*dwellv1.Rep{repRow("r1", "Europe/Paris", "north"), repRow("r1", "Europe/Paris", "south")})
	if err != nil {
		t.Fatal(err)
	}
	if !ran {
		t.Fatal("the team was not deleted between the rows' checks and their write")
	}
	if _, err := e.st.GetRep(t.Context(), acme, "r1"); !dwell.Is(dwell.NotFound, err) {
		t.Fatalf("GetRep(r1) = %v, want not found (the refused row replaced the other)", err)
	}
	errs := resp.GetErrors()
	if resp.GetReceived() != 2 || resp.GetStored() != 0 || len(errs) != 2 || errs[0].GetRow() != 0 || errs[1].GetRow() != 1 {
		t.Fatalf("ImportReps = %v; want 2 received, 0 stored, an error for row 0 and for row 1", resp)
	}
	if fe := errs[1].GetFieldErrors(); len(fe) != 1 || fe[0].GetField() != "team" || !strings.Contains(fe[0].GetDescription(), "south") {
		t.Errorf("row 1 error %v, want team south does not exist", errs[1])
	}
	if fe := errs[0].GetFieldErrors(); len(fe) != 1 || !strings.Contains(fe[0].GetDescription(), "row 1") {
		t.Errorf("row 0 error %v, want it to name row 1, which replaced it", errs[0])
	}
}
