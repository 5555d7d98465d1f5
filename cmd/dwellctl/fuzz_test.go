package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// The decoders must never panic, and a malformed file must yield no rows
// and an error that names where.

func checkParse[T any](t *testing.T, rows []T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if rows != nil {
		t.Fatalf("rows %v returned with error %v", rows, err)
	}
	var ie *inputErrors
	if errors.As(err, &ie) {
		for _, e := range ie.Errs {
			if e.Src.Line < 1 {
				t.Fatalf("error without a line: %v", e)
			}
		}
	}
}

func FuzzParseClientsCSV(f *testing.F) {
	f.Add("id,display_name,kind,lat,lng,radius_m,wkt\na,A,prospect,1,2,3,\nb,B,customer,,,,\"POLYGON((1 2,3 4,5 6))\"\n")
	f.Add("id,name,kind,wkt\n\"a\nb\",x,lead,POLYGON((\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseClientsCSV(strings.NewReader(in))
		checkParse(t, rows, err)
	})
}

func FuzzParseClientsGeoJSON(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"id":"a","radius_m":5}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6]],[[1,1]]]},"properties":null}]}`)
	f.Add("{\"features\":[\n{}\n,")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseClientsGeoJSON(strings.NewReader(in))
		checkParse(t, rows, err)
	})
}

func FuzzParseWKTPolygon(f *testing.F) {
	f.Add("POLYGON((1 2, 3 4, 5 6),(1 1, 2 2, 3 1))")
	f.Add("polygon z((")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := parseWKTPolygon(in)
		if err == nil && p.GetShell() == nil {
			t.Fatalf("parseWKTPolygon(%q) returned no shell and no error", in)
		}
	})
}

func FuzzParsePings(f *testing.F) {
	f.Add(`{"id":"a","time":"2026-03-02T01:15:00Z","lat":1,"lng":2,"accuracy_m":3,"mock":true}`, false)
	f.Add("id,time,lat,lng,accuracy_m,mock\na,2026-03-02T01:15:00Z,1,2,3,1\n", true)
	f.Fuzz(func(t *testing.T, in string, csv bool) {
		format := formatJSONL
		if csv {
			format = formatCSV
		}
		rows, err := parsePings(strings.NewReader(in), format)
		checkParse(t, rows, err)
		for _, r := range rows {
			if r.Fix.GetId() == "" {
				t.Fatalf("fix without id accepted from %q", in)
			}
		}
	})
}

func FuzzParseHours(f *testing.F) {
	f.Add("mon-fri 08:00-17:00, sat 09:00-13:00")
	f.Fuzz(func(t *testing.T, in string) {
		ws, err := parseHours(in)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.GetStartMinute() < 0 || w.GetEndMinute() > 1440 || w.GetEndMinute() <= w.GetStartMinute() || w.GetDayOfWeek() < 0 || w.GetDayOfWeek() > 6 {
				t.Fatalf("parseHours(%q) gave an invalid window %v", in, w)
			}
		}
		again, err := parseHours(formatHours(ws))
		if err != nil || formatHours(again) != formatHours(ws) {
			t.Fatalf("parseHours(%q): format %q does not round-trip: %v", in, formatHours(ws), err)
		}
	})
}

func TestProgressThrottle(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgress(&buf, "importing", "rows", 1000, func() time.Time { return now })
	draws := func() int { return strings.Count(buf.String(), "\r") }
	for range 99 { // 99 updates within 99 ms: drawn once
		now = now.Add(time.Millisecond)
		p.add(10)
	}
	if n := draws(); n != 1 {
		t.Errorf("drew %d times in 99 ms, want 1", n)
	}
	now = now.Add(100 * time.Millisecond)
	p.add(0)
	if n := draws(); n != 2 {
		t.Errorf("drew %d times after 100 ms more, want 2", n)
	}
	p.add(10) // the last rows are always drawn
	p.finish()
	if got := buf.String(); !strings.Contains(got, "1000/1000 rows (100%)") || !strings.HasSuffix(got, "\n") {
		t.Errorf("final progress output %q", got)
	}
	var none progress // a progress without a writer draws nothing
	none.now = time.Now
	none.add(5)
	none.finish()
}
