package dwell

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validators check the input of the API before anything is stored. Each
// returns the violations it finds, nil when the input is valid, and never
// panics: NaN, infinities, nil pointers, empty and oversized slices are all
// answered with violations. Field paths are the wire (protobuf) names under
// the caller's prefix, such as "client.geofence.circle.radius_meters" or
// "fixes[3].position.lat"; descriptions are for a person and state the limit
// with its unit. Validators only read their arguments and are safe for
// concurrent use.

// Limits used only by validation.
const (
	// maxManagerBytes bounds one manager subject of a team.
	maxManagerBytes = 256
	// maxManagers bounds the managers of one team.
	maxManagers = 100
	// maxTimeZoneBytes bounds an IANA zone name; the longest real one has 32.
	maxTimeZoneBytes = 64
	// maxWorkingMinute is the end of a working day in minutes after midnight.
	maxWorkingMinute = 24 * 60
	// maxSpeedMPS bounds a fix's speed in metres per second.
	maxSpeedMPS = 1000.0
	// minAltitudeM and maxAltitudeM bound a fix's altitude in metres.
	minAltitudeM = -1000.0
	maxAltitudeM = 100000.0
	// maxRingSpanDeg bounds the longitude span of a polygon ring in degrees.
	maxRingSpanDeg = 180.0
)

// ValidateID checks a resource id (client, rep, team): 1 to MaxIDBytes bytes
// of ASCII letters, digits, '.', '_' and '-', starting with a letter or digit.
// Violations are reported on field.
func ValidateID(field, id string) []Violation {
	switch {
	case id == "":
		return oneViolation(field, "an id is required")
	case len(id) > MaxIDBytes:
		return oneViolation(field, "an id must be at most %d bytes, got %d", MaxIDBytes, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if isIDAlnum(c) || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		if i == 0 {
			return oneViolation(field, "an id must start with a letter or digit, got %s", quoteByteAt(id, 0))
		}
		return oneViolation(field, "an id may contain only letters, digits, '.', '_' and '-', got %s at byte %d",
			quoteByteAt(id, i), i)
	}
	return nil
}

// ValidateRequestID checks a required request_id (the idempotency key of a
// mutation): 1 to MaxRequestIDBytes bytes of printable ASCII without spaces.
// Violations are reported on field.
func ValidateRequestID(field, id string) []Violation {
	switch {
	case id == "":
		return oneViolation(field, "a request id is required")
	case len(id) > MaxRequestIDBytes:
		return oneViolation(field, "a request id must be at most %d bytes, got %d", MaxRequestIDBytes, len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return oneViolation(field, "a request id must be printable ASCII without spaces, got %s at byte %d",
				quoteByteAt(id, i), i)
		}
	}
	return nil
}

// ValidateText checks a free-text field (names, notes, addresses): valid
// UTF-8 of at most MaxTextBytes bytes without NUL characters (no store can
// be relied on to keep them: PostgreSQL text cannot) and, if required, not
// empty or only white space. Violations are reported on field.
func ValidateText(field, s string, required bool) []Violation {
	name := fieldLeaf(field)
	switch {
	case len(s) > MaxTextBytes:
		return oneViolation(field, "%s must be at most %d bytes, got %d", name, MaxTextBytes, len(s))
	case !utf8.ValidString(s):
		return oneViolation(field, "%s must be valid UTF-8", name)
	case strings.IndexByte(s, 0) >= 0:
		return oneViolation(field, "%s must not contain NUL characters", name)
	case required && strings.TrimSpace(s) == "":
		return oneViolation(field, "%s is required", name)
	}
	return nil
}

// ValidateLatLng checks a WGS84 position: a finite latitude in [-90, 90] and
// a finite longitude in [-180, 180] degrees. Violations are reported on
// field+".lat" and field+".lng".
func ValidateLatLng(field string, p LatLng) []Violation {
	var vs []Violation
	if !(p.Lat >= -90 && p.Lat <= 90) { // also false for NaN
		vs = addViolation(vs, fieldPath(field, "lat"), "lat must be a finite number between -90 and 90 degrees, got %s", fmtNum(p.Lat))
	}
	if !(p.Lng >= -180 && p.Lng <= 180) {
		vs = addViolation(vs, fieldPath(field, "lng"), "lng must be a finite number between -180 and 180 degrees, got %s", fmtNum(p.Lng))
	}
	return vs
}

// validLatLng reports whether ValidateLatLng finds p valid.
func validLatLng(p LatLng) bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180 // false for NaN
}

// ValidateGeofence checks a client site's geofence. Exactly one of Circle
// and Polygon must be set (a violation on field otherwise).
//
// A circle needs a valid centre (field+".circle.center") and a radius from
// MinRadiusM to MaxRadiusM metres (field+".circle.radius_meters").
//
// A polygon's shell (field+".polygon.shell") and each of its at most
// MaxPolygonHoles holes (field+".polygon.holes[i]") is a ring of
// MinPolygonVertices to MaxPolygonVertices vertices, not counting a closing
// repeat of the first vertex, which may be given or omitted. A ring's
// vertices (ring+".vertices[i]") must be valid positions, away from the poles,
// with no two consecutive vertices equal; the ring must have an area and must
// not cross or touch itself (edges that follow each other may only share
// their common vertex). Every hole lies strictly inside the shell, touches
// neither the shell nor another hole, and is not inside another hole.
//
// The geometry is planar on (longitude, latitude) after longitudes are
// unwrapped relative to the shell's first vertex, so a site across the
// antimeridian is valid; a ring spanning more than 180 degrees of longitude
// is not. Predicates are exact for the unwrapped coordinates: collinear and
// touching configurations are decided without rounding error. Of the
// contacts between rings only the first found is reported. Of a ring's
// bad vertices, and of a polygon's bad holes, the first ten are reported
// and the others counted in one violation on the list (maxListViolations). Validation takes
// O(n log n) time in the total number of vertices n.
func ValidateGeofence(field string, g Geofence) []Violation {
	switch {
	case g.Circle != nil && g.Polygon != nil:
		return oneViolation(field, "a geofence must be either a circle or a polygon, got both")
	case g.Circle != nil:
		return validateCircle(fieldPath(field, "circle"), *g.Circle)
	case g.Polygon != nil:
		return validatePolygon(fieldPath(field, "polygon"), *g.Polygon)
	}
	return oneViolation(field, "a geofence needs a circle or a polygon, got neither")
}

