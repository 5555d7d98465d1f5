package server

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// toStatus maps any error to a gRPC status error. It is the only place that
// does so. Dwell errors keep their caller-facing message and field
// violations (as google.rpc.BadRequest); errors of kind Other and foreign
// errors become INTERNAL with a generic message and are logged, never
// leaked. Errors that already are gRPC statuses pass through.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	kind := dwell.KindOf(err)
	code := codeOf(kind)
	if code == codes.Internal {
		log.ErrorContext(ctx, "internal error", "err", err)
		return status.Error(codes.Internal, "internal error")
	}
	msg := dwell.MessageOf(err)
	if msg == "" {
		msg = kind.String()
	}
	st := status.New(code, msg)
	if vs := dwell.ViolationsOf(err); len(vs) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range vs {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: v.Field, Description: v.Description,
			})
		}
		if withDetails, derr := st.WithDetails(br); derr == nil {
			st = withDetails
		}
	}
	return st.Err()
}

// codeOf returns the gRPC code of an error kind.
func codeOf(k dwell.Kind) codes.Code {
	switch k {
	case dwell.Invalid:
		return codes.InvalidArgument
	case dwell.NotFound:
		return codes.NotFound
	case dwell.AlreadyExists:
		return codes.AlreadyExists
	case dwell.Unauthenticated:
		return codes.Unauthenticated
	case dwell.PermissionDenied:
		return codes.PermissionDenied
	case dwell.FailedPrecondition:
		return codes.FailedPrecondition
	case dwell.ResourceExhausted:
		return codes.ResourceExhausted
	case dwell.Unimplemented:
		return codes.Unimplemented
	case dwell.Unavailable:
		return codes.Unavailable
	}
	return codes.Internal
}

// invalid returns a dwell.Invalid error with the given violations, or nil
// when there are none. The message names the first violation, for people
// reading a bare status (grpcurl); programs read the BadRequest details.
func invalid(op dwell.Op, vs []dwell.Violation) error {
	if len(vs) == 0 {
		return nil
	}
	msg := "invalid " + vs[0].Field + ": " + vs[0].Description
	if len(vs) > 1 {
		msg += " (and " + itoa(int64(len(vs)-1)) + " more field violations)"
	}
	return dwell.E(op, dwell.Invalid, msg, vs)
}
