package server_test

import (
	"fmt"
	"testing"
)

// BenchmarkIngestMetrics is BenchmarkIngest without and with metrics
// (Config.Metrics: the gRPC interceptor, the ingest counters, the
// refresher's and broker's figures), each configuration's two runs side
// by side in the same process, so that their ratio is the metrics' cost
// on a shared machine. One fix per upload is where the per-call cost of
// the interceptor shows most; nosync takes the fsync out of the time.
//
//	go test -run '^$' -bench BenchmarkIngestMetrics -benchtime 2s -count 3 ./server/
func BenchmarkIngestMetrics(b *testing.B) {
	for _, c := range []struct {
		rpc     string
		conc    int
		batch   int
		durable bool
	}{
		{"upload", 8, 1, false},
		{"upload", 8, 100, true},
		{"stream", 8, 100, false},
		{"stream", 64, 100, true},
	} {
		mode := "durable"
		if !c.durable {
			mode = "nosync"
		}
		for _, metrics := range []bool{false, true} {
			name := fmt.Sprintf("%s/streams=%d/batch=%d/%s/metrics=%v", c.rpc, c.conc, c.batch, mode, metrics)
			b.Run(name, func(b *testing.B) {
				if !metrics {
					benchIngest(b, c.rpc, c.conc, c.batch, c.durable)
					return
				}
				e, _ := newMetricsEnv(b, c.durable)
				benchIngestOn(b, e, c.rpc, c.conc, c.batch)
			})
		}
	}
}
