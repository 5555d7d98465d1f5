package dwell

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zone tests must not depend on the host's zoneinfo
)

// fields returns the field paths of vs, in order.
func fields(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Field)
	}
	return out
}

// checkFields fails t unless vs are violations of exactly want, in order,
// each with a description.
func checkFields(t *testing.T, name string, vs []Violation, want ...string) {
	t.Helper()
	if got := fields(vs); !slices.Equal(got, want) {
		t.Errorf("%s: violations on %q, want %q\n%s", name, got, want, describe(vs))
	}
	for _, v := range vs {
		if v.Description == "" || strings.HasSuffix(v.Description, ".") {
			t.Errorf("%s: %s: description %q must be a short sentence without a final period", name, v.Field, v.Description)
		}
	}
}

func describe(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\t%s: %s\n", v.Field, v.Description)
	}
	return b.String()
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"a", nil},
		{"acme-42_north.v2", nil},
		{"0", nil},
		{strings.Repeat("x", MaxIDBytes), nil},
		{"", []string{"c.name"}},
		{strings.Repeat("x", MaxIDBytes+1), []string{"c.name"}},
		{"-a", []string{"c.name"}},
		{".a", []string{"c.name"}},
		{"_a", []string{"c.name"}},
		{"a b", []string{"c.name"}},
		{"a/b", []string{"c.name"}},
		{"caf\u00e9", []string{"c.name"}},
		{"a\xff", []string{"c.name"}},
		{"a\x00", []string{"c.name"}},
	}
	for _, tt := range tests {
		checkFields(t, fmt.Sprintf("ValidateID(%q)", tt.id), ValidateID("c.name", tt.id), tt.want...)
	}
}

func TestValidateRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want []string
	}{
		{"r", nil},
		{"0b3f6c1e-8d7a-4c4e-9a57-2f7a0c1d2e3f", nil},
		{"!~{}[]:/=+", nil},
		{strings.Repeat("r", MaxRequestIDBytes), nil},
		{"", []string{"request_id"}},
		{strings.Repeat("r", MaxRequestIDBytes+1), []string{"request_id"}},
		{"a b", []string{"request_id"}},
		{"a\tb", []string{"request_id"}},
		{"a\x7f", []string{"request_id"}},
		{"\u00e9", []string{"request_id"}},
	}
	for _, tt := range tests {
		checkFields(t, fmt.Sprintf("ValidateRequestID(%q)", tt.id), ValidateRequestID("request_id", tt.id), tt.want...)
	}
}

func TestValidateText(t *testing.T) {
	tests := []struct {
		s        string
		required bool
		want     []string
	}{
		{"", false, nil},
		{"  ", false, nil},
		{"Toko Maju, Jl. Sudirman 5", true, nil},
		{"\u6771\u4eac", true, nil},
		{strings.Repeat("x", MaxTextBytes), true, nil},
		{"", true, []string{"x.notes"}},
		{" \t\n", true, []string{"x.notes"}},
		{strings.Repeat("x", MaxTextBytes+1), false, []string{"x.notes"}},
		{"bad \xc3", false, []string{"x.notes"}},
		{"nul \x00 inside", false, []string{"x.notes"}},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("ValidateText(%.20q, %v)", tt.s, tt.required)
		checkFields(t, name, ValidateText("x.notes", tt.s, tt.required), tt.want...)
	}
}

func TestValidateLatLng(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		p    LatLng
		want []string
	}{
		{LatLng{0, 0}, nil},
		{LatLng{-6.2, 106.8}, nil},
		{LatLng{90, 180}, nil},
		{LatLng{-90, -180}, nil},
		{LatLng{90.000001, 0}, []string{"p.lat"}},
		{LatLng{-91, 0}, []string{"p.lat"}},
		{LatLng{0, 180.5}, []string{"p.lng"}},
		{LatLng{0, -181}, []string{"p.lng"}},
		{LatLng{nan, 0}, []string{"p.lat"}},
		{LatLng{0, nan}, []string{"p.lng"}},
		{LatLng{inf, -inf}, []string{"p.lat", "p.lng"}},
	}
	for _, tt := range tests {
		checkFields(t, fmt.Sprintf("ValidateLatLng(%v)", tt.p), ValidateLatLng("p", tt.p), tt.want...)
	}
	checkFields(t, "ValidateLatLng without a prefix", ValidateLatLng("", LatLng{100, 0}), "lat")
}

// Test polygons are built on a grid of about 11 m around a base position, as
// (east, north) steps.

const gridDeg = 1e-4

var berlin = LatLng{Lat: 52.52, Lng: 13.405}

// grid returns the positions of (east, north) grid steps from base, with
// longitudes wrapped into [-180, 180].
func grid(base LatLng, xy ...float64) []LatLng {
	out := make([]LatLng, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		lng := base.Lng + xy[i]*gridDeg
		if lng > 180 {
			lng -= 360
		}
		out = append(out, LatLng{Lat: base.Lat + xy[i+1]*gridDeg, Lng: lng})
	}
	return out
}

// roundRing returns n vertices on a circle of radius r grid steps around
// (cx, cy) steps from base, counterclockwise.
func roundRing(base LatLng, cx, cy, r float64, n int) []LatLng {
	xy := make([]float64, 0, 2*n)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		xy = append(xy, cx+r*math.Cos(a), cy+r*math.Sin(a))
	}
	return grid(base, xy...)
}

func square(base LatLng, x0, y0, x1, y1 float64) []LatLng {
	return grid(base, x0, y0, x1, y0, x1, y1, x0, y1)
}

func poly(shell []LatLng, holes ...[]LatLng) Geofence {
	return Geofence{Polygon: &Polygon{Shell: shell, Holes: holes}}
}

