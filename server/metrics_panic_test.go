package server_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// panickingStore is a store whose GetOpportunity panics: a bug reachable
// from the wire, which the server's recovery turns into INTERNAL.
// GetOpportunity is read only by the opportunity RPCs, never in the
// background, where nothing would recover it.
type panickingStore struct{ store.Store }

func (panickingStore) GetOpportunity(context.Context, dwell.TenantID, dwell.OpportunityID) (dwell.Opportunity, error) {
	panic("test: a bug in a handler")
}

// TestMetricsCountPanic: a call whose handler panics is answered INTERNAL
// and counted under its method with code Internal, so the metrics
// interceptor sits outside the recovery, as NewGRPCServer documents
// (inside it, the panic would pass it by and the call go uncounted).
func TestMetricsCountPanic(t *testing.T) {
	e, reg := newMetricsEnv(t, false, func(c *server.Config) { c.Store = panickingStore{c.Store} })
	const method = "/dwell.v1.SalesService/GetOpportunity"
	before := gather(t, reg)
	_, err := e.sales.GetOpportunity(e.admin(acme), &dwellv1.GetOpportunityRequest{Name: "opportunities/o1"})
	wantCode(t, "GetOpportunity with a panicking store", err, codes.Internal)
	if n := before.Moved(gather(t, reg), "dwell_grpc_requests_total", "method", method, "code", "Internal"); n != 1 {
		t.Errorf("dwell_grpc_requests_total{method=%q,code=\"Internal\"} moved by %v, want 1", method, n)
	}
}
