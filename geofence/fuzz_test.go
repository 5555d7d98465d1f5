package geofence

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// FuzzPutPolygon feeds arbitrary rings to Put: it must never panic, must
// refuse invalid shapes with dwell.Invalid and a reason, and a fence it
// accepts must answer queries as the brute-force oracle does.
func FuzzPutPolygon(f *testing.F) {
	f.Add(-6.2, 106.8, 100.0, []byte{0, 0, 10, 0, 10, 10, 0, 10}, []byte{})
	f.Add(0.0, 179.999, 500.0, []byte{0, 0, 200, 0, 100, 200}, []byte{90, 60, 110, 60, 100, 80})
	f.Add(89.9, 0.0, 50.0, []byte{0, 0, 255, 0, 255, 255, 0, 255, 128, 128}, []byte{1})
	f.Add(-89.9, -179.0, 3000.0, []byte{5, 5, 5, 5, 7, 9}, []byte{})
	f.Add(45.0, 45.0, 1e-3, []byte{0, 0, 1, 0, 0, 1}, []byte{})
	f.Fuzz(func(t *testing.T, lat, lng, scaleM float64, shell, hole []byte) {
		center := dwell.LatLng{Lat: lat, Lng: lng}
		ring := func(b []byte) []dwell.LatLng {
			var r []dwell.LatLng
			for i := 0; i+1 < len(b) && len(r) < 64; i += 2 {
				// Bytes are a local grid in units of scaleM/255 metres.
				east := (float64(b[i]) - 128) * scaleM / 255
				north := (float64(b[i+1]) - 128) * scaleM / 255
				r = append(r, offset(offset(center, north, 0), east, 90))
			}
			return r
		}
		if !validLatLng(center) || !(math.Abs(scaleM) < 1e7) {
			// Still must not panic: hand the raw values over.
			r := []dwell.LatLng{center, {Lat: lat + scaleM, Lng: lng}, {Lat: lat, Lng: lng + scaleM}}
			err := New(Options{}).Put("f", dwell.Geofence{Polygon: &dwell.Polygon{Shell: r}})
			if err != nil && (!dwell.Is(dwell.Invalid, err) || len(dwell.ViolationsOf(err)) == 0) {
				t.Fatalf("Put = %v, want nil or dwell.Invalid with violations", err)
			}
			return
		}
		p := &dwell.Polygon{Shell: ring(shell)}
		if len(hole) > 0 {
			p.Holes = [][]dwell.LatLng{ring(hole)}
		}
		g := dwell.Geofence{Polygon: p}
		ix := New(Options{})
		err := ix.Put("f", g)
		if vs := dwell.ValidateGeofence("geofence", g); vs != nil {
			if !dwell.Is(dwell.Invalid, err) || len(dwell.ViolationsOf(err)) == 0 || dwell.ViolationsOf(err)[0].Description == "" {
				t.Fatalf("Put(invalid) = %v, want dwell.Invalid with a reason", err)
			}
			if ix.Len() != 0 {
				t.Fatal("invalid fence stored")
			}
			return
		}
		if err != nil {
			t.Fatalf("Put(valid) = %v", err)
		}
		shape := NewShape(g)
		seed := binary.LittleEndian.Uint64(append(append([]byte{}, shell...), make([]byte, 8)...))
		rng := rand.New(rand.NewPCG(seed, 1))
		buf := make([]Match, 0, 4)
		for range 20 {
			q := pointNear(rng, g, math.Abs(scaleM))
			acc := randomAccuracy(rng)
			want := map[string]float64{}
			a := min(max(acc, 0), ix.MaxAccuracyM())
			if math.IsNaN(acc) {
				a = 0
			}
			if d := shape.SignedDistanceM(q); d <= max(a, ix.MarginM()) {
				want["f"] = d
			}
			ix.shapes = map[string]*Shape{"f": shape}
			checkAgainst(t, "fuzz", ix.Query(q, acc, buf), want, q, acc, ix)
		}
		if !ix.Delete("f") || ix.Len() != 0 {
			t.Fatal("Delete failed")
		}
	})
}
