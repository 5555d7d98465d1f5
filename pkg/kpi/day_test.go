package kpi

import (
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
		Totals: Totals{VisitProspectS: 1800, VisitCustomerS: 600, IdleS: 300, TravelS: 900, GapS: 60, DistanceM: 5321.5},
		Start:  t0, End: t0.Add(time.Hour),
		Segments: []timeline.Segment{
			{Kind: timeline.KindTravel, Start: t0, End: t0.Add(15 * time.Minute), DistanceM: 5321.5},
			{Kind: timeline.KindVisit, Start: t0.Add(15 * time.Minute), End: t0.Add(45 * time.Minute), Client: "toko",
				Source: timeline.SourceBoth, Verification: dwell.VerificationVerified, Location: dwell.LatLng{Lat: -6.2, Lng: 106.8}},
		},
		Visits: []Visit{{Visit: timeline.Visit{Client: "toko", Start: t0.Add(15 * time.Minute), End: t0.Add(45 * time.Minute),
			Source: timeline.SourceBoth, Verification: dwell.VerificationVerified, CheckInRequestID: "in-1"},
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
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("DecodeDay(Encode(d)) =\n%+v\nwant\n%+v", got, d)
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
	if err == nil {
		got.p = nil
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeDay(summary, nil) = %+v, %v; want %+v", got, err, want)
	}
}

func FuzzDecodeDay(f *testing.F) {
	f.Add(sampleDay().EncodeSummary(), sampleDay().EncodeDetail())
	f.Add([]byte{summaryV1, 0xff, 0xff, 0xff, 0xff, 0x0f}, []byte{detailV1, 0x80})
	f.Fuzz(func(t *testing.T, sum, det []byte) {
		d, err := DecodeDay(sum, det)
		if err != nil {
			return
		}
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
		if !reflect.DeepEqual(got[i], &want) {
			t.Fatalf("day %d: %+v, want %+v", i, got[i], &want)
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
	if got[0].Rep != "budi" || got[0].p.spans[0].client != "toko" {
		t.Fatalf("strings changed with the input: %q, %q", got[0].Rep, got[0].p.spans[0].client)
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
