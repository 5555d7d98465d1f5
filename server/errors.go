package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

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
	msg := truncateUTF8(dwell.MessageOf(err), maxStatusMessageBytes)
	if msg == "" {
		msg = kind.String()
	}
	vs := dwell.ViolationsOf(err)
	br := badRequest(vs)
	if n := len(br.GetFieldViolations()); n < len(vs) {
		msg += fmt.Sprintf(" (the details list the first %d of %d field violations)", n, len(vs))
	}
	st := status.New(code, msg)
	if br != nil {
		if withDetails, derr := st.WithDetails(br); derr == nil {
			st = withDetails
		}
	}
	return st.Err()
}

// Bounds of a status. gRPC sends the status in HTTP/2 trailers: the
// message in grpc-message and again, with the details, in base64 in
// grpc-status-details-bin. gRPC's HTTP/2 protocol suggests clients accept
// trailers of 8 KiB, and grpc-java (the phone apps) and gRPC core enforce
// it: a larger status reaches them as INTERNAL, "RST_STREAM", with no
// details at all. 512 bytes of message (at most 1.5 KiB percent-encoded)
// and 4 KiB of details (5.4 KiB in base64) stay under that.
const (
	// maxStatusMessageBytes bounds a status message, in bytes.
	maxStatusMessageBytes = 512
	// maxStatusDetailBytes bounds the protobuf encoding of a status's
	// BadRequest details, in bytes.
	maxStatusDetailBytes = 4 << 10
)

// badRequest returns the BadRequest details of violations vs: as many of
// the first violations as fit in maxStatusDetailBytes, at least one (with
// its field and description cut to maxStatusMessageBytes each), or nil
// when vs is empty.
func badRequest(vs []dwell.Violation) *errdetails.BadRequest {
	if len(vs) == 0 {
		return nil
	}
	br := &errdetails.BadRequest{}
	size := 0
	for _, v := range vs {
		fv := &errdetails.BadRequest_FieldViolation{
			Field:       truncateUTF8(v.Field, maxStatusMessageBytes),
			Description: truncateUTF8(v.Description, maxStatusMessageBytes),
		}
		// The field's tag and length prefix take at most 3 bytes for an
		// entry of this size.
		n := proto.Size(fv) + 3
		if len(br.FieldViolations) > 0 && size+n > maxStatusDetailBytes {
			break
		}
		br.FieldViolations = append(br.FieldViolations, fv)
		size += n
	}
	return br
}

// truncateUTF8 returns s cut to at most n bytes on a character boundary,
// ending in "..." when it was cut.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
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
	case dwell.Conflict:
		// AIP-193/AIP-154: a concurrency conflict (read-modify-write).
		return codes.Aborted
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
