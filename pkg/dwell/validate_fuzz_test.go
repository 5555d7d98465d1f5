package dwell

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// decodePolygon turns fuzz bytes into a polygon. The first byte picks a
// base position, an encoding and a step; the second the number of holes
// (0 to 3); then each ring is a vertex count (0 to 39) followed by its
// vertices, until the bytes run out. Encodings: 0, a grid of int8 steps
// (two bytes a vertex), which makes many vertices coincide, touch edges and
// lie on one line; 1, int16 steps (four bytes); 2, raw float64 latitude and
// longitude (sixteen bytes), for NaN, infinities and the range limits.
func decodePolygon(data []byte) Polygon {
	if len(data) < 2 {
		return Polygon{}
	}
	mode, nholes := data[0], int(data[1]%4)
	data = data[2:]
	bases := [...]LatLng{berlin, {Lat: -17.7, Lng: 179.9997}, {Lat: 0, Lng: -180}, {Lat: 89.99, Lng: 0}, {}}
	steps := [...]float64{1e-4, 1e-9, 1e-13, 0.1, 3}
	base := bases[int(mode)%len(bases)]
	enc := int(mode/5) % 3
	step := steps[int(mode/15)%len(steps)]
	vertex := func() (LatLng, bool) {
		var dx, dy float64
		switch enc {
		case 0:
			if len(data) < 2 {
				return LatLng{}, false
			}
			dx, dy = float64(int8(data[0])), float64(int8(data[1]))
			data = data[2:]
		case 1:
			if len(data) < 4 {
				return LatLng{}, false
			}
			dx = float64(int16(binary.LittleEndian.Uint16(data)))
			dy = float64(int16(binary.LittleEndian.Uint16(data[2:])))
			data = data[4:]
		default:
			if len(data) < 16 {
				return LatLng{}, false
			}
			p := LatLng{
				Lat: math.Float64frombits(binary.LittleEndian.Uint64(data)),
				Lng: math.Float64frombits(binary.LittleEndian.Uint64(data[8:])),
			}
			data = data[16:]
			return p, true
		}
		lng := base.Lng + dx*step
		if lng > 180 {
			lng -= 360
		} else if lng < -180 {
			lng += 360
		}
		return LatLng{Lat: base.Lat + dy*step, Lng: lng}, true
	}
	ring := func() []LatLng {
		if len(data) == 0 {
			return nil
		}
		n := int(data[0] % 40)
		data = data[1:]
		var r []LatLng
		for range n {
			v, ok := vertex()
			if !ok {
				break
			}
			r = append(r, v)
		}
		return r
	}
	p := Polygon{Shell: ring()}
	for range nholes {
		p.Holes = append(p.Holes, ring())
	}
	return p
}

// encodeGrid is the inverse of decodePolygon for encoding 0, for seeds.
func encodeGrid(base byte, rings ...[]int8) []byte {
	out := []byte{base, byte(len(rings) - 1)}
	for _, r := range rings {
		out = append(out, byte(len(r)/2))
		for _, v := range r {
			out = append(out, byte(v))
		}
	}
	return out
}

