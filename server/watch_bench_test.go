package server_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// percentile returns the p-th percentile (0..100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p/100))]
}

// BenchmarkWatchLatency publishes one event at a time and measures, for
// each, the publish (durable append, acknowledged) and the delivery: from
// the acknowledgement to the event's arrival at a WatchEvents client over
// loopback. Baselines in the same run: the publish itself and a unary
// GetSettings round trip.
//
//	go test -run '^$' -bench WatchLatency -benchtime 2000x ./server/
func BenchmarkWatchLatency(b *testing.B) {
	for _, fsync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			e := newWatchEnv(b, fsync, nil)
			bg := context.Background()
			ctx := e.caller(bg, acme, dwell.RolePartner, "crm")
			st, _ := openWatch(b, e.report, ctx, &dwellv1.WatchEventsRequest{})
			arrived := make(chan time.Time, 1)
			go func() {
				for {
					resp, err := st.Recv()
					if err != nil {
						close(arrived)
						return
					}
					for range resp.GetEvents() {
						arrived <- time.Now()
					}
				}
			}()
			var publish, deliver, unary []time.Duration
			b.ResetTimer()
			for i := range b.N {
				ev := dwell.Event{Type: dwell.EventVisitStarted, Rep: "r1", Client: "c1", Time: e.clock, DetectTime: e.clock, Key: fmt.Sprint(i)}
				t0 := time.Now()
				if _, err := server.PublishEvents(bg, e.srv, acme, []dwell.Event{ev}); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				t2, ok := <-arrived
				if !ok {
					b.Fatal("the stream ended")
				}
				publish = append(publish, t1.Sub(t0))
				deliver = append(deliver, max(0, t2.Sub(t1)))
				t3 := time.Now()
				if _, err := e.dirc.GetSettings(ctx, &dwellv1.GetSettingsRequest{}); err != nil {
					b.Fatal(err)
				}
				unary = append(unary, time.Since(t3))
			}
			b.StopTimer()
			for _, ds := range [][]time.Duration{publish, deliver, unary} {
				slices.Sort(ds)
			}
			us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
			b.ReportMetric(us(percentile(deliver, 50)), "deliver-p50-µs")
			b.ReportMetric(us(percentile(deliver, 99)), "deliver-p99-µs")
			b.ReportMetric(us(percentile(publish, 50)), "publish-p50-µs")
			b.ReportMetric(us(percentile(publish, 99)), "publish-p99-µs")
			b.ReportMetric(us(percentile(unary, 50)), "unary-p50-µs")
			b.ReportMetric(us(percentile(unary, 99)), "unary-p99-µs")
		})
	}
}

