package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

func encodeFix(f dwell.Fix) (key, val []byte) {
	key = make([]byte, fixKeyLen(f.ID))
	putFixKey(key, &f)
	val = make([]byte, maxFixValueLen)
	return key, val[:putFixValue(val, &f)]
}

var sampleFixes = []dwell.Fix{
	{ID: "a", Time: time.Date(2025, 3, 1, 8, 0, 0, 123, time.UTC), Pos: dwell.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyM: 12, SpeedMPS: -1, BearingDeg: -1},
	{ID: "0123456789abcdef0123456789abcdef", Time: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		Pos: dwell.LatLng{Lat: 90, Lng: -180}, AccuracyM: 0.5, SpeedMPS: 3.25, BearingDeg: 271, AltitudeM: -3, HasAltitude: true, Mock: true},
	{ID: "z", Time: time.Unix(0, math.MaxInt64).UTC(), SpeedMPS: 0, BearingDeg: 0, HasAltitude: true},
	{ID: "m", Time: time.Unix(0, math.MinInt64).UTC(), SpeedMPS: -1, BearingDeg: -1, AltitudeM: 7},
}

func TestFixCodecRoundTrip(t *testing.T) {
	for _, f := range sampleFixes {
		k, v := encodeFix(f)
		got, err := decodeFix(k, v)
		if err != nil {
			t.Fatalf("decodeFix(encode(%+v)): %v", f, err)
		}
		if !sameFix(got, f) {
			t.Errorf("decodeFix(encode(%+v)) = %+v", f, got)
		}
	}
	// Unknown speed and bearing and no altitude take no space.
	if _, v := encodeFix(sampleFixes[0]); len(v) != fixHeaderLen {
		t.Errorf("plain fix value is %d bytes, want %d", len(v), fixHeaderLen)
	}
}

func TestTimeKeyOrder(t *testing.T) {
	times := []time.Time{
		time.Unix(0, math.MinInt64), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(-1, 0),
		time.Unix(0, -1), time.Unix(0, 0), time.Unix(0, 1), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, math.MaxInt64),
	}
	for i := 1; i < len(times); i++ {
		a, b := timeKey(times[i-1]), timeKey(times[i])
		if string(a) >= string(b) {
			t.Errorf("timeKey(%v) = %x >= timeKey(%v) = %x", times[i-1], a, times[i], b)
		}
		if got := keyTime(b); !got.Equal(times[i]) {
			t.Errorf("keyTime(timeKey(%v)) = %v", times[i], got)
		}
	}
	// Out of range instants clamp, which range bounds rely on.
	if string(timeKey(time.Time{})) != string(timeKey(time.Unix(0, math.MinInt64))) {
		t.Error("the zero time does not clamp to the first key")
	}
}

// sameFix compares fixes bit for bit (NaN equals NaN) and times by instant.
func sameFix(a, b dwell.Fix) bool {
	same := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) || x == y }
	return a.ID == b.ID && a.Time.Equal(b.Time) && same(a.Pos.Lat, b.Pos.Lat) && same(a.Pos.Lng, b.Pos.Lng) &&
		same(a.AccuracyM, b.AccuracyM) && same(a.SpeedMPS, b.SpeedMPS) && same(a.BearingDeg, b.BearingDeg) &&
		same(a.AltitudeM, b.AltitudeM) && a.HasAltitude == b.HasAltitude && a.Mock == b.Mock
}

// FuzzDecodeFix checks that the fix decoder never panics and that whatever
// it accepts re-encodes to a fix that decodes the same.
func FuzzDecodeFix(f *testing.F) {
	for _, fx := range sampleFixes {
		k, v := encodeFix(fx)
		f.Add(k, v)
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte("12345678"), []byte{1, 0})
	f.Add([]byte("12345678x"), []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, key, val []byte) {
		fx, err := decodeFix(key, val)
		if err != nil {
			if dwell.KindOf(err) != dwell.Other {
				t.Fatalf("decodeFix error of kind %q, want %q", dwell.KindOf(err), dwell.Other)
			}
			return
		}
		k2, v2 := encodeFix(fx)
		again, err := decodeFix(k2, v2)
		if err != nil {
			t.Fatalf("decodeFix(encode(%+v)): %v", fx, err)
		}
		if !sameFix(again, fx) {
			t.Fatalf("decodeFix(encode(%+v)) = %+v", fx, again)
		}
	})
}

// FuzzFixLog checks that the pending-log decoder never panics.
func FuzzFixLog(f *testing.F) {
	h1, h2 := hashID([]byte("abc")), hashID([]byte("0123456789abcdef"))
	rec := append(h1[:], timeKey(time.Unix(1, 0))...)
	rec = append(rec, h2[:]...)
	rec = append(rec, timeKey(time.Unix(2, 0))...)
	f.Add(rec)
	f.Add([]byte{0})
	f.Add(rec[:30])
	f.Fuzz(func(t *testing.T, rec []byte) {
		n := 0
		err := forEachEntry(rec, func(e []byte) {
			if len(e) != entryLen {
				t.Fatalf("entry of %d bytes", len(e))
			}
			n++
		})
		if err == nil && n*entryLen != len(rec) {
			t.Fatalf("%d entries in a record of %d bytes", n, len(rec))
		}
		if err != nil && dwell.KindOf(err) != dwell.Other {
			t.Fatalf("error of kind %q", dwell.KindOf(err))
		}
	})
}