func TestValidateGeofence(t *testing.T) {
	const f = "client.geofence"
	const shellV = f + ".polygon.shell.vertices"
	big := square(berlin, 0, 0, 100, 100)
	closed := append(square(berlin, 0, 0, 10, 10), square(berlin, 0, 0, 10, 10)[0])
	manyHoles := make([][]LatLng, MaxPolygonHoles+1)
	for i := range manyHoles {
		manyHoles[i] = square(berlin, 1, float64(i)+0.25, 2, float64(i)+0.75)
	}
	okHoles := manyHoles[:MaxPolygonHoles]
	antimeridian := LatLng{Lat: -17.7, Lng: 179.9995} // Fiji
	nan := math.NaN()

	tests := []struct {
		name string
		g    Geofence
		want []string
	}{
		{"neither", Geofence{}, []string{f}},
		{"both", Geofence{Circle: &Circle{berlin, 50}, Polygon: &Polygon{Shell: big}}, []string{f}},

		{"circle", Geofence{Circle: &Circle{berlin, 50}}, nil},
		{"circle at the limits", Geofence{Circle: &Circle{LatLng{-90, 180}, MinRadiusM}}, nil},
		{"circle of the largest radius", Geofence{Circle: &Circle{berlin, MaxRadiusM}}, nil},
		{"circle too small", Geofence{Circle: &Circle{berlin, 5}}, []string{f + ".circle.radius_meters"}},
		{"circle too large", Geofence{Circle: &Circle{berlin, 5000.5}}, []string{f + ".circle.radius_meters"}},
		{"circle of NaN radius", Geofence{Circle: &Circle{berlin, nan}}, []string{f + ".circle.radius_meters"}},
		{"circle of infinite radius", Geofence{Circle: &Circle{berlin, math.Inf(1)}}, []string{f + ".circle.radius_meters"}},
		{"circle off the map", Geofence{Circle: &Circle{LatLng{91, nan}, 0}},
			[]string{f + ".circle.center.lat", f + ".circle.center.lng", f + ".circle.radius_meters"}},

		{"square", poly(big), nil},
		{"triangle", poly(grid(berlin, 0, 0, 10, 0, 5, 8)), nil},
		{"clockwise square", poly(grid(berlin, 0, 0, 0, 10, 10, 10, 10, 0)), nil},
		{"closing repeat accepted", poly(closed), nil},
		{"concave L shape", poly(grid(berlin, 0, 0, 20, 0, 20, 5, 5, 5, 5, 20, 0, 20)), nil},
		{"concave star", poly(grid(berlin, 0, 10, 4, 4, 10, 3, 5, -1, 7, -8, 0, -4, -7, -8, -5, -1, -10, 3, -4, 4)), nil},
		{"collinear vertex on an edge", poly(grid(berlin, 0, 0, 5, 0, 10, 0, 10, 10, 0, 10)), nil},
		{"comb", poly(grid(berlin, 0, 0, 9, 0, 9, 9, 7, 9, 7, 1, 5, 1, 5, 9, 3, 9, 3, 1, 1, 1, 1, 9, 0, 9)), nil},
		{"across the antimeridian", poly(square(antimeridian, 0, 0, 10, 10)), nil},
		{"across the antimeridian with a hole", poly(square(antimeridian, 0, 0, 10, 10), square(antimeridian, 4, 4, 6, 6)), nil},
		{"ending on the antimeridian", poly(grid(LatLng{10, 179.999}, 0, 0, 10, 0, 10, 10)), nil},
		{"square with a hole", poly(big, square(berlin, 10, 10, 20, 20)), nil},
		{"square with two holes", poly(big, square(berlin, 10, 10, 20, 20), square(berlin, 30, 10, 40, 20)), nil},
		{"hole with a closing repeat", poly(big, closedRing(square(berlin, 10, 10, 20, 20))), nil},
		{"hole in a concave shell's notch area", poly(grid(berlin, 0, 0, 20, 0, 20, 5, 5, 5, 5, 20, 0, 20), square(berlin, 1, 1, 4, 4)), nil},
		{"1000-vertex circle", poly(roundRing(berlin, 0, 0, 500, MaxPolygonVertices)), nil},
		{"1000 vertices and a closing repeat", poly(closedRing(roundRing(berlin, 0, 0, 500, MaxPolygonVertices))), nil},
		{"100 holes", poly(square(berlin, 0, 0, 3, 101), okHoles...), nil},

		{"no shell", poly(nil), []string{shellV}},
		{"two vertices", poly(grid(berlin, 0, 0, 1, 1)), []string{shellV}},
		{"two vertices and a closing repeat", poly(grid(berlin, 0, 0, 1, 1, 0, 0)), []string{shellV}},
		{"1001-vertex circle", poly(roundRing(berlin, 0, 0, 500, MaxPolygonVertices+1)), []string{shellV}},
		{"1001 vertices and a closing repeat", poly(closedRing(roundRing(berlin, 0, 0, 500, MaxPolygonVertices+1))), []string{shellV}},
		{"huge ring", poly(make([]LatLng, 1<<20)), []string{shellV}},
		{"NaN vertex", poly(append(grid(berlin, 0, 0, 10, 0), LatLng{nan, berlin.Lng})), []string{shellV + "[2].lat"}},
		{"vertex off the map", poly(append(grid(berlin, 0, 0, 10, 0), LatLng{10, 200})), []string{shellV + "[2].lng"}},
		{"pole vertex", poly([]LatLng{{80, 0}, {80, 10}, {90, 5}}), []string{shellV + "[2]"}},
		{"south pole vertex", poly([]LatLng{{-90, 0}, {-80, 10}, {-80, 5}}), []string{shellV + "[0]"}},
		{"consecutive duplicate", poly(grid(berlin, 0, 0, 10, 0, 10, 0, 10, 10)), []string{shellV + "[2]"}},
		{"duplicate after the closing repeat", poly(grid(berlin, 0, 0, 10, 0, 10, 10, 0, 0, 0, 0)), []string{shellV + "[3]"}},
		{"collinear", poly(grid(berlin, 0, 0, 1, 0, 2, 0)), []string{f + ".polygon.shell"}},
		{"collinear both ways", poly(grid(berlin, 0, 0, 2, 0, 1, 0)), []string{f + ".polygon.shell"}},
		{"wider than 180 degrees", poly([]LatLng{{0, -170}, {0, -10}, {10, 90}}), []string{f + ".polygon.shell"}},
		{"bow-tie", poly(grid(berlin, 0, 0, 10, 10, 10, 0, 0, 10)), []string{shellV + "[0]"}},
		{"bow-tie across the antimeridian", poly(grid(antimeridian, 0, 0, 10, 10, 10, 0, 0, 10)), []string{shellV + "[0]"}},
		{"vertex touching an edge", poly(grid(berlin, 0, 0, 6, 0, 6, 6, 4, 6, 3, 0, 2, 6, 0, 6)), []string{shellV + "[4]"}},
		{"vertex touching a vertex", poly(grid(berlin, 0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1)), []string{shellV + "[5]"}},
		{"doubling back", poly(grid(berlin, 0, 0, 10, 0, 10, 10, 10, 5, 0, 10)), []string{shellV + "[3]"}},
		{"spike back to a vertex", poly(grid(berlin, 0, 0, 10, 0, 10, 10, 5, 10, 10, 10, 0, 10)), []string{shellV + "[3]"}},
		// At (0, 0) the diagonal is exact: every vertex on it has lat == lng.
		{"diagonal edge through a vertex", poly(grid(LatLng{}, 0, 0, 10, 0, 5, 5, 0, 10, 10, 10)), []string{shellV + "[2]"}},

		{"too many holes", poly(square(berlin, 0, 0, 3, 102), manyHoles...), []string{f + ".polygon.holes"}},
		{"nil hole", poly(big, nil), []string{f + ".polygon.holes[0].vertices"}},
		{"hole of two vertices", poly(big, grid(berlin, 1, 1, 2, 2)), []string{f + ".polygon.holes[0].vertices"}},
		{"NaN hole vertex", poly(big, []LatLng{berlin, {nan, 0}, {0, 0}}), []string{
			f + ".polygon.holes[0].vertices[1].lat"}},
		{"bow-tie hole", poly(big, grid(berlin, 10, 10, 20, 20, 20, 10, 10, 20)), []string{
			f + ".polygon.holes[0].vertices[0]"}},
		{"hole outside the shell", poly(big, square(berlin, 200, 200, 210, 210)), []string{f + ".polygon.holes[0]"}},
		{"hole across the antimeridian outside the shell", poly(square(antimeridian, 0, 0, 10, 10), square(antimeridian, 20, 0, 30, 10)),
			[]string{f + ".polygon.holes[0]"}},
		{"hole around the shell", poly(square(berlin, 10, 10, 20, 20), big), []string{f + ".polygon.holes[0]"}},
		{"hole crossing the shell", poly(big, square(berlin, 90, 10, 110, 20)), []string{f + ".polygon.holes[0]"}},
		{"hole equal to the shell", poly(big, big), []string{f + ".polygon.holes[0]"}},
		{"hole touching the shell at a vertex", poly(big, grid(berlin, 50, 0, 60, 10, 40, 10)), []string{f + ".polygon.holes[0]"}},
		{"hole sharing the shell's corner", poly(big, square(berlin, 0, 0, 10, 10)), []string{f + ".polygon.holes[0]"}},
		{"hole touching a hole", poly(big, square(berlin, 10, 10, 20, 20), square(berlin, 20, 12, 30, 18)),
			[]string{f + ".polygon.holes[1]"}},
		{"holes crossing", poly(big, square(berlin, 10, 10, 20, 20), square(berlin, 15, 15, 25, 25)),
			[]string{f + ".polygon.holes[1]"}},
		{"hole inside a hole", poly(big, square(berlin, 10, 10, 50, 50), square(berlin, 20, 20, 30, 30)),
			[]string{f + ".polygon.holes[1]"}},
		{"hole around a hole", poly(big, square(berlin, 20, 20, 30, 30), square(berlin, 10, 10, 50, 50)),
			[]string{f + ".polygon.holes[0]"}},
		{"bad shell, good and bad holes", poly(grid(berlin, 0, 0, 1, 0), square(berlin, 1, 1, 2, 2), grid(berlin, 0, 0, 1, 0)),
			[]string{shellV, f + ".polygon.holes[1].vertices"}},
	}
	for _, tt := range tests {
		checkFields(t, tt.name, ValidateGeofence(f, tt.g), tt.want...)
	}
	checkFields(t, "no prefix", ValidateGeofence("", Geofence{Circle: &Circle{berlin, 1}}), "circle.radius_meters")
}

