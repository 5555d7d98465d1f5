package pgstore_test

// Tests of the event log and the sales inputs beyond the conformance
// suite: what only a shared database brings, several Stores (servers)
// writing one tenant at once.

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// openPeers opens n stores on one fresh schema: n servers sharing one
// database.
func openPeers(tb testing.TB, n int) []*pgstore.Store {
	tb.Helper()
	dsn := pgtest.DSN(tb)
	out := make([]*pgstore.Store, n)
	for i := range out {
		out[i] = openPG(tb, dsn)
	}
	return out
}

var evT0 = time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)

// keyedEvent returns event i, keyed by key (empty: never deduplicated),
// detected at evT0 + i minutes.
func keyedEvent(rep dwell.RepID, key string, i int) dwell.Event {
	at := evT0.Add(time.Duration(i) * time.Minute)
	return dwell.Event{Type: dwell.EventVisitStarted, Rep: rep, Client: "c1", Time: at.Add(-time.Minute), DetectTime: at, Key: key}
}

// TestEventsConcurrentSameKeys: servers that detect the same facts at once
// (a refresher per server) append each key once, and the log numbers the
// survivors 1..n without gaps.
func TestEventsConcurrentSameKeys(t *testing.T) {
	peers := openPeers(t, 2)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	const writers, keys, per = 8, 40, 5
	got := make([][]uint64, writers) // per writer, the seq given to each key (0: a duplicate)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := peers[w%len(peers)]
			got[w] = make([]uint64, keys)
			// Each writer goes through the keys from its own offset, so
			// the calls overlap in every way.
			for c := 0; c < keys; c += per {
				var evs []dwell.Event
				var idx []int
				for j := range per {
					k := (w*7 + c + j) % keys
					evs, idx = append(evs, keyedEvent("r1", fmt.Sprintf("k%d", k), k)), append(idx, k)
				}
				seqs, err := s.AppendEvents(ctx, tenant, evs)
				if err != nil {
					errs[w] = err
					return
				}
				for j, seq := range seqs {
					got[w][idx[j]] = seq
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	bySeq := map[uint64]string{}
	for k := range keys {
		var given []uint64
		for w := range writers {
			if seq := got[w][k]; seq != 0 {
				given = append(given, seq)
			}
		}
		if len(given) != 1 {
			t.Fatalf("key k%d was given seqs %v, want exactly one", k, given)
		}
		if other, ok := bySeq[given[0]]; ok {
			t.Fatalf("seq %d given to k%d and %s", given[0], k, other)
		}
		bySeq[given[0]] = fmt.Sprintf("k%d", k)
	}
	all, err := peers[0].ListEvents(ctx, tenant, 0, store.MaxEventsPerList)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(all) != keys {
		t.Fatalf("the log holds %d events, want %d", len(all), keys)
	}
	for i, e := range all {
		if e.Seq != uint64(i+1) || bySeq[e.Seq] != e.Key {
			t.Fatalf("event %d: seq %d key %q; the append gave seq %d to %q", i, e.Seq, e.Key, e.Seq, bySeq[e.Seq])
		}
	}
	last, err := peers[1].LastEventSeq(ctx, tenant)
	if err != nil || last != keys {
		t.Fatalf("LastEventSeq = %d, %v; want %d", last, err, keys)
	}
}

// TestEventsReadersSeeNoGaps: a reader following the log while servers
// append (as WatchEvents does from its cursor) never sees a number before
// a lower one is visible: each read after the cursor continues it without
// a gap, and in the end the reader has seen every event once.
func TestEventsReadersSeeNoGaps(t *testing.T) {
	peers := openPeers(t, 3)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	const writers, calls, per = 4, 25, 3
	const total = writers * calls * per
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			s := peers[w%2]
			for c := range calls {
				evs := make([]dwell.Event, per)
				for j := range evs {
					evs[j] = keyedEvent(dwell.RepID(fmt.Sprintf("r%d", w)), "", c*per+j)
				}
				if _, err := s.AppendEvents(ctx, tenant, evs); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	reader := peers[2]
	var cursor uint64
	deadline := time.Now().Add(time.Minute)
	for cursor < total {
		if time.Now().After(deadline) {
			t.Fatalf("the reader reached seq %d of %d in a minute", cursor, total)
		}
		page, err := reader.ListEvents(ctx, tenant, cursor, 7)
		if err != nil {
			t.Fatalf("ListEvents after %d: %v", cursor, err)
		}
		for _, e := range page {
			if e.Seq != cursor+1 {
				t.Fatalf("after seq %d the reader saw seq %d: a gap that a later commit fills", cursor, e.Seq)
			}
			cursor = e.Seq
		}
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	if page, err := reader.ListEvents(ctx, tenant, cursor, 10); err != nil || len(page) != 0 {
		t.Fatalf("after the last seq: %d events, %v; want none", len(page), err)
	}
}

// TestPruneEventsBesideAppends: pruning while servers append keeps the log
// a suffix: in the end the events kept are exactly the numbers after the
// pruned one, up to the last given.
func TestPruneEventsBesideAppends(t *testing.T) {
	peers := openPeers(t, 2)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	const writers, calls, per = 3, 20, 4
	var wg sync.WaitGroup
	errs := make([]error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for c := range calls {
				evs := make([]dwell.Event, per)
				for j := range evs {
					// Detected at increasing minutes per writer, the
					// writers interleaved: some old events sit behind
					// newer ones of another writer.
					evs[j] = keyedEvent("r1", fmt.Sprintf("w%d/%d", w, c*per+j), c*per+j+w)
				}
				if _, err := peers[0].AppendEvents(ctx, tenant, evs); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 30 {
			if _, _, err := peers[1].PruneEvents(ctx, tenant, evT0.Add(time.Duration(i*3)*time.Minute), 5); err != nil {
				errs[writers] = err
				return
			}
		}
	})
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", w, err)
		}
	}
	pruned, err := peers[0].PrunedEventSeq(ctx, tenant)
	if err != nil {
		t.Fatalf("PrunedEventSeq: %v", err)
	}
	last, err := peers[0].LastEventSeq(ctx, tenant)
	if err != nil || last != writers*calls*per {
		t.Fatalf("LastEventSeq = %d, %v; want %d", last, err, writers*calls*per)
	}
	kept, err := peers[1].ListEvents(ctx, tenant, 0, store.MaxEventsPerList)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if uint64(len(kept)) != last-pruned {
		t.Fatalf("kept %d events with pruned = %d and last = %d", len(kept), pruned, last)
	}
	for i, e := range kept {
		if e.Seq != pruned+1+uint64(i) {
			t.Fatalf("kept event %d has seq %d, want %d: the kept part is not a suffix", i, e.Seq, pruned+1+uint64(i))
		}
	}
}

// TestSalesConcurrentRequestIDs: retries of one create or upsert that
// reach two servers at once store it once; every caller is answered with
// what was stored.
func TestSalesConcurrentRequestIDs(t *testing.T) {
	peers := openPeers(t, 2)
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	const callers = 6
	type answer struct {
		a       dwell.Appointment
		existed bool
		err     error
	}
	answers := make([]answer, callers)
	opps := make([]answer, callers)
	batch := []dwell.Opportunity{
		{ID: "o1", Rep: "r1", Client: "c1", Stage: dwell.StageOpen, Amount: dwell.Money{Currency: "EUR", AmountMinor: 100}, OpenTime: evT0},
		{ID: "o2", Rep: "r2", Client: "c1", Stage: dwell.StageOpen, Amount: dwell.Money{Currency: "EUR", AmountMinor: 200}, OpenTime: evT0},
	}
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			s := peers[i%2]
			// Each caller names another id: only the request id says
			// they are one create.
			a := dwell.Appointment{ID: dwell.AppointmentID(fmt.Sprintf("a%d", i)), Rep: "r1", Client: "c1",
				PlannedStart: evT0, PlannedEnd: evT0.Add(time.Hour), RequestID: "req-1", CreateTime: evT0}
			stored, existed, err := s.CreateAppointment(ctx, tenant, a)
			answers[i] = answer{stored, existed, err}
			existed, err = s.PutOpportunities(ctx, tenant, "put-1", batch)
			opps[i] = answer{existed: existed, err: err}
		})
	}
	wg.Wait()
	created, put := 0, 0
	for i := range callers {
		if answers[i].err != nil || opps[i].err != nil {
			t.Fatalf("caller %d: CreateAppointment: %v; PutOpportunities: %v", i, answers[i].err, opps[i].err)
		}
		if !answers[i].existed {
			created++
		}
		if !opps[i].existed {
			put++
		}
		if answers[i].a != answers[0].a {
			t.Fatalf("caller %d was answered %+v, caller 0 %+v", i, answers[i].a, answers[0].a)
		}
	}
	if created != 1 || put != 1 {
		t.Fatalf("%d creates and %d puts answered as new, want 1 each", created, put)
	}
	list, err := peers[0].ListAppointments(ctx, tenant, "r1", evT0, evT0.Add(time.Hour))
	if err != nil || len(list) != 1 || list[0] != answers[0].a {
		t.Fatalf("ListAppointments = %+v, %v; want only %+v", list, err, answers[0].a)
	}
}

