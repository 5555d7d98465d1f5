package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// errorInfoOf returns the one ErrorInfo of st, or nil if it has none or
// more than one.
func errorInfoOf(st *status.Status) *errdetails.ErrorInfo {
	var out []*errdetails.ErrorInfo
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			out = append(out, ei)
		}
	}
	if len(out) != 1 {
		return nil
	}
	return out[0]
}

// TestReasonsMatchProto: the reasons of package dwell are the values of
// dwell.v1.ErrorReason, the list partners read, one for one and in order,
// and every kind's default reason is one of them.
func TestReasonsMatchProto(t *testing.T) {
	if got, want := len(dwell.Reasons), len(dwellv1.ErrorReason_name)-1; got != want {
		t.Errorf("dwell.Reasons has %d reasons, dwell.v1.ErrorReason %d values besides UNSPECIFIED", got, want)
	}
	seen := map[dwell.Reason]bool{}
	for i, r := range dwell.Reasons {
		if seen[r] {
			t.Errorf("reason %s is listed twice", r)
		}
		seen[r] = true
		if v, ok := dwellv1.ErrorReason_value["ERROR_REASON_"+string(r)]; !ok || int(v) != i+1 {
			t.Errorf("reason %s is value %d (%v) of dwell.v1.ErrorReason, want %d", r, v, ok, i+1)
		}
	}
	for k := dwell.Other; k <= dwell.Conflict; k++ {
		if !seen[k.DefaultReason()] {
			t.Errorf("kind %q defaults to reason %q, not in dwell.Reasons", k, k.DefaultReason())
		}
	}
}

// TestToStatusErrorInfo checks the ErrorInfo toStatus attaches: the
// error's own reason or its kind's default, metadata only where listed,
// nothing of an internal error, one ErrorInfo on a status passing
// through, and details within maxStatusDetailBytes with the violations
// cut to make room.
func TestToStatusErrorInfo(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	long := strings.Repeat("x", 2*maxStatusMessageBytes)
	many := make([]dwell.Violation, 1000)
	for i := range many {
		many[i] = dwell.Violation{Field: fmt.Sprintf("fixes[%d].device_time", i), Description: "is more than 24 hours ahead of the server's clock"}
	}
	for _, c := range []struct {
		what   string
		err    error
		code   codes.Code
		reason dwell.Reason
		md     map[string]string
	}{
		{"a kind's default", dwell.E(dwell.Op("t"), dwell.NotFound, "client x not found"), codes.NotFound, dwell.ReasonNotFound, nil},
		{"a reason given", dwell.E(dwell.Op("t"), dwell.FailedPrecondition, dwell.ReasonCursorExpired, "old"), codes.FailedPrecondition, dwell.ReasonCursorExpired, nil},
		{"a reason wrapped", dwell.E(dwell.Op("outer"), dwell.E(dwell.Conflict, dwell.ReasonEtagMismatch, "stale")), codes.Aborted, dwell.ReasonEtagMismatch, nil},
		{"a reason of another kind, wrapped", dwell.E(dwell.Op("outer"), dwell.Unavailable, dwell.E(dwell.PermissionDenied, dwell.ReasonScopeMissing)), codes.Unavailable, dwell.ReasonStoreUnavailable, nil},
		{"bad fields", invalid("t", []dwell.Violation{{Field: "client.name", Description: "is required"}}), codes.InvalidArgument, dwell.ReasonInvalidField, map[string]string{"field": "client.name"}},
		{"a long field", invalid("t", []dwell.Violation{{Field: long, Description: "bad"}}), codes.InvalidArgument, dwell.ReasonInvalidField, map[string]string{"field": truncateUTF8(long, maxStatusMessageBytes)}},
		{"a reused request id", invalidBecause("t", dwell.ReasonRequestIDReused, []dwell.Violation{{Field: "request_id", Description: "was used"}}), codes.InvalidArgument, dwell.ReasonRequestIDReused, map[string]string{"field": "request_id"}},
		{"many violations", invalid("t", many), codes.InvalidArgument, dwell.ReasonInvalidField, map[string]string{"field": "fixes[0].device_time"}},
		{"an internal error", dwell.E(dwell.Op("boltstore.Get"), errors.New("disk /dev/sda1 on fire")), codes.Internal, dwell.ReasonInternal, nil},
		{"a panic", internalError(), codes.Internal, dwell.ReasonInternal, nil},
		{"a cancellation", context.Canceled, codes.Canceled, dwell.ReasonCancelled, nil},
		{"a deadline", dwell.E(dwell.Op("t"), context.DeadlineExceeded), codes.DeadlineExceeded, dwell.ReasonDeadlineExceeded, nil},
		{"a status of the health service", status.Error(codes.NotFound, "unknown service"), codes.NotFound, dwell.ReasonNotFound, nil},
		{"an Unimplemented method", status.Error(codes.Unimplemented, "method Foo not implemented"), codes.Unimplemented, dwell.ReasonNotImplemented, nil},
		{"a code Dwell does not use", status.Error(codes.DataLoss, "lost"), codes.DataLoss, dwell.ReasonUnknown, nil},
		{"a status converted twice", toStatus(ctx, log, dwell.E(dwell.Unauthenticated, dwell.ReasonTokenExpired, "token expired")), codes.Unauthenticated, dwell.ReasonTokenExpired, nil},
	} {
		st := status.Convert(toStatus(ctx, log, c.err))
		if st.Code() != c.code {
			t.Errorf("%s: code %v, want %v", c.what, st.Code(), c.code)
		}
		ei := errorInfoOf(st)
		if ei == nil {
			t.Errorf("%s: details %v, want exactly one ErrorInfo", c.what, st.Details())
			continue
		}
		if ei.GetDomain() != "dwell.v1" || ei.GetReason() != string(c.reason) || !equalMaps(ei.GetMetadata(), c.md) {
			t.Errorf("%s: ErrorInfo %v, want domain dwell.v1, reason %s, metadata %v", c.what, ei, c.reason, c.md)
		}
		if n := detailBytes(st); n > maxStatusDetailBytes {
			t.Errorf("%s: %d bytes of details, want at most %d", c.what, n, maxStatusDetailBytes)
		}
		if c.code == codes.Internal && (st.Message() != "internal error" || strings.Contains(st.String(), "fire")) {
			t.Errorf("%s: %v, want a generic INTERNAL", c.what, st)
		}
	}
}

// detailBytes returns the size of the encoding of st's details, as sent
// (inside the google.rpc.Status in grpc-status-details-bin).
func detailBytes(st *status.Status) int {
	p := st.Proto()
	p.Code, p.Message = 0, ""
	return proto.Size(p)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
