package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Kind is the true kind of a stretch of a rep's day, named as DESIGN's
// timeline names its segments.
type Kind int

// Truth kinds.
const (
	// KindNone is outside the simulated day.
	KindNone Kind = iota
	// KindVisit is time at a client's site, from arrival at the spot the
	// rep stands to departure from it.
	KindVisit
	// KindIdle is a stop of at least 10 minutes away from every site:
	// home, lunch, a parked car.
	KindIdle
	// KindTravel is moving between stops, walking or driving, with its
	// traffic stops (30 s to 4 min, shorter than idle_min) and car-park
	// pauses.
	KindTravel
	// KindGap is a phone-off stretch after which the rep is elsewhere:
	// nothing in the data can tell what happened.
	KindGap
)

var kindNames = [...]string{"NONE", "VISIT", "IDLE", "TRAVEL", "GAP"}

// String returns the upper-case name of k ("VISIT"), as DESIGN writes it.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "NONE"
	}
	return kindNames[k]
}

// Segment is one stretch of the true day. A day's segments are ordered,
// contiguous and cover [DayResult.Start, DayResult.End); each is the
// half-open interval [Start, End).
type Segment struct {
	Kind       Kind
	Start, End time.Time
	// Client is the visited client (KindVisit only).
	Client dwell.ClientID
	// Pos is where the rep stood (KindVisit, KindIdle); zero otherwise.
	Pos dwell.LatLng
	// DistanceM is the path length in metres (KindTravel) or the
	// straight-line distance between the positions at Start and End
	// (KindGap).
	DistanceM float64
}

// Duration returns End - Start.
func (s Segment) Duration() time.Duration { return s.End.Sub(s.Start) }

// Visit is one true visit, the KindVisit segment Segments[Segment], with
// the check-in and check-out made for it, if any.
type Visit struct {
	Client     dwell.ClientID
	Start, End time.Time
	Pos        dwell.LatLng
	// Segment is the visit's index in DayResult.Segments.
	Segment int
	// CheckIn and CheckOut index DayResult.CheckIns and CheckOuts, or are
	// -1.
	CheckIn, CheckOut int
}

// TrackPoint is a corner of the rep's true path: the rep moves in a
// straight line at constant speed from one point to the next and stands
// still between two points at the same place.
type TrackPoint struct {
	Time time.Time
	Pos  dwell.LatLng
}

// Source says why the phone produced a fix.
type Source int

// Fix sources.
const (
	SourceUnspecified Source = iota
	// SourceTrack is the background tracker.
	SourceTrack
	// SourceCheckIn and SourceCheckOut are the fresh fixes the app took for
	// a check-in or check-out (also uploaded with the track).
	SourceCheckIn
	SourceCheckOut
)

var sourceNames = [...]string{"UNSPECIFIED", "TRACK", "CHECK_IN", "CHECK_OUT"}

// String returns the upper-case name of s.
func (s Source) String() string {
	if s < 0 || int(s) >= len(sourceNames) {
		return "UNSPECIFIED"
	}
	return sourceNames[s]
}

// Observation is a fix the phone produced, with the truth behind it.
type Observation struct {
	Fix    dwell.Fix
	Source Source
	// TruePos is where the rep really was at Fix.Time.
	TruePos dwell.LatLng
	// ErrorM is the distance in metres from TruePos to Fix.Pos.
	ErrorM float64
	// Indoor is set for fixes taken at a client's site or at home, whose
	// accuracy is drawn from Profile.IndoorAccuracyM.
	Indoor bool
	// Outlier is set for multipath fixes hundreds of metres off.
	Outlier bool
}

// CheckInMode is how a check-in came about.
type CheckInMode int

// Check-in modes.
const (
	ModeUnspecified CheckInMode = iota
	// ModeOnSite is an honest check-in at the client's site, within the
	// first 2 minutes of the visit.
	ModeOnSite
	// ModeCarPark is made from a car park 200 to 600 m from the fence,
	// before walking to a visit that does happen.
	ModeCarPark
	// ModePhantom is made during an idle stop (a break, at home) for a
	// client 200 m to 2 km away that is not visited.
	ModePhantom
	// ModeMock is a phantom check-in with a mock location at the site; the
	// phone's fixes are mocked until the check-out.
	ModeMock
	// ModeAtDoor is an honest check-in made on the way in, 1 to 5 m
	// inside the fence (to the second: a second's walk more at most), at
	// most 5 min before the rep reaches the spot. As DESIGN counts the
	// time from a verified check-in as a visit, the visit starts there:
	// the walk on to the spot is part of it.
	ModeAtDoor
	// ModeNearby is made during a stop (a visit to another client, a
	// break) for a client whose fence is 80 to 500 m away, with the fix
	// the phone has then.
	ModeNearby
)