// ValidateClient checks a client for create or update. When requireID is
// set, c.ID must be a valid id (reported on field+".name", as ids arrive in
// names like "clients/{id}"); otherwise c.ID is not examined. DisplayName is
// required, Kind must be a prospect or a customer, Address and ExternalID
// are optional text, and the geofence must be valid (field+".geofence").
func ValidateClient(field string, c Client, requireID bool) []Violation {
	var vs []Violation
	if requireID {
		vs = append(vs, ValidateID(fieldPath(field, "name"), string(c.ID))...)
	}
	vs = append(vs, ValidateText(fieldPath(field, "display_name"), c.DisplayName, true)...)
	if c.Kind != ClientKindProspect && c.Kind != ClientKindCustomer {
		vs = addViolation(vs, fieldPath(field, "kind"), "kind must be prospect or customer, got %s", clientKindName(c.Kind))
	}
	vs = append(vs, ValidateText(fieldPath(field, "address"), c.Address, false)...)
	vs = append(vs, ValidateText(fieldPath(field, "external_id"), c.ExternalID, false)...)
	vs = append(vs, ValidateGeofence(fieldPath(field, "geofence"), c.Fence)...)
	return vs
}

// ValidateRep checks a rep for create or update. When requireID is set, r.ID
// must be a valid id (reported on field+".name"); otherwise it is not
// examined. DisplayName is required, Email is optional text, TimeZone is a
// required IANA zone name that time.LoadLocation can load ("Local" is
// refused), Team is optional but a valid id if set, and each working window
// (field+".working_hours[i]") has a weekday from 0 (Sunday) to 6 (Saturday)
// and start and end minutes after local midnight with 0 <= start < end <=
// 1440. Windows of the same weekday must not overlap; they may touch. Of
// the bad windows, and of the overlapping ones, the first ten are reported
// and the others counted in one violation on field+".working_hours"
// (maxListViolations).
func ValidateRep(field string, r Rep, requireID bool) []Violation {
	var vs []Violation
	if requireID {
		vs = append(vs, ValidateID(fieldPath(field, "name"), string(r.ID))...)
	}
	vs = append(vs, ValidateText(fieldPath(field, "display_name"), r.DisplayName, true)...)
	vs = append(vs, ValidateText(fieldPath(field, "email"), r.Email, false)...)
	vs = append(vs, validateTimeZone(fieldPath(field, "time_zone"), r.TimeZone)...)
	if r.Team != "" {
		vs = append(vs, ValidateID(fieldPath(field, "team"), string(r.Team))...)
	}
	vs = append(vs, validateWorkingHours(fieldPath(field, "working_hours"), r.WorkingHours)...)
	return vs
}

// ValidateTeam checks a team for create or update. When requireID is set,
// t.ID must be a valid id (reported on field+".name"); otherwise it is not
// examined. DisplayName is required; there are at most 100 managers, each a
// non-blank subject of at most 256 bytes of UTF-8 and none repeated
// (field+".managers[i]").
func ValidateTeam(field string, t Team, requireID bool) []Violation {
	var vs []Violation
	if requireID {
		vs = append(vs, ValidateID(fieldPath(field, "name"), string(t.ID))...)
	}
	vs = append(vs, ValidateText(fieldPath(field, "display_name"), t.DisplayName, true)...)
	managers := fieldPath(field, "managers")
	if len(t.Managers) > maxManagers {
		vs = addViolation(vs, managers, "a team may have at most %d managers, got %d", maxManagers, len(t.Managers))
	}
	seen := make(map[string]int, len(t.Managers))
	for i, m := range t.Managers {
		f := fieldIndex(managers, i)
		switch {
		case len(m) > maxManagerBytes:
			vs = addViolation(vs, f, "a manager must be at most %d bytes, got %d", maxManagerBytes, len(m))
		case !utf8.ValidString(m):
			vs = addViolation(vs, f, "a manager must be valid UTF-8")
		case strings.IndexByte(m, 0) >= 0:
			vs = addViolation(vs, f, "a manager must not contain NUL characters")
		case strings.TrimSpace(m) == "":
			vs = addViolation(vs, f, "a manager must not be empty")
		default:
			if j, dup := seen[m]; dup {
				vs = addViolation(vs, f, "the manager is already listed at managers[%d]", j)
			} else {
				seen[m] = i
			}
		}
	}
	return vs
}