func closedRing(r []LatLng) []LatLng { return append(slices.Clip(r), r[0]) }

// TestValidateGeofenceDescriptions pins a few descriptions people will read.
func TestValidateGeofenceDescriptions(t *testing.T) {
	tests := []struct {
		g    Geofence
		want string
	}{
		{Geofence{Circle: &Circle{berlin, 5}}, "radius must be between 10 and 5000 metres, got 5.0"},
		{poly(grid(berlin, 0, 0, 10, 10, 10, 0, 0, 10)),
			"the edge from vertices[0] to vertices[1] crosses the edge from vertices[2] to vertices[3]; a ring must not cross itself"},
		{poly(square(berlin, 0, 0, 100, 100), square(berlin, 90, 10, 110, 20)),
			"the edge from vertices[0] to vertices[1] crosses or touches the shell at its edge from vertices[1] to vertices[2]; a hole must lie strictly inside the shell"},
	}
	for _, tt := range tests {
		vs := ValidateGeofence("g", tt.g)
		if len(vs) != 1 || vs[0].Description != tt.want {
			t.Errorf("ValidateGeofence = %q, want one violation %q", describe(vs), tt.want)
		}
	}
}

func TestValidateClient(t *testing.T) {
	ok := Client{ID: "acme-1", DisplayName: "Acme", Kind: ClientKindCustomer,
		Fence: Geofence{Circle: &Circle{berlin, 100}}}
	tests := []struct {
		name      string
		edit      func(*Client)
		requireID bool
		want      []string
	}{
		{"valid", func(*Client) {}, true, nil},
		{"prospect with address", func(c *Client) { c.Kind, c.Address, c.ExternalID = ClientKindProspect, "Jl. Thamrin 1", "crm:77" }, true, nil},
		{"no id when not required", func(c *Client) { c.ID = "" }, false, nil},
		{"bad id when not required", func(c *Client) { c.ID = "clients/x" }, false, nil},
		{"no id", func(c *Client) { c.ID = "" }, true, []string{"client.name"}},
		{"bad id", func(c *Client) { c.ID = "clients/x" }, true, []string{"client.name"}},
		{"no display name", func(c *Client) { c.DisplayName = " " }, true, []string{"client.display_name"}},
		{"no kind", func(c *Client) { c.Kind = ClientKindUnspecified }, true, []string{"client.kind"}},
		{"unknown kind", func(c *Client) { c.Kind = 7 }, true, []string{"client.kind"}},
		{"bad address", func(c *Client) { c.Address = "\xff" }, true, []string{"client.address"}},
		{"long external id", func(c *Client) { c.ExternalID = strings.Repeat("e", MaxTextBytes+1) }, true, []string{"client.external_id"}},
		{"no fence", func(c *Client) { c.Fence = Geofence{} }, true, []string{"client.geofence"}},
		{"bad radius", func(c *Client) { c.Fence.Circle.RadiusM = 1 }, true, []string{"client.geofence.circle.radius_meters"}},
		{"everything wrong", func(c *Client) { *c = Client{ID: "-", Fence: poly(nil)} }, true, []string{
			"client.name", "client.display_name", "client.kind", "client.geofence.polygon.shell.vertices"}},
	}
	for _, tt := range tests {
		c := ok
		c.Fence.Circle = &Circle{berlin, 100}
		tt.edit(&c)
		checkFields(t, tt.name, ValidateClient("client", c, tt.requireID), tt.want...)
	}
}

