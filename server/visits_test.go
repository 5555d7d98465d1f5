package server_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func TestListVisitsOverGRPC(t *testing.T) {
	f := newReportFixture(t)
	e := f.e
	ana := e.as(acme, dwell.RoleManager, "ana")
	list := func(req *dwellv1.ListVisitsRequest) []*dwellv1.Visit {
		t.Helper()
		var out []*dwellv1.Visit
		for {
			resp, err := e.report.ListVisits(ana, req)
			if err != nil {
				t.Fatalf("ListVisits: %v", err)
			}
			out = append(out, resp.GetVisits()...)
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				return out
			}
		}
	}
	all := list(&dwellv1.ListVisitsRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19), PageSize: 1})
	want := f.repDay.GetVisits()
	if len(all) != len(want) {
		t.Fatalf("%d visits, want GetRepDay's %d", len(all), len(want))
	}
	// Newest first: the reverse of the day's order, with the same fields.
	verified := 0
	for i, v := range all {
		w := want[len(want)-1-i]
		if v.GetClient() != w.GetClient() || !v.GetStartTime().AsTime().Equal(w.GetStartTime().AsTime()) ||
			!v.GetEndTime().AsTime().Equal(w.GetEndTime().AsTime()) || v.GetSource() != w.GetSource() ||
			v.GetVerification() != w.GetVerification() || v.GetOutcome() != w.GetOutcome() || v.GetDate().GetDay() != 19 {
			t.Fatalf("visit %d = %v, want %v", i, v, w)
		}
		if v.GetVerification() == dwellv1.Verification_VERIFICATION_VERIFIED {
			verified++
		}
	}
	got := list(&dwellv1.ListVisitsRequest{Rep: "reps/budi", Client: want[0].GetClient(), StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	for _, v := range got {
		if v.GetClient() != want[0].GetClient() {
			t.Fatalf("client filter let through %v", v)
		}
	}
	if len(got) == 0 {
		t.Fatal("no visit to the day's first client")
	}
	got = list(&dwellv1.ListVisitsRequest{Rep: "reps/budi", Verification: dwellv1.Verification_VERIFICATION_VERIFIED,
		StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	if len(got) != verified {
		t.Fatalf("%d verified visits, want %d", len(got), verified)
	}
	if len(list(&dwellv1.ListVisitsRequest{Rep: "reps/budi", StartDate: pbDate(2026, 11, 20), EndDate: pbDate(2026, 11, 21)})) != 0 {
		t.Fatal("visits on days without data")
	}

	// A token is bound to its filter.
	resp, err := e.report.ListVisits(ana, &dwellv1.ListVisitsRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19), PageSize: 1})
	if err != nil || resp.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", resp, err)
	}
	_, err = e.report.ListVisits(ana, &dwellv1.ListVisitsRequest{Team: "teams/north", StartDate: pbDate(2026, 11, 18), EndDate: pbDate(2026, 11, 19), PageToken: resp.GetNextPageToken()})
	wantViolation(t, "token of another filter", err, "page_token")

	_, err = e.report.ListVisits(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.ListVisitsRequest{Rep: "reps/sari", StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantCode(t, "a rep asks for another rep", err, codes.PermissionDenied)
	_, err = e.report.ListVisits(ana, &dwellv1.ListVisitsRequest{Team: "teams/south", StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantCode(t, "a manager asks for another team", err, codes.PermissionDenied)
	_, err = e.report.ListVisits(ana, &dwellv1.ListVisitsRequest{StartDate: pbDate(2026, 11, 19), EndDate: pbDate(2026, 11, 19)})
	wantViolation(t, "a manager names no team", err, "rep")
}
