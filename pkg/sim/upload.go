package sim

import (
	"cmp"
	"slices"
	"time"
)

// batchB is an upload in plan units: indexes into d.obs.
type batchB struct {
	at     int64
	obs    []int
	resent bool
}

// upload draws the network's offline stretches and the phone's uploads:
// every UploadEvery (plus 0 to 10 s) while online and on, whatever is
// buffered, in batches of at most BatchMax. A fix may miss its batch
// (HoldBackRate) or be sent again later (RepeatRate); a batch may be
// shuffled (ShuffleShare) or re-sent (ResendShare). What is left goes 1
// to 10 min after the day ends, or when the network is back.
func (d *day) upload(r rng) {
	n := r.ints(d.p.NetworkOffline)
	for range n {
		for range 20 {
			l := r.ms(d.p.NetworkOfflineDuration)
			if l >= d.span {
				break
			}
			t0 := r.msBetween(0, d.span-l)
			w := window{t0, t0 + l}
			if !slices.ContainsFunc(d.offline, func(o window) bool { return w.t0 < o.t1+5*minute && o.t0 < w.t1+5*minute }) {
				d.offline = append(d.offline, w)
				break
			}
		}
	}
	if r.chance(d.p.OvernightShare) {
		h := time.Hour.Milliseconds()
		d.offline = append(d.offline, window{d.span - r.msBetween(0, 2*h), d.span + r.msBetween(10*h, 14*h)})
	}
	d.offline = mergeWindows(d.offline)
	blocked := mergeWindows(append(slices.Clone(d.offline), d.gaps...))
	blockedAt := func(t int64) (window, bool) {
		i := slices.IndexFunc(blocked, func(w window) bool { return w.has(t) })
		if i < 0 {
			return window{}, false
		}
		return blocked[i], true
	}

	every := ms(d.p.UploadEvery)
	var queue []int
	next := 0
	for tick := every + r.msBetween(0, 10*second); tick < d.span; tick += every + r.msBetween(0, 10*second) {
		for next < len(d.obs) && d.obs[next].t <= tick {
			queue = append(queue, next)
			next++
		}
		if _, off := blockedAt(tick); off || len(queue) == 0 {
			continue
		}
		var send, later []int
		for _, i := range queue {
			if r.chance(d.p.HoldBackRate) {
				later = append(later, i)
			} else {
				send = append(send, i)
			}
		}
		d.send(r, tick, send)
		for _, i := range send {
			if r.chance(d.p.RepeatRate) {
				later = append(later, i)
			}
		}
		queue = later
	}
	final := d.span + r.msBetween(minute, 10*minute)
	if w, off := blockedAt(final); off {
		final = w.t1 + r.msBetween(30*second, 5*minute)
	}
	for ; next < len(d.obs); next++ {
		queue = append(queue, next)
	}
	d.send(r, final, queue)
	slices.SortStableFunc(d.batches, func(a, b batchB) int { return cmp.Compare(a.at, b.at) })

	receive := func(t int64) int64 {
		if w, off := blockedAt(t); off {
			t = w.t1
		}
		return t + r.msBetween(300, 3*second)
	}
	for k := range d.ins {
		d.ins[k].recv = receive(d.ins[k].t)
	}
	for k := range d.outs {
		d.outs[k].recv = receive(d.outs[k].t)
	}
}

// send uploads obs at tick in batches of at most BatchMax.
func (d *day) send(r rng, tick int64, obs []int) {
	for k := 0; len(obs) > 0; k++ {
		chunk := slices.Clone(obs[:min(len(obs), d.p.BatchMax)])
		obs = obs[len(chunk):]
		if r.chance(d.p.ShuffleShare) {
			r.Shuffle(len(chunk), func(i, j int) { chunk[i], chunk[j] = chunk[j], chunk[i] })
		}
		at := tick + int64(k)*100 + r.msBetween(200, 3*second)
		d.batches = append(d.batches, batchB{at: at, obs: chunk})
		if r.chance(d.p.ResendShare) {
			again := slices.Clone(chunk)
			if r.chance(d.p.ShuffleShare) {
				r.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
			}
			d.batches = append(d.batches, batchB{at: at + r.msBetween(5*second, 2*minute), obs: again, resent: true})
		}
	}
}
