package dwell

import (
	"errors"
	"strings"
)

// Kind classifies an error so callers (and the gRPC status mapping in
// server/) can act on it without reading its text. The set is frozen:
// add a kind only with its mapping and a test.
type Kind int

// Error kinds.
const (
	// Other is an unexpected failure: a bug or an I/O error. Never shown to
	// callers in detail.
	Other Kind = iota
	// Invalid is bad input; Violations say which fields and why.
	Invalid
	// NotFound is a missing resource.
	NotFound
	// AlreadyExists is a create of an id that is taken.
	AlreadyExists
	// Unauthenticated is a missing, expired or badly signed credential.
	Unauthenticated
	// PermissionDenied is a valid caller without the right for this target.
	PermissionDenied
	// FailedPrecondition is a request that is valid but not in this state.
	FailedPrecondition
	// ResourceExhausted is a limit reached (batch size, buffer).
	ResourceExhausted
	// Unimplemented is a capability Dwell does not have yet.
	Unimplemented
	// Unavailable is a transient failure: the store is closing or not open.
	Unavailable
	// Conflict is a conditional write refused because the record changed
	// since the caller read it: its stored Revision is no longer the one
	// the write was based on. Nothing was written; read again and retry.
	Conflict
)

var kindNames = [...]string{"other error", "invalid argument", "not found", "already exists",
	"unauthenticated", "permission denied", "failed precondition", "resource exhausted",
	"unimplemented", "unavailable", "changed since read"}

// String returns a short description of the kind.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown kind"
	}
	return kindNames[k]
}

// Reason names the cause of an error for programs, finer than its Kind
// where one kind has causes a caller acts on differently (an expired
// watch cursor or a log restored from a backup, both FailedPrecondition).
// The server sends it as the reason of a google.rpc.ErrorInfo
// (server/errors.go). The set is frozen and part of the API: every value
// is an enum value of dwell.v1.ErrorReason (proto/dwell/v1/errors.proto)
// named "ERROR_REASON_" + the reason; add a reason only there too, never
// rename one. An error without one gets its kind's default reason.
type Reason string

