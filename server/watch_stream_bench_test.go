package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// BenchmarkWatchStreamCost measures what one reading WatchEvents stream
// that admits every event costs per event: the process's CPU time per
// event published (batches of 256, fsync off, so the stream's share is
// large) with the stream open, minus the same with no stream, the
// baseline, in alternating turns of 20 batches on one server. The
// client's Recv loop is in the process and counted. It is BenchmarkPublishWithWatchers'
// reading case narrowed to one stream, to compare the stream's own cost
// between two builds (the progress cursors, watch.go, add a store and a
// test per event to it).
//
//	go test -run '^$' -bench WatchStreamCost -benchtime 2000x ./server/
func BenchmarkWatchStreamCost(b *testing.B) {
	e := newWatchEnv(b, false, nil)
	bg := context.Background()
	ctx := e.caller(bg, acme, dwell.RolePartner, "crm")
	const batch, turn = 256, 20
	cpu := map[bool]time.Duration{}
	count := map[bool]int{}
	seq := 0
	b.ResetTimer()
	for done := 0; done < b.N; {
		for _, watching := range []bool{false, true} {
			n := min(turn, b.N-done)
			var got chan int
			var stop context.CancelFunc
			if watching {
				st, cancel := openWatch(b, e.report, ctx, &dwellv1.WatchEventsRequest{})
				stop, got = cancel, make(chan int, 1)
				go func() {
					total := 0
					defer func() { got <- total }()
					for total < n*batch {
						resp, err := st.Recv()
						if err != nil {
							return
						}
						total += len(resp.GetEvents())
					}
				}()
			}
			c0 := cpuTime(b)
			for range n {
				evs := make([]dwell.Event, batch)
				for j := range evs {
					seq++
					evs[j] = dwell.Event{Type: dwell.EventIdleStarted, Rep: "r1", Time: e.clock, DetectTime: e.clock, Key: fmt.Sprint(seq)}
				}
				if _, err := server.PublishEvents(bg, e.srv, acme, evs); err != nil {
					b.Fatal(err)
				}
			}
			if watching {
				if total := <-got; total != n*batch {
					b.Fatalf("the stream received %d of %d events", total, n*batch)
				}
				stop()
			}
			cpu[watching] += cpuTime(b) - c0
			count[watching] += n * batch
			if watching {
				done += n
			}
		}
	}
	b.StopTimer()
	per := func(w bool) float64 { return float64(cpu[w]) / float64(count[w]) }
	b.ReportMetric(per(false), "none-cpu-ns/event")
	b.ReportMetric(per(true)-per(false), "stream-cpu-ns/event")
}
