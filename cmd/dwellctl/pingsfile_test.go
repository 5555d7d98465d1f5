package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func fl(f float64) *float64 { return &f }

func TestParsePings(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 1, 15, 0, 0, time.UTC)
	wantFixes := []*dwellv1.Fix{
		{Id: "f1", DeviceTime: timestamppb.New(t0), Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 12},
		{Id: "f2", DeviceTime: timestamppb.New(t0.Add(30*time.Second + 500*time.Millisecond)), Position: &dwellv1.LatLng{Lat: -6.21, Lng: 106.81},
			AccuracyMeters: 8.5, SpeedMetersPerSecond: fl(0), BearingDegrees: fl(270), AltitudeMeters: fl(-3), Mock: true},
		{Id: "f3", DeviceTime: timestamppb.New(t0.Add(time.Minute)), Position: &dwellv1.LatLng{Lat: 0, Lng: 0}, AccuracyMeters: 0},
	}
	tests := []struct {
		name, format, in string
		lines            []int
	}{
		{"jsonl", formatJSONL,
			`{"id":"f1","time":"2026-03-02T08:15:00+07:00","lat":-6.2,"lng":106.8,"accuracy_m":12}` + "\n" +
				"\n" +
				`  {"id":"f2","time":"2026-03-02T01:15:30.5Z","lat":-6.21,"lng":106.81,"accuracy_m":8.5,"speed_mps":0,"bearing_deg":270,"altitude_m":-3,"mock":true}` + "\r\n" +
				`{"id":"f3","time":"2026-03-02T01:16:00Z","lat":0,"lng":0,"accuracy_m":0,"speed_mps":null,"mock":false}`,
			[]int{1, 3, 4}},
		{"csv", formatCSV,
			"id,time,lat,lng,accuracy_m,speed_mps,bearing_deg,altitude_m,mock\n" +
				"f1,2026-03-02T08:15:00+07:00,-6.2,106.8,12,,,,\n" +
				"f2,2026-03-02T01:15:30.5Z,-6.21,106.81,8.5,0,270,-3,TRUE\n" +
				"f3,2026-03-02T01:16:00Z,0,0,0,,,,0\n",
			[]int{2, 3, 4}},
		{"csv minimal columns reordered", formatCSV,
			"time,id,accuracy_m,lng,lat\n" +
				"2026-03-02T08:15:00+07:00,f1,12,106.8,-6.2\n",
			[]int{2}},
	}
	for _, tt := range tests {
		rows, err := parsePings(strings.NewReader(tt.in), tt.format)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(rows) != len(tt.lines) {
			t.Errorf("%s: got %d fixes, want %d", tt.name, len(rows), len(tt.lines))
			continue
		}
		for i, r := range rows {
			if r.Line != tt.lines[i] || !proto.Equal(r.Fix, wantFixes[i]) {
				t.Errorf("%s: fix %d = line %d %s, want line %d %s", tt.name, i, r.Line, text(r.Fix), tt.lines[i], text(wantFixes[i]))
			}
		}
	}
}

func TestParsePingsMalformed(t *testing.T) {
	const ok = `{"id":"a","time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy_m":3}`
	const hdr = "id,time,lat,lng,accuracy_m,mock\n"
	tests := []struct {
		name, format, in string
		lines            []int
		subs             []string
		hint             bool
	}{
		{"jsonl missing ids", formatJSONL, ok + "\n" +
			`{"time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy_m":3}` + "\n" +
			ok + "\n" +
			`{"id":"","time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy_m":3}`,
			[]int{2, 4}, []string{"fix has no id", "fix has no id"}, true},
		{"jsonl bad lines", formatJSONL, ok + "\n" +
			`{"id":"b","time":"2026-03-02 01:15","lat":1,"lng":2,"accuracy_m":3}` + "\n" +
			`{"id":"c","time":"2026-03-02T01:15:00Z","lat":"1","lng":2,"accuracy_m":3}` + "\n" +
			`{"id":"d","time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy":3}` + "\n" +
			`{"id":"e","lat":1,"accuracy_m":3}` + "\n" +
			`{"id":"f",` + "\n" +
			ok + ok + "\n" +
			`[1,2]` + "\n" +
			`{"id":7,"time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy_m":3}` + "\n",
			[]int{2, 3, 4, 5, 6, 7, 8, 9}, []string{"not an RFC 3339 time", "lat: want a float64, got a JSON string",
				`unknown field "accuracy"`, `fix "e" lacks time, lng`, "truncated", "more than one JSON value", "want a main.jsonFix", "id: want a string"}, false},
		{"csv empty", formatCSV, "", []int{1}, []string{"header row is required"}, false},
		{"csv no id column", formatCSV, "time,lat,lng,accuracy_m\n", []int{1}, []string{"lacks column id"}, true},
		{"csv no accuracy column", formatCSV, "id,time,lat,lng\n", []int{1}, []string{"lacks column accuracy_m"}, false},
		{"csv unknown column", formatCSV, "id,time,lat,lng,accuracy_m,speed\n", []int{1}, []string{`unknown column "speed"`}, false},
		{"csv bad rows", formatCSV, hdr +
			"a,2026-03-02T01:15:00Z,1,2,3,\n" +
			",2026-03-02T01:15:00Z,1,2,3,\n" +
			"c,2026-03-02T01:15:00Z,x,2,3,\n" +
			"d,2026-03-02T01:15:00Z,1,2,,\n" +
			"e,2026-03-02T01:15:00Z,1,2,3,maybe\n" +
			"f,yesterday,1,2,3,\n" +
			"g,2026-03-02T01:15:00Z,1,2\n",
			[]int{3, 4, 5, 6, 7, 8}, []string{"fix has no id", `fix "c": lat: "x" is not a number`, `fix "d" lacks accuracy_m`,
				`mock: "maybe"`, "not an RFC 3339 time", "wrong number of fields"}, true},
	}
	for _, tt := range tests {
		rows, err := parsePings(strings.NewReader(tt.in), tt.format)
		if rows != nil {
			t.Errorf("%s: got %d fixes with a malformed file, want none", tt.name, len(rows))
		}
		wantInputErrors(t, tt.name, err, tt.lines, tt.subs)
		if err != nil && strings.Contains(err.Error(), "idempotent") != tt.hint {
			t.Errorf("%s: error %q: idempotency hint present = %v, want %v", tt.name, err, !tt.hint, tt.hint)
		}
	}
}
