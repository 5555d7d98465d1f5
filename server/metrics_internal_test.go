package server

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// BenchmarkMetricsUnary is the metrics interceptor's own cost per unary
// call, and the ingest counters' per batch, beside a bare call to the same
// no-op handler in the same run (BenchmarkIngestMetrics has them end to
// end, where they drown in the noise of a shared machine).
//
//	go test -run '^$' -bench BenchmarkMetricsUnary ./server/
func BenchmarkMetricsUnary(b *testing.B) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{metrics: m}
	info := &grpc.UnaryServerInfo{FullMethod: "/dwell.v1.IngestService/UploadPings"}
	h := func(ctx context.Context, req any) (any, error) { return req, nil }
	ctx := context.Background()
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			_, _ = h(ctx, nil)
		}
	})
	b.Run("interceptor", func(b *testing.B) {
		for b.Loop() {
			_, _ = s.metricsUnary(ctx, nil, info, h)
		}
	})
	ack := &dwellv1.BatchAck{Accepted: 90, Duplicates: 5, Rejected: 5}
	b.Run("batch-counters", func(b *testing.B) {
		for b.Loop() {
			m.ackedBatch(ack)
		}
	})
}
