package kpi

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/timeline"
)

func sampleDay() *Day {
	t0 := time.Date(2026, 3, 2, 7, 0, 0, 123, time.UTC)
	return &Day{
		Rep: "budi", Date: dwell.Date{Year: 2026, Month: 3, Day: 2},
		Totals: Totals{VisitProspectS: 1800, VisitCustomerS: 600, IdleS: 300, TravelS: 900, GapS: 60, PausedS: 420, DistanceM: 5321.5},
		Start:  t0, End: t0.Add(time.Hour), OpenPause: true, OpenFrom: t0.Add(50 * time.Minute),
		Segments: []timeline.Segment{
			{Kind: timeline.KindTravel, Start: t0, End: t0.Add(15 * time.Minute), DistanceM: 5321.5},
			{Kind: timeline.KindVisit, Start: t0.Add(15 * time.Minute), End: t0.Add(45 * time.Minute), Client: "toko",
				Source: timeline.SourceBoth, Verification: dwell.VerificationVerified, Location: dwell.LatLng{Lat: -6.2, Lng: 106.8}},
		},
		Visits: []Visit{{Visit: timeline.Visit{Client: "toko", Start: t0.Add(15 * time.Minute), End: t0.Add(45 * time.Minute),
			Source: timeline.SourceBoth, Verification: dwell.VerificationVerified, CheckInRequestID: "in-1", Paused: 7 * time.Minute, OffHours: 5 * time.Minute},
			Kind: dwell.ClientKindProspect, CheckOutRequestID: "out-1", Outcome: dwell.OutcomeFollowUp}},
		CheckIns: []timeline.CheckInResult{{RequestID: "in-1", Client: "toko", Time: t0.Add(16 * time.Minute),
			Verification: dwell.VerificationVerified, DistanceM: 0, CheckOutRequestID: "out-1"}},
		CheckOuts: []CheckOut{{RequestID: "out-1", Client: "toko", Kind: dwell.ClientKindProspect, Time: t0.Add(44 * time.Minute),
			Outcome: dwell.OutcomeFollowUp, FollowUpDate: dwell.Date{Year: 2026, Month: 3, Day: 5}}},
		Calls: []Call{{Client: "toko", Kind: dwell.ClientKindProspect, StartTime: t0.Add(50 * time.Minute), TalkSeconds: 75, Outcome: dwell.CallConnected}},
		Flags: timeline.Flags{MockFixes: 2, ForgottenCheckOuts: 1}, FixCount: 120, IdleSegments: 1,
	}
}

func TestDayEncodeRoundTrip(t *testing.T) {
	for _, d := range []*Day{sampleDay(), {Rep: "x", Date: dwell.Date{Year: 2026, Month: 1, Day: 1}}} {
		got, err := DecodeDay(d.EncodeSummary(), d.EncodeDetail())
		if err != nil {
			t.Fatalf("DecodeDay: %v", err)
		}
		if !reflect.DeepEqual(got.p, computePart(d)) {
			t.Fatalf("decoded part %+v, want %+v", got.p, computePart(d))
		}
		got.p = nil
		// A decoded day carries its follow-ups' latest due day.
		want := *d
		want.lastDue = computePart(d).lastDue()
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("DecodeDay(Encode(d)) =\n%+v\nwant\n%+v", got, &want)
		}
	}
	sum, det := sampleDay().EncodeSummary(), sampleDay().EncodeDetail()
	for _, cut := range []int{0, 1, len(sum) / 2, len(sum) - 1} {
		if _, err := DecodeDay(sum[:cut], nil); err == nil {
			t.Fatalf("DecodeDay of %d of %d bytes: no error", cut, len(sum))
		}
	}
	for _, cut := range []int{0, 1, len(det) / 2, len(det) - 1} {
		if _, err := DecodeDay(sum, det[:cut]); err == nil {
			t.Fatalf("DecodeDay with %d of %d detail bytes: no error", cut, len(det))
		}
	}
	// The summary alone is everything but the segments and verdicts.
	got, err := DecodeDay(sum, nil)
	want := sampleDay()
	want.Segments, want.CheckIns = nil, nil
	want.lastDue = dwell.Date{Year: 2026, Month: 3, Day: 5}
	if err == nil {
		got.p = nil
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeDay(summary, nil) = %+v, %v; want %+v", got, err, want)
	}
}

