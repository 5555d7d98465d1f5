package timeline

import (
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestCheckOutAfterMidnight: a check-in still open at the end of its day
// is closed by the client's first check-out of the next local day (doc.go,
// step 6): the day counts no forgotten check-out, and its visit names the
// check-in the check-out closed, so the visit carries the outcome. The
// claim within the day still ends where the fixes show (the rep was there
// until the day's last fix), and the day is the same whatever later
// claims a caller passes beyond the next day. A check-out of another
// client, a check-in of the client again before the check-out, and a
// check-out after the next day close nothing.
func TestCheckOutAfterMidnight(t *testing.T) {
	A, B := offset(0, 0), offset(2000, 0)
	ix, cm := circleClients(t, circle("site", A, 40), circle("other", B, 40))
	var tr track
	tr.move(hm(22, 40, 0), hm(23, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
	tr.stay(hm(23, 0, 0), hm(23, 59, 30), A, time.Minute, 10, 5)
	ci := dwell.CheckIn{RequestID: "in-1", Client: "site", Time: hm(23, 5, 0), Fix: checkInFix("c1", hm(23, 5, 0), A, 10)}
	next := func(h, m int) time.Time { return hm(h, m, 0).Add(24 * time.Hour) }
	out := dwell.CheckOut{RequestID: "out-1", Client: "site", Time: next(0, 35), Outcome: dwell.OutcomeRejected, RejectionReason: dwell.RejectionPrice}
	derive := func(cis []dwell.CheckIn, cos []dwell.CheckOut) Day {
		return Derive(Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm, CheckIns: cis, CheckOuts: cos})
	}
	forgotten := derive([]dwell.CheckIn{ci}, nil)
	if forgotten.Flags.ForgottenCheckOuts != 1 {
		t.Fatalf("without its check-out the check-in counts %d forgotten check-outs, want 1\n%s", forgotten.Flags.ForgottenCheckOuts, forgotten.Encode())
	}

	day := derive([]dwell.CheckIn{ci}, []dwell.CheckOut{out})
	checkInvariants(t, "check-out after midnight", day)
	if day.Flags.ForgottenCheckOuts != 0 {
		t.Errorf("forgotten check-outs %d, want 0: the rep checked out after midnight\n%s", day.Flags.ForgottenCheckOuts, day.Encode())
	}
	if len(day.Visits) != 1 || day.Visits[0].CheckInRequestID != "in-1" || day.Visits[0].Source != SourceBoth {
		t.Fatalf("want one visit (BOTH) named for in-1\n%s", day.Encode())
	}
	if got := closedBy(day)["in-1"]; got != "out-1" {
		t.Errorf("in-1 is closed by %q, want out-1 (its outcome is the visit's)\n%s", got, day.Encode())
	}
	// Only the pairing changes: the segments and visits are those of the
	// day with the check-in forgotten.
	if len(day.Segments) != len(forgotten.Segments) || day.Visits[0].Start != forgotten.Visits[0].Start || day.Visits[0].End != forgotten.Visits[0].End {
		t.Errorf("the check-out after midnight changed the day's segments:\n%s\nwant those of\n%s", day.Encode(), forgotten.Encode())
	}
	// Claims beyond the next day change nothing, nor does their order.
	far := dwell.CheckOut{RequestID: "out-far", Client: "site", Time: next(0, 35).Add(24 * time.Hour), Outcome: dwell.OutcomeWon}
	farIn := dwell.CheckIn{RequestID: "in-far", Client: "site", Time: far.Time.Add(-time.Hour)}
	if got := derive([]dwell.CheckIn{farIn, ci}, []dwell.CheckOut{far, out}); string(got.Encode()) != string(day.Encode()) {
		t.Errorf("claims after the next day changed the day:\n%s\nwant\n%s", got.Encode(), day.Encode())
	}

	t.Run("other client", func(t *testing.T) {
		other := dwell.CheckOut{RequestID: "out-b", Client: "other", Time: next(0, 35), Outcome: dwell.OutcomeRejected}
		got := derive([]dwell.CheckIn{ci}, []dwell.CheckOut{other})
		if got.Flags.ForgottenCheckOuts != 1 || closedBy(got)["in-1"] != "" {
			t.Errorf("a check-out of another client after midnight closed in-1 (closed by %q, %d forgotten)\n%s",
				closedBy(got)["in-1"], got.Flags.ForgottenCheckOuts, got.Encode())
		}
	})
	t.Run("checked in again first", func(t *testing.T) {
		// The next day's check-in at 08:00 is the one the 09:00 check-out
		// closes; in-1 stays forgotten.
		again := dwell.CheckIn{RequestID: "in-2", Client: "site", Time: next(8, 0), Fix: checkInFix("c2", next(8, 0), A, 10)}
		late := dwell.CheckOut{RequestID: "out-2", Client: "site", Time: next(9, 0), Outcome: dwell.OutcomeWon}
		got := derive([]dwell.CheckIn{ci, again}, []dwell.CheckOut{late})
		if got.Flags.ForgottenCheckOuts != 1 || closedBy(got)["in-1"] != "" || len(got.CheckIns) != 1 {
			t.Errorf("in-1 closed by %q with %d forgotten check-outs and %d check-ins listed: want it forgotten, the next day's check-in (not listed) closed\n%s",
				closedBy(got)["in-1"], got.Flags.ForgottenCheckOuts, len(got.CheckIns), got.Encode())
		}
	})
	t.Run("left before midnight", func(t *testing.T) {
		// The rep leaves at 22:30 and drives until the phone's last fix at
		// 23:00, then checks out (late) after midnight: the visit ends
		// where the fixes show it did, not at the day's last fix.
		var tr track
		tr.move(hm(21, 40, 0), hm(22, 0, 0), offset(-3000, 0), A, 30*time.Second, 8)
		tr.stay(hm(22, 0, 0), hm(22, 30, 0), A, time.Minute, 10, 5)
		tr.move(hm(22, 30, 0), hm(23, 0, 0), A, offset(0, 9000), 30*time.Second, 8)
		in := Input{Day: huntDay, Fixes: tr.fixes, Fences: ix, Clients: cm,
			CheckIns: []dwell.CheckIn{{RequestID: "in-1", Client: "site", Time: hm(22, 5, 0), Fix: checkInFix("c1", hm(22, 5, 0), A, 10)}}}
		alone := Derive(in)
		in.CheckOuts = []dwell.CheckOut{out}
		got := Derive(in)
		checkInvariants(t, "left before midnight", got)
		if closedBy(got)["in-1"] != "out-1" || got.Flags.ForgottenCheckOuts != 0 {
			t.Fatalf("in-1 closed by %q, %d forgotten: want out-1, 0\n%s", closedBy(got)["in-1"], got.Flags.ForgottenCheckOuts, got.Encode())
		}
		if len(got.Visits) != 1 || got.Visits[0].End.After(hm(22, 31, 0)) || got.Totals != alone.Totals {
			t.Errorf("want one visit ending by 22:31 with the totals of the day without the check-out\n%s\nwithout:\n%s", got.Encode(), alone.Encode())
		}
	})
	t.Run("after the next day", func(t *testing.T) {
		got := derive([]dwell.CheckIn{ci}, []dwell.CheckOut{far})
		if got.Flags.ForgottenCheckOuts != 1 || closedBy(got)["in-1"] != "" {
			t.Errorf("a check-out two days later closed in-1 (closed by %q)\n%s", closedBy(got)["in-1"], got.Encode())
		}
	})
}