// ValidateFix checks one fix from a rep's phone, received at server time now
// by a tenant that keeps fixes for retention (zero or less: no limit). The
// id is 1 to MaxFixIDBytes bytes of UTF-8 without NUL (field+".id"); the device time is
// set, at most MaxFutureSkew after now and not before now-retention
// (field+".device_time"); the position is valid (field+".position"); the
// accuracy is finite and >= 0 metres (field+".accuracy_meters"); the speed is
// -1 (unknown) or from 0 to 1000 metres per second
// (field+".speed_meters_per_second"); the bearing is -1 (unknown) or in
// [0, 360) degrees (field+".bearing_degrees"); the altitude, if present, is
// from -1000 to 100000 metres (field+".altitude_meters").
func ValidateFix(field string, f Fix, now time.Time, retention time.Duration) []Violation {
	var vs []Violation
	id := fieldPath(field, "id")
	switch {
	case f.ID == "":
		vs = addViolation(vs, id, "a fix id is required")
	case len(f.ID) > MaxFixIDBytes:
		vs = addViolation(vs, id, "a fix id must be at most %d bytes, got %d", MaxFixIDBytes, len(f.ID))
	case !utf8.ValidString(f.ID):
		vs = addViolation(vs, id, "a fix id must be valid UTF-8")
	case strings.IndexByte(f.ID, 0) >= 0:
		vs = addViolation(vs, id, "a fix id must not contain NUL characters")
	}

	dt := fieldPath(field, "device_time")
	switch {
	case f.Time.IsZero():
		vs = addViolation(vs, dt, "device_time is required")
	case f.Time.After(now.Add(MaxFutureSkew)):
		vs = addViolation(vs, dt, "device_time must be at most %s after the server time %s, got %s",
			fmtDuration(MaxFutureSkew), fmtTime(now), fmtTime(f.Time))
	case retention > 0 && f.Time.Before(now.Add(-retention)):
		vs = addViolation(vs, dt, "device_time must be within the retention period of %s before the server time %s, got %s",
			fmtDuration(retention), fmtTime(now), fmtTime(f.Time))
	}

	vs = append(vs, ValidateLatLng(fieldPath(field, "position"), f.Pos)...)

	if !(f.AccuracyM >= 0 && f.AccuracyM <= math.MaxFloat64) {
		vs = addViolation(vs, fieldPath(field, "accuracy_meters"),
			"accuracy must be a finite number of metres, 0 or more, got %s", fmtNum(f.AccuracyM))
	}
	if f.SpeedMPS != -1 && !(f.SpeedMPS >= 0 && f.SpeedMPS <= maxSpeedMPS) {
		vs = addViolation(vs, fieldPath(field, "speed_meters_per_second"),
			"speed must be -1 (unknown) or between 0 and %s metres per second, got %s", fmtLimit(maxSpeedMPS), fmtNum(f.SpeedMPS))
	}
	if f.BearingDeg != -1 && !(f.BearingDeg >= 0 && f.BearingDeg < 360) {
		vs = addViolation(vs, fieldPath(field, "bearing_degrees"),
			"bearing must be -1 (unknown) or at least 0 and less than 360 degrees, got %s", fmtNum(f.BearingDeg))
	}
	if f.HasAltitude && !(f.AltitudeM >= minAltitudeM && f.AltitudeM <= maxAltitudeM) {
		vs = addViolation(vs, fieldPath(field, "altitude_meters"),
			"altitude must be between %s and %s metres, got %s", fmtLimit(minAltitudeM), fmtLimit(maxAltitudeM), fmtNum(f.AltitudeM))
	}
	return vs
}

// ValidateDate checks that d is a real calendar day from 0001-01-01 to
// 9999-12-31. A violation is reported on field.
func ValidateDate(field string, d Date) []Violation {
	if d.Valid() {
		return nil
	}
	return oneViolation(field, "%s must be a real calendar day from 0001-01-01 to 9999-12-31, got %04d-%02d-%02d",
		fieldLeaf(field), d.Year, int(d.Month), d.Day)
}

// Bounds of ValidateInstant: the whole years whose instants every store
// keeps exactly (nanoseconds since 1970 in 64 bits reach from September
// 1677 to April 2262).
const (
	minInstantYear = 1678
	maxInstantYear = 2261
)

// ValidateInstant checks that t, if set, lies in the years 1678 to 2261
// UTC, the instants a store can keep; the zero time is not examined (a
// required instant is the caller's to check). It serves instants the API
// takes from callers with no tighter rule, such as an appointment's planned
// start. A violation is reported on field.
func ValidateInstant(field string, t time.Time) []Violation {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < minInstantYear || y > maxInstantYear {
		return oneViolation(field, "%s must be in the years %d to %d UTC, got %s",
			fieldLeaf(field), minInstantYear, maxInstantYear, fmtTime(t))
	}
	return nil
}

func validateCircle(field string, c Circle) []Violation {
	vs := ValidateLatLng(fieldPath(field, "center"), c.Center)
	if !(c.RadiusM >= MinRadiusM && c.RadiusM <= MaxRadiusM) {
		vs = addViolation(vs, fieldPath(field, "radius_meters"), "radius must be between %s and %s metres, got %s",
			fmtLimit(MinRadiusM), fmtLimit(MaxRadiusM), fmtNum(c.RadiusM))
	}
	return vs
}

func validateTimeZone(field, tz string) []Violation {
	switch {
	case tz == "":
		return oneViolation(field, "time_zone is required")
	case len(tz) > maxTimeZoneBytes:
		return oneViolation(field, "time_zone must be an IANA zone name of at most %d bytes, got %d", maxTimeZoneBytes, len(tz))
	case tz == "Local":
		return oneViolation(field, `time_zone must be an IANA zone name such as "Europe/Paris", not "Local"`)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return oneViolation(field, `time_zone must be an IANA zone name such as "Europe/Paris", got %q`, tz)
	}
	return nil
}

