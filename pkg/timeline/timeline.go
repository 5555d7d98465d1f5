package timeline

import (
	"strconv"
	"strings"
	"time"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
)

// FenceMatcher answers which client fences a position is in or near. It is
// the part of *geofence.Index (and *geofence.Cursor) that Derive uses: the
// matches of p, allowing for accuracyM metres, appended to buf[:0], with
// IDs that are client IDs, nearest first. Derive uses only the matches
// within the accuracy it asks with (DistanceM <= accuracyM), so an index's
// margin (geofence.RelationNear) changes nothing in a day
// (TestIndexMarginChangesNothing), only what a query costs.
type FenceMatcher interface {
	Query(p dwell.LatLng, accuracyM float64, buf []geofence.Match) []geofence.Match
}

// Window is a working-hours window: the instants [Start, End). A zero
// Window bounds nothing.
type Window struct {
	Start, End time.Time
}

// Input is everything the derivation of one rep-day rests on.
type Input struct {
	// Day is the rep's local calendar day; Loc is the rep's time zone
	// (nil means UTC).
	Day dwell.Date
	Loc *time.Location
	// Window, when not zero, bounds the day further (working hours).
	Window Window
	// Windows, when not empty, are the rep's working-hours windows of the
	// day, in any order (overlapping or touching ones count as one): a
	// split shift has several (09:00-12:00 and 13:00-17:00). They bound
	// the day as Window does, from the earliest start to the latest end,
	// and the time between two of them (the break) is KindOffHours: fixes
	// in it are ignored, as outside working hours, and no stop, silence or
	// visit across it counts it (see offhours.go). Window, if also set,
	// bounds further.
	Windows []Window
	// Fixes are the rep's fixes, in any order and with any repeats; fixes
	// outside the day are ignored.
	Fixes []dwell.Fix
	// CheckIns and CheckOuts are the rep's claims, in any order and with
	// any repeats (deduplicated by RequestID). Their Verification and
	// DistanceM fields are ignored: Derive decides them from the fences.
	// Those of the next local day (after Day's end, before the next day's
	// end) serve only to pair the day's check-ins with their check-outs: a
	// check-in still open at the day's end is closed by the client's first
	// check-out after it up to the end of the next day, unless the rep
	// checked in at that client again first (see the package doc, step
	// 6). Later claims are ignored. A caller deriving a day passes the
	// next day's claims too, or a visit across midnight loses its outcome.
	CheckIns  []dwell.CheckIn
	CheckOuts []dwell.CheckOut
	// Tracking are the rep's pauses and resumes, in any order and with any
	// repeats (deduplicated by RequestID), including the last one before
	// the day, which may have paused it from the start. Paused time is a
	// KindPaused segment, and fixes in it are ignored (see pause.go).
	Tracking []dwell.TrackingChange
	// OpenUntil is where a pause that has no resume yet ends: the present,
	// for a day still going on. Zero means the end of the day (or window).
	OpenUntil time.Time
	// Fences matches positions to client fences; nil means no fences (every
	// stop is idle, every check-in is unverifiable).
	Fences FenceMatcher
	// Clients looks up the clients the fences name, for their centres (the
	// tie-break) and for the exact distance of a check-in to its client;
	// nil means none are known. ClientMap serves a map.
	Clients ClientSource
	// Settings gives VisitMin and IdleMin; zero values take
	// dwell.DefaultSettings.
	Settings dwell.Settings
}

