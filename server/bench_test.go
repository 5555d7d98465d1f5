package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// BenchmarkIngest measures fixes per second through the real gRPC API over
// loopback TCP into a real bbolt file, with durable acknowledgements (fsync
// before ack) and, as the baseline in the same run, with fsync off. Client
// and server share the machine. Each concurrent stream is one rep.
//
//	go test -run '^$' -bench BenchmarkIngest -benchtime 2s ./server/
func BenchmarkIngest(b *testing.B) {
	for _, rpc := range []string{"stream", "upload"} {
		for _, conc := range []int{1, 8, 64} {
			for _, batch := range []int{1, 100, 1000} {
				for _, durable := range []bool{true, false} {
					mode := "durable"
					if !durable {
						mode = "nosync"
					}
					b.Run(fmt.Sprintf("%s/streams=%d/batch=%d/%s", rpc, conc, batch, mode), func(b *testing.B) {
						benchIngest(b, rpc, conc, batch, durable)
					})
				}
			}
		}
	}
}

// window is how many batches a benchmark stream keeps in flight, as a phone
// app that pipelines its uploads would.
const window = 8

func benchIngest(b *testing.B, rpc string, conc, batch int, durable bool) {
	benchIngestOn(b, newEnvSync(b, durable), rpc, conc, batch)
}

// benchIngestOn is benchIngest on the server of e.
func benchIngestOn(b *testing.B, e *env, rpc string, conc, batch int) {
	admin := e.admin(acme)
	for w := range conc {
		e.mustCreateRep(admin, fmt.Sprintf("r%d", w), "")
	}
	base := e.now().Add(-12 * time.Hour)
	// makeBatch builds batch number n of worker w; ids are unique per rep.
	makeBatch := func(w int, n int64) []*dwellv1.Fix {
		fs := make([]*dwellv1.Fix, batch)
		for i := range fs {
			k := n*int64(batch) + int64(i)
			fs[i] = &dwellv1.Fix{
				Id:             fmt.Sprintf("w%d-%d", w, k),
				DeviceTime:     timestamppb.New(base.Add(time.Duration(k) * time.Millisecond)),
				Position:       &dwellv1.LatLng{Lat: -6.2 + float64(k%1000)*1e-6, Lng: 106.8},
				AccuracyMeters: 10,
			}
		}
		return fs
	}
	var next atomic.Int64 // batches claimed so far, over all workers
	claim := func() (int64, bool) {
		n := next.Add(1) - 1
		return n, n < int64(b.N)
	}
	var accepted atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for w := range conc {
		ctx := e.as(acme, dwell.RoleRep, fmt.Sprintf("r%d", w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if rpc == "stream" {
				err = streamWorker(ctx, e, w, claim, makeBatch, &accepted)
			} else {
				err = uploadWorker(ctx, e, w, claim, makeBatch, &accepted)
			}
			if err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if got, want := accepted.Load(), int64(b.N)*int64(batch); got != want {
		b.Fatalf("accepted %d fixes, want %d", got, want)
	}
	b.ReportMetric(float64(accepted.Load())/b.Elapsed().Seconds(), "fixes/s")
	// The process's CPU (client and server) per fix: steadier than the
	// wall clock on a machine shared with other work.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(accepted.Load()), "cpu-ns/fix")
}

func uploadWorker(ctx context.Context, e *env, w int, claim func() (int64, bool), makeBatch func(int, int64) []*dwellv1.Fix, accepted *atomic.Int64) error {
	rep := fmt.Sprintf("reps/r%d", w)
	for {
		n, ok := claim()
		if !ok {
			return nil
		}
		resp, err := e.ingest.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: rep, Fixes: makeBatch(w, n)})
		if err != nil {
			return err
		}
		accepted.Add(int64(resp.GetAck().GetAccepted()))
	}
}

func streamWorker(ctx context.Context, e *env, w int, claim func() (int64, bool), makeBatch func(int, int64) []*dwellv1.Fix, accepted *atomic.Int64) error {
	stream, err := e.ingest.StreamPings(ctx)
	if err != nil {
		return err
	}
	slots := make(chan struct{}, window)
	recvErr := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			accepted.Add(int64(resp.GetAck().GetAccepted()))
			<-slots
		}
	}()
	for {
		n, ok := claim()
		if !ok {
			break
		}
		slots <- struct{}{}
		if err := stream.Send(&dwellv1.StreamPingsRequest{BatchId: n, Fixes: makeBatch(w, n)}); err != nil {
			return err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if err := <-recvErr; err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
