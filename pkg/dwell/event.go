package dwell

import "time"

// EventType is what happened to a rep, as WatchEvents reports it.
type EventType int

// Event types. The values match the wire enum dwell.v1.EventType.
const (
	EventTypeUnspecified EventType = iota
	// EventVisitStarted is the start of a visit (Visit.Start).
	EventVisitStarted
	// EventVisitEnded is the end of a visit, reported once the rep has been
	// seen away from the site after it (or, for a visit open at the end
	// of its day, once the rep's next day with data shows the rep did not
	// carry the stay on: package events).
	EventVisitEnded
	// EventGeofenceEntered is the rep's arrival at a client's site as the
	// fixes show it: a visit backed by fixes (source geofence or both).
	EventGeofenceEntered
	// EventGeofenceExited is the rep's departure from a client's site as
	// the fixes show it.
	EventGeofenceExited
	// EventCheckInUnverified is a check-in made away from the client's site
	// (or with a mock, inaccurate or missing fix).
	EventCheckInUnverified
	// EventIdleStarted is the start of an idle stop.
	EventIdleStarted
	// EventRepSilent is a rep from whom no fix arrived for the tenant's
	// silence threshold of working time.
	EventRepSilent
	// maxEventType is the largest valid type.
	maxEventType = EventRepSilent
)

var eventTypeNames = [...]string{"UNSPECIFIED", "VISIT_STARTED", "VISIT_ENDED", "GEOFENCE_ENTERED",
	"GEOFENCE_EXITED", "CHECK_IN_UNVERIFIED", "IDLE_STARTED", "REP_SILENT"}

// String returns the upper-case name of t ("VISIT_STARTED").
func (t EventType) String() string {
	if t < 0 || int(t) >= len(eventTypeNames) {
		return "UNSPECIFIED"
	}
	return eventTypeNames[t]
}

// Valid reports whether t is one of the event types (not unspecified).
func (t EventType) Valid() bool { return t > EventTypeUnspecified && t <= maxEventType }

// MaxEventKeyBytes bounds an event's Key in bytes.
const MaxEventKeyBytes = 512

// Event is one thing that happened to a rep, as kept in a tenant's event
// log and streamed by WatchEvents.
type Event struct {
	// Seq is the event's position in its tenant's log, assigned by the
	// store when the event is appended: 1 for the first event, then
	// strictly increasing in commit order. Zero before the append.
	Seq uint64
	// Type is what happened.
	Type EventType
	// Rep is the rep it happened to.
	Rep RepID
	// Team is the rep's team when the event was detected (empty for a rep
	// without a team); it scopes what a manager sees.
	Team TeamID
	// Client is the client involved, or empty (idle, silence).
	Client ClientID
	// Time is when it happened, in device time.
	Time time.Time
	// DetectTime is when the server learned of it.
	DetectTime time.Time
	// Late is set when the event comes from data that arrived late: it was
	// detected much later than it could have been (see package events).
	Late bool
	// Key names the fact: the same fact detected twice has the same key,
	// and the store appends an event whose key its tenant's log already
	// holds at most once. Empty means never deduplicated. At most
	// MaxEventKeyBytes bytes.
	Key string
}
