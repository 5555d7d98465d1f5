package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file reads client import files. The parsers check syntax only: a
// value that cannot be put in the request (a word where a number belongs,
// an unknown kind, half a circle) makes the file malformed and nothing is
// sent. Whether a well-formed value is acceptable (a radius of 5 m, a
// latitude of 95, a self-crossing polygon) is for the server to say, row by
// row.

// clientRow is one client read from an import file.
type clientRow struct {
	Client *dwellv1.Client
	Src    source
}

// Client import formats.
const (
	formatCSV     = "csv"
	formatGeoJSON = "geojson"
	formatJSONL   = "jsonl"
)

// parseClients reads an import file of the given format.
func parseClients(r io.Reader, format string) ([]clientRow, error) {
	switch format {
	case formatCSV:
		return parseClientsCSV(r)
	case formatGeoJSON:
		return parseClientsGeoJSON(r)
	}
	return nil, fmt.Errorf("unknown client file format %q", format)
}

// clientName returns the resource name of a client id, leaving a name that
// already is one alone. An empty id stays empty, for the server to report.
func clientName(id string) string {
	if id == "" || strings.HasPrefix(id, "clients/") {
		return id
	}
	return "clients/" + id
}

// parseKind parses "prospect" or "customer" (any case). Empty is
// unspecified, which the server reports as missing.
func parseKind(s string) (dwellv1.ClientKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return dwellv1.ClientKind_CLIENT_KIND_UNSPECIFIED, nil
	case "prospect":
		return dwellv1.ClientKind_CLIENT_KIND_PROSPECT, nil
	case "customer":
		return dwellv1.ClientKind_CLIENT_KIND_CUSTOMER, nil
	}
	return 0, fmt.Errorf("kind %q: want prospect or customer", s)
}

// kindName is the inverse of parseKind.
func kindName(k dwellv1.ClientKind) string {
	switch k {
	case dwellv1.ClientKind_CLIENT_KIND_PROSPECT:
		return "prospect"
	case dwellv1.ClientKind_CLIENT_KIND_CUSTOMER:
		return "customer"
	}
	return "-"
}

// CSV columns of a client import file.
var clientColumns = []string{"id", "display_name", "kind", "lat", "lng", "radius_m", "address", "external_id", "wkt"}

// parseClientsCSV reads a CSV file with a header row. Columns, in any order:
// id, display_name (or name), kind, address, external_id and either
// lat, lng and radius_m (a circle) or wkt (a POLYGON, lng lat order). A row
// may use either shape when the header has both.
func parseClientsCSV(r io.Reader) ([]clientRow, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &inputErrors{Errs: []*inputError{{Src: source{Line: 1}, Msg: "empty file: a header row is required (" + strings.Join(clientColumns, ",") + ")"}}, Total: 1}
	}
	if err != nil {
		return nil, csvError(err)
	}
	col, err := csvHeader(header, clientColumns, map[string]string{"name": "display_name"})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range []string{"id", "display_name", "kind"} {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	_, hasLat := col["lat"]
	_, hasLng := col["lng"]
	_, hasRadius := col["radius_m"]
	_, hasWKT := col["wkt"]
	hasCircle := hasLat && hasLng && hasRadius
	if (hasLat || hasLng || hasRadius) && !hasCircle {
		missing = append(missing, "lat, lng and radius_m together")
	}
	if !hasCircle && !hasWKT {
		missing = append(missing, "lat,lng,radius_m or wkt")
	}
	if len(missing) > 0 {
		return nil, oneInputError(source{Line: 1}, "header lacks column %s", strings.Join(missing, ", "))
	}

	var rows []clientRow
	var errs errList
	err = eachCSVRow(cr, col, &errs, func(src source, get func(string) string) {
		var err error
		c := &dwellv1.Client{
			Name:        clientName(get("id")),
			DisplayName: get("display_name"),
			Address:     get("address"),
			ExternalId:  get("external_id"),
		}
		if c.Kind, err = parseKind(get("kind")); err != nil {
			errs.add(src, "%v", err)
			return
		}
		fence, err := csvFence(get("lat"), get("lng"), get("radius_m"), get("wkt"))
		if err != nil {
			errs.add(src, "%v", err)
			return
		}
		c.Geofence = fence
		rows = append(rows, clientRow{Client: c, Src: src})
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// csvFence builds the geofence of one CSV row. A row with no shape at all
// gets none (the server reports the geofence as missing).
func csvFence(lat, lng, radius, wkt string) (*dwellv1.Geofence, error) {
	circle := lat != "" || lng != "" || radius != ""
	switch {
	case circle && wkt != "":
		return nil, errors.New("give either lat,lng,radius_m or wkt, not both")
	case wkt != "":
		p, err := parseWKTPolygon(wkt)
		if err != nil {
			return nil, fmt.Errorf("wkt: %v", err)
		}
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}, nil
	case !circle:
		return nil, nil
	case lat == "" || lng == "" || radius == "":
		return nil, errors.New("a circle needs all of lat, lng and radius_m")
	}
	var vals [3]float64
	for i, f := range []struct{ name, v string }{{"lat", lat}, {"lng", lng}, {"radius_m", radius}} {
		x, err := parseFloat(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.name, err)
		}
		vals[i] = x
	}
	return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
		Center:       &dwellv1.LatLng{Lat: vals[0], Lng: vals[1]},
		RadiusMeters: vals[2],
	}}}, nil
}