func TestValidateRep(t *testing.T) {
	ok := Rep{ID: "rep-1", DisplayName: "Siti", Email: "siti@example.com", TimeZone: "Asia/Jakarta", Team: "north",
		WorkingHours: []WorkingHours{
			{time.Monday, 8 * 60, 12 * 60}, {time.Monday, 13 * 60, 17 * 60}, {time.Tuesday, 8 * 60, 17 * 60},
		}}
	tests := []struct {
		name      string
		edit      func(*Rep)
		requireID bool
		want      []string
	}{
		{"valid", func(*Rep) {}, true, nil},
		{"UTC, no team, no email, no hours", func(r *Rep) { r.TimeZone, r.Team, r.Email, r.WorkingHours = "UTC", "", "", nil }, true, nil},
		{"whole days and touching windows", func(r *Rep) {
			r.WorkingHours = []WorkingHours{{time.Sunday, 0, 600}, {time.Sunday, 600, 1440}, {time.Saturday, 0, 1440}}
		}, true, nil},
		{"no id when not required", func(r *Rep) { r.ID = "" }, false, nil},
		{"no id", func(r *Rep) { r.ID = "" }, true, []string{"rep.name"}},
		{"no display name", func(r *Rep) { r.DisplayName = "" }, true, []string{"rep.display_name"}},
		{"bad email", func(r *Rep) { r.Email = "\xfe" }, true, []string{"rep.email"}},
		{"no time zone", func(r *Rep) { r.TimeZone = "" }, true, []string{"rep.time_zone"}},
		{"Local", func(r *Rep) { r.TimeZone = "Local" }, true, []string{"rep.time_zone"}},
		{"unknown zone", func(r *Rep) { r.TimeZone = "Mars/Olympus_Mons" }, true, []string{"rep.time_zone"}},
		{"zone path", func(r *Rep) { r.TimeZone = "../../etc/passwd" }, true, []string{"rep.time_zone"}},
		{"absolute zone path", func(r *Rep) { r.TimeZone = "/etc/localtime" }, true, []string{"rep.time_zone"}},
		{"long zone", func(r *Rep) { r.TimeZone = strings.Repeat("A", 1000) }, true, []string{"rep.time_zone"}},
		{"bad team", func(r *Rep) { r.Team = "teams/north" }, true, []string{"rep.team"}},
		{"day 7", func(r *Rep) { r.WorkingHours[2].Weekday = 7 }, true, []string{"rep.working_hours[2].day_of_week"}},
		{"day -1", func(r *Rep) { r.WorkingHours[0].Weekday = -1 }, true, []string{"rep.working_hours[0].day_of_week"}},
		{"negative start", func(r *Rep) { r.WorkingHours[0].StartMinute = -1 }, true, []string{"rep.working_hours[0].start_minute"}},
		{"end after midnight", func(r *Rep) { r.WorkingHours[1].EndMinute = 1441 }, true, []string{"rep.working_hours[1].end_minute"}},
		{"end before start", func(r *Rep) { r.WorkingHours[1].EndMinute = 12 * 60 }, true, []string{"rep.working_hours[1].end_minute"}},
		{"empty window", func(r *Rep) { r.WorkingHours[2].EndMinute = 8 * 60 }, true, []string{"rep.working_hours[2].end_minute"}},
		{"overlap", func(r *Rep) { r.WorkingHours[1].StartMinute = 11 * 60 }, true, []string{"rep.working_hours[1]"}},
		{"overlap listed first", func(r *Rep) { r.WorkingHours[0].StartMinute = 14 * 60; r.WorkingHours[0].EndMinute = 18 * 60 },
			true, []string{"rep.working_hours[0]"}},
		{"same window twice", func(r *Rep) { r.WorkingHours = append(r.WorkingHours, r.WorkingHours[2]) }, true, []string{"rep.working_hours[3]"}},
		{"window inside a window", func(r *Rep) {
			r.WorkingHours = append(r.WorkingHours, WorkingHours{time.Tuesday, 9 * 60, 10 * 60}, WorkingHours{time.Tuesday, 16 * 60, 18 * 60})
		}, true, []string{"rep.working_hours[3]", "rep.working_hours[4]"}},
	}
	for _, tt := range tests {
		r := ok
		r.WorkingHours = slices.Clone(ok.WorkingHours)
		tt.edit(&r)
		checkFields(t, tt.name, ValidateRep("rep", r, tt.requireID), tt.want...)
	}
}