// BenchmarkListRepSales reads a team's sales inputs (100 reps, 10
// appointments and 3 quotas each, a 14-day span) with ListRepSales, one
// batched read, beside the baseline it replaces: ListAppointments and
// ListQuotas rep by rep. Compare the two ns/op of one run.
func BenchmarkListRepSales(b *testing.B) {
	s := openPeers(b, 1)[0]
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	const reps = 100
	spans := make([]store.RepSpan, reps)
	var qs []dwell.Quota
	for r := range reps {
		rep := dwell.RepID(fmt.Sprintf("r%03d", r))
		spans[r] = store.RepSpan{Rep: rep, From: evT0, To: evT0.Add(14 * 24 * time.Hour)}
		for i := range 10 {
			at := evT0.Add(time.Duration(i*31) * time.Hour)
			a := dwell.Appointment{ID: dwell.AppointmentID(fmt.Sprintf("%s-a%d", rep, i)), Rep: rep, Client: "c1",
				PlannedStart: at, PlannedEnd: at.Add(time.Hour), CreateTime: evT0}
			if _, _, err := s.CreateAppointment(ctx, tenant, a); err != nil {
				b.Fatalf("CreateAppointment: %v", err)
			}
		}
		for m := range 3 {
			start := dwell.Date{Year: 2025, Month: time.Month(3 + m), Day: 1}
			qs = append(qs, dwell.Quota{Rep: rep, Start: start, End: start.AddDays(27), Target: dwell.Money{Currency: "EUR", AmountMinor: 1000}})
		}
	}
	if _, err := s.PutQuotas(ctx, tenant, "", qs); err != nil {
		b.Fatalf("PutQuotas: %v", err)
	}
	b.Run("one-read", func(b *testing.B) {
		for b.Loop() {
			as, qs, err := s.ListRepSales(ctx, tenant, spans)
			if err != nil || len(as) != reps*10 || len(qs) != reps*3 {
				b.Fatalf("ListRepSales: %d appointments, %d quotas, %v", len(as), len(qs), err)
			}
		}
	})
	b.Run("per-rep-baseline", func(b *testing.B) {
		for b.Loop() {
			n, m := 0, 0
			for _, sp := range spans {
				as, err := s.ListAppointments(ctx, tenant, sp.Rep, sp.From, sp.To)
				if err != nil {
					b.Fatal(err)
				}
				qs, err := s.ListQuotas(ctx, tenant, sp.Rep)
				if err != nil {
					b.Fatal(err)
				}
				n, m = n+len(as), m+len(qs)
			}
			if n != reps*10 || m != reps*3 {
				b.Fatalf("per rep: %d appointments, %d quotas", n, m)
			}
		}
	})
}

