package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestUpdateMaskedGivesUp checks the bound of a masked update's tries: a
// record that changes under every try ends the update after
// maxUpdateTries with ABORTED (AIP-193: a concurrency conflict, the caller
// may retry) and a message that says so, while any other outcome of a try
// ends it at once.
func TestUpdateMaskedGivesUp(t *testing.T) {
	ctx := context.Background()
	const op = dwell.Op("test.Update")
	tries := 0
	err := updateMasked(ctx, op, "team north", 0, func() error {
		tries++
		return dwell.E(dwell.Conflict, `team "north" changed since it was read`)
	})
	if tries != maxUpdateTries {
		t.Errorf("tried %d times, want %d", tries, maxUpdateTries)
	}
	if !dwell.Is(dwell.Conflict, err) {
		t.Fatalf("after every try conflicted: %v, want kind %q", err, dwell.Conflict)
	}
	st, _ := status.FromError(toStatus(ctx, slog.Default(), err))
	if st.Code() != codes.Aborted || !strings.Contains(st.Message(), "team north changed under this update 10 times") {
		t.Errorf("status = %v %q, want ABORTED saying the team kept changing", st.Code(), st.Message())
	}
	if ei := errorInfoOf(st); ei.GetReason() != string(dwell.ReasonConcurrentUpdates) || ei.GetDomain() != errorDomain {
		t.Errorf("ErrorInfo = %v, want reason %s of domain %s", ei, dwell.ReasonConcurrentUpdates, errorDomain)
	}

	for _, c := range []struct {
		name string
		errs []error
		want error
	}{
		{"success at once", []error{nil}, nil},
		{"success after two conflicts", []error{dwell.E(dwell.Conflict), dwell.E(dwell.Conflict), nil}, nil},
		{"invalid input", []error{dwell.E(dwell.Invalid, "bad")}, dwell.E(dwell.Invalid)},
		{"not found after a conflict", []error{dwell.E(dwell.Conflict), dwell.E(dwell.NotFound)}, dwell.E(dwell.NotFound)},
	} {
		tries := 0
		err := updateMasked(ctx, op, "x", 0, func() error {
			tries++
			return c.errs[tries-1]
		})
		if tries != len(c.errs) || (err == nil) != (c.want == nil) || (err != nil && dwell.KindOf(err) != dwell.KindOf(c.want)) {
			t.Errorf("%s: %d tries, %v; want %d, kind of %v", c.name, tries, err, len(c.errs), c.want)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = updateMasked(cctx, op, "x", 0, func() error { return dwell.E(dwell.Conflict) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while conflicting: %v, want context.Canceled", err)
	}
}