func TestValidateTeam(t *testing.T) {
	ok := Team{ID: "north", DisplayName: "North", Managers: []string{"mgr-1", "mgr-2"}}
	many := make([]string, maxManagers+1)
	for i := range many {
		many[i] = fmt.Sprintf("m%d", i)
	}
	tests := []struct {
		name      string
		edit      func(*Team)
		requireID bool
		want      []string
	}{
		{"valid", func(*Team) {}, true, nil},
		{"no managers", func(tm *Team) { tm.Managers = nil }, true, nil},
		{"100 managers", func(tm *Team) { tm.Managers = many[:maxManagers] }, true, nil},
		{"no id when not required", func(tm *Team) { tm.ID = "" }, false, nil},
		{"no id", func(tm *Team) { tm.ID = "" }, true, []string{"team.name"}},
		{"no display name", func(tm *Team) { tm.DisplayName = "" }, true, []string{"team.display_name"}},
		{"101 managers", func(tm *Team) { tm.Managers = many }, true, []string{"team.managers"}},
		{"empty manager", func(tm *Team) { tm.Managers = []string{"a", " "} }, true, []string{"team.managers[1]"}},
		{"long manager", func(tm *Team) { tm.Managers = []string{strings.Repeat("m", 257)} }, true, []string{"team.managers[0]"}},
		{"bad manager", func(tm *Team) { tm.Managers = []string{"\xff"} }, true, []string{"team.managers[0]"}},
		{"NUL in manager", func(tm *Team) { tm.Managers = []string{"a", "m\x00"} }, true, []string{"team.managers[1]"}},
		{"duplicate manager", func(tm *Team) { tm.Managers = []string{"a", "b", "a", "a"} }, true,
			[]string{"team.managers[2]", "team.managers[3]"}},
	}
	for _, tt := range tests {
		tm := ok
		tt.edit(&tm)
		checkFields(t, tt.name, ValidateTeam("team", tm, tt.requireID), tt.want...)
	}
}

var fixNow = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)

