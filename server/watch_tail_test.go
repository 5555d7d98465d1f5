package server

import (
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

func seqEvents(first, last uint64) []dwell.Event {
	var out []dwell.Event
	for s := first; s <= last; s++ {
		out = append(out, dwell.Event{Seq: s})
	}
	return out
}

func seqsOf(evs []dwell.Event) []uint64 {
	out := []uint64{}
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// TestTail checks the broker's in-memory tail: it serves only runs it
// holds whole, says "caught up" only past every number published, and
// sends readers to the store otherwise, also when appends return out of
// commit order.
func TestTail(t *testing.T) {
	b := newBroker(nil)
	const tn = dwell.TenantID("acme")
	add := func(first, last uint64) {
		tl := b.tails[tn]
		if tl == nil {
			tl = &tail{}
			b.tails[tn] = tl
		}
		tl.add(seqEvents(first, last))
	}
	type read struct {
		after uint64
		limit int
		want  []uint64 // nil: read the store
	}
	check := func(step string, reads ...read) {
		t.Helper()
		for _, r := range reads {
			got, ok := b.recent(tn, r.after, r.limit)
			switch {
			case r.want == nil && ok:
				t.Errorf("%s: recent(after %d) = %v, want a store read", step, r.after, seqsOf(got))
			case r.want != nil && !ok:
				t.Errorf("%s: recent(after %d) sends to the store, want %v", step, r.after, r.want)
			case r.want != nil && len(seqsOf(got)) != len(r.want):
				t.Errorf("%s: recent(after %d) = %v, want %v", step, r.after, seqsOf(got), r.want)
			case r.want != nil:
				for i := range r.want {
					if got[i].Seq != r.want[i] {
						t.Errorf("%s: recent(after %d) = %v, want %v", step, r.after, seqsOf(got), r.want)
						break
					}
				}
			}
		}
	}
	check("nothing published", read{0, 10, nil}, read{5, 10, nil})
	add(11, 13) // events 1..10 are in the store from before
	check("first publish", read{0, 10, nil}, read{9, 10, nil}, read{10, 10, []uint64{11, 12, 13}},
		read{11, 1, []uint64{12}}, read{13, 10, []uint64{}}, read{20, 10, []uint64{}})
	add(14, 15)
	check("extended", read{12, 10, []uint64{13, 14, 15}})
	add(18, 19) // 16 and 17 committed before, not yet returned
	check("out of order", read{13, 10, nil}, read{15, 10, nil}, read{17, 10, []uint64{18, 19}}, read{19, 10, []uint64{}})
	add(16, 17)
	check("the late return is ignored", read{15, 10, nil}, read{17, 10, []uint64{18, 19}})
	add(20, 20+2*tailLen)
	got, ok := b.recent(tn, 20, 10)
	if ok || got != nil {
		t.Errorf("after trimming, recent(after 20) = %v, %v; want a store read", seqsOf(got), ok)
	}
	if n := len(b.tails[tn].evs); n > 2*tailLen {
		t.Errorf("the tail holds %d events, want at most %d", n, 2*tailLen)
	}
}