// Version is the version of the derivation: raise it with every change
// that makes Derive answer differently for some input (a rule fixed or
// added), so that servers of the new version derive the recent days
// again (store.Summaries.RederiveAll: what a settings change would
// re-derive) instead of reporting, for days with no new data, what older
// code derived. 1: up to 27 November 2026. 2: 28 November 2026, check-ins
// held to the fixes, impossible-speed runs, silences at one place
// between moving fixes, stops' unpaused length, split shifts' breaks,
// the fixes' site vote, stops at a site shorter than a visit, check-in
// pairing. 3: a pause followed by fixes and then by another pause ends at
// the first of those fixes (its resume was lost), not at the later
// pause's resume. 4: a check-in still open at its day's end is closed by a
// check-out of the next local day (not a later one), its claim within the
// day ending as a forgotten one's does. 5: a verified check-in made from a
// stop the fixes place beyond reach of its site claims no visit; a
// multipath jump near a fix of the way in no longer takes a run of good
// fixes with it; a piece of a visit stop a claim leaves shorter than
// VisitMin is the claim's when its check-in was made from that stop, not
// a visit of its own. 6: a polygon fence's
// centre, which overlapping fences' ties go to the nearest of
// (dwell.Geofence.Center, the mean of its shell's vertices), is right
// across the antimeridian, and a closing repeat of the first vertex no
// longer counts twice. 7: two stops whose estimated times overlap across
// a silence between places tens of metres apart are made to meet before
// either is judged (joined when at one site), so a stop of a minute after
// the silence is no visit or idle stop, and no piece of a stop that a
// claim leaves under its kind's minimum stays a VISIT or IDLE segment.
// 8: a check-in or check-out whose fix is a mock
// location by impossible speed (not only by the OS flag), or is dated more
// than MaxFixAge from the action (a check-in's verdict STALE_FIX), names,
// splits and rules out no stop's site; the impossible-speed test judges
// an action's fix at the action's time, not the fix's own. 9: a fix dated
// after its action (acquired after the tap) is a mock location by
// impossible speed only if the rep's fixes around its own time cannot
// reach it either, so a check-in tapped while driving up, with a fix at
// the site acquired on arrival, is VERIFIED (as CheckIn answers), not
// MOCK_LOCATION, and counts as a claim.
// 10: a check-out of one client tapped on leaving another client's site
// next door no longer hides that site's visit: the piece of a stop after a
// claim made elsewhere goes to the claim only when the stop is at the
// claimed site or too short for a visit on its own.
// 11: a fix dated after its action is a mock location by impossible speed
// (when out of reach at the action's time) if either of the rep's clean
// fixes around its own date cannot reach it, not only both (strays), so a
// spoofer who dates the fix next to a silence of the phone, the fix on
// the far side minutes away, no longer verifies a check-in.
// 12: a fix dated after its action is condemned by one clean fix around
// its own date only when that is a jump of over strayJumpM (500 m) from
// it; tens of metres off, both must be out of reach, so an honest fix
// next to a Wi-Fi or network fix of the stream stays VERIFIED.
const Version = 12

// StayGapMax is the longest time between the part of a stay at one place
// on one local day and its part on the next that still makes them one
// stay: one visit to the event stream (package events, "Across midnight")
// and one meeting to the KPIs (package kpi). The days meet at the rep's
// midnight, and a phone at a client sends a fix every few minutes
// (GetTrackingConfig's pace when still is at most 5 minutes), so a stay
// observed across midnight, or paused for a few minutes across it, has
// its parts minutes apart. A rep at a client at the end of one day's
// working hours and again at the start of the next, or whose phone was
// off overnight there, or who paused tracking there overnight (the rep's
// night), made two stays: the hours between are no stay, however its ends
// look. The derivation itself does not use it: each day is derived alone.
const StayGapMax = 30 * time.Minute

// ClientSource looks up a client by id. Derive calls it only for clients
// that fences or claims name, so a store-backed source stays cheap.
type ClientSource interface {
	Client(id dwell.ClientID) (dwell.Client, bool)
}

// ClientMap is a ClientSource over a map.
type ClientMap map[dwell.ClientID]dwell.Client

// Client returns m[id].
func (m ClientMap) Client(id dwell.ClientID) (dwell.Client, bool) {
	c, ok := m[id]
	return c, ok
}

// Kind is the kind of a segment of the timeline.
type Kind int

// Segment kinds, as DESIGN names them.
const (
	KindUnspecified Kind = iota
	// KindVisit is time with a client.
	KindVisit
	// KindIdle is a stationary stop of at least IdleMin away from sites,
	// or at a site but shorter than VisitMin.
	KindIdle
	// KindTravel is moving, short stops included.
	KindTravel
	// KindGap is time without usable data after which the rep was
	// elsewhere.
	KindGap
	// KindPaused is time the rep paused tracking: never idle, never a
	// visit, whatever the fixes say.
	KindPaused
	// KindOffHours is time between two working-hours windows of the day
	// (Input.Windows: the break of a split shift): not working time, so
	// neither field time nor paused, and in no total.
	KindOffHours
)