func validateWorkingHours(field string, whs []WorkingHours) []Violation {
	var vs []Violation
	var ok []int // indexes of windows valid on their own
	var bad listCap
	for i, w := range whs {
		dayOK := w.Weekday >= time.Sunday && w.Weekday <= time.Saturday
		startOK := w.StartMinute >= 0 && w.StartMinute <= maxWorkingMinute
		endOK := w.EndMinute >= 0 && w.EndMinute <= maxWorkingMinute && !(startOK && w.EndMinute <= w.StartMinute)
		if dayOK && startOK && endOK {
			ok = append(ok, i)
			continue
		}
		if !bad.take() {
			continue
		}
		f := fieldIndex(field, i)
		if !dayOK {
			vs = addViolation(vs, fieldPath(f, "day_of_week"),
				"day_of_week must be from 0 (Sunday) to 6 (Saturday), got %d", int(w.Weekday))
		}
		if !startOK {
			vs = addViolation(vs, fieldPath(f, "start_minute"),
				"start_minute must be from 0 to %d minutes after midnight, got %d", maxWorkingMinute, w.StartMinute)
		}
		switch {
		case w.EndMinute < 0 || w.EndMinute > maxWorkingMinute:
			vs = addViolation(vs, fieldPath(f, "end_minute"),
				"end_minute must be from 0 to %d minutes after midnight, got %d", maxWorkingMinute, w.EndMinute)
		case startOK && w.EndMinute <= w.StartMinute:
			vs = addViolation(vs, fieldPath(f, "end_minute"),
				"end_minute must be after start_minute (%d), got %d", w.StartMinute, w.EndMinute)
		}
	}
	vs = bad.rest(vs, field, "working hours")
	// Sort by day and start; a window overlaps an earlier one exactly when it
	// starts before the latest end seen so far on its day.
	slices.SortStableFunc(ok, func(a, b int) int {
		if c := int(whs[a].Weekday) - int(whs[b].Weekday); c != 0 {
			return c
		}
		return whs[a].StartMinute - whs[b].StartMinute
	})
	type overlap struct {
		at   int // index of the window
		with int // index of the window it overlaps
	}
	var overlaps []overlap
	last := -1 // index of the window with the latest end on the current day
	for _, i := range ok {
		w := whs[i]
		if last >= 0 && whs[last].Weekday == w.Weekday && w.StartMinute < whs[last].EndMinute {
			overlaps = append(overlaps, overlap{i, last})
		}
		if last < 0 || whs[last].Weekday != w.Weekday || w.EndMinute > whs[last].EndMinute {
			last = i
		}
	}
	// Report overlaps in the order of the request, not of the sort.
	slices.SortFunc(overlaps, func(a, b overlap) int { return a.at - b.at })
	var overlapping listCap
	for _, o := range overlaps {
		if overlapping.take() {
			vs = addViolation(vs, fieldIndex(field, o.at),
				"the window overlaps working_hours[%d] on %s; windows of one day must not overlap", o.with, whs[o.at].Weekday)
		}
	}
	return overlapping.rest(vs, field, "overlapping working hours")
}

// Polygons.

// planePoint is a polygon vertex in the plane of validation: x is the longitude
// and y the latitude, in degrees relative to a reference vertex, with x
// unwrapped into (-180, 180].
type planePoint struct{ x, y float64 }

// toPlane maps p to the plane of validation around ref.
func toPlane(ref, p LatLng) planePoint {
	dx := p.Lng - ref.Lng
	if dx > 180 {
		dx -= 360
	} else if dx <= -180 {
		dx += 360
	}
	return planePoint{dx, p.Lat - ref.Lat}
}

// sweepLess orders points by x, then y: the order of the sweep.
func sweepLess(a, b planePoint) bool { return a.x < b.x || a.x == b.x && a.y < b.y }

// planeRing is a polygon ring that passed its own checks.
type planeRing struct {
	field string       // path of the ring, such as "geofence.polygon.holes[2]"
	name  string       // name of the ring in descriptions: "the shell", "holes[2]"
	pts   []planePoint // vertices without the closing repeat
	minX  float64
	maxX  float64
	minY  float64
	maxY  float64
}

func validatePolygon(field string, p Polygon) []Violation {
	var vs []Violation
	// Unwrap longitudes around the shell's first vertex when it is usable;
	// otherwise each ring is checked around its own first vertex.
	var ref *LatLng
	if len(p.Shell) > 0 && validLatLng(p.Shell[0]) {
		ref = &p.Shell[0]
	}
	shell, svs := checkRing(fieldPath(field, "shell"), "the shell", p.Shell, ref)
	vs = append(vs, svs...)

	holesField := fieldPath(field, "holes")
	if len(p.Holes) > MaxPolygonHoles {
		return addViolation(vs, holesField, "a polygon may have at most %d holes, got %d", MaxPolygonHoles, len(p.Holes))
	}
	holes := make([]*planeRing, 0, len(p.Holes))
	holeIndex := make([]int, 0, len(p.Holes)) // position in p.Holes of holes[k]
	var badHoles listCap
	for i, h := range p.Holes {
		hf := fieldIndex(holesField, i)
		r, hvs := checkRing(hf, fmt.Sprintf("holes[%d]", i), h, ref)
		if hvs != nil && badHoles.take() {
			vs = append(vs, hvs...)
		}
		if r != nil {
			holes = append(holes, r)
			holeIndex = append(holeIndex, i)
		}
	}
	vs = badHoles.rest(vs, holesField, "holes")
	if shell == nil || len(holes) == 0 {
		return vs
	}

	// No hole may cross or touch the shell or another hole. The rings are
	// simple on their own, so only pairs from different rings can clash.
	rings := append([]*planeRing{shell}, holes...)
	if a, b, found := sweepRings(rings); found {
		ra, rb := rings[a.ring], rings[b.ring]
		if a.ring > b.ring {
			a, b, ra, rb = b, a, rb, ra
		}
		// rb is a hole; ra is the shell or an earlier hole.
		what := "a hole must lie strictly inside the shell"
		if a.ring != 0 {
			what = "holes must not touch each other"
		}
		return addViolation(vs, rb.field, "the edge from %s crosses or touches %s at its edge from %s; %s",
			rb.edgeName(b.edge), ra.name, ra.edgeName(a.edge), what)
	}

	// Without contacts, a ring is inside another exactly when any one of its
	// vertices is.
	for k, h := range holes {
		if !shell.contains(h.pts[0]) {
			vs = addViolation(vs, h.field, "the hole must lie strictly inside the shell, but its vertices[0] is outside it")
			continue
		}
		for j, o := range holes {
			if j != k && o.boxContains(h) && o.contains(h.pts[0]) {
				vs = addViolation(vs, h.field, "the hole lies inside holes[%d]; holes must not nest", holeIndex[j])
				break
			}
		}
	}
	return vs
}