var modeNames = [...]string{"UNSPECIFIED", "ON_SITE", "CAR_PARK", "PHANTOM", "MOCK", "AT_DOOR", "NEARBY"}

// String returns the upper-case name of m.
func (m CheckInMode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return "UNSPECIFIED"
	}
	return modeNames[m]
}

// CheckIn is a check-in as the app sends it, with its truth. The embedded
// dwell.CheckIn has RequestID, Rep, Client, Time, Fix (one of the day's
// observations, same ID) and ReceiveTime (when it reaches the server, later
// if the phone is offline) set; Verification and DistanceM are left for
// the server to decide.
type CheckIn struct {
	dwell.CheckIn
	Mode CheckInMode
	// Honest is true when the rep is at the client's site (ModeOnSite,
	// ModeAtDoor).
	Honest bool
	// Visit indexes DayResult.Visits, or is -1 for phantom check-ins.
	Visit int
	// TruePos is where the rep really was.
	TruePos dwell.LatLng
	// FenceDistanceM is the signed distance in metres from the check-in
	// fix to the client's fence boundary (negative inside), in the
	// simulator's plane.
	FenceDistanceM float64
}

// CheckOut is a check-out as the app sends it, with its truth; see
// CheckIn.
type CheckOut struct {
	dwell.CheckOut
	// Honest is true when the rep is at the client's site.
	Honest bool
	// CheckIn indexes DayResult.CheckIns: the check-in this one closes.
	CheckIn int
	// Visit indexes DayResult.Visits, or is -1.
	Visit          int
	TruePos        dwell.LatLng
	FenceDistanceM float64
}

// Interval is the half-open time interval [Start, End).
type Interval struct{ Start, End time.Time }

// Contains reports whether t is in [Start, End).
func (iv Interval) Contains(t time.Time) bool { return !t.Before(iv.Start) && t.Before(iv.End) }

// Batch is one upload as it reaches the server.
type Batch struct {
	// ArriveAt is when the server receives it.
	ArriveAt time.Time
	// Fixes are at most Profile.BatchMax fixes, in the order sent.
	Fixes []dwell.Fix
	// Resent is set when this batch repeats an earlier one whose
	// acknowledgement the phone never got.
	Resent bool
}

// DayConfig says whose day and which day to simulate. Zero fields take
// defaults.
type DayConfig struct {
	// Rep is the rep's id (default "rep-1"). It also fixes the rep's home
	// and territory in the city.
	Rep dwell.RepID
	// Date is the local day (default 2026-03-02, a Monday).
	Date dwell.Date
	// Loc is the rep's time zone (default UTC).
	Loc *time.Location
	// Start and End are the working hours as wall-clock offsets from local
	// midnight (default 8h and 18h); the day lasts at least 2 h.
	Start, End time.Duration
}

func (c DayConfig) withDefaults() DayConfig {
	if c.Rep == "" {
		c.Rep = "rep-1"
	}
	if c.Date.IsZero() {
		c.Date = dwell.Date{Year: 2026, Month: time.March, Day: 2}
	}
	if c.Loc == nil {
		c.Loc = time.UTC
	}
	if c.Start == 0 && c.End == 0 {
		c.Start, c.End = 8*time.Hour, 18*time.Hour
	}
	return c
}

func (c DayConfig) validate() error {
	if vs := dwell.ValidateID("rep", string(c.Rep)); len(vs) > 0 {
		return fmt.Errorf("Rep: %s", vs[0].Description)
	}
	switch {
	case !c.Date.Valid():
		return fmt.Errorf("Date %v is not a calendar day", c.Date)
	case c.Start < 0 || c.End > 24*time.Hour:
		return fmt.Errorf("Start and End must be within the day, got %v..%v", c.Start, c.End)
	case c.End-c.Start < 2*time.Hour:
		return fmt.Errorf("the day must last at least 2h, got %v..%v", c.Start, c.End)
	}
	return nil
}

// wallClock returns the instant of the wall-clock offset off on date in loc.
func wallClock(d dwell.Date, off time.Duration, loc *time.Location) time.Time {
	h, m := int(off/time.Hour), int(off%time.Hour/time.Minute)
	s, ns := int(off%time.Minute/time.Second), int(off%time.Second)
	return time.Date(d.Year, d.Month, d.Day, h, m, s, ns, loc).UTC()
}