// BenchmarkAppendEvents appends batches of 10 new keyed events to one
// tenant's log from 1 and 4 times GOMAXPROCS goroutines, all on one tenant
// (the refreshers of many servers publishing for a large tenant), in the
// PostgreSQL store beside its baseline, the durable bbolt store, in the
// same run. Appends of one tenant serialize on its counter row: under
// parallelism the PostgreSQL figure includes the transactions aborted and
// run again. pgtest's server runs with fsync=off, which flatters
// PostgreSQL by an fsync per commit; only the ratio of events/s means
// anything on a shared machine.
func BenchmarkAppendEvents(b *testing.B) {
	const batch = 10
	open := map[string]func(b *testing.B) store.Store{
		"bolt": func(b *testing.B) store.Store {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"pg": func(b *testing.B) store.Store { return openPeers(b, 1)[0] },
	}
	for _, par := range []int{1, 4} {
		for _, name := range []string{"bolt", "pg"} {
			b.Run(fmt.Sprintf("store=%s/parallelism=%d", name, par), func(b *testing.B) {
				s := open[name](b)
				defer s.Close()
				ctx := context.Background()
				var writers atomic.Int64
				b.SetParallelism(par)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := writers.Add(1)
					evs := make([]dwell.Event, batch)
					for n := 0; pb.Next(); n++ {
						for j := range evs {
							evs[j] = keyedEvent("r1", fmt.Sprintf("w%d/%d/%d", w, n, j), n)
						}
						seqs, err := s.AppendEvents(ctx, "bench", evs)
						if err != nil || len(seqs) != batch || seqs[batch-1] == 0 {
							b.Errorf("AppendEvents: %v, %v", seqs, err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