// BenchmarkPublishWithWatchers measures publishing (batches of 10 events,
// fsync off so that any cost of the watchers is not hidden behind the
// disk) with no watcher (the baseline), with 8 watchers that read, and
// with 8 that never read (clients with fixed 64 KiB windows, so gRPC stops
// taking their messages at once; each ends with RESOURCE_EXHAUSTED once
// its queue of 256 events has been full for 200 ms, and is opened again,
// never read, so 8 stay stuck),
// and with 8 that never read and are not opened again (stuck-once). The
// machine is shared, so the three run in turns of 100 batches on one
// server and each is timed over its turns: the ratios compare like with
// like. Watchers cost publish nothing directly (one channel close per
// append); they share the cores with it, which the reading case shows.
//
//	go test -run '^$' -bench PublishWithWatchers -benchtime 6000x ./server/
func BenchmarkPublishWithWatchers(b *testing.B) {
	e := newWatchEnv(b, false, func(c *server.Config) { c.WatchBuffer, c.WatchStall = 256, 200*time.Millisecond })
	bg := context.Background()
	ctx := e.caller(bg, acme, dwell.RolePartner, "crm")
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	stuckClient := dwellv1.NewReportServiceClient(conn)
	// watchers starts 8 watchers of a mode and returns what stops them.
	watchers := func(mode string) func() {
		wctx, cancel := context.WithCancel(ctx)
		for range 8 {
			switch mode {
			case "reading":
				st, _ := openWatch(b, e.report, wctx, &dwellv1.WatchEventsRequest{})
				go func() {
					for {
						if _, err := st.Recv(); err != nil {
							return
						}
					}
				}()
			case "stuck-once":
				openWatch(b, stuckClient, wctx, &dwellv1.WatchEventsRequest{})
			case "stuck":
				st, _ := openWatch(b, stuckClient, wctx, &dwellv1.WatchEventsRequest{})
				go func() {
					// Open a stuck stream again each time the server ends
					// one; none is ever read.
					for wctx.Err() == nil {
						<-st.Context().Done()
						if st, err = stuckClient.WatchEvents(wctx, &dwellv1.WatchEventsRequest{}); err != nil {
							return
						}
					}
				}()
			}
		}
		return cancel
	}
	const batch, turn = 10, 100
	modes := []string{"none", "reading", "stuck", "stuck-once"}
	elapsed := map[string]time.Duration{}
	cpu := map[string]time.Duration{}
	lat := map[string][]time.Duration{}
	count := map[string]int{}
	b.ResetTimer()
	for done := 0; done < b.N; {
		for _, mode := range modes {
			stop := watchers(mode)
			n := min(turn, b.N-done)
			t0, c0 := time.Now(), cpuTime(b)
			for i := range n {
				evs := make([]dwell.Event, batch)
				for j := range evs {
					evs[j] = dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: e.clock, DetectTime: e.clock, Key: fmt.Sprintf("%d/%d", done+i, j)}
				}
				p0 := time.Now()
				if _, err := server.PublishEvents(bg, e.srv, acme, evs); err != nil {
					b.Fatal(err)
				}
				lat[mode] = append(lat[mode], time.Since(p0))
			}
			elapsed[mode] += time.Since(t0)
			cpu[mode] += cpuTime(b) - c0
			count[mode] += n * batch
			stop()
			done += n
		}
	}
	b.StopTimer()
	rate := func(m string) float64 { return float64(count[m]) / elapsed[m].Seconds() }
	p50 := func(m string) float64 {
		slices.Sort(lat[m])
		return float64(percentile(lat[m], 50)) / float64(time.Microsecond)
	}
	cpuPer := func(m string) float64 { return float64(cpu[m]) / float64(time.Microsecond) / float64(count[m]) }
	b.ReportMetric(rate("none"), "none-events/s")
	for _, m := range modes[1:] {
		b.ReportMetric(rate(m)/rate("none"), m+"/none")
	}
	for _, m := range modes {
		b.ReportMetric(p50(m), m+"-publish-p50-µs")
		b.ReportMetric(cpuPer(m), m+"-cpu-µs/event")
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFixToEvent measures the live path end to end: simulated
// rep-days (Realistic phones, one new rep per day) written call by call
// through IngestService (uploads, resent and late ones included, check-ins
// and check-outs) over loopback gRPC into bbolt with fsync; the server's
// own refresher, woken by the write, re-derives the marked day, stores its
// summary and publishes the day's new events; a partner's WatchEvents
// client receives them. For every event: the time from the
// acknowledgement of the call that revealed it to its arrival at the
// client. To know which call revealed an event, each call is followed by
// a wait until the refresher is done with it (no day marked dirty, then
// Server.Refresh as a barrier that returns once the background pass in
// progress has published) and every event in the log has arrived; only
// then is the next call made. Arrivals are stamped by the receiving
// goroutine, so the waiting adds nothing to them. Baseline in the same
// run: the call's own acknowledgement latency. With fsync off (not a
// configuration to run: acknowledged would not mean durable) the share of
// the three fsyncs on the path (the write, the summary, the events)
// shows. One op is one call.
//
//	go test -run '^$' -bench FixToEvent -benchtime 400x ./server/
func BenchmarkFixToEvent(b *testing.B) {
	for _, fsync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) { benchFixToEvent(b, fsync) })
	}
}

