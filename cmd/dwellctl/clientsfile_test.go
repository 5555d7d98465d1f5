package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func circle(lat, lng, r float64) *dwellv1.Geofence {
	return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
		Center: &dwellv1.LatLng{Lat: lat, Lng: lng}, RadiusMeters: r}}}
}

func ring(lnglat ...float64) *dwellv1.LinearRing {
	r := &dwellv1.LinearRing{}
	for i := 0; i+1 < len(lnglat); i += 2 {
		r.Vertices = append(r.Vertices, &dwellv1.LatLng{Lng: lnglat[i], Lat: lnglat[i+1]})
	}
	return r
}

func polygon(shell *dwellv1.LinearRing, holes ...*dwellv1.LinearRing) *dwellv1.Geofence {
	return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: &dwellv1.Polygon{Shell: shell, Holes: holes}}}
}

func text(m proto.Message) string { return prototext.Format(m) }

// wantInputErrors checks that err lists malformed rows at exactly the given
// lines, each message containing the matching substring.
func wantInputErrors(t *testing.T, name string, err error, lines []int, subs []string) {
	t.Helper()
	var ie *inputErrors
	if !errors.As(err, &ie) {
		t.Fatalf("%s: error = %v, want input errors at lines %v", name, err, lines)
	}
	if len(ie.Errs) != len(lines) {
		t.Fatalf("%s: got %d errors:\n%v\nwant lines %v", name, len(ie.Errs), err, lines)
	}
	for i, e := range ie.Errs {
		if e.Src.Line != lines[i] {
			t.Errorf("%s: error %d at line %d (%v), want line %d", name, i, e.Src.Line, e, lines[i])
		}
		if !strings.Contains(e.Msg, subs[i]) {
			t.Errorf("%s: error %d = %q, want it to contain %q", name, i, e.Msg, subs[i])
		}
	}
}

