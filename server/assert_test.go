package server_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wantCode fails the test unless err is a status with code want.
func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code = %v (%v), want %v", what, got, err, want)
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
