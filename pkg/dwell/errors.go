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
	Err        error
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
// []Violation, Violation, error. An error argument that is itself a Dwell
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