func benchFixToEvent(b *testing.B, fsync bool) {
	e := newWatchEnv(b, fsync, func(c *server.Config) { c.SilenceSweep = -1 })
	bg := context.Background()
	city, err := sim.NewCity(3, sim.CityConfig{})
	if err != nil {
		b.Fatal(err)
	}
	admin := e.admin(acme)
	importCity(b, e, admin, city)
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		b.Fatal(err)
	}
	st, _ := openWatch(b, e.report, e.caller(bg, acme, dwell.RolePartner, "crm"), &dwellv1.WatchEventsRequest{})
	var mu sync.Mutex
	var arrivals []time.Time
	go func() {
		for {
			resp, err := st.Recv()
			if err != nil {
				return
			}
			now := time.Now()
			mu.Lock()
			for range resp.GetEvents() {
				arrivals = append(arrivals, now)
			}
			mu.Unlock()
		}
	}()
	// settled waits until the refresher is done with every write so far
	// and every event in the log has arrived, and returns the arrivals.
	settled := func() []time.Time {
		deadline := time.Now().Add(30 * time.Second)
		for {
			marks, err := e.st.ListDirtyDays(bg, store.DayKey{}, 1)
			if err != nil {
				b.Fatal(err)
			}
			if len(marks) == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("the refresher left a day dirty for 30 s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		if err := e.srv.Refresh(bg); err != nil {
			b.Fatal(err)
		}
		last, err := e.st.LastEventSeq(bg, acme)
		if err != nil {
			b.Fatal(err)
		}
		for {
			mu.Lock()
			n := len(arrivals)
			mu.Unlock()
			if uint64(n) >= last {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(arrivals)
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d events arrived in 30 s", n, last)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	var ack, toEvent []time.Duration
	calls, seen := 0, 0
	b.ResetTimer()
	for day := 0; calls < b.N; day++ {
		b.StopTimer()
		rep := dwell.RepID(fmt.Sprintf("rep-%d", day))
		e.mustCreateRep(admin, string(rep), "")
		phone := e.caller(bg, acme, dwell.RoleRep, string(rep))
		res, err := sim.Day(uint64(day), city, sim.Realistic(), sim.DayConfig{Rep: rep, Date: dwell.Date{Year: 2026, Month: 11, Day: 19}, Loc: jakarta})
		if err != nil {
			b.Fatal(err)
		}
		settled()
		b.StartTimer()
		for _, c := range phoneCalls(res, false) {
			if calls == b.N {
				break
			}
			calls++
			t0 := time.Now()
			if err := c.send(phone, e.ingest); err != nil {
				b.Fatalf("%s: %v", c.what, err)
			}
			acked := time.Now()
			ack = append(ack, acked.Sub(t0))
			got := settled()
			for _, t := range got[seen:] {
				toEvent = append(toEvent, t.Sub(acked))
			}
			seen = len(got)
		}
	}
	b.StopTimer()
	if len(toEvent) == 0 && b.N >= 100 {
		b.Fatalf("%d calls published no event", b.N)
	}
	slices.Sort(ack)
	slices.Sort(toEvent)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(percentile(toEvent, 50)), "fix-to-event-p50-µs")
	b.ReportMetric(us(percentile(toEvent, 99)), "fix-to-event-p99-µs")
	b.ReportMetric(us(percentile(ack, 50)), "ack-p50-µs")
	b.ReportMetric(us(percentile(ack, 99)), "ack-p99-µs")
	b.ReportMetric(float64(len(toEvent)), "events")
	// An event can reach the client before its call's acknowledgement
	// does (the refresher runs as soon as the write commits); counted, and
	// kept in the percentiles as the negative times they are.
	early := 0
	for _, d := range toEvent {
		if d < 0 {
			early++
		}
	}
	b.ReportMetric(float64(early), "events-before-ack")
}