// Error reasons, by the gRPC code of the kinds they go with. The first of
// each group is its kind's default.
const (
	// ReasonInvalidField is bad input: the BadRequest field violations say
	// which fields and why (Invalid).
	ReasonInvalidField Reason = "INVALID_FIELD"
	// ReasonRequestIDReused is a request_id already used for another
	// request, which this one cannot be a retry of (Invalid).
	ReasonRequestIDReused Reason = "REQUEST_ID_REUSED"

	// ReasonNotFound is a resource that does not exist (NotFound).
	ReasonNotFound Reason = "RESOURCE_NOT_FOUND"
	// ReasonIDTaken is a create of an id that is taken (AlreadyExists).
	ReasonIDTaken Reason = "ID_TAKEN"

	// ReasonTokenInvalid is a credential that cannot be verified:
	// malformed, badly signed, of an unknown tenant or key
	// (Unauthenticated).
	ReasonTokenInvalid Reason = "TOKEN_INVALID"
	// ReasonTokenMissing is a call without a bearer token (Unauthenticated).
	ReasonTokenMissing Reason = "TOKEN_MISSING"
	// ReasonTokenExpired is a token past its expiry, at the call or during
	// a stream it opened (Unauthenticated).
	ReasonTokenExpired Reason = "TOKEN_EXPIRED"
	// ReasonTokenNotYetValid is a token issued in the future by the
	// server's clock (Unauthenticated).
	ReasonTokenNotYetValid Reason = "TOKEN_NOT_YET_VALID"

	// ReasonTargetNotAllowed is a rep, team or other target outside the
	// caller's rights (PermissionDenied).
	ReasonTargetNotAllowed Reason = "TARGET_NOT_ALLOWED"
	// ReasonRoleNotAllowed is a method the caller's role may not call
	// (PermissionDenied).
	ReasonRoleNotAllowed Reason = "ROLE_NOT_ALLOWED"
	// ReasonScopeMissing is a partner account without the scope the
	// method needs (PermissionDenied).
	ReasonScopeMissing Reason = "SCOPE_MISSING"
	// ReasonPartnerDisabled is a partner account that is disabled
	// (PermissionDenied).
	ReasonPartnerDisabled Reason = "PARTNER_DISABLED"
	// ReasonPartnerUnregistered is a partner subject without an account
	// in a tenant that requires one (PermissionDenied).
	ReasonPartnerUnregistered Reason = "PARTNER_UNREGISTERED"
	// ReasonTokenRevoked is a token issued before its partner account
	// was deleted (PermissionDenied).
	ReasonTokenRevoked Reason = "TOKEN_REVOKED"

	// ReasonWrongState is a valid request the state of the data does not
	// allow (FailedPrecondition).
	ReasonWrongState Reason = "WRONG_STATE"
	// ReasonCursorExpired is a watch cursor older than the tenant's
	// retention period: events after it were deleted (FailedPrecondition).
	ReasonCursorExpired Reason = "CURSOR_EXPIRED"
	// ReasonStreamPruned is a watch stream that lagged behind until the
	// retention sweep deleted events it had not sent (FailedPrecondition).
	ReasonStreamPruned Reason = "STREAM_PRUNED"
	// ReasonLogRestored is a watch cursor the tenant's event log no longer
	// follows: the store was restored from an older backup
	// (FailedPrecondition).
	ReasonLogRestored Reason = "LOG_RESTORED"
	// ReasonRequestTargetDeleted is a retry of a create (same request_id)
	// whose record was deleted since: the request id is spent
	// (FailedPrecondition).
	ReasonRequestTargetDeleted Reason = "REQUEST_TARGET_DELETED"
	// ReasonConcurrentDelete is a write that raced a delete of its record;
	// sending it again is safe (FailedPrecondition).
	ReasonConcurrentDelete Reason = "CONCURRENT_DELETE"

	// ReasonConcurrentUpdates is a write that lost to other writes of the
	// same record every time it was tried (Conflict).
	ReasonConcurrentUpdates Reason = "CONCURRENT_UPDATES"
	// ReasonEtagMismatch is an update whose etag is not the record's
	// current one (Conflict).
	ReasonEtagMismatch Reason = "ETAG_MISMATCH"

	// ReasonLimitReached is a limit of the server reached
	// (ResourceExhausted).
	ReasonLimitReached Reason = "LIMIT_REACHED"
	// ReasonSlowConsumer is a watch stream whose client stopped taking
	// events while its queue was full (ResourceExhausted).
	ReasonSlowConsumer Reason = "SLOW_CONSUMER"

	// ReasonNotImplemented is a capability Dwell does not have
	// (Unimplemented).
	ReasonNotImplemented Reason = "NOT_IMPLEMENTED"

	// ReasonStoreUnavailable is a store that cannot be reached or is
	// closing (Unavailable).
	ReasonStoreUnavailable Reason = "STORE_UNAVAILABLE"
	// ReasonServerShuttingDown is a stream ended by the server shutting
	// down (Unavailable).
	ReasonServerShuttingDown Reason = "SERVER_SHUTTING_DOWN"
	// ReasonWatchScopeChanged is a manager's watch stream ended because
	// the teams she manages grew (Unavailable).
	ReasonWatchScopeChanged Reason = "WATCH_SCOPE_CHANGED"

	// ReasonInternal is an unexpected failure, never described further
	// (Other).
	ReasonInternal Reason = "INTERNAL"
	// ReasonCancelled is a call the client cancelled.
	ReasonCancelled Reason = "CANCELLED"
	// ReasonDeadlineExceeded is a call past its deadline.
	ReasonDeadlineExceeded Reason = "DEADLINE_EXCEEDED"
	// ReasonUnknown is a status of a code Dwell does not produce itself.
	ReasonUnknown Reason = "UNKNOWN"
)