func TestParseClientsCSV(t *testing.T) {
	in := "\ufeffID, Name ,kind,lat,lng,radius_m,address,external_id,wkt\n" +
		"a1,Acme,customer,-6.1,106.8,120,\"Jl. X, 1\",E1,\n" +
		"\n" +
		"b2,Budi,PROSPECT,,,,,,\"polygon ((1 2, 3 4, 5 6), (1.5 2.5,2 3,2.5 3.5))\"\n" +
		"c3,,,,,,,,\n" + // nothing but an id: the server's to judge
		"clients/d4,Dee,prospect,1e-3,-2,10.5,,,\n"
	rows, err := parseClientsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []clientRow{
		{Src: source{Line: 2}, Client: &dwellv1.Client{Name: "clients/a1", DisplayName: "Acme", Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER,
			Address: "Jl. X, 1", ExternalId: "E1", Geofence: circle(-6.1, 106.8, 120)}},
		{Src: source{Line: 4}, Client: &dwellv1.Client{Name: "clients/b2", DisplayName: "Budi", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
			Geofence: polygon(ring(1, 2, 3, 4, 5, 6), ring(1.5, 2.5, 2, 3, 2.5, 3.5))}},
		{Src: source{Line: 5}, Client: &dwellv1.Client{Name: "clients/c3"}},
		{Src: source{Line: 6}, Client: &dwellv1.Client{Name: "clients/d4", DisplayName: "Dee", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
			Geofence: circle(0.001, -2, 10.5)}},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range rows {
		if rows[i].Src != want[i].Src || !proto.Equal(rows[i].Client, want[i].Client) {
			t.Errorf("row %d = %v %s, want %v %s", i, rows[i].Src, text(rows[i].Client), want[i].Src, text(want[i].Client))
		}
	}
}

func TestParseClientsCSVMalformed(t *testing.T) {
	const hdr = "id,display_name,kind,lat,lng,radius_m\n"
	tests := []struct {
		name  string
		in    string
		lines []int
		subs  []string
	}{
		{"empty", "", []int{1}, []string{"header row is required"}},
		{"unknown column", "id,display_name,kind,lat,lng,radius,address\n", []int{1}, []string{`unknown column "radius"`}},
		{"repeated column", "id,name,display_name,kind,wkt\n", []int{1}, []string{`"display_name" appears twice`}},
		{"no shape columns", "id,display_name,kind\n", []int{1}, []string{"lat,lng,radius_m or wkt"}},
		{"half a circle", "id,display_name,kind,lat,lng\n", []int{1}, []string{"lat, lng and radius_m together"}},
		{"no kind column", "id,display_name,wkt\n", []int{1}, []string{"kind"}},
		{"bad numbers", hdr + "a,A,prospect,1,2,3\nb,B,prospect,north,2,3\nc,C,prospect,1,2,3m\nd,D,prospect,NaN,2,3\n",
			[]int{3, 4, 5}, []string{`lat: "north" is not a number`, `radius_m: "3m"`, "not a finite number"}},
		{"unknown kind", hdr + "a,A,lead,1,2,3\n", []int{2}, []string{`kind "lead": want prospect or customer`}},
		{"partial circle", hdr + "a,A,prospect,1,,3\n", []int{2}, []string{"needs all of lat, lng and radius_m"}},
		{"wrong field count", hdr + "a,A,prospect,1,2,3\nb,B,prospect,1,2\n", []int{3}, []string{"wrong number of fields"}},
		{"bad quote", hdr + "a,A,prospect,1,2,3\nb,\"B,prospect,1,2,3\n", []int{3}, []string{"quote"}},
		{"both shapes", "id,display_name,kind,lat,lng,radius_m,wkt\na,A,prospect,1,2,3,\"POLYGON((1 2,3 4,5 6))\"\n",
			[]int{2}, []string{"either lat,lng,radius_m or wkt"}},
		{"bad wkt", "id,display_name,kind,wkt\na,A,prospect,POINT(1 2)\nb,B,prospect,\"POLYGON((1 2, 3 4 5, 6 7))\"\nc,C,prospect,\"POLYGON((1 2, 3 4)\"\n",
			[]int{2, 3, 4}, []string{"want POLYGON", "more than two coordinates", "want ',' or ')' after a ring"}},
		{"multi-line quoted field keeps line numbers", hdr + "a,\"A\nB\",prospect,1,2,3\nb,B,lead,1,2,3\n",
			[]int{4}, []string{"lead"}},
	}
	for _, tt := range tests {
		rows, err := parseClientsCSV(strings.NewReader(tt.in))
		if rows != nil {
			t.Errorf("%s: got %d rows with a malformed file, want none", tt.name, len(rows))
		}
		wantInputErrors(t, tt.name, err, tt.lines, tt.subs)
	}
}

func TestParseClientsCSVErrorLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,display_name,kind,wkt\n")
	for range 30 {
		b.WriteString("a,A,lead,\n")
	}
	_, err := parseClientsCSV(strings.NewReader(b.String()))
	var ie *inputErrors
	if !errors.As(err, &ie) || len(ie.Errs) != maxInputErrors || ie.Total != 30 {
		t.Fatalf("error = %v, want %d listed of 30", err, maxInputErrors)
	}
	if !strings.Contains(err.Error(), "and 10 more") {
		t.Errorf("error text does not say how many more: %v", err)
	}
}