// FuzzDecodeRecords checks that the JSON record decoders never panic.
func FuzzDecodeRecords(f *testing.F) {
	c := toClientRec(&dwell.Client{ID: "c", Fence: dwell.Geofence{Polygon: &dwell.Polygon{Shell: []dwell.LatLng{{Lat: 1, Lng: 2}, {Lat: 3, Lng: 4}, {Lat: 5, Lng: 6}}}}})
	v, _ := encodeJSON("test", c)
	f.Add(v)
	f.Add([]byte{recordV1, '{', '}'})
	f.Add([]byte{recordV1, 'n', 'u', 'l', 'l'})
	f.Fuzz(func(t *testing.T, v []byte) {
		decodeClient([]byte("k"), v)
		decodeRep([]byte("k"), v)
		decodeTeam([]byte("k"), v)
		for _, rec := range []any{&settingsRec{}, &checkInRec{}, &checkOutRec{}, &callRec{}} {
			decodeJSON("test", "record", v, rec)
		}
	})
}

// TestCorruptValues checks that corrupt bytes on disk give errors of kind
// Other from every read, and never a panic.
func TestCorruptValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dwell.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.AppendFixes(ctx, "t", "r", []dwell.Fix{{ID: "f1", Time: t0, SpeedMPS: -1, BearingDeg: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, "t", dwell.Client{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordCheckIn(ctx, "t", dwell.CheckIn{RequestID: "q", Rep: "r", Time: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Corrupt the stored values behind the store's back.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		tb := tx.Bucket(tenantKey("t"))
		rb := tb.Bucket(bktRepData).Bucket([]byte("r"))
		fixes := rb.Bucket(bktFixes)
		k, _ := fixes.Cursor().First()
		if err := fixes.Put(k, []byte{fixV1, 0xff, 1, 2}); err != nil {
			return err
		}
		// A second fix with a key too short to hold an id.
		if err := fixes.Put([]byte{0x80}, []byte{fixV1}); err != nil {
			return err
		}
		if err := tb.Bucket(bktClients).Put([]byte("c1"), []byte{recordV1, '{'}); err != nil {
			return err
		}
		ci := rb.Bucket(bktCheckIns)
		k, _ = ci.Cursor().First()
		if err := ci.Put(k, []byte{9, '{', '}'}); err != nil {
			return err
		}
		return rb.Bucket(bktFixLog).Put([]byte("zzzzzzzz"), []byte{5, 'a'})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantOther := func(what string, err error) {
		t.Helper()
		if err == nil || dwell.KindOf(err) != dwell.Other {
			t.Errorf("%s on corrupt data: %v, want an error of kind %q", what, err, dwell.Other)
		}
	}
	_, err = s.ListFixes(ctx, "t", "r", time.Time{}, t0.Add(time.Hour))
	wantOther("ListFixes", err)
	_, err = s.GetClient(ctx, "t", "c1")
	wantOther("GetClient", err)
	_, _, err = s.ListClients(ctx, "t", store.ClientFilter{}, store.Page{Limit: 10})
	wantOther("ListClients", err)
	_, err = s.ListCheckIns(ctx, "t", "r", time.Time{}, t0.Add(time.Hour))
	wantOther("ListCheckIns", err)
	_, _, err = s.RecordCheckIn(ctx, "t", dwell.CheckIn{RequestID: "q", Rep: "r", Time: t0})
	wantOther("RecordCheckIn retry of a corrupt record", err)
	_, err = s.AppendFixes(ctx, "t", "r", []dwell.Fix{{ID: "f2", Time: t0, SpeedMPS: -1, BearingDeg: -1}})
	wantOther("AppendFixes with a corrupt pending log", err)
	// Other tenants and reps are unaffected, also in the same group.
	if _, err := s.AppendFixes(ctx, "t", "r2", []dwell.Fix{{ID: "f2", Time: t0, SpeedMPS: -1, BearingDeg: -1}}); err != nil {
		t.Errorf("AppendFixes for another rep: %v", err)
	}
}

func TestSortRun(t *testing.T) {
	var run []byte
	for i := range 1000 {
		h := hashID([]byte(fmt.Sprint("id-", i)))
		run = append(run, h[:]...)
		run = append(run, timeKey(time.Unix(int64(i), 0))...)
	}
	if err := sortRun(run); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 1000; i++ {
		if bytes.Compare(run[(i-1)*entryLen:i*entryLen], run[i*entryLen:(i+1)*entryLen]) >= 0 {
			t.Fatalf("entries %d and %d out of order", i-1, i)
		}
	}
	for i := range 1000 {
		h := hashID([]byte(fmt.Sprint("id-", i)))
		if !searchRun(run, &h) {
			t.Fatalf("searchRun does not find entry %d", i)
		}
		k := bytes.Index(run, h[:])
		if got := keyTime(run[k+16:]); !got.Equal(time.Unix(int64(i), 0)) {
			t.Fatalf("entry %d has time %v", i, got)
		}
	}
	h := hashID([]byte("absent"))
	if searchRun(run, &h) {
		t.Fatal("searchRun finds an absent hash")
	}
	if err := sortRun(run[:30]); dwell.KindOf(err) != dwell.Other || err == nil {
		t.Fatalf("sortRun of a torn run: %v", err)
	}
}