// checkRing checks one ring on its own and returns it ready for the checks
// between rings, or nil with the violations that make it unusable.
func checkRing(field, name string, vertices []LatLng, ref *LatLng) (*planeRing, []Violation) {
	vf := fieldPath(field, "vertices")
	n := len(vertices)
	if n > MaxPolygonVertices+1 { // at most the limit plus a closing repeat
		return nil, oneViolation(vf, "a ring must have from %d to %d vertices, got %d",
			MinPolygonVertices, MaxPolygonVertices, n)
	}
	var vs []Violation
	var bad listCap
	for i, v := range vertices {
		if !validLatLng(v) && bad.take() { // build paths only for the bad ones
			vs = append(vs, ValidateLatLng(fieldIndex(vf, i), v)...)
		}
	}
	if vs != nil {
		return nil, bad.rest(vs, vf, "vertices")
	}
	for i, v := range vertices {
		if v.Lat == 90 || v.Lat == -90 {
			return nil, oneViolation(fieldIndex(vf, i), "a polygon must not reach a pole (latitude %s); polar sites are not supported", fmtLimit(v.Lat))
		}
	}
	if n == 0 {
		return nil, oneViolation(vf, "a ring must have from %d to %d vertices, got 0", MinPolygonVertices, MaxPolygonVertices)
	}
	if ref == nil {
		ref = &vertices[0]
	}
	pts := make([]planePoint, n)
	for i, v := range vertices {
		pts[i] = toPlane(*ref, v)
	}
	if n > 1 && pts[n-1] == pts[0] {
		n--
		pts = pts[:n]
	}
	if n < MinPolygonVertices || n > MaxPolygonVertices {
		return nil, oneViolation(vf, "a ring must have from %d to %d vertices, not counting a closing repeat of the first, got %d",
			MinPolygonVertices, MaxPolygonVertices, n)
	}
	var repeats listCap
	for i := 1; i < n; i++ {
		if pts[i] == pts[i-1] && repeats.take() {
			vs = addViolation(vs, fieldIndex(vf, i), "the vertex repeats vertices[%d]; consecutive vertices must differ", i-1)
		}
	}
	if pts[n-1] == pts[0] && repeats.take() {
		vs = addViolation(vs, fieldIndex(vf, n-1), "the vertex repeats vertices[0] after a closing repeat was dropped; consecutive vertices must differ")
	}
	if vs != nil {
		return nil, repeats.rest(vs, vf, "vertices")
	}

	r := &planeRing{field: field, name: name, pts: pts,
		minX: pts[0].x, maxX: pts[0].x, minY: pts[0].y, maxY: pts[0].y}
	for _, p := range pts {
		r.minX, r.maxX = min(r.minX, p.x), max(r.maxX, p.x)
		r.minY, r.maxY = min(r.minY, p.y), max(r.maxY, p.y)
	}
	if span := r.maxX - r.minX; span > maxRingSpanDeg {
		return nil, oneViolation(field, "a ring must span at most %s degrees of longitude, got %s",
			fmtLimit(maxRingSpanDeg), fmtNum(span))
	}
	collinear := true
	for i := 2; i < n && collinear; i++ {
		collinear = orient2D(pts[0], pts[1], pts[i]) == 0
	}
	if collinear {
		return nil, oneViolation(field, "the ring has zero area: all its vertices lie on one line")
	}
	if a, b, found := sweepRings([]*planeRing{r}); found {
		return nil, []Violation{r.selfClash(a, b)}
	}
	return r, nil
}

// edgeName names edge i of r in descriptions.
func (r *planeRing) edgeName(i int32) string {
	return fmt.Sprintf("vertices[%d] to vertices[%d]", i, (int(i)+1)%len(r.pts))
}

// selfClash describes the contact of edges a and b of r.
func (r *planeRing) selfClash(a, b planeEdge) Violation {
	n := int32(len(r.pts))
	vf := fieldPath(r.field, "vertices")
	if a.edge > b.edge {
		a, b = b, a
	}
	ends := func(s planeEdge) [2]int32 { return [2]int32{s.edge, (s.edge + 1) % n} }
	ea, eb := ends(a), ends(b)
	// Edges that follow each other clash only by doubling back.
	for _, i := range ea {
		for _, j := range eb {
			if i == j {
				return Violation{fieldIndex(vf, int(i)), "the edges on either side of the vertex overlap: the ring doubles back on itself"}
			}
		}
	}
	for _, i := range ea {
		for _, j := range eb {
			if r.pts[i] == r.pts[j] {
				lo, hi := min(i, j), max(i, j)
				return Violation{fieldIndex(vf, int(hi)), fmt.Sprintf(
					"the vertex is the same point as vertices[%d]; a ring must not touch itself", lo)}
			}
		}
	}
	on := func(v int32, s planeEdge) bool {
		p := r.pts[v]
		return orient2D(s.p, s.q, p) == 0 && inBox2D(s.p, s.q, p)
	}
	for _, v := range eb {
		if on(v, a) {
			return Violation{fieldIndex(vf, int(v)), fmt.Sprintf(
				"the vertex lies on the edge from %s; a ring must not touch itself", r.edgeName(a.edge))}
		}
	}
	for _, v := range ea {
		if on(v, b) {
			return Violation{fieldIndex(vf, int(v)), fmt.Sprintf(
				"the vertex lies on the edge from %s; a ring must not touch itself", r.edgeName(b.edge))}
		}
	}
	return Violation{fieldIndex(vf, int(a.edge)), fmt.Sprintf(
		"the edge from %s crosses the edge from %s; a ring must not cross itself", r.edgeName(a.edge), r.edgeName(b.edge))}
}