// csvHeader maps the known column names of a header row to their indexes.
// Names are matched without case or surrounding space; aliases map other
// accepted names to known ones. An unknown or repeated column is an error:
// a misspelt optional column would otherwise be dropped silently.
func csvHeader(header, known []string, aliases map[string]string) (map[string]int, error) {
	col := make(map[string]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if i == 0 {
			name = bomless(name)
		}
		if a, ok := aliases[name]; ok {
			name = a
		}
		isKnown := false
		for _, k := range known {
			if k == name {
				isKnown = true
			}
		}
		if !isKnown {
			return nil, oneInputError(source{Line: 1}, "unknown column %q (known columns: %s)", h, strings.Join(known, ","))
		}
		if _, dup := col[name]; dup {
			return nil, oneInputError(source{Line: 1}, "column %q appears twice", name)
		}
		col[name] = i
	}
	return col, nil
}

func oneInputError(src source, format string, args ...any) error {
	var l errList
	l.add(src, format, args...)
	return l.err()
}

// eachCSVRow reads the data rows of cr and calls row for each with its
// source line and a getter of trimmed values by column name (empty for a
// column the header lacks). A row with the wrong field count is recorded in
// errs and skipped; a quoting error is recorded and ends the reading, since
// the reader's position is then uncertain and later errors would be noise.
// It returns only I/O errors.
func eachCSVRow(cr *csv.Reader, col map[string]int, errs *errList, row func(src source, get func(string) string)) error {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs.add(source{Line: pe.Line}, "%v", pe.Err)
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					continue
				}
				return nil
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		row(source{Line: line}, func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		})
	}
}

// csvError turns a CSV reader error into an input error with its line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return oneInputError(source{Line: pe.Line}, "%v", pe.Err)
	}
	return err
}

// lineIndex converts byte offsets of a file into 1-based line numbers.
type lineIndex []int // offsets of every '\n'

func newLineIndex(data []byte) lineIndex {
	var li lineIndex
	for i, c := range data {
		if c == '\n' {
			li = append(li, i)
		}
	}
	return li
}

// line returns the line and column (both 1-based) of byte offset off.
func (li lineIndex) line(off int64) (int, int) {
	n := sort.Search(len(li), func(i int) bool { return int64(li[i]) >= off })
	start := int64(0)
	if n > 0 {
		start = int64(li[n-1]) + 1
	}
	return n + 1, int(off-start) + 1
}

