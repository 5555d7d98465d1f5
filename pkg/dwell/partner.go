package dwell

import (
	"slices"
	"time"
)

// PartnerID names a partner account within a tenant. It is the subject of
// the partner tokens the account governs.
type PartnerID string

// Scope is one right a tenant's admin grants a partner account. Each RPC a
// partner token may call needs exactly one scope (the server's access
// table says which). The set is frozen: new scopes are only ever added at
// the end, so stored values keep their meaning.
type Scope int

// Scopes. The zero value grants nothing and is never valid in an account.
const (
	ScopeUnspecified Scope = iota
	// ScopeDirectoryRead reads clients, reps, teams and settings.
	ScopeDirectoryRead
	// ScopeDirectoryWrite creates, changes and deletes clients, reps and
	// teams, and imports clients.
	ScopeDirectoryWrite
	// ScopeIngest relays fixes, check-ins, check-outs, calls and pauses
	// for the tenant's reps and reads their tracking configuration.
	ScopeIngest
	// ScopeSalesRead reads appointments, opportunities and quotas.
	ScopeSalesRead
	// ScopeSalesWrite creates and deletes appointments and writes
	// opportunities and quotas.
	ScopeSalesWrite
	// ScopeReportsRead reads rep days, time breakdowns, KPIs, visits and
	// the reps' current states.
	ScopeReportsRead
	// ScopeEventsWatch follows the tenant's live events.
	ScopeEventsWatch

	scopeEnd // one past the last scope
)

var scopeNames = [...]string{"UNSPECIFIED", "DIRECTORY_READ", "DIRECTORY_WRITE", "INGEST",
	"SALES_READ", "SALES_WRITE", "REPORTS_READ", "EVENTS_WATCH"}

// AllScopes returns every valid scope, in order.
func AllScopes() []Scope {
	out := make([]Scope, 0, scopeEnd-1)
	for s := ScopeUnspecified + 1; s < scopeEnd; s++ {
		out = append(out, s)
	}
	return out
}

// Valid reports whether s is one of the defined scopes (not
// ScopeUnspecified).
func (s Scope) Valid() bool { return s > ScopeUnspecified && s < scopeEnd }

// String returns the scope's upper-case name, such as "REPORTS_READ", or
// "UNSPECIFIED" for a value that names no scope.
func (s Scope) String() string {
	if !s.Valid() {
		return scopeNames[0]
	}
	return scopeNames[s]
}

// ScopeSet is a set of scopes as a bit set (bit s for scope s), cheap to
// copy and test.
type ScopeSet uint32

// ScopesOf returns the set of the valid scopes in ss.
func ScopesOf(ss []Scope) ScopeSet {
	var set ScopeSet
	for _, s := range ss {
		if s.Valid() {
			set |= 1 << s
		}
	}
	return set
}

// Has reports whether s is in the set.
func (set ScopeSet) Has(s Scope) bool { return s.Valid() && set&(1<<s) != 0 }

// PartnerAccount is a tenant's service account for one integration (a
// payroll export, a CRM sync): the tenant's admin names it, grants it
// scopes and may disable it. Partner tokens whose subject is the account's
// ID get exactly its scopes while it is enabled, and nothing while it is
// disabled; those issued before an earlier account of that ID was deleted
// get nothing (PartnerDeletion).
type PartnerAccount struct {
	ID          PartnerID
	DisplayName string
	// Scopes are the rights granted, each at most once, at least one.
	Scopes []Scope
	// Disabled cuts every token of the account off until it is enabled
	// again, without touching the tenant's key.
	Disabled bool
	// RequestID is the idempotency key of the create that stored it.
	RequestID  string
	CreateTime time.Time
	UpdateTime time.Time
	// Revision is set by the store; see Client.Revision.
	Revision int64
}

// PartnerDeletion is the last deletion of a partner account, which the
// store keeps after the account is gone, and after an account is created
// again under the same id: the tokens of the subject ID issued (iat) at or
// before Deleted stay refused whatever the tenant's settings become, so
// deleting an account revokes its tokens for good.
type PartnerDeletion struct {
	ID PartnerID
	// Deleted is when the account was last deleted, by the clock of the
	// server that deleted it.
	Deleted time.Time
}

// ScopeSet returns the account's scopes as a set.
func (a PartnerAccount) ScopeSet() ScopeSet { return ScopesOf(a.Scopes) }

// ValidatePartner checks an account's display name (required text) and
// scopes: at least one (an account with none would look like one with
// every right to a reader, while it has none), each a defined scope and
// listed once. Violations are reported under field ("partner").
func ValidatePartner(field string, a PartnerAccount) []Violation {
	vs := ValidateText(fieldPath(field, "display_name"), a.DisplayName, true)
	scopes := fieldPath(field, "scopes")
	if len(a.Scopes) == 0 {
		vs = addViolation(vs, scopes, "at least one scope is required")
	}
	for i, s := range a.Scopes {
		switch {
		case s == ScopeUnspecified:
			vs = addViolation(vs, fieldIndex(scopes, i), "the unspecified scope grants nothing; name a scope")
		case !s.Valid():
			vs = addViolation(vs, fieldIndex(scopes, i), "unknown scope %d", int(s))
		case slices.Index(a.Scopes, s) < i:
			vs = addViolation(vs, fieldIndex(scopes, i), "the scope %s is already listed at scopes[%d]", s, slices.Index(a.Scopes, s))
		}
	}
	return vs
}
