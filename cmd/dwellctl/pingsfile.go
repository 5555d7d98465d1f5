package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// fixRow is one fix read from a pings file.
type fixRow struct {
	Fix  *dwellv1.Fix
	Line int
}

// missingIDHint explains why a fix id is required.
const missingIDHint = "Every fix needs an id that is unique for its rep (a UUID, or the phone's sequence number).\n" +
	"Ids make uploads idempotent: uploading the same file again stores nothing twice."

// maxLineBytes bounds one line of a JSONL file.
const maxLineBytes = 1 << 20

// parsePings reads a pings file of the given format.
func parsePings(r io.Reader, format string) ([]fixRow, error) {
	switch format {
	case formatJSONL:
		return parsePingsJSONL(r)
	case formatCSV:
		return parsePingsCSV(r)
	}
	return nil, fmt.Errorf("unknown pings file format %q", format)
}

// jsonFix is one line of a JSONL pings file. Pointers tell absent from zero.
type jsonFix struct {
	ID         *string  `json:"id"`
	Time       *string  `json:"time"`
	Lat        *float64 `json:"lat"`
	Lng        *float64 `json:"lng"`
	AccuracyM  *float64 `json:"accuracy_m"`
	SpeedMPS   *float64 `json:"speed_mps"`
	BearingDeg *float64 `json:"bearing_deg"`
	AltitudeM  *float64 `json:"altitude_m"`
	Mock       *bool    `json:"mock"`
}

// parsePingsJSONL reads one JSON object per line: id, time (RFC 3339), lat,
// lng and accuracy_m are required; speed_mps, bearing_deg, altitude_m and
// mock are optional (absent or null: unknown). Unknown keys are errors, so
// that a misspelt "accuracy" is not taken as an accuracy of 0 m. Blank lines
// are skipped.
func parsePingsJSONL(r io.Reader) ([]fixRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var (
		rows []fixRow
		errs errList
		line int
	)
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		src := source{Line: line}
		var jf jsonFix
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&jf); err != nil {
			errs.add(src, "%s", jsonLineError(err))
			continue
		}
		if dec.More() {
			errs.add(src, "more than one JSON value on the line")
			continue
		}
		if jf.ID == nil || *jf.ID == "" {
			errs.add(src, "fix has no id")
			errs.hint(missingIDHint)
			continue
		}
		var missing []string
		if jf.Time == nil {
			missing = append(missing, "time")
		}
		if jf.Lat == nil {
			missing = append(missing, "lat")
		}
		if jf.Lng == nil {
			missing = append(missing, "lng")
		}
		if jf.AccuracyM == nil {
			missing = append(missing, "accuracy_m")
		}
		if len(missing) > 0 {
			errs.add(src, "fix %q lacks %s", *jf.ID, strings.Join(missing, ", "))
			continue
		}
		t, err := parseTime(*jf.Time)
		if err != nil {
			errs.add(src, "fix %q: time: %v", *jf.ID, err)
			continue
		}
		f := &dwellv1.Fix{
			Id:                   *jf.ID,
			DeviceTime:           t,
			Position:             &dwellv1.LatLng{Lat: *jf.Lat, Lng: *jf.Lng},
			AccuracyMeters:       *jf.AccuracyM,
			SpeedMetersPerSecond: jf.SpeedMPS,
			BearingDegrees:       jf.BearingDeg,
			AltitudeMeters:       jf.AltitudeM,
			Mock:                 jf.Mock != nil && *jf.Mock,
		}
		rows = append(rows, fixRow{Fix: f, Line: line})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			errs.add(source{Line: line + 1}, "line longer than %d bytes", maxLineBytes)
		} else {
			return nil, err
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// jsonLineError rewords a JSON decoding error of one line.
func jsonLineError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("%s: want a %s, got a JSON %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at column %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON object"
	}
	// Unknown fields: `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

// parseTime parses an RFC 3339 instant (fractional seconds allowed).
func parseTime(s string) (*timestamppb.Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not an RFC 3339 time such as 2026-03-02T08:15:00+07:00", s)
	}
	ts := timestamppb.New(t)
	if err := ts.CheckValid(); err != nil {
		return nil, fmt.Errorf("%q is out of range", s)
	}
	return ts, nil
}

// Columns of a pings CSV file.
var pingColumns = []string{"id", "time", "lat", "lng", "accuracy_m", "speed_mps", "bearing_deg", "altitude_m", "mock"}

// parsePingsCSV reads a CSV file with the header
// id,time,lat,lng,accuracy_m and optionally speed_mps, bearing_deg,
// altitude_m and mock (true/false, 1/0), in any order. An empty optional
// value is unknown.
func parsePingsCSV(r io.Reader) ([]fixRow, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, oneInputError(source{Line: 1}, "empty file: a header row is required (%s)", strings.Join(pingColumns, ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	col, err := csvHeader(header, pingColumns, nil)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range pingColumns[:5] {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		if missing[0] == "id" {
			return nil, &inputErrors{Errs: []*inputError{{Src: source{Line: 1}, Msg: "header lacks column " + strings.Join(missing, ", ")}}, Total: 1, Hint: missingIDHint}
		}
		return nil, oneInputError(source{Line: 1}, "header lacks column %s", strings.Join(missing, ", "))
	}
	var (
		rows []fixRow
		errs errList
	)
	err = eachCSVRow(cr, col, &errs, func(src source, get func(string) string) {
		f, err := csvFix(get)
		if err != nil {
			if errors.Is(err, errNoFixID) {
				errs.hint(missingIDHint)
			}
			errs.add(src, "%v", err)
			return
		}
		rows = append(rows, fixRow{Fix: f, Line: src.Line})
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

var errNoFixID = errors.New("fix has no id")

// csvFix converts one CSV row.
func csvFix(get func(string) string) (*dwellv1.Fix, error) {
	id := get("id")
	if id == "" {
		return nil, errNoFixID
	}
	var missing []string
	for _, c := range pingColumns[1:5] {
		if get(c) == "" {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("fix %q lacks %s", id, strings.Join(missing, ", "))
	}
	t, err := parseTime(get("time"))
	if err != nil {
		return nil, fmt.Errorf("fix %q: time: %v", id, err)
	}
	num := func(name string) (*float64, error) {
		s := get(name)
		if s == "" {
			return nil, nil
		}
		x, err := parseFloat(s)
		if err != nil {
			return nil, fmt.Errorf("fix %q: %s: %v", id, name, err)
		}
		return &x, nil
	}
	f := &dwellv1.Fix{Id: id, DeviceTime: t}
	var lat, lng, acc *float64
	for _, p := range []struct {
		name string
		dst  **float64
	}{
		{"lat", &lat}, {"lng", &lng}, {"accuracy_m", &acc},
		{"speed_mps", &f.SpeedMetersPerSecond}, {"bearing_deg", &f.BearingDegrees}, {"altitude_m", &f.AltitudeMeters},
	} {
		if *p.dst, err = num(p.name); err != nil {
			return nil, err
		}
	}
	f.Position = &dwellv1.LatLng{Lat: *lat, Lng: *lng}
	f.AccuracyMeters = *acc
	if s := get("mock"); s != "" {
		b, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil {
			return nil, fmt.Errorf("fix %q: mock: %q is not true or false", id, s)
		}
		f.Mock = b
	}
	return f, nil
}