// TestDecodeOlderSummaries checks that summaries written by earlier
// versions still decode: version 1 (before pauses) as a day without
// pauses, version 2 (before pauses inside visits) with its visits' paused
// time 0, version 3 (before split shifts' breaks inside visits) with
// their off-hours time 0, version 4 (before the open pause was told) with
// any paused time as possibly open, versions 5 and 6 (before the open
// pause's start was kept) without it, version 7 (before the check-outs of
// no meeting were counted), version 8 (before the loose check-outs'
// fallback meetings and the visits' tails were kept).
func TestDecodeOlderSummaries(t *testing.T) {
	d := sampleDay()
	for _, version := range []byte{summaryV1, summaryV2, summaryV3, summaryV4, summaryV5, summaryV6, summaryV7, summaryV8} {
		old := d.encodeSummary(version)
		got, err := DecodeDay(old, d.EncodeDetail())
		if err != nil {
			t.Fatalf("DecodeDay of version %d: %v", version, err)
		}
		want := sampleDay()
		if version < summaryV2 {
			want.Totals.PausedS, want.OpenPause = 0, false
		}
		if version < summaryV3 {
			want.Visits[0].Paused = 0
		}
		if version < summaryV4 {
			want.Visits[0].OffHours = 0
		}
		if version < summaryV7 {
			want.OpenFrom = time.Time{}
		}
		want.lastDue = computePart(want).lastDue()
		got.p = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeDay of version %d =\n%+v\nwant\n%+v", version, got, want)
		}
	}
	ds, err := DecodeSummaries([][]byte{d.encodeSummary(summaryV1), d.encodeSummary(summaryV2), d.encodeSummary(summaryV3), d.encodeSummary(summaryV4), d.EncodeSummary()})
	if err != nil || ds[0].Totals.PausedS != 0 || ds[1].Totals.PausedS != 420 || ds[2].Totals.PausedS != 420 || ds[3].Totals.PausedS != 420 || ds[4].Totals.PausedS != 420 {
		t.Fatalf("DecodeSummaries of versions 1 to 5: %v, %+v", err, ds)
	}
	// A paused day whose pause was resumed says so from version 5 on;
	// before, its pause may be open.
	d.OpenPause = false
	for _, c := range []struct {
		version byte
		want    bool
	}{{summaryV1, false}, {summaryV4, true}, {summaryV5, false}} {
		got, err := DecodeDay(d.encodeSummary(c.version), nil)
		if err != nil {
			t.Fatalf("DecodeDay of version %d: %v", c.version, err)
		}
		if got.OpenPause != c.want {
			t.Errorf("a resumed pause in version %d decodes OpenPause = %v, want %v", c.version, got.OpenPause, c.want)
		}
	}
}

// TestSummarizePaused checks that paused time is counted apart from field
// time, and that the timeline rebuilt from a summary has it.
func TestSummarizePaused(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	day := &timeline.Day{Start: t0, End: t0.Add(3 * time.Hour), Segments: []timeline.Segment{
		{Kind: timeline.KindIdle, Start: t0, End: t0.Add(time.Hour)},
		{Kind: timeline.KindPaused, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)},
		{Kind: timeline.KindTravel, Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), DistanceM: 9000},
	}}
	d := Summarize("budi", dwell.Date{Year: 2026, Month: 3, Day: 2}, day, 10, nil, nil, nil, func(dwell.ClientID) dwell.ClientKind { return dwell.ClientKindProspect })
	if d.Totals.PausedS != 3600 || d.Totals.FieldS() != 7200 {
		t.Fatalf("totals %+v (field %d s), want 3600 s paused, 7200 s field", d.Totals, d.Totals.FieldS())
	}
	back, err := DecodeDay(d.EncodeSummary(), d.EncodeDetail())
	if err != nil {
		t.Fatal(err)
	}
	if tl := back.Timeline(); tl.Totals.Paused != time.Hour || tl.Totals.Idle != time.Hour {
		t.Fatalf("rebuilt timeline totals %+v, want 1h paused and 1h idle", tl.Totals)
	}
}