// DayResult is one simulated rep day: the truth and what the server gets.
// All times are UTC. It is a plain value; nothing in it is shared with the
// City or another day.
type DayResult struct {
	Seed    uint64
	Profile Profile
	Rep     dwell.RepID
	Date    dwell.Date
	// Start and End bound the working day; the truth covers [Start, End).
	Start, End time.Time
	Home       dwell.LatLng

	// Segments are the true timeline.
	Segments []Segment
	// Visits are the KindVisit segments with their check-ins.
	Visits []Visit
	// HiddenVisits counts the visits made while the phone was off, inside
	// KindGap segments: real, but beyond what any derivation can see.
	HiddenVisits int
	// Track is the rep's true path.
	Track []TrackPoint

	// Observations are the fixes the phone produced, by time, each once.
	Observations []Observation
	// CheckIns and CheckOuts are the rep's claims, by time.
	CheckIns  []CheckIn
	CheckOuts []CheckOut
	// Uploads are the batches as they reach the server, by arrival: every
	// observation at least once, some twice or more.
	Uploads []Batch

	// PhoneOff are the phone-off stretches (the KindGap segments).
	PhoneOff []Interval
	// Silences are stretches without fixes while the rep stays at a stop.
	Silences []Interval
	// Offline are stretches without network; fixes and check-ins made then
	// arrive at their end.
	Offline []Interval
}

// Day simulates one working day of cfg.Rep in city under profile p, from
// seed. The same arguments give the same result, byte for byte (see
// Digest). It fails if cfg or p is invalid, or if the city has too few
// sites (shops, for a canvassing profile) or the day is too short for
// p.Visits.Min visits.
func Day(seed uint64, city *City, p Profile, cfg DayConfig) (*DayResult, error) {
	const op dwell.Op = "sim.Day"
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, dwell.E(op, dwell.Invalid, err.Error())
	}
	if err := p.validate(); err != nil {
		return nil, dwell.E(op, dwell.Invalid, fmt.Sprintf("profile %q: %v", p.Name, err))
	}
	d := &day{seed: seed, city: city, p: p, cfg: cfg}
	d.start = wallClock(cfg.Date, cfg.Start, cfg.Loc)
	d.span = wallClock(cfg.Date, cfg.End, cfg.Loc).Sub(d.start).Milliseconds()
	if d.span < 2*time.Hour.Milliseconds() {
		return nil, dwell.E(op, dwell.Invalid, "the day must last at least 2h (a time-zone change shortened it)")
	}
	d.territory, d.home = city.repPlaces(cfg.Rep)
	if err := d.plan(); err != nil {
		return nil, dwell.E(op, dwell.FailedPrecondition, err.Error())
	}
	d.phoneOff(newRNG(seed, streamGaps))
	d.claims(newRNG(seed, streamEvents), newRNG(seed, streamClaims))
	d.silence(newRNG(seed, streamSilences))
	d.sample(newRNG(seed, streamNoise), newRNG(seed, streamDoppler))
	d.upload(newRNG(seed, streamUploads))
	return d.result(), nil
}

// TruthAt returns the true kind and, for a visit, the client at t; KindNone
// outside [Start, End).
func (r *DayResult) TruthAt(t time.Time) (Kind, dwell.ClientID) {
	i := sort.Search(len(r.Segments), func(i int) bool { return r.Segments[i].End.After(t) })
	if i == len(r.Segments) || t.Before(r.Segments[i].Start) {
		return KindNone, ""
	}
	return r.Segments[i].Kind, r.Segments[i].Client
}

// PosAt returns where the rep truly was at t, clamped to [Start, End].
func (r *DayResult) PosAt(t time.Time) dwell.LatLng {
	tr := r.Track
	i := sort.Search(len(tr), func(i int) bool { return tr[i].Time.After(t) })
	switch {
	case i == 0:
		return tr[0].Pos
	case i == len(tr):
		return tr[len(tr)-1].Pos
	}
	a, b := tr[i-1], tr[i]
	f := float64(t.Sub(a.Time)) / float64(b.Time.Sub(a.Time))
	return dwell.LatLng{Lat: a.Pos.Lat + (b.Pos.Lat-a.Pos.Lat)*f, Lng: a.Pos.Lng + (b.Pos.Lng-a.Pos.Lng)*f}
}

// AllFixes returns every fix the phone produced, once each, ordered by
// time then ID: the set the server holds once all uploads are in.
func (r *DayResult) AllFixes() []dwell.Fix {
	out := make([]dwell.Fix, len(r.Observations))
	for i, o := range r.Observations {
		out[i] = o.Fix
	}
	slices.SortStableFunc(out, func(a, b dwell.Fix) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Shuffled returns the fixes of all uploads, repeats included, in an order
// drawn from seed: the same set in another order, for order-independence
// tests.
func (r *DayResult) Shuffled(seed uint64) []dwell.Fix {
	var out []dwell.Fix
	for _, b := range r.Uploads {
		out = append(out, b.Fixes...)
	}
	rng := rand.New(rand.NewPCG(seed, streamShuffle))
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
