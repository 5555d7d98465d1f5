package timeline

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
)

var update = flag.Bool("update", false, "rewrite the golden timelines in testdata/")

// scenario is a hand-built day (testdata/*.json): clients, a track of
// stays and moves sampled into fixes, extra fixes, and claims. Times are
// "15:04:05" wall clock on Day in Zone.
type scenario struct {
	Day     string `json:"day"`  // 2006-01-02
	Zone    string `json:"zone"` // a fixed offset such as "+07:00"
	Clients []struct {
		ID      string     `json:"id"`
		Center  [2]float64 `json:"center"`
		RadiusM float64    `json:"radius_m"`
	} `json:"clients"`
	Track []struct {
		From  string       `json:"from"`
		To    string       `json:"to"`
		At    *[2]float64  `json:"at"`   // a stay
		Path  [][2]float64 `json:"path"` // a move at constant speed along the points
		Every int          `json:"every"`
		AccM  float64      `json:"acc"`
		// JitterM offsets each fix by a fixed pattern of up to this many
		// metres, a stand-in for GPS noise.
		JitterM float64 `json:"jitter_m"`
	} `json:"track"`
	Fixes []struct {
		ID   string     `json:"id"`
		T    string     `json:"t"`
		Pos  [2]float64 `json:"pos"`
		AccM float64    `json:"acc"`
		Mock bool       `json:"mock"`
	} `json:"fixes"`
	CheckIns []struct {
		ID     string     `json:"id"`
		Client string     `json:"client"`
		T      string     `json:"t"`
		Pos    [2]float64 `json:"pos"`
		AccM   float64    `json:"acc"`
	} `json:"check_ins"`
	CheckOuts []struct {
		ID     string `json:"id"`
		Client string `json:"client"`
		T      string `json:"t"`
	} `json:"check_outs"`
}

func (sc *scenario) input(t *testing.T) Input {
	t.Helper()
	date, err := time.Parse("2006-01-02", sc.Day)
	if err != nil {
		t.Fatal(err)
	}
	zt, err := time.Parse("-07:00", sc.Zone)
	if err != nil {
		t.Fatal(err)
	}
	_, off := zt.Zone()
	loc := time.FixedZone(sc.Zone, off)
	at := func(s string) time.Time {
		c, err := time.Parse("15:04:05", s)
		if err != nil {
			t.Fatalf("time %q: %v", s, err)
		}
		return time.Date(date.Year(), date.Month(), date.Day(), c.Hour(), c.Minute(), c.Second(), 0, loc)
	}
	ll := func(p [2]float64) dwell.LatLng { return dwell.LatLng{Lat: p[0], Lng: p[1]} }
	in := Input{
		Day: dwell.Date{Year: date.Year(), Month: date.Month(), Day: date.Day()}, Loc: loc,
		Settings: dwell.DefaultSettings(),
	}
	ix := geofence.New(geofence.Options{})
	clients := ClientMap{}
	for _, c := range sc.Clients {
		g := dwell.Geofence{Circle: &dwell.Circle{Center: ll(c.Center), RadiusM: c.RadiusM}}
		if err := ix.Put(c.ID, g); err != nil {
			t.Fatal(err)
		}
		clients[dwell.ClientID(c.ID)] = dwell.Client{ID: dwell.ClientID(c.ID), Fence: g}
	}
	in.Fences, in.Clients = ix, clients
	n := 0
	for _, leg := range sc.Track {
		from, to := at(leg.From), at(leg.To)
		every := time.Duration(max(leg.Every, 1)) * time.Second
		if leg.Every == 0 {
			every = 30 * time.Second
		}
		acc := leg.AccM
		if acc == 0 {
			acc = 10
		}
		for ts := from; ts.Before(to); ts = ts.Add(every) {
			n++
			f := dwell.Fix{ID: fmt.Sprintf("f%04d", n), Time: ts, AccuracyM: acc, SpeedMPS: -1, BearingDeg: -1}
			if leg.At != nil {
				f.Pos = ll(*leg.At)
			} else {
				f.Pos, f.SpeedMPS = alongPath(leg.Path, float64(ts.Sub(from))/float64(to.Sub(from)), to.Sub(from))
			}
			if leg.JitterM > 0 { // a fixed pattern: within JitterM, varying fix to fix
				a := float64(n) * 2.399963 // the golden angle
				r := leg.JitterM * float64(n%5) / 4
				f.Pos.Lat += r * math.Sin(a) / 111195
				f.Pos.Lng += r * math.Cos(a) / (111195 * math.Cos(f.Pos.Lat*math.Pi/180))
			}
			in.Fixes = append(in.Fixes, f)
		}
	}
	for _, f := range sc.Fixes {
		in.Fixes = append(in.Fixes, dwell.Fix{ID: f.ID, Time: at(f.T), Pos: ll(f.Pos), AccuracyM: f.AccM, SpeedMPS: -1, BearingDeg: -1, Mock: f.Mock})
	}
	for _, c := range sc.CheckIns {
		fix := dwell.Fix{ID: c.ID + "-fix", Time: at(c.T), Pos: ll(c.Pos), AccuracyM: c.AccM, SpeedMPS: -1, BearingDeg: -1}
		in.CheckIns = append(in.CheckIns, dwell.CheckIn{RequestID: c.ID, Client: dwell.ClientID(c.Client), Time: at(c.T), Fix: &fix})
		in.Fixes = append(in.Fixes, fix)
	}
	for _, c := range sc.CheckOuts {
		in.CheckOuts = append(in.CheckOuts, dwell.CheckOut{RequestID: c.ID, Client: dwell.ClientID(c.Client), Time: at(c.T)})
	}
	return in
}

// alongPath returns the point at fraction f of the polyline and the speed
// in m/s of covering it in d.
func alongPath(path [][2]float64, f float64, d time.Duration) (dwell.LatLng, float64) {
	ll := func(p [2]float64) dwell.LatLng { return dwell.LatLng{Lat: p[0], Lng: p[1]} }
	var total float64
	for i := 1; i < len(path); i++ {
		total += haversineM(ll(path[i-1]), ll(path[i]))
	}
	speed := total / d.Seconds()
	want := f * total
	for i := 1; i < len(path); i++ {
		l := haversineM(ll(path[i-1]), ll(path[i]))
		if want <= l || i == len(path)-1 {
			g := min(want/max(l, 1e-9), 1)
			a, b := path[i-1], path[i]
			return dwell.LatLng{Lat: a[0] + (b[0]-a[0])*g, Lng: a[1] + (b[1]-a[1])*g}, math.Round(speed*100) / 100
		}
		want -= l
	}
	return ll(path[0]), 0
}

// TestGolden derives each hand-built day in testdata/*.json and compares
// its Encode output with testdata/*.golden; -update rewrites them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata: %v", err)
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			day := Derive(sc.input(t))
			checkInvariants(t, name, day)
			got := day.Encode()
			golden := strings.TrimSuffix(name, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Derive(%s) =\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}
