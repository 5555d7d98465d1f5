package server_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// wantCode fails the test unless err is a status with code want and,
// unless want is OK, exactly one ErrorInfo of a reason of the API
// (wantErrorInfo).
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code = %v (%v), want %v", what, got, err, want)
	}
	if want != codes.OK {
		wantErrorInfo(t, what, err)
	}
}

// wantErrorInfo fails the test unless the status of err carries exactly
// one google.rpc.ErrorInfo, of domain "dwell.v1" and a reason that is a
// value of dwell.v1.ErrorReason (without its prefix), and returns it.
func wantErrorInfo(t testing.TB, what string, err error) *errdetails.ErrorInfo {
	t.Helper()
	var infos []*errdetails.ErrorInfo
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			infos = append(infos, ei)
		}
	}
	if len(infos) != 1 {
		t.Fatalf("%s: %v: %d ErrorInfo details, want 1", what, err, len(infos))
	}
	ei := infos[0]
	if ei.GetDomain() != "dwell.v1" {
		t.Fatalf("%s: ErrorInfo domain %q, want \"dwell.v1\"", what, ei.GetDomain())
	}
	if v, ok := dwellv1.ErrorReason_value["ERROR_REASON_"+ei.GetReason()]; !ok || v == 0 {
		t.Fatalf("%s: ErrorInfo reason %q is not a dwell.v1.ErrorReason", what, ei.GetReason())
	}
	return ei
}

// wantReason fails the test unless err is a status with code want and an
// ErrorInfo of reason reason.
func wantReason(t testing.TB, what string, err error, want codes.Code, reason dwell.Reason) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code = %v (%v), want %v", what, got, err, want)
	}
	if ei := wantErrorInfo(t, what, err); ei.GetReason() != string(reason) {
		t.Fatalf("%s: %v: ErrorInfo reason %q, want %q", what, err, ei.GetReason(), reason)
	}
}

// violations returns the BadRequest field violations of err, field -> description.
func violations(err error) map[string]string {
	out := map[string]string{}
	st, ok := status.FromError(err)
	if !ok {
		return out
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = v.GetDescription()
			}
		}
	}
	return out
}

// wantViolation fails unless err is INVALID_ARGUMENT with a BadRequest
// field violation on field (exactly, or as a prefix when field ends in ".").
func wantViolation(t *testing.T, what string, err error, field string) {
	t.Helper()
	wantCode(t, what, err, codes.InvalidArgument)
	vs := violations(err)
	for f := range vs {
		if f == field || (strings.HasSuffix(field, ".") && strings.HasPrefix(f, field)) {
			return
		}
	}
	t.Fatalf("%s: violations %v, want one on %q", what, vs, field)
}