// contains reports whether p is inside r; p must not be on r's boundary.
func (r *planeRing) contains(p planePoint) bool {
	if p.x < r.minX || p.x > r.maxX || p.y < r.minY || p.y > r.maxY {
		return false
	}
	in := false
	a := r.pts[len(r.pts)-1]
	for _, b := range r.pts {
		if (a.y > p.y) != (b.y > p.y) {
			// The edge straddles the horizontal through p; it crosses the
			// ray to the east of p when p is on its west side.
			if o := orient2D(a, b, p); (b.y > a.y) == (o > 0) && o != 0 {
				in = !in
			}
		}
		a = b
	}
	return in
}

// boxContains reports whether r's bounding box contains o's.
func (r *planeRing) boxContains(o *planeRing) bool {
	return r.minX <= o.minX && o.maxX <= r.maxX && r.minY <= o.minY && o.maxY <= r.maxY
}

// planeEdge is an edge of a ring in the sweep: p comes before q in sweep order.
type planeEdge struct {
	p, q planePoint
	ring int32 // index of the ring in the sweep's list
	edge int32 // the edge from vertex edge to vertex edge+1 (mod n)
	rev  bool  // p is vertex edge+1 and q vertex edge
}

// sweepRings reports whether any two edges of rings cross, touch or overlap,
// other than edges that follow each other in a ring meeting at their common
// vertex without overlapping, and if so returns one such pair. It is the
// Shamos-Hoey sweep: a vertical line sweeps the plane from west to east
// (ties broken south to north), the edges it cuts are kept in a balanced tree
// ordered south to north, and only edges that become neighbours in that order
// are tested. The leftmost contact is always between neighbours, so the
// sweep finds a contact if there is one, in O(n log n) time for n edges.
func sweepRings(rings []*planeRing) (a, b planeEdge, found bool) {
	n := 0
	for _, r := range rings {
		n += len(r.pts)
	}
	segs := make([]planeEdge, 0, n)
	for ri, r := range rings {
		m := len(r.pts)
		for i := range m {
			p, q := r.pts[i], r.pts[(i+1)%m]
			rev := sweepLess(q, p)
			if rev {
				p, q = q, p
			}
			segs = append(segs, planeEdge{p: p, q: q, ring: int32(ri), edge: int32(i), rev: rev})
		}
	}
	type event struct {
		at    planePoint
		seg   int32
		start bool
	}
	events := make([]event, 0, 2*len(segs))
	for i, s := range segs {
		events = append(events, event{s.p, int32(i), true}, event{s.q, int32(i), false})
	}
	slices.SortFunc(events, func(e, f event) int {
		switch {
		case sweepLess(e.at, f.at):
			return -1
		case sweepLess(f.at, e.at):
			return 1
		case e.start != f.start: // ends first
			if e.start {
				return 1
			}
			return -1
		}
		return int(e.seg - f.seg)
	})

	ringLen := func(s planeEdge) int32 { return int32(len(rings[s.ring].pts)) }
	clash := func(i, j int32) bool { return edgesClash(segs[i], segs[j], ringLen(segs[i])) }
	t := newEdgeTree(len(segs))
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].at == events[i].at {
			j++
		}
		group := events[i:j]
		// Every vertex has two edges; more at one point means two vertices
		// coincide.
		if len(group) > 2 {
			s := segs[group[0].seg]
			v := vertexAt(s, group[0].at, ringLen(s))
			for _, e := range group[1:] {
				o := segs[e.seg]
				if o.ring != s.ring || vertexAt(o, e.at, ringLen(o)) != v {
					return s, o, true
				}
			}
		}
		if len(group) == 2 && group[0].start == group[1].start && clash(group[0].seg, group[1].seg) {
			return segs[group[0].seg], segs[group[1].seg], true
		}
		for _, e := range group {
			if e.start {
				continue
			}
			p, s := t.prev(e.seg), t.next(e.seg)
			t.remove(e.seg)
			if p >= 0 && s >= 0 && clash(p, s) {
				return segs[p], segs[s], true
			}
		}
		for _, e := range group {
			if !e.start {
				continue
			}
			ns := segs[e.seg]
			if o := t.insert(e.seg, func(k int32) (after, bad bool) {
				return edgeAbove(ns, segs[k])
			}); o >= 0 {
				return ns, segs[o], true
			}
			for _, o := range [2]int32{t.prev(e.seg), t.next(e.seg)} {
				if o >= 0 && clash(e.seg, o) {
					return ns, segs[o], true
				}
			}
		}
		i = j
	}
	return planeEdge{}, planeEdge{}, false
}

// vertexAt returns the index of the vertex of s at p, one of its endpoints,
// in a ring of n vertices.
func vertexAt(s planeEdge, p planePoint, n int32) int32 {
	if (p == s.p) != s.rev {
		return s.edge
	}
	return (s.edge + 1) % n
}

// from and to return the endpoints of s in ring order.
func (s planeEdge) from() planePoint {
	if s.rev {
		return s.q
	}
	return s.p
}

func (s planeEdge) to() planePoint {
	if s.rev {
		return s.p
	}
	return s.q
}

// edgeAbove tells where s, about to be inserted at its start s.p, goes relative
// to t, which is in the tree: after (north of) t or before it. bad reports
// that s starts on t or runs along it from a common start.
func edgeAbove(s, t planeEdge) (after, bad bool) {
	o := orient2D(t.p, t.q, s.p)
	if o == 0 {
		if s.p != t.p {
			return false, true // s starts on t
		}
		if o = orient2D(t.p, t.q, s.q); o == 0 {
			return false, true // s and t overlap from their common start
		}
	}
	return o > 0, false
}