var kindNames = [...]string{"UNSPECIFIED", "VISIT", "IDLE", "TRAVEL", "GAP", "PAUSED", "OFF_HOURS"}

// String returns the upper-case name of k ("VISIT").
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "UNSPECIFIED"
	}
	return kindNames[k]
}

// Source tells how a visit was established.
type Source int

// Visit sources.
const (
	SourceUnspecified Source = iota
	// SourceGeofence means the fixes alone showed the visit (an
	// auto-visit).
	SourceGeofence
	// SourceCheckIn means a verified check-in and its check-out alone.
	SourceCheckIn
	// SourceBoth means a check-in and the fixes.
	SourceBoth
)

var sourceNames = [...]string{"UNSPECIFIED", "GEOFENCE", "CHECK_IN", "BOTH"}

// String returns the upper-case name of s ("GEOFENCE").
func (s Source) String() string {
	if s < 0 || int(s) >= len(sourceNames) {
		return "UNSPECIFIED"
	}
	return sourceNames[s]
}

var verificationNames = [...]string{"UNSPECIFIED", "VERIFIED", "OUTSIDE_GEOFENCE", "LOW_ACCURACY", "MOCK_LOCATION", "NO_FIX", "STALE_FIX"}

func verificationName(v dwell.Verification) string {
	if v < 0 || int(v) >= len(verificationNames) {
		return "UNSPECIFIED"
	}
	return verificationNames[v]
}

// Segment is one stretch [Start, End) of the timeline.
type Segment struct {
	Kind       Kind
	Start, End time.Time
	// Client, Source and Verification are set for KindVisit; Verification
	// is that of the visit's check-in, if it had one.
	Client       dwell.ClientID
	Source       Source
	Verification dwell.Verification
	// DistanceM is the path length in metres along the fixes (KindTravel),
	// or the straight-line distance across a KindGap.
	DistanceM float64
	// Location is where the rep stood (KindVisit, KindIdle): the
	// accuracy-weighted centre of the stop's fixes.
	Location dwell.LatLng
}

// Duration returns End - Start.
func (s Segment) Duration() time.Duration { return s.End.Sub(s.Start) }

// Visit is one visit of the day: a KindVisit segment with its claims.
type Visit struct {
	Client       dwell.ClientID
	Start, End   time.Time
	Source       Source
	Verification dwell.Verification
	// CheckInRequestID names the check-in of the visit, if any.
	CheckInRequestID string
	// Paused is the time within [Start, End) during which the rep had
	// paused tracking: a pause in the middle of a meeting leaves one visit
	// (one meeting), whose segments are VISIT, PAUSED, VISIT.
	Paused time.Duration
	// OffHours is the time within [Start, End) between two working-hours
	// windows (Input.Windows): a meeting that runs across a split shift's
	// break is one visit, whose segments are VISIT, OFF_HOURS, VISIT. It
	// does not overlap Paused.
	OffHours time.Duration
}

// Duration returns the time the visit was observed: End - Start less the
// paused and off-hours time within it.
func (v Visit) Duration() time.Duration { return v.End.Sub(v.Start) - v.Paused - v.OffHours }

// CheckInResult is the server's judgement of one check-in.
type CheckInResult struct {
	RequestID string
	Client    dwell.ClientID
	Time      time.Time
	// Verification says whether the check-in fix was at the client's site;
	// DistanceM is metres from the fix to the site's boundary (0 inside).
	Verification dwell.Verification
	DistanceM    float64
	// CheckOutRequestID names the check-out that closed it, or is empty
	// for a forgotten check-out.
	CheckOutRequestID string
}

