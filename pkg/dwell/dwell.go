// Package dwell is the vocabulary of Dwell: the domain types every other
// package speaks (tenants, reps, teams, clients and their geofences, fixes,
// check-ins, check-outs and calls) and the error type with its kinds.
//
// It imports only the standard library. Transport types (protobuf) never
// appear here; storage types never appear here. Units are part of every name
// or doc comment: distances in metres, angles in degrees, durations in
// seconds unless a time.Duration says otherwise.
//
// Local days and working hours are wall-clock times in the rep's zone;
// one rule turns them into instants, Date.At, and one definition of a
// day's working windows as instants, Rep.WorkingWindows, decides both
// which fixes ingest refuses (Rep.InWorkingHours) and how the day's
// derivation and the rep's status are bounded, so a fix accepted as inside
// the hours is inside the day's windows and a fix refused is outside them.
// A wall time the clocks skip (daylight saving starts) is read as the
// instant of the jump; a window whose edge the clocks show twice (daylight
// saving ends) starts at the start's earlier occurrence and ends at the
// end's later one, so working hours 16:00-23:30 on a night when 23:00-24:00
// repeats run until the second 23:30. A local day runs from Date.Start to
// the next day's Start.
package dwell

import (
	"math"
	"time"
)

// TenantID names one company. Nothing ever crosses tenants.
type TenantID string

// RepID names a field sales rep within a tenant.
type RepID string

// TeamID names a team within a tenant.
type TeamID string

// ClientID names a client site (prospect or customer) within a tenant.
type ClientID string

// Role is what a caller may do; it comes from the bearer token.
type Role int

// Roles. The zero value is no role at all and is never granted anything.
const (
	RoleUnspecified Role = iota
	// RoleRep is a field rep: writes and reads only its own data.
	RoleRep
	// RoleManager reads the teams it manages.
	RoleManager
	// RoleAdmin manages the tenant's directory and settings.
	RoleAdmin
	// RolePartner is a tenant's service account for integrations.
	RolePartner
)

var roleNames = [...]string{"unspecified", "rep", "manager", "admin", "partner"}

// String returns the lower-case role name used in tokens ("rep", "manager"...).
func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return "unspecified"
	}
	return roleNames[r]
}

// ParseRole returns the role named s, or RoleUnspecified and false if s names
// no role.
func ParseRole(s string) (Role, bool) {
	for i, n := range roleNames {
		if i > 0 && n == s {
			return Role(i), true
		}
	}
	return RoleUnspecified, false
}

// Principal is the authenticated caller of one request. Tenant comes only
// from a verified token, never from the request body.
type Principal struct {
	// Tenant is the caller's tenant.
	Tenant TenantID
	// Subject is the token's subject: a rep id for a rep, a manager's user id
	// for a manager, a free-form account name for admins and partners.
	Subject string
	// Role is what the caller may do.
	Role Role
	// IssuedAt is when the token was issued (its iat claim), in whole
	// seconds, UTC; zero for a token without one. Partner accounts use it
	// to refuse the tokens issued before an account was deleted
	// (PartnerDeletion).
	IssuedAt time.Time
}

// SigningKey is a tenant's token signing key: an HS256 secret and the key
// id (kid) that tokens signed with it name in their header. A tenant has
// one key; it is created once and never changed.
type SigningKey struct {
	// Tenant is the tenant whose tokens the key signs.
	Tenant TenantID
	// KID is the key's id, written in each token's "kid" header.
	KID string
	// Secret is the HMAC-SHA256 secret, at least 32 bytes.
	Secret []byte
	// Created is when the key was made, in whole seconds.
	Created time.Time
}

// LatLng is a WGS84 position in degrees.
type LatLng struct {
	// Lat is the latitude in degrees, in [-90, 90].
	Lat float64
	// Lng is the longitude in degrees, in [-180, 180].
	Lng float64
}

// Circle is a circular geofence.
type Circle struct {
	// Center is the centre of the circle.
	Center LatLng
	// RadiusM is the radius in metres, from MinRadiusM to MaxRadiusM.
	RadiusM float64
}

// Polygon is a polygonal geofence: one outer ring and optional holes. Rings
// are lists of vertices; a ring may end with a closing repeat of its first
// vertex (as GeoJSON writes rings): validation accepts it and the server
// stores rings as sent, so every reader must treat a last vertex equal to
// the first as no vertex of its own. The winding order does not matter.
type Polygon struct {
	// Shell is the outer boundary.
	Shell []LatLng
	// Holes are areas inside Shell that are not part of the fence.
	Holes [][]LatLng
}

// Geofence is a client site's area: exactly one of Circle or Polygon is set.
type Geofence struct {
	Circle  *Circle
	Polygon *Polygon
}

