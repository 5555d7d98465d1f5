package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenDay is a small hand-made day in Jakarta: home, a drive to a
// circle-fenced office, a visit, a drive, a gap, a visit to a building with
// a courtyard (a polygon with a hole), lunch idle, and a mock fix.
func goldenDay() (*dwellv1.GetRepDayResponse, map[string]*dwellv1.Client) {
	jkt, _ := time.LoadLocation("Asia/Jakarta")
	at := func(h, m int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 3, 2, h, m, 0, 0, jkt))
	}
	seg := func(k dwellv1.SegmentKind, h0, m0, h1, m1 int, client string) *dwellv1.Segment {
		return &dwellv1.Segment{Kind: k, StartTime: at(h0, m0), EndTime: at(h1, m1), Client: client}
	}
	const (
		visit  = dwellv1.SegmentKind_SEGMENT_KIND_VISIT
		idle   = dwellv1.SegmentKind_SEGMENT_KIND_IDLE
		travel = dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL
		gap    = dwellv1.SegmentKind_SEGMENT_KIND_GAP
	)
	home := &dwellv1.LatLng{Lat: -6.2100, Lng: 106.8000}
	lunch := &dwellv1.LatLng{Lat: -6.1950, Lng: 106.8300}
	resp := &dwellv1.GetRepDayResponse{
		Rep: "reps/budi", Date: &dwellv1.Date{Year: 2026, Month: 3, Day: 2}, TimeZone: "Asia/Jakarta", FixCount: 0,
		Segments: []*dwellv1.Segment{
			{Kind: idle, StartTime: at(8, 0), EndTime: at(8, 20), Location: home},
			{Kind: travel, StartTime: at(8, 20), EndTime: at(8, 45), DistanceMeters: 3200},
			seg(visit, 8, 45, 9, 30, "clients/toko-makmur"),
			seg(travel, 9, 30, 9, 50, ""),
			seg(gap, 9, 50, 10, 30, ""),
			seg(visit, 10, 30, 11, 40, "clients/gedung-sentral"),
			seg(travel, 11, 40, 12, 0, ""),
			{Kind: idle, StartTime: at(12, 0), EndTime: at(12, 50), Location: lunch},
		},
		Visits: []*dwellv1.Visit{
			{Rep: "reps/budi", Client: "clients/toko-makmur", StartTime: at(8, 45), EndTime: at(9, 30),
				Source: dwellv1.VisitSource_VISIT_SOURCE_BOTH, Verification: dwellv1.Verification_VERIFICATION_VERIFIED},
			{Rep: "reps/budi", Client: "clients/gedung-sentral", StartTime: at(10, 30), EndTime: at(11, 40),
				Source: dwellv1.VisitSource_VISIT_SOURCE_GEOFENCE},
		},
		Totals: &dwellv1.DayTotals{VisitProspectSeconds: 4200 + 2700, IdleSeconds: 4200, TravelSeconds: 3900, GapSeconds: 2400, DistanceMeters: 6100},
		Flags:  &dwellv1.DayFlags{MockFixes: 1},
	}
	// Fixes every 5 minutes along the day: a straight line per stretch.
	path := []struct {
		h, m     int
		lat, lng float64
	}{
		{8, 0, -6.2100, 106.8000}, {8, 20, -6.2100, 106.8000}, {8, 45, -6.2000, 106.8166},
		{9, 30, -6.2001, 106.8167}, {9, 50, -6.1900, 106.8200},
		{10, 30, -6.1850, 106.8350}, {11, 40, -6.1851, 106.8351}, {12, 0, -6.1950, 106.8300}, {12, 50, -6.1950, 106.8301},
	}
	for i := 0; i+1 < len(path); i++ {
		a, b := path[i], path[i+1]
		t0 := time.Date(2026, 3, 2, a.h, a.m, 0, 0, jkt)
		t1 := time.Date(2026, 3, 2, b.h, b.m, 0, 0, jkt)
		if a.h == 9 && a.m == 50 {
			continue // the gap: no fixes
		}
		for t := t0; t.Before(t1); t = t.Add(5 * time.Minute) {
			f := t.Sub(t0).Seconds() / t1.Sub(t0).Seconds()
			resp.Fixes = append(resp.Fixes, &dwellv1.Fix{Id: t.Format("1504"), DeviceTime: timestamppb.New(t),
				Position: &dwellv1.LatLng{Lat: a.lat + f*(b.lat-a.lat), Lng: a.lng + f*(b.lng-a.lng)}, AccuracyMeters: 10})
		}
	}
	resp.Fixes = append(resp.Fixes, &dwellv1.Fix{Id: "mock", DeviceTime: at(12, 30), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8166}, AccuracyMeters: 5, Mock: true})
	resp.FixCount = int32(len(resp.Fixes))
	ring := func(pts ...float64) *dwellv1.LinearRing {
		r := &dwellv1.LinearRing{}
		for i := 0; i+1 < len(pts); i += 2 {
			r.Vertices = append(r.Vertices, &dwellv1.LatLng{Lat: pts[i], Lng: pts[i+1]})
		}
		return r
	}
	clients := map[string]*dwellv1.Client{
		"clients/toko-makmur": {Name: "clients/toko-makmur", DisplayName: "Toko Makmur", Geofence: &dwellv1.Geofence{
			Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{Center: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8166}, RadiusMeters: 120}}}},
		"clients/gedung-sentral": {Name: "clients/gedung-sentral", DisplayName: "Gedung Sentral", Geofence: &dwellv1.Geofence{
			Shape: &dwellv1.Geofence_Polygon{Polygon: &dwellv1.Polygon{
				Shell: ring(-6.1840, 106.8340, -6.1840, 106.8362, -6.1862, 106.8362, -6.1862, 106.8340),
				Holes: []*dwellv1.LinearRing{ring(-6.1848, 106.8348, -6.1848, 106.8354, -6.1854, 106.8354, -6.1854, 106.8348)},
			}}}},
	}
	return resp, clients
}