func TestValidateFix(t *testing.T) {
	retention := DefaultSettings().Retention
	ok := Fix{ID: "f-1", Time: fixNow.Add(-time.Minute), Pos: LatLng{-6.2, 106.8}, AccuracyM: 12,
		SpeedMPS: -1, BearingDeg: -1}
	nan, inf := math.NaN(), math.Inf(1)
	const p = "fixes[3]"
	tests := []struct {
		name string
		edit func(*Fix)
		want []string
	}{
		{"valid", func(*Fix) {}, nil},
		{"full", func(f *Fix) {
			f.SpeedMPS, f.BearingDeg, f.AltitudeM, f.HasAltitude, f.Mock = 13.9, 359.99, 8, true, true
		}, nil},
		{"limits", func(f *Fix) {
			f.ID, f.AccuracyM, f.SpeedMPS, f.BearingDeg, f.AltitudeM, f.HasAltitude = strings.Repeat("\u00e9", 32), 0, 1000, 0, -1000, true
			f.Time = fixNow.Add(MaxFutureSkew)
		}, nil},
		{"oldest", func(f *Fix) { f.Time = fixNow.Add(-retention) }, nil},
		{"NaN altitude not given", func(f *Fix) { f.AltitudeM = nan }, nil},
		{"no id", func(f *Fix) { f.ID = "" }, []string{p + ".id"}},
		{"long id", func(f *Fix) { f.ID = strings.Repeat("i", MaxFixIDBytes+1) }, []string{p + ".id"}},
		{"bad id", func(f *Fix) { f.ID = "f\xff" }, []string{p + ".id"}},
		{"NUL in id", func(f *Fix) { f.ID = "f\x00" }, []string{p + ".id"}},
		{"no time", func(f *Fix) { f.Time = time.Time{} }, []string{p + ".device_time"}},
		{"future", func(f *Fix) { f.Time = fixNow.Add(MaxFutureSkew + time.Nanosecond) }, []string{p + ".device_time"}},
		{"too old", func(f *Fix) { f.Time = fixNow.Add(-retention - time.Nanosecond) }, []string{p + ".device_time"}},
		{"bad position", func(f *Fix) { f.Pos = LatLng{nan, inf} }, []string{p + ".position.lat", p + ".position.lng"}},
		{"negative accuracy", func(f *Fix) { f.AccuracyM = -1 }, []string{p + ".accuracy_meters"}},
		{"NaN accuracy", func(f *Fix) { f.AccuracyM = nan }, []string{p + ".accuracy_meters"}},
		{"infinite accuracy", func(f *Fix) { f.AccuracyM = inf }, []string{p + ".accuracy_meters"}},
		{"speed -2", func(f *Fix) { f.SpeedMPS = -2 }, []string{p + ".speed_meters_per_second"}},
		{"speed 1001", func(f *Fix) { f.SpeedMPS = 1000.5 }, []string{p + ".speed_meters_per_second"}},
		{"NaN speed", func(f *Fix) { f.SpeedMPS = nan }, []string{p + ".speed_meters_per_second"}},
		{"bearing 360", func(f *Fix) { f.BearingDeg = 360 }, []string{p + ".bearing_degrees"}},
		{"bearing -0.5", func(f *Fix) { f.BearingDeg = -0.5 }, []string{p + ".bearing_degrees"}},
		{"NaN bearing", func(f *Fix) { f.BearingDeg = nan }, []string{p + ".bearing_degrees"}},
		{"altitude too low", func(f *Fix) { f.AltitudeM, f.HasAltitude = -1000.5, true }, []string{p + ".altitude_meters"}},
		{"altitude too high", func(f *Fix) { f.AltitudeM, f.HasAltitude = 100001, true }, []string{p + ".altitude_meters"}},
		{"NaN altitude", func(f *Fix) { f.AltitudeM, f.HasAltitude = nan, true }, []string{p + ".altitude_meters"}},
		{"everything wrong", func(f *Fix) {
			*f = Fix{Pos: LatLng{100, 0}, AccuracyM: -1, SpeedMPS: inf, BearingDeg: 400, AltitudeM: inf, HasAltitude: true}
		}, []string{p + ".id", p + ".device_time", p + ".position.lat", p + ".accuracy_meters",
			p + ".speed_meters_per_second", p + ".bearing_degrees", p + ".altitude_meters"}},
	}
	for _, tt := range tests {
		f := ok
		tt.edit(&f)
		checkFields(t, tt.name, ValidateFix(p, f, fixNow, retention), tt.want...)
	}
	// Without a retention period any past time is accepted.
	old := ok
	old.Time = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	checkFields(t, "no retention", ValidateFix(p, old, fixNow, 0))
	checkFields(t, "retention", ValidateFix(p, old, fixNow, retention), p+".device_time")
	// Extreme instants and durations neither panic nor wrap around.
	old.Time = time.Unix(math.MinInt64/2, 0)
	checkFields(t, "distant past", ValidateFix(p, old, fixNow, math.MaxInt64), p+".device_time")
	old.Time = time.Unix(math.MaxInt64/2, 0)
	checkFields(t, "distant future", ValidateFix(p, old, fixNow, math.MaxInt64), p+".device_time")
}

func TestValidateDate(t *testing.T) {
	tests := []struct {
		d    Date
		want []string
	}{
		{Date{2024, 2, 29}, nil},
		{Date{1, 1, 1}, nil},
		{Date{9999, 12, 31}, nil},
		{Date{}, []string{"follow_up_date"}},
		{Date{2023, 2, 29}, []string{"follow_up_date"}},
		{Date{2024, 4, 31}, []string{"follow_up_date"}},
		{Date{2024, 13, 1}, []string{"follow_up_date"}},
		{Date{10000, 1, 1}, []string{"follow_up_date"}},
		{Date{2024, 1, 0}, []string{"follow_up_date"}},
	}
	for _, tt := range tests {
		checkFields(t, fmt.Sprintf("ValidateDate(%v)", tt.d), ValidateDate("follow_up_date", tt.d), tt.want...)
	}
}

func TestFmtNum(t *testing.T) {
	for in, want := range map[float64]string{5: "5.0", 0.25: "0.25", -1000: "-1000.0", 1e21: "1e+21", math.Inf(-1): "-Inf"} {
		if got := fmtNum(in); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", in, got, want)
		}
	}
}

// ratOrient is the orientation of c relative to a->b in exact rational
// arithmetic: the reference for orient2D.
func ratOrient(a, b, c planePoint) int {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	abx := new(big.Rat).Sub(r(b.x), r(a.x))
	aby := new(big.Rat).Sub(r(b.y), r(a.y))
	acx := new(big.Rat).Sub(r(c.x), r(a.x))
	acy := new(big.Rat).Sub(r(c.y), r(a.y))
	return new(big.Rat).Mul(abx, acy).Cmp(new(big.Rat).Mul(aby, acx))
}

func TestOrient2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tiny := []float64{0, 1e-300, -1e-310, 5e-324, 1e-16, 0.1, 0.2, 0.3, 1.0 / 3}
	pick := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return tiny[rng.IntN(len(tiny))]
		case 1:
			return float64(rng.IntN(7) - 3)
		case 2:
			return (rng.Float64() - 0.5) * 360
		}
		return 179.9999 + float64(rng.IntN(5))*1e-13
	}
	n := 50000
	if testing.Short() {
		n = 5000
	}
	for range n {
		a, b := planePoint{pick(), pick()}, planePoint{pick(), pick()}
		var c planePoint
		if rng.IntN(2) == 0 {
			// Nearly on the line through a and b.
			s := rng.Float64()*3 - 1
			c = planePoint{a.x + s*(b.x-a.x), a.y + s*(b.y-a.y)}
		} else {
			c = planePoint{pick(), pick()}
		}
		if got, want := orient2D(a, b, c), ratOrient(a, b, c); got != want {
			t.Fatalf("orient2D(%v, %v, %v) = %d, want %d", a, b, c, got, want)
		}
	}
}