// Center returns the fence's centre, the one DESIGN's tie rule ("ties to
// the nearest centre") measures from: the circle's centre, or the mean of
// the polygon's shell vertices (holes ignored). The mean is taken with
// longitudes unwrapped about the first vertex, so a shell across the
// antimeridian has its centre inside it rather than on the other side of
// the Earth, and a closing repeat of the first vertex (as GeoJSON writes
// rings) is ignored rather than counted twice.
//
// The vertex mean, not the area centroid, is kept on purpose: it is what
// the timeline's tie rule and the simulated days it is evaluated on (pkg/
// sim) were built and measured with; an area centroid moved the simulated
// reps' stops and made 6 of 51 harsh days' VISIT_ENDED revised by later
// data (pkg/events TestReplay, the target is one in twenty).
func (g Geofence) Center() LatLng {
	switch {
	case g.Circle != nil:
		return g.Circle.Center
	case g.Polygon != nil && len(g.Polygon.Shell) > 0:
		return ringMean(g.Polygon.Shell)
	}
	return LatLng{}
}

// ringMean returns the mean of ring vs's vertices (see Geofence.Center).
func ringMean(vs []LatLng) LatLng {
	if n := len(vs); n > 1 && vs[n-1] == vs[0] {
		vs = vs[:n-1]
	}
	o := vs[0]
	var sx, sy float64 // degrees east (the short way round) and north of o
	for _, v := range vs {
		sx += wrapLngDeg(v.Lng - o.Lng)
		sy += v.Lat - o.Lat
	}
	n := float64(len(vs))
	return LatLng{Lat: o.Lat + sy/n, Lng: wrapLngDeg(o.Lng + sx/n)}
}

// wrapLngDeg returns longitude l, in degrees, brought into [-180, 180].
func wrapLngDeg(l float64) float64 {
	l = math.Mod(l, 360)
	if l > 180 {
		l -= 360
	} else if l < -180 {
		l += 360
	}
	return l
}

// ClientKind tells a prospect from an existing customer.
type ClientKind int

// Client kinds.
const (
	ClientKindUnspecified ClientKind = iota
	// ClientKindProspect is a company that has not bought yet.
	ClientKindProspect
	// ClientKindCustomer is an existing customer.
	ClientKindCustomer
)

// Client is a prospect or customer at one site.
type Client struct {
	ID          ClientID
	DisplayName string
	Kind        ClientKind
	// Address is a free-form postal address, for people.
	Address string
	// ExternalID is the partner's (CRM's) id for this client, if any.
	ExternalID string
	Fence      Geofence
	CreateTime time.Time
	UpdateTime time.Time
	// Revision is set by the store on every write of the record: 1 when
	// created, one more at each later write (a masked update, an import,
	// a store-side change such as a team's deletion clearing a rep's
	// team). It is 0 for a record not yet stored. Callers never set it
	// except as the precondition of a store update (see RevisionAbsent).
	// The same holds for the Revision of Rep, Team, Settings,
	// PartnerAccount and Opportunity.
	Revision int64
}

// WorkingHours is one working window of a weekday in the rep's local time.
type WorkingHours struct {
	Weekday time.Weekday
	// StartMinute and EndMinute are minutes after local midnight, 0 to 1440,
	// Start < End.
	StartMinute int
	EndMinute   int
}

// Rep is a field salesperson.
type Rep struct {
	ID          RepID
	DisplayName string
	Email       string
	// TimeZone is an IANA zone name such as "Asia/Jakarta"; the rep's days
	// are local days in this zone.
	TimeZone string
	// Team is the rep's team, or empty.
	Team TeamID
	// WorkingHours, when not empty, bound the rep's tracked time.
	WorkingHours []WorkingHours
	CreateTime   time.Time
	UpdateTime   time.Time
	// Revision is set by the store; see Client.Revision.
	Revision int64
}

// Team is a group of reps under one or more managers.
type Team struct {
	ID          TeamID
	DisplayName string
	// Managers are the subjects of the manager tokens that read this team.
	Managers   []string
	CreateTime time.Time
	UpdateTime time.Time
	// Revision is set by the store; see Client.Revision.
	Revision int64
}

// ManagedBy reports whether subject is one of the team's managers.
func (t Team) ManagedBy(subject string) bool {
	for _, m := range t.Managers {
		if m == subject {
			return true
		}
	}
	return false
}

// Fix is one position report (ping) from a rep's phone.
type Fix struct {
	// ID is generated by the phone, 1 to MaxFixIDBytes bytes, unique per rep.
	// A fix whose ID was seen before for the rep is a duplicate.
	ID string
	// Time is the device time of the fix.
	Time time.Time
	// Pos is the reported position.
	Pos LatLng
	// AccuracyM is the horizontal accuracy radius in metres (>= 0).
	AccuracyM float64
	// SpeedMPS is the speed in metres per second, or -1 if unknown.
	SpeedMPS float64
	// BearingDeg is the course in degrees clockwise from north, or -1 if
	// unknown.
	BearingDeg float64
	// AltitudeM is the altitude in metres above the WGS84 ellipsoid; valid
	// only if HasAltitude.
	AltitudeM   float64
	HasAltitude bool
	// Mock is the OS mock-location flag.
	Mock bool
}