// edgesClash reports whether edges a and b, of rings with n vertices if they
// are of the same ring, have a forbidden contact.
func edgesClash(a, b planeEdge, n int32) bool {
	if a.ring == b.ring {
		switch {
		case (b.edge+1)%n == a.edge: // b ends where a starts
			a, b = b, a
			fallthrough
		case (a.edge+1)%n == b.edge: // a ends where b starts
			// Neighbouring edges clash only by running back along each
			// other (or by b ending where a starts, which the sweep finds
			// as coinciding vertices).
			shared, ao, bo := a.to(), a.from(), b.to()
			return orient2D(shared, ao, bo) == 0 && sweepLess(ao, shared) == sweepLess(bo, shared)
		}
	}
	return edgesTouch(a, b)
}

// edgesTouch reports whether the closed segments a and b share a point.
func edgesTouch(a, b planeEdge) bool {
	// a.p.x <= a.q.x by sweep order; y needs both ways.
	if a.q.x < b.p.x || b.q.x < a.p.x ||
		max(a.p.y, a.q.y) < min(b.p.y, b.q.y) || max(b.p.y, b.q.y) < min(a.p.y, a.q.y) {
		return false
	}
	d1, d2 := orient2D(a.p, a.q, b.p), orient2D(a.p, a.q, b.q)
	if d1 == d2 && d1 != 0 {
		return false
	}
	d3, d4 := orient2D(b.p, b.q, a.p), orient2D(b.p, b.q, a.q)
	if d3 == d4 && d3 != 0 {
		return false
	}
	// Either they straddle each other, or an endpoint lies on the other's
	// line within its box, or they are collinear with overlapping boxes.
	return true
}

// inBox2D reports whether p is in the bounding box of a and b.
func inBox2D(a, b, p planePoint) bool {
	return min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
}

// Formatting helpers.

func oneViolation(field, format string, args ...any) []Violation {
	return []Violation{{Field: field, Description: fmt.Sprintf(format, args...)}}
}

func addViolation(vs []Violation, field, format string, args ...any) []Violation {
	return append(vs, Violation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// maxListViolations is how many bad entries of one list (a ring's
// vertices, a polygon's holes, a rep's working hours) a check reports one
// by one; it counts the others in one more violation on the list. A list
// of any length thus costs at most that many violations, in memory and in
// the answer, and a caller fixing them sees where to start.
const maxListViolations = 10

// listCap bounds the violations built for the bad entries of one list.
type listCap struct{ listed, more int }

// take reports whether the next bad entry is to be reported; when it is
// not, it is counted.
func (c *listCap) take() bool {
	if c.listed < maxListViolations {
		c.listed++
		return true
	}
	c.more++
	return false
}

// rest appends to vs the violation on field (the list) that counts the bad
// entries not reported, what naming them, if there are any.
func (c *listCap) rest(vs []Violation, field, what string) []Violation {
	if c.more == 0 {
		return vs
	}
	return addViolation(vs, field, "%d more %s are invalid (only the first %d are listed)", c.more, what, maxListViolations)
}

// fieldPath appends a field name to a path; an empty path is the root.
func fieldPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldIndex appends a list index to a path.
func fieldIndex(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// fieldLeaf returns the last field name of path, without an index, for
// descriptions.
func fieldLeaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return "the value"
	}
	return path
}

func isIDAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// quoteByteAt quotes the character of s at byte i, or the byte if it starts no
// valid UTF-8 sequence.
func quoteByteAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", s[i])
	}
	return strconv.QuoteRune(r)
}

// fmtNum formats a number for descriptions: 5 as "5.0", 0.25 as "0.25".
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// fmtLimit formats a limit for descriptions: 5000 as "5000".
func fmtLimit(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// fmtDuration formats a limit for descriptions in whole days or hours when it
// is one.
func fmtDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d%day == 0:
		return fmtCount(int64(d/day), "day")
	case d%time.Hour == 0:
		return fmtCount(int64(d/time.Hour), "hour")
	}
	return d.String()
}

func fmtCount(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// fmtTime formats an instant for descriptions.
func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func clientKindName(k ClientKind) string {
	if k == ClientKindUnspecified {
		return "unspecified"
	}
	return strconv.Itoa(int(k))
}

// Exact orientation.

// orientBound is Shewchuk's error bound for the floating-point orientation
// determinant: when the computed determinant exceeds it in magnitude, its
// sign is right.
const orientBound = (3 + 16*0x1p-53) * 0x1p-53

// orient2D returns the sign of the orientation of c relative to the line from
// a to b: 1 if c is to the left (counterclockwise), -1 if to the right, 0 if
// the three points are collinear. The sign is exact: a fast floating-point
// evaluation is trusted only when its error bound allows, otherwise the
// determinant is summed exactly.
func orient2D(a, b, c planePoint) int {
	l := (a.x - c.x) * (b.y - c.y)
	r := (a.y - c.y) * (b.x - c.x)
	det := l - r
	// Far from underflow the bound covers every rounding error.
	if bound := orientBound * (math.Abs(l) + math.Abs(r)); bound >= 0x1p-900 {
		if det > bound {
			return 1
		}
		if det < -bound {
			return -1
		}
	}
	return orientExact(a, b, c)
}

// orientExact computes the sign of the orientation determinant
// (ax-cx)(by-cy) - (ay-cy)(bx-cx) exactly, as a sum of floating-point
// products kept without rounding (an expansion).
func orientExact(a, b, c planePoint) int {
	ax, axe := twoDiff(a.x, c.x)
	ay, aye := twoDiff(a.y, c.y)
	bx, bxe := twoDiff(b.x, c.x)
	by, bye := twoDiff(b.y, c.y)
	// (ax+axe)(by+bye) - (ay+aye)(bx+bxe), term by term.
	factors := [8][2]float64{
		{ax, by}, {ax, bye}, {axe, by}, {axe, bye},
		{-ay, bx}, {-ay, bxe}, {-aye, bx}, {-aye, bxe},
	}
	var terms [16]float64
	for i, f := range factors {
		p := f[0] * f[1]
		if f[0] != 0 && f[1] != 0 && math.Abs(p) < 0x1p-900 {
			// The rounding error of a product this small may not be
			// representable; fall back to rational arithmetic.
			return orientRat(a, b, c)
		}
		terms[2*i], terms[2*i+1] = p, math.FMA(f[0], f[1], -p)
	}
	return signOfSum(terms[:])
}

// twoDiff returns a-b rounded and its rounding error, so that s+e == a-b
// exactly (Knuth's TwoSum).
func twoDiff(a, b float64) (s, e float64) {
	s = a - b
	bv := s - a
	av := s - bv
	e = (a - av) - (b + bv)
	return s, e
}

// twoSum returns a+b rounded and its rounding error, so that s+e == a+b
// exactly.
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bv := s - a
	av := s - bv
	e = (a - av) + (b - bv)
	return s, e
}