func FuzzDecodeDay(f *testing.F) {
	f.Add(sampleDay().EncodeSummary(), sampleDay().EncodeDetail())
	f.Add([]byte{summaryV1, 0xff, 0xff, 0xff, 0xff, 0x0f}, []byte{detailV1, 0x80})
	f.Fuzz(func(t *testing.T, sum, det []byte) {
		// The KPIs walk a decoded day's join records: whatever decodes
		// must compute without a panic.
		if ds, err := DecodeSummaries([][]byte{sum}); err == nil {
			Compute(Input{Start: ds[0].Date, End: ds[0].Date, Reps: []Rep{{ID: ds[0].Rep, Days: ds}}})
		}
		d, err := DecodeDay(sum, det)
		if err != nil {
			return
		}
		Compute(Input{Start: d.Date, End: d.Date, Reps: []Rep{{ID: d.Rep, Days: []*Day{d}}}})
		if _, err := DecodeDay(d.EncodeSummary(), d.EncodeDetail()); err != nil {
			t.Fatalf("re-encoding a decoded day: %v", err)
		}
	})
}

func TestDecodeSummariesEqualsDecodeDay(t *testing.T) {
	a, b := sampleDay(), sampleDay()
	b.Rep, b.Visits, b.Calls = "other", append(b.Visits, b.Visits...), nil
	got, err := DecodeSummaries([][]byte{a.EncodeSummary(), b.EncodeSummary(), a.EncodeSummary()})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []*Day{a, b, a} {
		// The lists stay behind; the head and the part come through.
		want := *d
		want.Segments, want.CheckIns, want.Visits, want.CheckOuts, want.Calls = nil, nil, nil, nil, nil
		want.p = computePart(d)
		want.lastDue = want.p.lastDue()
		// Days decoded together share one client table: compare the
		// parts with their clients named.
		gotDay, gotP := *got[i], namedPart(got[i].p)
		wantP := namedPart(want.p)
		gotDay.p, want.p = nil, nil
		if !reflect.DeepEqual(&gotDay, &want) || !reflect.DeepEqual(gotP, wantP) {
			t.Fatalf("day %d: %+v %+v, want %+v %+v", i, &gotDay, gotP, &want, wantP)
		}
	}
	// The result owns its strings: the input may be reused.
	in := [][]byte{a.EncodeSummary()}
	got, err = DecodeSummaries(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in[0] {
		in[0][i] = 'x'
	}
	if client := got[0].p.clients.ids[got[0].p.spans[0].client]; got[0].Rep != "budi" || client != "toko" {
		t.Fatalf("strings changed with the input: %q, %q", got[0].Rep, client)
	}
	if _, err := DecodeSummaries([][]byte{a.EncodeSummary(), {summaryV1}}); err == nil {
		t.Fatal("a corrupt summary among good ones: no error")
	}
}

func TestComputeOverDecodedSummaries(t *testing.T) {
	// What the server computes (decoded summaries) equals what the golden
	// week computes in memory, for the team and each rep.
	in := goldenWeek()
	dec := in
	dec.Reps = nil
	for _, r := range in.Reps {
		var bs [][]byte
		for _, d := range r.Days {
			bs = append(bs, d.EncodeSummary())
		}
		days, err := DecodeSummaries(bs)
		if err != nil {
			t.Fatal(err)
		}
		dec.Reps = append(dec.Reps, Rep{ID: r.ID, Loc: r.Loc, Days: days})
	}
	for _, rng := range [][2]dwell.Date{{date(3, 2), date(3, 6)}, {date(3, 3), date(3, 3)}, {date(3, 4), date(3, 31)}} {
		in.Start, in.End, dec.Start, dec.End = rng[0], rng[1], rng[0], rng[1]
		if got, want := Compute(dec), Compute(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: over decoded summaries %+v\nin memory %+v", rng, got, want)
		}
		for _, id := range []dwell.RepID{"ani", "bob"} {
			if got, want := Compute(onlyRep(dec, id)), Compute(onlyRep(in, id)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%v %s: over decoded summaries %+v\nin memory %+v", rng, id, got, want)
			}
		}
	}
}

// namedClientPart is a part with its visits' and calls' clients named
// instead of indexed.
type namedClientPart struct {
	part
	spans []string
	calls []string
}

func namedPart(p *part) namedClientPart {
	n := namedClientPart{part: *p}
	for _, s := range p.spans {
		n.spans = append(n.spans, fmt.Sprintf("%s %d %d", p.clients.ids[s.client], s.start, s.end))
	}
	for _, c := range p.callAt {
		n.calls = append(n.calls, fmt.Sprintf("%s %d", p.clients.ids[c.client], c.at))
	}
	n.part.clients, n.part.spans, n.part.callAt = nil, nil, nil
	return n
}

func TestClientTableIndexesPastScan(t *testing.T) {
	// A table searches its first clients in order and indexes them past
	// clientTableScan: every client keeps its index either way.
	var tab clientTable
	for round := range 2 {
		for i := range 3 * clientTableScan {
			id := fmt.Sprintf("c%d", i)
			if got := tab.add(id); got != int32(i) || tab.ids[got] != dwell.ClientID(id) {
				t.Fatalf("round %d: add(%q) = %d (%q), want %d", round, id, got, tab.ids[got], i)
			}
		}
	}
	if _, ok := tab.find("nobody"); ok {
		t.Fatal("find of an absent client succeeded")
	}
	if len(tab.ids) != 3*clientTableScan || len(tab.idx) != len(tab.ids) {
		t.Fatalf("%d ids, %d indexed, want %d", len(tab.ids), len(tab.idx), 3*clientTableScan)
	}
}

// TestPausedUntil checks that a summary whose open pause runs to the day's
// end, read as if the pause ended at t (PausedUntil), is the summary of
// the day derived with the pause ending at t: the last segment, End and
// the paused seconds, each segment counting its whole seconds.
func TestPausedUntil(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	end := t0.Add(10 * time.Hour)
	pausedAt := t0.Add(2*time.Hour + 400*time.Millisecond)
	day := func(until time.Time) *timeline.Day {
		return &timeline.Day{Start: t0, End: until, OpenPause: true, Segments: []timeline.Segment{
			{Kind: timeline.KindPaused, Start: t0, End: t0.Add(20*time.Minute + 700*time.Millisecond)},
			{Kind: timeline.KindIdle, Start: t0.Add(20*time.Minute + 700*time.Millisecond), End: t0.Add(time.Hour)},
			{Kind: timeline.KindVisit, Start: t0.Add(time.Hour), End: pausedAt, Client: "toko"},
			{Kind: timeline.KindPaused, Start: pausedAt, End: until},
		}, Visits: []timeline.Visit{{Client: "toko", Start: t0.Add(time.Hour), End: pausedAt}}}
	}
	kind := func(dwell.ClientID) dwell.ClientKind { return dwell.ClientKindProspect }
	stored := Summarize("budi", dwell.Date{Year: 2026, Month: 3, Day: 2}, day(end), 10, nil, nil, nil, kind)
	stored.OpenFrom = pausedAt
	before := stored.EncodeSummary()
	for _, at := range []time.Time{pausedAt.Add(time.Nanosecond), pausedAt.Add(999 * time.Millisecond), pausedAt.Add(time.Second),
		pausedAt.Add(17*time.Minute + 300*time.Millisecond), end.Add(-time.Nanosecond)} {
		got := stored.PausedUntil(at)
		want := Summarize("budi", stored.Date, day(at), 10, nil, nil, nil, kind)
		if g, w := got.EncodeSummary(), want.EncodeSummary(); string(g) != string(w) {
			t.Errorf("PausedUntil(%v): summary %+v, want %+v", at, got.Totals, want.Totals)
		}
		if g, w := got.EncodeDetail(), want.EncodeDetail(); string(g) != string(w) {
			t.Errorf("PausedUntil(%v): segments %v, want %v", at, got.Segments, want.Segments)
		}
		if got.Field() != want.Field() {
			t.Errorf("PausedUntil(%v): field day %v, want %v", at, got.Field(), want.Field())
		}
	}
	if string(stored.EncodeSummary()) != string(before) || !stored.Segments[3].End.Equal(end) {
		t.Error("PausedUntil changed the summary it extends")
	}
}