// FixStatus is the fate of one fix in an upload.
type FixStatus int

// Fix statuses.
const (
	FixStatusUnspecified FixStatus = iota
	// FixAccepted means the fix is now durably stored.
	FixAccepted
	// FixDuplicate means a fix with the same ID was already stored for the
	// rep; nothing was written.
	FixDuplicate
	// FixRejected means the fix was invalid and not stored.
	FixRejected
)

// Outcome is the result of a meeting, given at check-out.
type Outcome int

// Meeting outcomes.
const (
	OutcomeUnspecified Outcome = iota
	OutcomePositive
	OutcomeFollowUp
	OutcomeWon
	OutcomeRejected
	OutcomeNoDecision
)

// RejectionReason is why a client said no.
type RejectionReason int

// Rejection reasons.
const (
	RejectionReasonUnspecified RejectionReason = iota
	RejectionProductMarketFit
	RejectionPersona
	RejectionPrice
	RejectionTiming
	RejectionCompetitor
	RejectionRepCompetence
	RejectionOther
)

// Date is a local calendar day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar day.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && t.Month() == d.Month
}

// Verification tells whether a check-in was made at the client's site.
type Verification int

// Check-in verifications.
const (
	VerificationUnspecified Verification = iota
	// VerificationVerified means the check-in fix was inside the site,
	// allowing for its accuracy.
	VerificationVerified
	// VerificationOutsideGeofence means the fix was away from the site; the
	// distance says how far.
	VerificationOutsideGeofence
	// VerificationLowAccuracy means the fix was too inaccurate to tell.
	VerificationLowAccuracy
	// VerificationMockLocation means the fix came from a mock provider
	// (the OS flag), or that the rep's fixes around it show it impossible
	// (DESIGN: a mock location is the OS flag or an impossible speed).
	VerificationMockLocation
	// VerificationNoFix means the check-in carried no position.
	VerificationNoFix
	// VerificationStaleFix means the check-in's fix was taken more than
	// timeline.MaxFixAge before or after the check-in: it tells where the
	// phone was then, not where the rep checked in.
	VerificationStaleFix
)

// CheckIn is a rep's explicit claim to have started a visit.
type CheckIn struct {
	// RequestID makes the call idempotent: a retry with the same id returns
	// the original result.
	RequestID string
	Rep       RepID
	Client    ClientID
	// Time is the device time of the check-in.
	Time time.Time
	// Fix is what the phone knew when the rep checked in; its ID may be empty.
	Fix *Fix
	// Verification and DistanceM are decided by the server when the check-in
	// is received: DistanceM is metres from the fix to the site boundary
	// (0 inside).
	Verification Verification
	DistanceM    float64
	ReceiveTime  time.Time
}

// CheckOut is a rep's explicit end of a visit with the meeting's outcome.
type CheckOut struct {
	RequestID string
	Rep       RepID
	Client    ClientID
	Time      time.Time
	Fix       *Fix
	Outcome   Outcome
	// FollowUpDate is set for OutcomeFollowUp.
	FollowUpDate Date
	// RejectionReason and RejectionText are set for OutcomeRejected;
	// RejectionText is required for RejectionOther.
	RejectionReason RejectionReason
	RejectionText   string
	Notes           string
	ReceiveTime     time.Time
}

// CallDirection tells who dialled.
type CallDirection int

// Call directions.
const (
	CallDirectionUnspecified CallDirection = iota
	CallOutbound
	CallInbound
)

// CallOutcome is how a call ended.
type CallOutcome int

// Call outcomes.
const (
	CallOutcomeUnspecified CallOutcome = iota
	// CallConnected means the parties talked.
	CallConnected
	CallNoAnswer
	CallBusy
	CallVoicemail
	CallFailed
)

// Call is a phone call between a rep and a client.
type Call struct {
	RequestID   string
	Rep         RepID
	Client      ClientID
	StartTime   time.Time
	TalkSeconds int64
	Direction   CallDirection
	Outcome     CallOutcome
	Notes       string
	ReceiveTime time.Time
}

// TrackingChange is the rep pausing or resuming tracking on the phone.
// From a pause until the next resume the rep's time is reported as
// paused, never as idle or a visit, and fixes within it are not evidence
// of anything (DESIGN.md, "Storage and scale": privacy).
type TrackingChange struct {
	RequestID string
	Rep       RepID
	// Time is when the rep paused or resumed (device time).
	Time time.Time
	// Paused is true for a pause, false for a resume.
	Paused      bool
	ReceiveTime time.Time
}

// RevisionAbsent, as the Revision of a record passed to a conditional
// store write, says the record must not be stored yet. It serves the
// writes that create or replace (PutSettings): a tenant's settings read
// before any were stored have Revision 0, which as a precondition means
// "unconditional", so a caller that read none passes RevisionAbsent.
const RevisionAbsent int64 = -1