// TestValidateGeofenceDifferential compares polygon validation with a slow,
// obviously right reference on many small random polygons, most of them
// degenerate (on a coarse grid, so vertices coincide, touch edges and lie
// on one line often).
func TestValidateGeofenceDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 10000
	if testing.Short() {
		n = 1000
	}
	valid := 0
	for i := range n {
		size := 3 + i%5
		g := randomPolygon(rng, size)
		if checkPolygon(t, g) {
			valid++
		}
	}
	if valid < n/20 {
		t.Errorf("only %d of %d random polygons are valid; the test needs more variety", valid, n)
	}
}

// randomPolygon returns a shell and up to two holes with vertices on a grid
// of size x size steps.
func randomPolygon(rng *rand.Rand, size int) Geofence {
	bases := []LatLng{berlin, {Lat: -17.7, Lng: 179.9997}, {Lat: 0, Lng: -180}}
	base := bases[rng.IntN(len(bases))]
	r := func(n, spread int) []LatLng {
		xy := make([]float64, 0, 2*n)
		for range n {
			xy = append(xy, float64(rng.IntN(spread)), float64(rng.IntN(spread)))
		}
		return grid(base, xy...)
	}
	p := &Polygon{Shell: r(3+rng.IntN(6), size)}
	if rng.IntN(3) == 0 {
		// A big simple shell, so that holes get a fair chance.
		p.Shell = square(base, -1, -1, float64(size), float64(size))
	}
	for range rng.IntN(3) {
		p.Holes = append(p.Holes, r(3+rng.IntN(3), size))
	}
	return Geofence{Polygon: p}
}

// checkPolygon fails t when ValidateGeofence disagrees with refValid about
// g, and reports whether g is valid.
func checkPolygon(t *testing.T, g Geofence) bool {
	t.Helper()
	vs := ValidateGeofence("g", g)
	want, why := refValid(*g.Polygon)
	if (len(vs) == 0) != want {
		t.Fatalf("ValidateGeofence(%v):\n%sreference says valid=%v (%s)", g.Polygon, describe(vs), want, why)
	}
	return want
}

// refValid is a slow reference for polygon validity: every pair of edges is
// tested in rational arithmetic. It says why a polygon is invalid.
func refValid(p Polygon) (bool, string) {
	if len(p.Holes) > MaxPolygonHoles {
		return false, "holes"
	}
	var ref LatLng
	if len(p.Shell) > 0 {
		ref = p.Shell[0]
	}
	var rings [][]planePoint
	for k, r := range append([][]LatLng{p.Shell}, p.Holes...) {
		if len(r) > MaxPolygonVertices+1 {
			return false, "count"
		}
		for _, v := range r {
			if !(v.Lat > -90 && v.Lat < 90 && v.Lng >= -180 && v.Lng <= 180) {
				return false, "position"
			}
		}
		pts := make([]planePoint, 0, len(r))
		for _, v := range r {
			pts = append(pts, toPlane(ref, v))
		}
		if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
			pts = pts[:len(pts)-1]
		}
		n := len(pts)
		if n < MinPolygonVertices || n > MaxPolygonVertices {
			return false, "count"
		}
		minX, maxX, line := pts[0].x, pts[0].x, true
		for i, q := range pts {
			if q == pts[(i+1)%n] {
				return false, "duplicate"
			}
			minX, maxX = min(minX, q.x), max(maxX, q.x)
			line = line && ratOrient(pts[0], pts[1], q) == 0
		}
		if maxX-minX > maxRingSpanDeg {
			return false, "span"
		}
		if line {
			return false, "collinear"
		}
		// Edges of one ring: neighbours may only share their vertex.
		for i := range n {
			for j := i + 1; j < n; j++ {
				a, b := pts[i], pts[(i+1)%n]
				c, d := pts[j], pts[(j+1)%n]
				switch {
				case j == i+1: // b == c
					if ratOrient(a, b, d) == 0 && sameDirection(b, a, d) {
						return false, fmt.Sprintf("ring %d doubles back at %d", k, j)
					}
				case i == 0 && j == n-1: // d == a
					if ratOrient(c, a, b) == 0 && sameDirection(a, c, b) {
						return false, fmt.Sprintf("ring %d doubles back at 0", k)
					}
				default:
					if refTouch(a, b, c, d) {
						return false, fmt.Sprintf("ring %d edges %d and %d touch", k, i, j)
					}
				}
			}
		}
		rings = append(rings, pts)
	}
	// Edges of different rings must not touch at all.
	for k := range rings {
		for l := k + 1; l < len(rings); l++ {
			rk, rl := rings[k], rings[l]
			for i := range rk {
				for j := range rl {
					if refTouch(rk[i], rk[(i+1)%len(rk)], rl[j], rl[(j+1)%len(rl)]) {
						return false, fmt.Sprintf("rings %d and %d touch", k, l)
					}
				}
			}
		}
	}
	for k := 1; k < len(rings); k++ {
		for _, v := range rings[k] {
			if !refInside(v, rings[0]) {
				return false, fmt.Sprintf("hole %d is not inside the shell", k-1)
			}
		}
		for l := 1; l < len(rings); l++ {
			if l != k && refInside(rings[k][0], rings[l]) {
				return false, fmt.Sprintf("hole %d is inside hole %d", k-1, l-1)
			}
		}
	}
	return true, ""
}

