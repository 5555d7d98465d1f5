package geofence

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestSetAll brings an index of 3,000 fences in step with a changed set
// (a fifth moved, a tenth removed, 300 new, the rest unchanged) and
// checks that it then answers every query exactly as an index built anew
// from the set does, that it put only the new and changed fences and
// deleted only the removed ones, and that unchanged fences are the same
// records as before (not rebuilt).
func TestSetAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	city := dwell.LatLng{Lat: 48.85, Lng: 2.35}
	newG := func() dwell.Geofence {
		return randomFence(rng, offset(city, rng.Float64()*3000, rng.Float64()*360), 10+rng.Float64()*300)
	}
	var before []Fence
	for i := range 3000 {
		before = append(before, Fence{ID: fmt.Sprint("f", i), Geofence: newG()})
	}
	ix := New(Options{})
	if err := ix.PutAll(before); err != nil {
		t.Fatal(err)
	}
	kept := map[string]*fence{}
	ix.mu.Lock()
	for id, f := range ix.byID {
		kept[id] = f
	}
	ix.mu.Unlock()

	var after []Fence
	moved, removed := 0, 0
	for _, fe := range before {
		switch r := rng.IntN(10); {
		case r < 2:
			fe.Geofence = newG()
			moved++
		case r < 3:
			removed++
			continue
		}
		after = append(after, fe)
	}
	for i := range 300 {
		after = append(after, Fence{ID: fmt.Sprint("new", i), Geofence: newG()})
	}
	rng.Shuffle(len(after), func(i, j int) { after[i], after[j] = after[j], after[i] })
	// A repeated id: the last entry wins, as in PutAll.
	after = append(after, Fence{ID: after[0].ID, Geofence: after[1].Geofence})

	put, deleted, err := ix.SetAll(after)
	if err != nil {
		t.Fatal(err)
	}
	if wantPut := moved + 300 + 1; put < moved+300 || put > wantPut || deleted != removed {
		t.Errorf("SetAll put %d, deleted %d; want %d moved and 300 new (plus at most the repeated id), %d deleted", put, deleted, moved, removed)
	}
	fresh := New(Options{})
	if err := fresh.PutAll(after); err != nil {
		t.Fatal(err)
	}
	if ix.Len() != fresh.Len() {
		t.Fatalf("Len() = %d after SetAll, want %d", ix.Len(), fresh.Len())
	}
	same := 0
	ix.mu.Lock()
	for id, f := range ix.byID {
		if kept[id] == f {
			same++
		}
	}
	ix.mu.Unlock()
	if want := len(after) - 1 - put; same < want {
		t.Errorf("%d fences are the records they were before SetAll, want the %d unchanged ones", same, want)
	}

	var got, want []Match
	for i := range 20000 {
		p := offset(city, rng.Float64()*3500, rng.Float64()*360)
		acc := randomAccuracy(rng)
		got, want = ix.Query(p, acc, got), fresh.Query(p, acc, want)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d at %v ±%.0f m: SetAll's index answers\n%v\nan index built anew\n%v", i, p, acc, got, want)
		}
	}

	// In step already: nothing to put or delete.
	if put, deleted, err := ix.SetAll(after); err != nil || put != 0 || deleted != 0 {
		t.Errorf("SetAll of the set it holds = %d put, %d deleted, %v; want 0, 0, nil", put, deleted, err)
	}
	// An invalid entry changes nothing.
	bad := append(slices.Clone(after[:10]), Fence{ID: "", Geofence: newG()})
	if _, _, err := ix.SetAll(bad); !dwell.Is(dwell.Invalid, err) {
		t.Errorf("SetAll with an empty id = %v, want Invalid", err)
	}
	if ix.Len() != fresh.Len() {
		t.Errorf("Len() = %d after a refused SetAll, want %d", ix.Len(), fresh.Len())
	}
	// The empty set empties the index.
	if _, deleted, err := ix.SetAll(nil); err != nil || deleted != fresh.Len() || ix.Len() != 0 {
		t.Errorf("SetAll(nil) deleted %d, %v, Len %d; want %d, nil, 0", deleted, err, ix.Len(), fresh.Len())
	}
	if ms := ix.Query(city, 500, nil); len(ms) != 0 {
		t.Errorf("an emptied index answers %v", ms)
	}
}

// TestPutSameGeometry: putting the geometry a fence has already keeps its
// record (no new cover); another geometry replaces it.
func TestPutSameGeometry(t *testing.T) {
	ix := New(Options{})
	c := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	circle := dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 50}}
	record := func() *fence {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		return ix.byID["a"]
	}
	if err := ix.Put("a", circle); err != nil {
		t.Fatal(err)
	}
	first := record()
	same := dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 50}}
	if err := ix.Put("a", same); err != nil || record() != first {
		t.Errorf("Put of the same circle: %v, record replaced %v", err, record() != first)
	}
	if err := ix.PutAll([]Fence{{ID: "a", Geofence: same}}); err != nil || record() != first {
		t.Errorf("PutAll of the same circle: %v, record replaced %v", err, record() != first)
	}
	bigger := dwell.Geofence{Circle: &dwell.Circle{Center: c, RadiusM: 50.001}}
	if err := ix.Put("a", bigger); err != nil || record() == first {
		t.Errorf("Put of another radius: %v, record kept %v", err, record() == first)
	}
	if ms := ix.Query(offset(c, 50.0005, 0), 0, nil); len(ms) != 1 || ms[0].Relation != RelationInside {
		t.Errorf("query 50.0005 m out after the radius grew to 50.001 m = %v, want inside", ms)
	}
	ring := ringAround(c, 6, 0, func(int) float64 { return 40 })
	poly := dwell.Geofence{Polygon: &dwell.Polygon{Shell: ring}}
	if err := ix.Put("a", poly); err != nil {
		t.Fatal(err)
	}
	p := record()
	if err := ix.Put("a", dwell.Geofence{Polygon: &dwell.Polygon{Shell: slices.Clone(ring)}}); err != nil || record() != p {
		t.Errorf("Put of the same ring: %v, record replaced %v", err, record() != p)
	}
	moved := slices.Clone(ring)
	moved[3] = offset(c, 41, 180)
	if err := ix.Put("a", dwell.Geofence{Polygon: &dwell.Polygon{Shell: moved}}); err != nil || record() == p {
		t.Errorf("Put of the ring with a vertex moved: %v, record kept %v", err, record() == p)
	}
	if ix.Len() != 1 {
		t.Errorf("Len() = %d, want 1", ix.Len())
	}
}