func TestParseWKTPolygon(t *testing.T) {
	good := []struct {
		in   string
		want *dwellv1.Geofence
	}{
		{"POLYGON((1 2, 3 4, 5 6))", polygon(ring(1, 2, 3, 4, 5, 6))},
		{"  polygon ( ( -1.5 +2 ,3e1 4,5 6,-1.5 2 ) )  ", polygon(ring(-1.5, 2, 30, 4, 5, 6, -1.5, 2))},
		{"POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1),(5 5,6 5,6 6,5 5))",
			polygon(ring(0, 0, 10, 0, 10, 10, 0, 10, 0, 0), ring(1, 1, 2, 1, 2, 2, 1, 1), ring(5, 5, 6, 5, 6, 6, 5, 5))},
	}
	for _, tt := range good {
		p, err := parseWKTPolygon(tt.in)
		if err != nil {
			t.Errorf("parseWKTPolygon(%q): %v", tt.in, err)
			continue
		}
		got := &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}
		if !proto.Equal(got, tt.want) {
			t.Errorf("parseWKTPolygon(%q) = %s, want %s", tt.in, text(got), text(tt.want))
		}
	}
	bad := []struct{ in, want string }{
		{"", "want POLYGON"},
		{"POLYGONS((1 2))", "want POLYGON"},
		{"POLYGON EMPTY", "EMPTY"},
		{"POLYGON Z((1 2 3, 4 5 6, 7 8 9))", "3D"},
		{"POLYGON(1 2, 3 4)", "want '(' to start a ring"},
		{"POLYGON((1 2, 3))", "want a latitude"},
		{"POLYGON((1 2, x 4))", "want a longitude"},
		{"POLYGON((1 2, 3 4, 5 6)", "after a ring"},
		{"POLYGON((1 2, 3 4, 5 6)) x", "unexpected text"},
		{"POLYGON((1 2; 3 4, 5 6))", "at character 13"},
		{"POLYGON((1 2, 3 4, 5 1e999))", "not a finite number"},
	}
	for _, tt := range bad {
		if _, err := parseWKTPolygon(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseWKTPolygon(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseClientsGeoJSON(t *testing.T) {
	f, err := os.Open("testdata/clients.geojson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := parseClientsGeoJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []clientRow{
		{Src: source{Line: 5, Feature: 1}, Client: &dwellv1.Client{Name: "clients/bdg-alun", DisplayName: "Toko Alun-Alun",
			Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER, ExternalId: "CRM-101", Geofence: circle(-6.9147, 107.6098, 60)}},
		{Src: source{Line: 10, Feature: 2}, Client: &dwellv1.Client{Name: "clients/bdg-pvj", DisplayName: "Paris Van Java Mall",
			Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT, Address: "Jl. Sukajadi 131, Bandung",
			Geofence: polygon(
				ring(107.5950, -6.8900, 107.5990, -6.8900, 107.5990, -6.8860, 107.5950, -6.8860, 107.5950, -6.8900),
				ring(107.5960, -6.8890, 107.5970, -6.8890, 107.5970, -6.8880, 107.5960, -6.8880, 107.5960, -6.8890))}},
		{Src: source{Line: 22, Feature: 3}, Client: &dwellv1.Client{Name: "clients/bad-lat", DisplayName: "Swapped Coordinates",
			Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT, Geofence: circle(95, 107.61, 50)}},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range rows {
		if rows[i].Src != want[i].Src || !proto.Equal(rows[i].Client, want[i].Client) {
			t.Errorf("row %d = %v %s, want %v %s", i, rows[i].Src, text(rows[i].Client), want[i].Src, text(want[i].Client))
		}
	}
}

func TestParseClientsGeoJSONOneLine(t *testing.T) {
	// Numeric ids, string radius, altitude in positions, extra members.
	in := `{"bbox":[0,0,1,1],"features":[{"type":"Feature","id":42,"geometry":{"type":"Point","coordinates":[106.8,-6.2,12]},` +
		`"properties":{"display_name":"X","name":"ignored","kind":"Customer","radius_m":"75","colour":"red"}}],"type":"FeatureCollection"}`
	rows, err := parseClientsGeoJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &dwellv1.Client{Name: "clients/42", DisplayName: "X", Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER, Geofence: circle(-6.2, 106.8, 75)}
	if len(rows) != 1 || !proto.Equal(rows[0].Client, want) || rows[0].Src != (source{Line: 1, Feature: 1}) {
		t.Fatalf("got %v, want one row %s", rows, text(want))
	}
}

func TestParseClientsGeoJSONMalformed(t *testing.T) {
	feat := func(geom, props string) string {
		return `{"type":"Feature","geometry":` + geom + `,"properties":` + props + `}`
	}
	const okPoint = `{"type":"Point","coordinates":[1,2]}`
	const okProps = `{"id":"a","name":"A","kind":"prospect","radius_m":50}`
	coll := func(features ...string) string {
		return "{\"type\":\"FeatureCollection\",\"features\":[\n" + strings.Join(features, ",\n") + "\n]}"
	}
	tests := []struct {
		name  string
		in    string
		lines []int
		subs  []string
	}{
		{"empty", "", []int{1}, []string{"unexpected end of file"}},
		{"not an object", "[]", []int{1}, []string{"FeatureCollection object"}},
		{"wrong type", `{"type":"Feature","features":[]}`, []int{1}, []string{`type is "Feature"`}},
		{"no features", `{"type":"FeatureCollection"}`, []int{1}, []string{`no "features"`}},
		{"features not array", `{"type":"FeatureCollection","features":{}}`, []int{1}, []string{"must be an array"}},
		{"syntax error", "{\"type\":\"FeatureCollection\",\n\"features\":[\n{\"type\":\"Feature\",}]}", []int{3}, []string{"column 19"}},
		{"truncated", "{\"type\":\"FeatureCollection\",\n\"features\":[\n", []int{3}, []string{"unexpected end of file"}},
		{"trailing data", `{"type":"FeatureCollection","features":[]} {}`, []int{1}, []string{"after the FeatureCollection"}},
		{"bad features", coll(
			feat(okPoint, okProps),
			feat(`{"type":"LineString","coordinates":[[1,2],[3,4]]}`, okProps),
			feat(`null`, okProps),
			feat(`{"type":"Point","coordinates":[1]}`, okProps),
			feat(okPoint, `{"id":"a","kind":"prospect"}`),
			feat(okPoint, `{"id":"a","kind":"lead","radius_m":5}`),
			feat(`{"type":"Polygon","coordinates":[]}`, okProps),
			feat(`{"type":"Polygon","coordinates":[[[1,2],[3,4],[5]]]}`, okProps),
			`{"type":"Thing"}`,
			feat(okPoint, `{"id":{"x":1},"kind":"prospect","radius_m":5}`),
			feat(okPoint, `{"id":"a","kind":"prospect","radius_m":true}`),
		), []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []string{
			"LineString is not supported", "geometry is missing", "got 1 numbers", "radius_m is required",
			`kind "lead"`, "at least its outer ring", "coordinates[0][2]", `want "Feature"`,
			"properties.id must be a string", "radius_m must be a number"}},
	}
	for _, tt := range tests {
		rows, err := parseClientsGeoJSON(strings.NewReader(tt.in))
		if rows != nil {
			t.Errorf("%s: got %d rows with a malformed file, want none", tt.name, len(rows))
		}
		wantInputErrors(t, tt.name, err, tt.lines, tt.subs)
	}
}

func TestFormatOf(t *testing.T) {
	byExt := map[string]string{".csv": formatCSV, ".geojson": formatGeoJSON, ".json": formatGeoJSON}
	tests := []struct{ path, explicit, want, wantErr string }{
		{"a.csv", "", formatCSV, ""},
		{"dir/A.GeoJSON", "", formatGeoJSON, ""},
		{"a.txt", "csv", formatCSV, ""},
		{"a.txt", "", "", "cannot tell the format"},
		{"-", "", "", "give --format"},
		{"-", "geojson", formatGeoJSON, ""},
		{"a.csv", "xml", "", "unknown --format"},
	}
	for _, tt := range tests {
		got, err := formatOf(tt.path, tt.explicit, byExt, formatCSV, formatGeoJSON)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("formatOf(%q, %q) = %q, %v; want %q, error containing %q", tt.path, tt.explicit, got, err, tt.want, tt.wantErr)
		}
	}
}