// TestDaySVGGolden draws the hand-made day and compares it with
// testdata/day.golden.svg (go test -run TestDaySVGGolden -update rewrites
// it; look at it before committing).
func TestDaySVGGolden(t *testing.T) {
	resp, clients := goldenDay()
	pic, err := newDayPicture(resp, "Budi Santoso", clients)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := pic.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "day.golden.svg")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the picture differs from %s (run with -update and look at it)", golden)
	}
	s := parseSVG(t, b.Bytes())
	if s.segRects != 8 || s.fences != 2 || s.mockFixes != 1 || s.fixDots != len(resp.Fixes)-1 || s.pathParts == 0 || s.badges != 2+2+2 || s.scaleBars != 1 {
		t.Errorf("picture structure %+v: want 8 segments, 2 fences, 1 mock fix, %d fixes, a path, 6 badges, a scale bar", s, len(resp.Fixes)-1)
	}
	for _, want := range []string{"Budi Santoso (budi)", "Monday 2 March 2026", "Toko Makmur", "Gedung Sentral", "08:45–09:30", "idle 12:00 50m", "1 mock-location fix"} {
		if !strings.Contains(s.text, want) {
			t.Errorf("picture text lacks %q", want)
		}
	}
}

// TestProjectionToScale checks that the map is to scale: the Toko Makmur
// circle of 120 m has the radius the scale bar says 120 m has.
func TestProjectionToScale(t *testing.T) {
	resp, clients := goldenDay()
	pic, _ := newDayPicture(resp, "", clients)
	pr := pic.projection()
	// 1 km east and 1 km north of the centre, in pixels.
	x0, y0 := pr.px(pr.lat0, pr.lng0)
	dLng := 1000 / (earthRadiusM * math.Cos(pr.lat0*math.Pi/180)) * 180 / math.Pi
	dLat := 1000 / earthRadiusM * 180 / math.Pi
	xe, _ := pr.px(pr.lat0, pr.lng0+dLng)
	_, yn := pr.px(pr.lat0+dLat, pr.lng0)
	if e, n := xe-x0, y0-yn; math.Abs(e-1000*pr.pxPerM) > 1e-6 || math.Abs(n-1000*pr.pxPerM) > 1e-6 {
		t.Errorf("1 km east = %g px, 1 km north = %g px; want both %g px (north up, same scale both ways)", e, n, 1000*pr.pxPerM)
	}
	if pr.widthPx != mapWidth || pr.heightPx < 320 {
		t.Errorf("map %g x %g px, want %g wide and at least 320 high", pr.widthPx, pr.heightPx, mapWidth)
	}
}

func TestNumberRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{[]int{3}, "3"}, {[]int{1, 2, 3}, "1–3"}, {[]int{7, 1, 2, 9, 10, 11}, "1–2, 7, 9–11"}} {
		if got := numberRanges(c.in); got != c.want {
			t.Errorf("numberRanges(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
