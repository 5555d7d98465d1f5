package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestStreamPingsTokenExpires: a StreamPings stream opened with a token
// valid for an hour acknowledges its batches while the token holds; once
// the server's clock passes the token's expiry (and auth.Leeway), the next
// batch ends the stream UNAUTHENTICATED "token expired", as a call with
// the token is refused, and none of that batch's fixes is stored: the phone
// sends it again with a new token.
func TestStreamPingsTokenExpires(t *testing.T) {
	e := newEnv(t)
	e.mustCreateRep(e.admin(acme), "budi", "")
	st, err := e.ingest.StreamPings(e.caller(context.Background(), acme, dwell.RoleRep, "budi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&dwellv1.StreamPingsRequest{BatchId: 1, Fixes: fixes("before", 5, e.now())}); err != nil {
		t.Fatal(err)
	}
	if resp, err := st.Recv(); err != nil || resp.GetAck().GetAccepted() != 5 {
		t.Fatalf("the batch while the token holds: %v, %v; want 5 accepted", resp, err)
	}
	e.advance(2 * time.Hour)
	if err := st.Send(&dwellv1.StreamPingsRequest{BatchId: 2, Fixes: fixes("after", 5, e.now())}); err != nil {
		t.Fatal(err)
	}
	_, err = st.Recv()
	if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "token expired" {
		t.Fatalf("the batch after the token expired: %v, want UNAUTHENTICATED \"token expired\"", err)
	}
	wantReason(t, "the batch after the token expired", err, codes.Unauthenticated, dwell.ReasonTokenExpired)
	got, err := e.st.ListFixes(t.Context(), acme, "budi", time.Time{}, e.now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if f.ID[:5] == "after" {
			t.Fatalf("fix %s of the refused batch was stored", f.ID)
		}
	}
	if len(got) != 5 {
		t.Fatalf("stored %d fixes, want the first batch's 5", len(got))
	}
}