// Reasons lists every Reason, in the order of dwell.v1.ErrorReason.
var Reasons = []Reason{
	ReasonInvalidField, ReasonRequestIDReused,
	ReasonNotFound, ReasonIDTaken,
	ReasonTokenInvalid, ReasonTokenMissing, ReasonTokenExpired, ReasonTokenNotYetValid,
	ReasonTargetNotAllowed, ReasonRoleNotAllowed, ReasonScopeMissing, ReasonPartnerDisabled,
	ReasonPartnerUnregistered, ReasonTokenRevoked,
	ReasonWrongState, ReasonCursorExpired, ReasonStreamPruned, ReasonLogRestored,
	ReasonRequestTargetDeleted, ReasonConcurrentDelete,
	ReasonConcurrentUpdates, ReasonEtagMismatch,
	ReasonLimitReached, ReasonSlowConsumer,
	ReasonNotImplemented,
	ReasonStoreUnavailable, ReasonServerShuttingDown, ReasonWatchScopeChanged,
	ReasonInternal, ReasonCancelled, ReasonDeadlineExceeded, ReasonUnknown,
}

// DefaultReason returns the reason of an error of kind k that names none.
func (k Kind) DefaultReason() Reason {
	switch k {
	case Invalid:
		return ReasonInvalidField
	case NotFound:
		return ReasonNotFound
	case AlreadyExists:
		return ReasonIDTaken
	case Unauthenticated:
		return ReasonTokenInvalid
	case PermissionDenied:
		return ReasonTargetNotAllowed
	case FailedPrecondition:
		return ReasonWrongState
	case ResourceExhausted:
		return ReasonLimitReached
	case Unimplemented:
		return ReasonNotImplemented
	case Unavailable:
		return ReasonStoreUnavailable
	case Conflict:
		return ReasonConcurrentUpdates
	}
	return ReasonInternal
}

// Op names the operation that failed, as "package.Function", for example
// "boltstore.AppendFixes".
type Op string

// Violation is one bad field of a request.
type Violation struct {
	// Field is the path of the field in the request, as in the wire API:
	// "fixes[3].lat", "client.geofence.circle.radius_meters".
	Field string
	// Description says what is wrong, for a person.
	Description string
}

// Error is Dwell's error: where (Op), what class (Kind), a message for the
// caller and the underlying error, if any.
type Error struct {
	Op         Op
	Kind       Kind
	Msg        string
	Violations []Violation
	// Reason, if not empty, names the cause for programs (see Reason).
	Reason Reason
	Err    error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(string(e.Op))
		b.WriteString(": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	} else {
		b.WriteString(e.Kind.String())
	}
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error from its arguments, by type: Op, Kind, string (message),
// Reason, []Violation, Violation, error. An error argument that is itself a Dwell
// error lends its kind when none is given.
func E(args ...any) error {
	e := &Error{}
	for _, a := range args {
		switch a := a.(type) {
		case Op:
			e.Op = a
		case Kind:
			e.Kind = a
		case string:
			e.Msg = a
		case Reason:
			e.Reason = a
		case Violation:
			e.Violations = append(e.Violations, a)
		case []Violation:
			e.Violations = append(e.Violations, a...)
		case error:
			e.Err = a
		}
	}
	if e.Kind == Other && e.Err != nil {
		e.Kind = KindOf(e.Err)
	}
	return e
}

// KindOf returns the kind of the first *Error in err's chain with a kind
// other than Other, or Other.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}

// Is reports whether err has kind k.
func Is(k Kind, err error) bool { return err != nil && KindOf(err) == k }

// ViolationsOf returns every field violation in err's chain.
func ViolationsOf(err error) []Violation {
	var out []Violation
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			break
		}
		out = append(out, e.Violations...)
		err = e.Err
	}
	return out
}

// ReasonOf returns the reason of the first *Error in err's chain that
// names one, if it is of err's kind (a cause wrapped by an error of
// another kind is not the reason of that error); otherwise err's kind's
// default reason.
func ReasonOf(err error) Reason {
	k := KindOf(err)
	for e := err; e != nil; {
		var de *Error
		if !errors.As(e, &de) {
			break
		}
		if de.Reason != "" {
			if de.Kind == Other || de.Kind == k {
				return de.Reason
			}
			break
		}
		e = de.Err
	}
	return k.DefaultReason()
}

// MessageOf returns the caller-facing message of the first *Error in err's
// chain that has one, or "".
func MessageOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Msg != "" {
			return e.Msg
		}
		err = e.Err
	}
	return ""
}