// parseClientsGeoJSON reads a GeoJSON FeatureCollection. Point features are
// circles (properties.radius_m is required); Polygon features are polygons
// whose first ring is the shell and the others holes. Positions are
// [lng, lat] (a third, altitude, element is ignored). Properties: id (or the
// feature's own "id"), display_name or name, kind, address, external_id;
// others are ignored.
func parseClientsGeoJSON(r io.Reader) ([]clientRow, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	li := newLineIndex(data)
	// syntax reports a decoding error. The streaming decoder's offsets are
	// not always absolute, so a syntax error is located again by a
	// whole-file check, whose offsets are.
	syntax := func(err error, dec *json.Decoder) error {
		off := dec.InputOffset()
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			var v any
			if err2 := json.Unmarshal(data, &v); errors.As(err2, &se) {
				// Offset counts the bad byte itself.
				err, off = se, max(se.Offset-1, 0)
			}
			if se.Offset >= int64(len(data)) {
				err = errors.New("unexpected end of file")
			}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			err = errors.New("unexpected end of file")
			off = int64(len(data))
		}
		line, colm := li.line(off)
		return oneInputError(source{Line: line}, "column %d: %v", colm, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return nil, syntax(err, dec)
	} else if tok != json.Delim('{') {
		return nil, oneInputError(source{Line: 1}, "want a GeoJSON FeatureCollection object")
	}
	var (
		rows      []clientRow
		errs      errList
		typ       string
		sawFeats  bool
		nFeatures int
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err, dec)
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			if err := dec.Decode(&typ); err != nil {
				return nil, syntax(err, dec)
			}
		case "features":
			sawFeats = true
			if tok, err := dec.Token(); err != nil {
				return nil, syntax(err, dec)
			} else if tok != json.Delim('[') {
				line, _ := li.line(dec.InputOffset())
				return nil, oneInputError(source{Line: line}, "features must be an array")
			}
			for dec.More() {
				start := dec.InputOffset()
				for start < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[start]) >= 0 {
					start++
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return nil, syntax(err, dec)
				}
				nFeatures++
				line, _ := li.line(start)
				src := source{Line: line, Feature: nFeatures}
				c, err := geojsonFeature(raw)
				if err != nil {
					errs.add(src, "%v", err)
					continue
				}
				rows = append(rows, clientRow{Client: c, Src: src})
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, syntax(err, dec)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, syntax(err, dec)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, syntax(err, dec)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, _ := li.line(dec.InputOffset())
		return nil, oneInputError(source{Line: line}, "unexpected data after the FeatureCollection")
	}
	if typ != "FeatureCollection" {
		return nil, oneInputError(source{Line: 1}, "type is %q, want \"FeatureCollection\"", typ)
	}
	if !sawFeats {
		return nil, oneInputError(source{Line: 1}, "no \"features\" array")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// geojsonFeature converts one GeoJSON feature.
func geojsonFeature(raw json.RawMessage) (*dwellv1.Client, error) {
	var f struct {
		Type     string `json:"type"`
		ID       any    `json:"id"`
		Geometry *struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a feature object: %v", err)
	}
	if f.Type != "Feature" {
		return nil, fmt.Errorf("type is %q, want \"Feature\"", f.Type)
	}
	props := f.Properties
	text := func(key string) (string, error) {
		switch v := props[key].(type) {
		case nil:
			return "", nil
		case string:
			return strings.TrimSpace(v), nil
		case json.Number:
			return v.String(), nil
		}
		return "", fmt.Errorf("properties.%s must be a string", key)
	}
	c := &dwellv1.Client{}
	id, err := text("id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		switch v := f.ID.(type) {
		case string:
			id = v
		case json.Number:
			id = v.String()
		}
	}
	c.Name = clientName(id)
	if c.DisplayName, err = text("display_name"); err != nil {
		return nil, err
	}
	if c.DisplayName == "" {
		if c.DisplayName, err = text("name"); err != nil {
			return nil, err
		}
	}
	if c.Address, err = text("address"); err != nil {
		return nil, err
	}
	if c.ExternalId, err = text("external_id"); err != nil {
		return nil, err
	}
	kind, err := text("kind")
	if err != nil {
		return nil, err
	}
	if c.Kind, err = parseKind(kind); err != nil {
		return nil, fmt.Errorf("properties.%v", err)
	}
	if f.Geometry == nil {
		return nil, errors.New("geometry is missing or null")
	}
	switch f.Geometry.Type {
	case "Point":
		var pos []float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &pos); err != nil {
			return nil, fmt.Errorf("geometry.coordinates: want [lng, lat]: %v", err)
		}
		ll, err := position(pos)
		if err != nil {
			return nil, fmt.Errorf("geometry.coordinates: %v", err)
		}
		radius, err := numberProp(props, "radius_m")
		if err != nil {
			return nil, err
		}
		if radius == nil {
			return nil, errors.New("properties.radius_m is required for a Point (the radius of the site in metres)")
		}
		c.Geofence = &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{Center: ll, RadiusMeters: *radius}}}
	case "Polygon":
		var rings [][][]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil {
			return nil, fmt.Errorf("geometry.coordinates: want [[[lng, lat], ...], ...]: %v", err)
		}
		if len(rings) == 0 {
			return nil, errors.New("geometry.coordinates: a Polygon needs at least its outer ring")
		}
		p := &dwellv1.Polygon{}
		for i, ring := range rings {
			lr := &dwellv1.LinearRing{}
			for j, pos := range ring {
				ll, err := position(pos)
				if err != nil {
					return nil, fmt.Errorf("geometry.coordinates[%d][%d]: %v", i, j, err)
				}
				lr.Vertices = append(lr.Vertices, ll)
			}
			if i == 0 {
				p.Shell = lr
			} else {
				p.Holes = append(p.Holes, lr)
			}
		}
		c.Geofence = &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}
	case "":
		return nil, errors.New("geometry.type is missing")
	default:
		return nil, fmt.Errorf("geometry type %s is not supported (want Point or Polygon)", f.Geometry.Type)
	}
	return c, nil
}

// position converts a GeoJSON position [lng, lat] or [lng, lat, alt].
func position(p []float64) (*dwellv1.LatLng, error) {
	if len(p) != 2 && len(p) != 3 {
		return nil, fmt.Errorf("a position is [lng, lat], got %d numbers", len(p))
	}
	return &dwellv1.LatLng{Lat: p[1], Lng: p[0]}, nil
}

// numberProp returns a numeric property (a JSON number or a numeric
// string), or nil when it is absent or null.
func numberProp(props map[string]any, key string) (*float64, error) {
	var s string
	switch v := props[key].(type) {
	case nil:
		return nil, nil
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return nil, fmt.Errorf("properties.%s must be a number", key)
	}
	f, err := parseFloat(s)
	if err != nil {
		return nil, fmt.Errorf("properties.%s: %v", key, err)
	}
	return &f, nil
}

// formatFloat prints a number without needless digits.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