// sameDirection reports whether p and q, collinear with o, are on the same
// side of it.
func sameDirection(o, p, q planePoint) bool {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	dot := new(big.Rat).Add(
		new(big.Rat).Mul(new(big.Rat).Sub(r(p.x), r(o.x)), new(big.Rat).Sub(r(q.x), r(o.x))),
		new(big.Rat).Mul(new(big.Rat).Sub(r(p.y), r(o.y)), new(big.Rat).Sub(r(q.y), r(o.y))))
	return dot.Sign() > 0
}

// refTouch reports whether closed segments ab and cd share a point.
func refTouch(a, b, c, d planePoint) bool {
	on := func(p, q, r planePoint) bool { // r on segment pq, given collinear
		return min(p.x, q.x) <= r.x && r.x <= max(p.x, q.x) && min(p.y, q.y) <= r.y && r.y <= max(p.y, q.y)
	}
	d1, d2, d3, d4 := ratOrient(c, d, a), ratOrient(c, d, b), ratOrient(a, b, c), ratOrient(a, b, d)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return d1 == 0 && on(c, d, a) || d2 == 0 && on(c, d, b) || d3 == 0 && on(a, b, c) || d4 == 0 && on(a, b, d)
}

// refInside reports whether p is strictly inside ring r.
func refInside(p planePoint, r []planePoint) bool {
	in := false
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		if ratOrient(a, b, p) == 0 && min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y) {
			return false // on the boundary
		}
		if (a.y > p.y) != (b.y > p.y) {
			o := ratOrient(a, b, p)
			if (b.y > a.y && o > 0) || (b.y < a.y && o < 0) {
				in = !in
			}
		}
	}
	return in
}

// TestValidateGeofenceLarge checks the largest polygons the API accepts:
// they are valid, and so are near misses of them invalid.
func TestValidateGeofenceLarge(t *testing.T) {
	g := largestPolygon()
	checkFields(t, "largest polygon", ValidateGeofence("g", g))

	// Pull the bottom of the last hole onto the top of the hole below it.
	last := slices.Clone(g.Polygon.Holes[MaxPolygonHoles-1])
	last[750] = g.Polygon.Holes[MaxPolygonHoles-2][250] // bottom onto the top of the hole below
	g.Polygon.Holes[MaxPolygonHoles-1] = last
	checkFields(t, "largest polygon with touching holes", ValidateGeofence("g", g), "g.polygon.holes[99]")

	// A comb: long, nearly parallel edges that a bounding-box filter cannot
	// separate.
	comb := combRing()
	if len(comb) != MaxPolygonVertices {
		t.Fatalf("combRing has %d vertices, want %d", len(comb), MaxPolygonVertices)
	}
	checkFields(t, "comb", ValidateGeofence("g", poly(comb)))
	comb[500].Lat = berlin.Lat // a valley down onto the base
	checkFields(t, "comb touching itself", ValidateGeofence("g", poly(comb)), "g.polygon.shell.vertices[500]")
}

// largestPolygon returns a 1000-vertex shell with 100 holes of 1000
// vertices each, in a 10 x 10 grid.
func largestPolygon() Geofence {
	shell := roundRing(berlin, 0, 0, 1000, MaxPolygonVertices)
	var holes [][]LatLng
	for i := range 10 {
		for j := range 10 {
			holes = append(holes, roundRing(berlin, float64(i-5)*100+50, float64(j-5)*100+50, 40, MaxPolygonVertices))
		}
	}
	return poly(shell, holes...)
}

// combRing returns a ring of 1000 vertices: a comb of 498 long, thin
// teeth sheared to lean east, so that the bounding boxes of neighbouring
// edges overlap almost entirely. Valleys are the even vertices from 4 on.
func combRing() []LatLng {
	const k, h = 498, 1000.0
	xy := []float64{0, 0, k, 0, 2 * k, 0}
	for x := 2 * k; x >= 0; x-- {
		y := 1.0 // a valley
		if x%2 == 0 {
			y = h // a tip
		}
		xy = append(xy, float64(x), y)
	}
	for i := 0; i < len(xy); i += 2 {
		xy[i] += xy[i+1] // shear
	}
	return grid(berlin, xy...)
}

func BenchmarkValidateGeofence(b *testing.B) {
	for _, bc := range []struct {
		name string
		g    Geofence
	}{
		{"circle", Geofence{Circle: &Circle{berlin, 100}}},
		{"square", poly(square(berlin, 0, 0, 10, 10))},
		{"1000", poly(roundRing(berlin, 0, 0, 500, MaxPolygonVertices))},
		{"comb1000", poly(combRing())},
		{"1000x101", largestPolygon()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if vs := ValidateGeofence("g", bc.g); vs != nil {
					b.Fatal(describe(vs))
				}
			}
		})
	}
}

func BenchmarkValidateFix(b *testing.B) {
	f := Fix{ID: "f-1", Time: fixNow, Pos: LatLng{-6.2, 106.8}, AccuracyM: 12, SpeedMPS: -1, BearingDeg: -1}
	for b.Loop() {
		if vs := ValidateFix("fixes[0]", f, fixNow, 24*time.Hour); vs != nil {
			b.Fatal(describe(vs))
		}
	}
}

func ExampleValidateGeofence() {
	fence := Geofence{Polygon: &Polygon{Shell: []LatLng{
		{Lat: 52.5200, Lng: 13.4050},
		{Lat: 52.5210, Lng: 13.4060},
		{Lat: 52.5200, Lng: 13.4060},
		{Lat: 52.5210, Lng: 13.4050},
	}}}
	for _, v := range ValidateGeofence("client.geofence", fence) {
		fmt.Printf("%s: %s\n", v.Field, v.Description)
	}
	// Output:
	// client.geofence.polygon.shell.vertices[0]: the edge from vertices[0] to vertices[1] crosses the edge from vertices[2] to vertices[3]; a ring must not cross itself
}
