package timeline

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestLastFix: Day.LastFix is the latest fix the derivation kept, as the
// input has it, never one it left out: a mock location, a fix reached at
// an impossible speed (a spoof without the OS flag), a multipath jump, a
// fix taken while paused or in a split shift's break, or after the
// working hours. The status of a rep ("who is idle now") shows it as the
// rep's last position.
func TestLastFix(t *testing.T) {
	home, far := offset(0, 0), offset(660e3, 0) // far: 660 km east
	base := func() *track {
		tr := &track{t: t, day: huntDay}
		tr.stay(hm(9, 0, 0), hm(10, 0, 30), home, 30*time.Second, 10, 5) // last fix 10:00:00
		return tr
	}
	last := hm(10, 0, 0)
	for _, c := range []struct {
		name  string
		extra []dwell.Fix
		in    func(*Input)
		want  time.Time // zero: no fix kept
	}{
		{name: "plain", want: last},
		{name: "mock after", extra: []dwell.Fix{{ID: "mock", Time: hm(10, 0, 30), Pos: far, AccuracyM: 5, BearingDeg: -1, Mock: true}}, want: last},
		{name: "impossible speed after", extra: []dwell.Fix{{ID: "spoof", Time: hm(10, 0, 30), Pos: far, AccuracyM: 5, BearingDeg: -1}}, want: last},
		{name: "multipath jump then back", extra: []dwell.Fix{
			{ID: "jump", Time: hm(10, 0, 30), Pos: offset(600, 0), AccuracyM: 10, BearingDeg: -1},
			{ID: "back", Time: hm(10, 1, 0), Pos: home, AccuracyM: 10, BearingDeg: -1},
		}, want: hm(10, 1, 0)},
		{name: "paused after", extra: []dwell.Fix{{ID: "paused", Time: hm(10, 20, 0), Pos: home, AccuracyM: 10, BearingDeg: -1}},
			in: func(in *Input) {
				in.Tracking = []dwell.TrackingChange{pause("p", hm(10, 10, 0), true), pause("r", hm(10, 30, 0), false)}
			}, want: last},
		{name: "after the working hours", extra: []dwell.Fix{{ID: "evening", Time: hm(18, 0, 0), Pos: home, AccuracyM: 10, BearingDeg: -1}},
			in: func(in *Input) { in.Window = Window{Start: hm(8, 0, 0), End: hm(17, 0, 0)} }, want: last},
		{name: "in the break", extra: []dwell.Fix{{ID: "lunch", Time: hm(12, 30, 0), Pos: home, AccuracyM: 10, BearingDeg: -1}},
			in: func(in *Input) { in.Windows = splitShift }, want: last},
		{name: "all mock", in: func(in *Input) {
			for i := range in.Fixes {
				in.Fixes[i].Mock = true
			}
		}},
	} {
		tr := base()
		for _, f := range c.extra {
			tr.add(f)
		}
		in := Input{Day: huntDay, Fixes: tr.fixes}
		if c.in != nil {
			c.in(&in)
		}
		day := Derive(in)
		f, ok := day.LastFix()
		if c.want.IsZero() {
			if ok {
				t.Errorf("%s: last fix %+v, want none", c.name, f)
			}
			continue
		}
		if !ok || !f.Time.Equal(c.want) || f.Mock || haversineM(f.Pos, home) > 50 {
			t.Errorf("%s: last fix %+v (%v), want the fix at home at %v\n%s", c.name, f, ok, c.want, day.Encode())
			continue
		}
		// It is the input's fix, with its own accuracy and id.
		if f.AccuracyM != 10 || f.ID == "" {
			t.Errorf("%s: last fix %+v, want the input's fix (accuracy 10 m, its id)", c.name, f)
		}
		// Order and repeats do not change it.
		r := rand.New(rand.NewPCG(1, 2))
		fs := append(append([]dwell.Fix(nil), in.Fixes...), in.Fixes[r.IntN(len(in.Fixes))])
		r.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
		in.Fixes = fs
		again := Derive(in)
		if g, _ := again.LastFix(); g != f {
			t.Errorf("%s: shuffled, last fix %+v, want %+v", c.name, g, f)
		}
	}

	// One fix: no segment, and the fix is the day's last.
	one := Derive(Input{Day: huntDay, Fixes: []dwell.Fix{{ID: "only", Time: last, Pos: home, AccuracyM: 10, BearingDeg: -1}}})
	if f, ok := one.LastFix(); !ok || f.ID != "only" || len(one.Segments) != 0 || !one.End.Equal(last) {
		t.Errorf("one fix: last fix %+v (%v), %d segments, end %v; want the fix, no segment, end %v", f, ok, len(one.Segments), one.End, last)
	}
	// A day rebuilt from its summary does not know it.
	if _, ok := (&Day{Start: one.Start, End: one.End}).LastFix(); ok {
		t.Error("a Day not made by Derive reports a last fix")
	}
}