// signOfSum returns the sign of the exact sum of xs (at most 16 values). It
// grows a nonoverlapping expansion of the sum (Shewchuk's Grow-Expansion with
// zero elimination), whose sign is that of its largest component.
func signOfSum(xs []float64) int {
	var h [17]float64
	n := 0
	for _, x := range xs {
		q := x
		m := 0
		for i := range n {
			var e float64
			q, e = twoSum(q, h[i])
			if e != 0 {
				h[m] = e
				m++
			}
		}
		if q != 0 {
			h[m] = q
			m++
		}
		n = m
	}
	switch {
	case n == 0:
		return 0
	case h[n-1] > 0:
		return 1
	}
	return -1
}

// orientRat is orient2D in rational arithmetic, for coordinates so close that
// their products underflow.
func orientRat(a, b, c planePoint) int {
	r := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	sub := func(x, y float64) *big.Rat { return new(big.Rat).Sub(r(x), r(y)) }
	l := new(big.Rat).Mul(sub(a.x, c.x), sub(b.y, c.y))
	rr := new(big.Rat).Mul(sub(a.y, c.y), sub(b.x, c.x))
	return l.Cmp(rr)
}

// The sweep's tree.

// edgeTree is a treap of edge indexes ordered south to north along the sweep
// line. Node i is edge i; priorities are a fixed hash of the index, so the
// shape, and with it the validation, is deterministic.
type edgeTree struct {
	left, right, up []int32
	root            int32
}

func newEdgeTree(n int) *edgeTree {
	t := &edgeTree{left: make([]int32, n), right: make([]int32, n), up: make([]int32, n), root: -1}
	return t
}

// treapPriority returns the heap priority of node i.
func treapPriority(i int32) uint32 {
	x := uint32(i)*0x9e3779b9 + 0x7f4a7c15
	x ^= x >> 16
	x *= 0x85ebca6b
	x ^= x >> 13
	x *= 0xc2b2ae35
	x ^= x >> 16
	return x
}

// insert adds node i, which goes after node k when after(k) is true. If
// after reports bad for some node, insert stops and returns that node
// without changing the tree; otherwise it returns -1.
func (t *edgeTree) insert(i int32, after func(k int32) (after, bad bool)) int32 {
	parent, k, right := int32(-1), t.root, false
	for k >= 0 {
		a, bad := after(k)
		if bad {
			return k
		}
		parent, right = k, a
		if a {
			k = t.right[k]
		} else {
			k = t.left[k]
		}
	}
	t.left[i], t.right[i], t.up[i] = -1, -1, parent
	switch {
	case parent < 0:
		t.root = i
	case right:
		t.right[parent] = i
	default:
		t.left[parent] = i
	}
	for t.up[i] >= 0 && treapPriority(t.up[i]) < treapPriority(i) {
		t.rotateUp(i)
	}
	return -1
}

// remove deletes node i, which must be in the tree.
func (t *edgeTree) remove(i int32) {
	for t.left[i] >= 0 || t.right[i] >= 0 {
		c := t.left[i]
		if c < 0 || t.right[i] >= 0 && treapPriority(t.right[i]) > treapPriority(c) {
			c = t.right[i]
		}
		t.rotateUp(c)
	}
	switch p := t.up[i]; {
	case p < 0:
		t.root = -1
	case t.left[p] == i:
		t.left[p] = -1
	default:
		t.right[p] = -1
	}
	t.up[i] = -1
}

// rotateUp moves node i above its parent, keeping the order.
func (t *edgeTree) rotateUp(i int32) {
	p := t.up[i]
	g := t.up[p]
	if t.left[p] == i {
		t.left[p] = t.right[i]
		if t.right[i] >= 0 {
			t.up[t.right[i]] = p
		}
		t.right[i] = p
	} else {
		t.right[p] = t.left[i]
		if t.left[i] >= 0 {
			t.up[t.left[i]] = p
		}
		t.left[i] = p
	}
	t.up[p] = i
	t.up[i] = g
	switch {
	case g < 0:
		t.root = i
	case t.left[g] == p:
		t.left[g] = i
	default:
		t.right[g] = i
	}
}

// prev returns the node before i, or -1.
func (t *edgeTree) prev(i int32) int32 {
	if k := t.left[i]; k >= 0 {
		for t.right[k] >= 0 {
			k = t.right[k]
		}
		return k
	}
	for p := t.up[i]; p >= 0; i, p = p, t.up[p] {
		if t.right[p] == i {
			return p
		}
	}
	return -1
}

// next returns the node after i, or -1.
func (t *edgeTree) next(i int32) int32 {
	if k := t.right[i]; k >= 0 {
		for t.left[k] >= 0 {
			k = t.left[k]
		}
		return k
	}
	for p := t.up[i]; p >= 0; i, p = p, t.up[p] {
		if t.left[p] == i {
			return p
		}
	}
	return -1
}
