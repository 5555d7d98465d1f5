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
	"google.golang.org/protobuf/protoadapt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// toStatus maps any error to a gRPC status error. It is the only place that
// does so. Dwell errors keep their caller-facing message and field
// violations (as google.rpc.BadRequest); errors of kind Other and foreign
// errors become INTERNAL with a generic message and are logged, never
// leaked. Every status it returns carries exactly one google.rpc.ErrorInfo
// (errorInfo): domain "dwell.v1" and the error's reason (dwell.ReasonOf).
// Errors that already are gRPC statuses pass through, given an ErrorInfo
// by their code (passThrough) if they have none.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return passThrough(st, err)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return newStatus(codes.Canceled, "request canceled", errorInfo(dwell.ReasonCancelled, nil), nil)
	case errors.Is(err, context.DeadlineExceeded):
		return newStatus(codes.DeadlineExceeded, "deadline exceeded", errorInfo(dwell.ReasonDeadlineExceeded, nil), nil)
	}
	kind := dwell.KindOf(err)
	code := codeOf(kind)
	if code == codes.Internal {
		log.ErrorContext(ctx, "internal error", "err", err)
		return internalError()
	}
	msg := truncateUTF8(dwell.MessageOf(err), maxStatusMessageBytes)
	if msg == "" {
		msg = kind.String()
	}
	vs := dwell.ViolationsOf(err)
	var md map[string]string
	if len(vs) > 0 {
		md = map[string]string{"field": truncateUTF8(vs[0].Field, maxStatusMessageBytes)}
	}
	ei := errorInfo(dwell.ReasonOf(err), md)
	br := badRequest(vs, maxStatusDetailBytes-anySize(ei))
	if n := len(br.GetFieldViolations()); n < len(vs) {
		msg += fmt.Sprintf(" (the details list the first %d of %d field violations)", n, len(vs))
	}
	return newStatus(code, msg, ei, br)
}

// errorDomain is the domain of every ErrorInfo the server sends: the
// protobuf package of the API, within which the reasons (the enum
// dwell.v1.ErrorReason, proto/dwell/v1/errors.proto) are unique.
const errorDomain = "dwell.v1"

// errorInfo returns the ErrorInfo of reason, with metadata md (nil for
// none). Metadata holds only what the caller sent or may know (the field
// of the first violation, a documented limit), never internals.
func errorInfo(reason dwell.Reason, md map[string]string) *errdetails.ErrorInfo {
	return &errdetails.ErrorInfo{Reason: string(reason), Domain: errorDomain, Metadata: md}
}

// internalError returns the INTERNAL status of every unexpected failure
// (toStatus, the recovery of a panic): a generic message and reason,
// nothing of the cause.
func internalError() error {
	return newStatus(codes.Internal, "internal error", errorInfo(dwell.ReasonInternal, nil), nil)
}

// newStatus returns the status error of code and msg with details ei and,
// if not nil, br.
func newStatus(code codes.Code, msg string, ei *errdetails.ErrorInfo, br *errdetails.BadRequest) error {
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{ei}
	if br != nil {
		details = append(details, br)
	}
	if withDetails, err := st.WithDetails(details...); err == nil {
		st = withDetails
	}
	return st.Err()
}

// passThrough returns err, the error of status st, with an ErrorInfo
// added if st has none. Such statuses are gRPC's own, returned by the
// generated Unimplemented methods (NOT_IMPLEMENTED), the health service
// (RESOURCE_NOT_FOUND of an unknown service) or a stream's RecvMsg or
// SendMsg; the reason is the default one of their code. (A stream whose
// RecvMsg fails has already been ended by gRPC with that status, without
// details: a message over maxRecvMsgBytes, unary or streamed, reaches the
// client as gRPC's RESOURCE_EXHAUSTED without an ErrorInfo.)
func passThrough(st *status.Status, err error) error {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return err
		}
	}
	reason := dwell.ReasonUnknown
	switch st.Code() {
	case codes.Canceled:
		reason = dwell.ReasonCancelled
	case codes.DeadlineExceeded:
		reason = dwell.ReasonDeadlineExceeded
	case codes.Internal:
		reason = dwell.ReasonInternal
	default:
		for k := dwell.Invalid; k <= dwell.Conflict; k++ {
			if codeOf(k) == st.Code() {
				reason = k.DefaultReason()
			}
		}
	}
	p := st.Proto()
	withInfo, derr := status.FromProto(p).WithDetails(errorInfo(reason, nil))
	if derr != nil {
		return err
	}
	return withInfo.Err()
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
	// details (its ErrorInfo and BadRequest), in bytes.
	maxStatusDetailBytes = 4 << 10
)

// anySize returns the size in bytes that m takes among a status's
// details: its encoding inside a google.protobuf.Any with its type URL,
// and the Any's tag and length prefix in the status.
func anySize(m proto.Message) int {
	n := proto.Size(m)
	url := len("type.googleapis.com/") + len(m.ProtoReflect().Descriptor().FullName())
	// Each of the two fields of the Any, and the Any itself in the
	// status, takes a tag and a length prefix of at most 3 bytes for
	// sizes under 2 MiB.
	return n + url + 3*4
}

// badRequest returns the BadRequest details of violations vs: as many of
// the first violations as fit in budget bytes, at least one (with its
// field and description cut to maxStatusMessageBytes each), or nil when
// vs is empty.
func badRequest(vs []dwell.Violation, budget int) *errdetails.BadRequest {
	if len(vs) == 0 {
		return nil
	}
	br := &errdetails.BadRequest{}
	// The BadRequest's own Any: its type URL, tags and length prefixes.
	size := anySize(br)
	for _, v := range vs {
		fv := &errdetails.BadRequest_FieldViolation{
			Field:       truncateUTF8(v.Field, maxStatusMessageBytes),
			Description: truncateUTF8(v.Description, maxStatusMessageBytes),
		}
		// The field's tag and length prefix take at most 3 bytes for an
		// entry of this size.
		n := proto.Size(fv) + 3
		if len(br.FieldViolations) > 0 && size+n > budget {
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
	return invalidBecause(op, dwell.ReasonInvalidField, vs)
}

// invalidBecause is invalid for another reason than bad fields: a
// request_id reused for another request (REQUEST_ID_REUSED).
func invalidBecause(op dwell.Op, reason dwell.Reason, vs []dwell.Violation) error {
	if len(vs) == 0 {
		return nil
	}
	msg := "invalid " + vs[0].Field + ": " + vs[0].Description
	if len(vs) > 1 {
		msg += " (and " + itoa(int64(len(vs)-1)) + " more field violations)"
	}
	return dwell.E(op, dwell.Invalid, reason, msg, vs)
}
