package server_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestStreamPingsCancelledAndResent opens a stream that sends nothing (it
// ends cleanly), then one that sends 30 batches and is cancelled after 5
// acknowledgements, then re-sends every batch on a new stream: every fix is
// acknowledged accepted or duplicate, each fix is stored once, and the
// acknowledged ones before the cancel are among them.
func TestStreamPingsCancelledAndResent(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")

	empty, err := e.ingest.StreamPings(e.as(acme, dwell.RoleRep, "budi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Recv(); err != io.EOF {
		t.Fatalf("a stream that sends nothing ends with %v, want EOF", err)
	}

	const batches, per = 30, 10
	all := fixes("c", batches*per, e.now())
	send := func(s dwellv1.IngestService_StreamPingsClient) error {
		for b := range batches {
			if err := s.Send(&dwellv1.StreamPingsRequest{BatchId: int64(b), Fixes: all[b*per : (b+1)*per]}); err != nil {
				return err
			}
		}
		return s.CloseSend()
	}
	ctx, cancel := context.WithCancel(e.as(acme, dwell.RoleRep, "budi"))
	defer cancel()
	cut, err := e.ingest.StreamPings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() { sent <- send(cut) }()
	acked := map[string]bool{}
	for n := 0; ; n++ {
		if n == 5 {
			cancel()
		}
		// Acknowledgements already on their way still arrive after the
		// cancel; then the stream ends CANCELED.
		resp, err := cut.Recv()
		if err != nil {
			if n < 5 || status.Code(err) != codes.Canceled {
				t.Fatalf("Recv %d (cancelled after 5): %v", n, err)
			}
			break
		}
		for _, r := range resp.GetAck().GetResults() {
			acked[r.GetId()] = r.GetStatus() == dwellv1.FixStatus_FIX_STATUS_ACCEPTED
		}
	}
	<-sent

	again, err := e.ingest.StreamPings(e.as(acme, dwell.RoleRep, "budi"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { sent <- send(again) }()
	seen := map[string]dwellv1.FixStatus{}
	for {
		resp, err := again.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv on the re-send: %v", err)
		}
		for _, r := range resp.GetAck().GetResults() {
			seen[r.GetId()] = r.GetStatus()
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("re-send: %v", err)
	}
	for i, f := range all {
		s := seen[f.GetId()]
		if s != dwellv1.FixStatus_FIX_STATUS_ACCEPTED && s != dwellv1.FixStatus_FIX_STATUS_DUPLICATE {
			t.Fatalf("fix %d re-sent: %v, want accepted or duplicate", i, s)
		}
		if acked[f.GetId()] && s != dwellv1.FixStatus_FIX_STATUS_DUPLICATE {
			t.Fatalf("fix %d acknowledged before the cancel but not a duplicate on re-send: %v", i, s)
		}
	}
	e.restart()
	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil || len(got) != len(all) {
		t.Fatalf("stored %d fixes (%v), want each of the %d once", len(got), err, len(all))
	}
	for i, f := range got {
		if want := fmt.Sprintf("c-%d", i); f.ID != want {
			t.Fatalf("stored fix %d is %s, want %s", i, f.ID, want)
		}
	}
}

// panickyStore is the real store, except that AppendFixes panics on a fix
// whose id starts with "boom": a stand-in for a bug, to show that no panic
// in a StreamPings batch, which runs outside the interceptors, stops the
// server.
type panickyStore struct{ store.Store }

func (s panickyStore) AppendFixes(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, fs []dwell.Fix) ([]bool, error) {
	for _, f := range fs {
		if strings.HasPrefix(f.ID, "boom") {
			panic("a bug")
		}
	}
	return s.Store.AppendFixes(ctx, tenant, rep, fs)
}

func TestStreamPingsPanicIsInternal(t *testing.T) {
	e := newWatchEnv(t, false, func(c *server.Config) { c.Store = panickyStore{c.Store} })
	e.mustCreateRep(e.admin(acme), "budi", "")
	rep := e.as(acme, dwell.RoleRep, "budi")
	s, err := e.ingest.StreamPings(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&dwellv1.StreamPingsRequest{BatchId: 1, Fixes: fixes("boom", 3, e.now())}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	wantCode(t, "a batch whose store call panics", err, codes.Internal)
	if st, _ := status.FromError(err); strings.Contains(st.Message(), "bug") {
		t.Fatalf("the status leaks the panic: %q", st.Message())
	}
	// The server lives on.
	resp, err := e.ingest.UploadPings(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.UploadPingsRequest{Fixes: fixes("ok", 3, e.now())})
	if err != nil || resp.GetAck().GetAccepted() != 3 {
		t.Fatalf("UploadPings after the panic = %v, %v; want 3 accepted", resp, err)
	}
}