// Totals sums the timeline by kind. KindOffHours is in none of them: time
// between working-hours windows is neither field time nor paused, like the
// time before the first window and after the last.
type Totals struct {
	Visit, Idle, Travel, Gap, Paused time.Duration
	// TravelDistanceM is the sum of the travel segments' distances.
	TravelDistanceM float64
	// Visits is the number of visits.
	Visits int
}

// SumTotals returns the totals of d's segments, with Visits the number of
// d.Visits: what Derive sets d.Totals to.
func (d *Day) SumTotals() Totals {
	var t Totals
	for _, s := range d.Segments {
		switch s.Kind {
		case KindVisit:
			t.Visit += s.Duration()
		case KindIdle:
			t.Idle += s.Duration()
		case KindTravel:
			t.Travel += s.Duration()
			t.TravelDistanceM += s.DistanceM
		case KindGap:
			t.Gap += s.Duration()
		case KindPaused:
			t.Paused += s.Duration()
		}
	}
	t.Visits = len(d.Visits)
	return t
}

// Flags count what in the day's data deserves a look.
type Flags struct {
	// MockFixes is the number of fixes with the OS mock flag.
	MockFixes int
	// ImpossibleSpeedFixes is the number of fixes dropped because reaching
	// them needs more than MaxSpeedMPS: from both neighbours, or across
	// an impossible jump (a run of fixes reached and left, or the shorter
	// side of a one-way jump; see the package doc, step 2).
	ImpossibleSpeedFixes int
	// OutlierFixes is the number of other fixes dropped as multipath jumps:
	// far off while their neighbours agree.
	OutlierFixes int
	// UnverifiedCheckIns is the number of check-ins not verified at the
	// site.
	UnverifiedCheckIns int
	// ForgottenCheckOuts is the number of check-ins without a check-out,
	// less those a later check-in of the same client in the same visit
	// supersedes (a repeated tap; see the package doc, step 6).
	ForgottenCheckOuts int
}

// Day is the derived timeline of one rep-day.
type Day struct {
	// Start and End bound the observed span (zero if no usable fix).
	Start, End time.Time
	Segments   []Segment
	Visits     []Visit
	CheckIns   []CheckInResult
	Totals     Totals
	Flags      Flags
	// OpenPause reports that the day's last pause has no resume: it ends
	// at the first fix after it, or at Input.OpenUntil, or at the day's
	// end, whichever comes first, so a day derived without OpenUntil while
	// the present is inside it may hold the pause longer than it has
	// lasted yet (also when the fix that ends it is dated after the
	// present, as from a phone whose clock runs ahead). A day without it
	// is the same whatever OpenUntil is (its pauses end at resumes, or at
	// fixes before a later pause), which spares the reports deriving it
	// again.
	OpenPause bool

	// lastFix is the latest fix the derivation kept (LastFix); hasLastFix
	// says there is one. Neither is encoded (Encode, the stored summaries):
	// a Day rebuilt from a summary does not know it.
	lastFix    dwell.Fix
	hasLastFix bool
	// openFrom is OpenPauseFrom's answer (zero: none). It is not encoded
	// either.
	openFrom time.Time
}

// OpenPauseFrom returns where the day's open pause (OpenPause) begins in
// the day's last segment when it ran, as that segment, to the end of the
// day's bounds (the day's end, or its last working window's): no fix
// after it ended it, and Input.OpenUntil was zero or not before that end.
// from is that segment's start: the pause's start, or the day's (or a
// break's end) if it began before. ok is false otherwise, and also when
// that segment began before the pause did (a paused time resumed at the
// very instant of the pause, joined to it). Such a day derived with
// OpenUntil t, for t after from and before End, differs only in that last
// segment ending at t (and so End and the paused totals): the paused
// spans are the only part of the derivation that depends on t, and they
// agree before t; the rest of the day is derived from the fixes outside
// them, which all lie before the pause (a fix after it would have ended
// it), its stops and segments lie within those fixes' span (claims are
// clamped to it), and breaks before from are laid over alike (the reports
// read a stored summary so: package kpi, Day.PausedUntil;
// TestOpenPauseFrom). Like LastFix it is not encoded, and a Day rebuilt
// from a summary does not know it.
func (d *Day) OpenPauseFrom() (from time.Time, ok bool) {
	return d.openFrom, !d.openFrom.IsZero()
}

