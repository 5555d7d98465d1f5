package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// trailerLimit is the size of response headers and trailers that gRPC's
// HTTP/2 protocol suggests clients accept (PROTOCOL-HTTP2.md: "a default of
// 8 KiB each suggested") and that grpc-java, the phone apps' client, and
// gRPC core enforce. grpc-go accepts 16 MiB, so the tests dial with the
// smaller limit to see what those clients see.
const trailerLimit = 8 << 10

// dialStrict returns a client connection to e's server that accepts
// trailers of at most trailerLimit bytes, as grpc-java does.
func dialStrict(t *testing.T, e *env) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(e.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithMaxHeaderListSize(trailerLimit))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestManyViolationsReachAStrictClient sends requests with many bad items:
// a client that keeps gRPC's suggested 8 KiB trailer limit must still get
// INVALID_ARGUMENT with field violations (the first ones, and a message
// that says how many there are), not a reset stream.
func TestManyViolationsReachAStrictClient(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	conn := dialStrict(t, e)
	ingest := dwellv1.NewIngestServiceClient(conn)
	sales := dwellv1.NewSalesServiceClient(conn)

	// A phone whose clock runs two days ahead: every fix of a full batch
	// is rejected.
	batch := fixes("ahead", dwell.MaxFixesPerBatch, e.now())
	for _, f := range batch {
		f.DeviceTime = timestamppb.New(f.GetDeviceTime().AsTime().Add(48 * time.Hour))
	}
	_, err := ingest.UploadPings(e.as(acme, dwell.RoleRep, "budi"), &dwellv1.UploadPingsRequest{Fixes: batch})
	wantViolation(t, "a batch of fixes all too far ahead", err, "fixes[0].device_time")
	if msg := status.Convert(err).Message(); !strings.Contains(msg, fmt.Sprint(dwell.MaxFixesPerBatch)) {
		t.Errorf("message %q does not say how many violations there are (%d)", msg, dwell.MaxFixesPerBatch)
	}
	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}, e.now().Add(72*time.Hour))
	if err != nil || len(got) != 0 {
		t.Fatalf("stored %d fixes (%v), want none", len(got), err)
	}

	opps := make([]*dwellv1.Opportunity, dwell.MaxSalesBatch)
	for i := range opps {
		opps[i] = opp(fmt.Sprintf("o%04d", i), "budi", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, -1, e.now().Add(-time.Hour), time.Time{})
		opps[i].Amount.CurrencyCode = "rupiah"
	}
	_, err = sales.UpsertOpportunities(e.as(acme, dwell.RolePartner, "crm"), &dwellv1.UpsertOpportunitiesRequest{RequestId: "bad", Opportunities: opps})
	wantViolation(t, "a batch of bad opportunities", err, "opportunities[0].amount.currency_code")
	os, _, err := e.st.ListOpportunities(t.Context(), acme, store.OpportunityFilter{}, store.Page{Limit: 10})
	if err != nil || len(os) != 0 {
		t.Fatalf("stored %d opportunities (%v), want none", len(os), err)
	}
}