func FuzzValidateGeofence(f *testing.F) {
	square := []int8{0, 0, 20, 0, 20, 20, 0, 20}
	f.Add(encodeGrid(0, square), 52.52, 13.405, 50.0)
	f.Add(encodeGrid(1, square, []int8{5, 5, 10, 5, 10, 10, 5, 10}), 0.0, 180.0, 10.0)
	f.Add(encodeGrid(0, []int8{0, 0, 10, 10, 10, 0, 0, 10}), 90.0, -180.0, 5000.0)
	f.Add(encodeGrid(2, square, []int8{0, 0, 5, 5, 0, 5}, []int8{15, 15, 25, 15, 25, 25}), math.NaN(), 0.0, math.Inf(1))
	f.Add(encodeGrid(3, []int8{0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1}), -91.0, 0.0, 9.99)
	f.Add(append([]byte{10, 0, 3}, make([]byte, 48)...), 0.0, 0.0, 0.0)
	f.Add([]byte{5, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}, 1.0, 2.0, 3.0)

	f.Fuzz(func(t *testing.T, data []byte, lat, lng, radius float64) {
		c := Circle{Center: LatLng{Lat: lat, Lng: lng}, RadiusM: radius}
		vs := ValidateGeofence("g", Geofence{Circle: &c})
		checkPaths(t, vs, "g.circle.")
		wantOK := lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 && radius >= MinRadiusM && radius <= MaxRadiusM
		if (vs == nil) != wantOK {
			t.Fatalf("ValidateGeofence(circle %v) = %v, want valid=%v", c, describe(vs), wantOK)
		}

		p := decodePolygon(data)
		vs = ValidateGeofence("g", Geofence{Polygon: &p})
		checkPaths(t, vs, "g.polygon.")
		if want, why := refValid(p); (vs == nil) != want {
			t.Fatalf("ValidateGeofence(%v):\n%sreference says valid=%v (%s)", p, describe(vs), want, why)
		}
		if vs == nil {
			// The documented invariants of a valid polygon, beyond what
			// the reference checks.
			for _, r := range append([][]LatLng{p.Shell}, p.Holes...) {
				for _, v := range r {
					if math.IsNaN(v.Lat) || math.IsInf(v.Lng, 0) || math.Abs(v.Lat) >= 90 {
						t.Fatalf("ValidateGeofence accepted vertex %v", v)
					}
				}
			}
		}
	})
}

// checkPaths fails t unless every violation has a description and a field
// under prefix.
func checkPaths(t *testing.T, vs []Violation, prefix string) {
	t.Helper()
	for _, v := range vs {
		if !strings.HasPrefix(v.Field, prefix) || v.Description == "" {
			t.Fatalf("violation %q: %q, want a field under %q and a description", v.Field, v.Description, prefix)
		}
	}
}

func FuzzValidateFix(f *testing.F) {
	now := fixNow
	f.Add("f-1", now.Unix(), int64(0), -6.2, 106.8, 12.0, -1.0, -1.0, 0.0, false, int64(365*24*3600))
	f.Add("", int64(0), int64(0), math.NaN(), math.Inf(1), -1.0, 1001.0, 360.0, math.NaN(), true, int64(0))
	f.Add("\xff", now.Unix()+24*3600, int64(1), 90.0, -180.0, 0.0, 1000.0, 0.0, -1000.0, true, int64(-1))
	f.Add(strings.Repeat("x", 65), now.Unix()-3600, int64(-5), -90.0, 180.0, math.Inf(1), 0.0, 359.9, 100000.0, true, int64(3600))

	f.Fuzz(func(t *testing.T, id string, sec, nsec int64, lat, lng, acc, speed, bearing, alt float64, hasAlt bool, retentionSec int64) {
		fix := Fix{ID: id, Pos: LatLng{Lat: lat, Lng: lng}, AccuracyM: acc, SpeedMPS: speed, BearingDeg: bearing,
			AltitudeM: alt, HasAltitude: hasAlt}
		if sec != 0 || nsec != 0 {
			fix.Time = time.Unix(sec, nsec)
		}
		retention := time.Duration(retentionSec) * time.Second
		vs := ValidateFix("fixes[7]", fix, now, retention)
		checkPaths(t, vs, "fixes[7].")

		// The documented rules, field by field, in the order of Fix.
		var want []string
		bad := func(ok bool, field string) {
			if !ok {
				want = append(want, "fixes[7]."+field)
			}
		}
		bad(len(id) >= 1 && len(id) <= MaxFixIDBytes && utf8.ValidString(id), "id")
		bad(!fix.Time.IsZero() && !fix.Time.After(now.Add(MaxFutureSkew)) &&
			(retention <= 0 || !fix.Time.Before(now.Add(-retention))), "device_time")
		bad(lat >= -90 && lat <= 90, "position.lat")
		bad(lng >= -180 && lng <= 180, "position.lng")
		bad(acc >= 0 && !math.IsInf(acc, 1), "accuracy_meters")
		bad(speed == -1 || speed >= 0 && speed <= 1000, "speed_meters_per_second")
		bad(bearing == -1 || bearing >= 0 && bearing < 360, "bearing_degrees")
		bad(!hasAlt || alt >= -1000 && alt <= 100000, "altitude_meters")
		checkFields(t, "ValidateFix", vs, want...)
	})
}