// LastFix returns the latest fix Derive kept of the day: within the day
// and its working windows, not in a break or a paused time, not a mock
// location, not dropped as a multipath jump or for impossible speed (step
// 2 of the algorithm). It is the last fix the segments rest on, so the
// last instant the rep was observed: the observed span's end, unless a
// pause laid over the day moved that. ok is false when no fix was kept,
// and for a Day that Derive did not return (one rebuilt from a stored
// summary: kpi.Day.Timeline). Neither Encode nor the summaries hold it, so
// it changed no stored day and needed no Version.
func (d *Day) LastFix() (f dwell.Fix, ok bool) {
	return d.lastFix, d.hasLastFix
}

// Encode returns the canonical text of d: one line per item, instants in
// UTC to the millisecond, distances to the decimetre, positions to 1e-6°.
// Equal days encode to equal bytes; it is what the determinism and golden
// tests compare.
func (d Day) Encode() []byte {
	var b strings.Builder
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	m := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	deg := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	dur := func(x time.Duration) string { return x.Round(time.Millisecond).String() }
	str := func(s string) string {
		if s == "" {
			return "-"
		}
		return strconv.Quote(s)
	}
	b.WriteString("day " + ts(d.Start) + " " + ts(d.End) + "\n")
	for _, s := range d.Segments {
		b.WriteString("segment " + s.Kind.String() + " " + ts(s.Start) + " " + ts(s.End) + " " + dur(s.Duration()))
		switch s.Kind {
		case KindVisit:
			b.WriteString(" client=" + str(string(s.Client)) + " source=" + s.Source.String() +
				" verification=" + verificationName(s.Verification) + " at=" + deg(s.Location.Lat) + "," + deg(s.Location.Lng))
		case KindIdle:
			b.WriteString(" at=" + deg(s.Location.Lat) + "," + deg(s.Location.Lng))
		case KindTravel, KindGap:
			b.WriteString(" distance_m=" + m(s.DistanceM))
		}
		b.WriteString("\n")
	}
	for _, v := range d.Visits {
		b.WriteString("visit " + str(string(v.Client)) + " " + ts(v.Start) + " " + ts(v.End) + " source=" + v.Source.String() +
			" verification=" + verificationName(v.Verification) + " check_in=" + str(v.CheckInRequestID))
		if v.Paused != 0 {
			b.WriteString(" paused=" + dur(v.Paused))
		}
		if v.OffHours != 0 {
			b.WriteString(" off_hours=" + dur(v.OffHours))
		}
		b.WriteString("\n")
	}
	for _, c := range d.CheckIns {
		b.WriteString("check_in " + str(c.RequestID) + " " + str(string(c.Client)) + " " + ts(c.Time) +
			" verification=" + verificationName(c.Verification) + " distance_m=" + m(c.DistanceM) +
			" check_out=" + str(c.CheckOutRequestID) + "\n")
	}
	t := d.Totals
	b.WriteString("totals visit=" + dur(t.Visit) + " idle=" + dur(t.Idle) + " travel=" + dur(t.Travel) +
		" gap=" + dur(t.Gap) + " travel_m=" + m(t.TravelDistanceM) + " visits=" + strconv.Itoa(t.Visits))
	if t.Paused > 0 {
		// Only days with a pause say so, so that the encoding of every
		// other day is as it was before pauses existed.
		b.WriteString(" paused=" + dur(t.Paused))
		if d.OpenPause {
			b.WriteString(" open")
		}
	}
	b.WriteString("\n")
	f := d.Flags
	b.WriteString("flags mock_fixes=" + strconv.Itoa(f.MockFixes) + " impossible_speed_fixes=" + strconv.Itoa(f.ImpossibleSpeedFixes) +
		" outlier_fixes=" + strconv.Itoa(f.OutlierFixes) + " unverified_check_ins=" + strconv.Itoa(f.UnverifiedCheckIns) +
		" forgotten_check_outs=" + strconv.Itoa(f.ForgottenCheckOuts) + "\n")
	return []byte(b.String())
}
