package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Value versions. Every stored value starts with one version byte so that
// the format can change without a flag day: a decoder that meets a version
// it does not know returns an error instead of guessing.
const (
	fixV1    byte = 1
	recordV1 byte = 1 // JSON directory records, settings, check-ins, check-outs, calls
)

// Fix value flags (byte 1 of a fix value).
const (
	fixHasSpeed    byte = 1 << iota // SpeedMPS follows (else it is -1)
	fixHasBearing                   // BearingDeg follows (else it is -1)
	fixAltValue                     // AltitudeM follows (else it is 0)
	fixHasAltitude                  // Fix.HasAltitude
	fixMock                         // Fix.Mock
	fixKnownFlags  = fixHasSpeed | fixHasBearing | fixAltValue | fixHasAltitude | fixMock
)

// timeKeyLen is the length of the sortable time prefix of fix and record keys.
const timeKeyLen = 8

// fixHeaderLen is the fixed part of a fix value: version, flags, lat, lng,
// accuracy.
const fixHeaderLen = 2 + 3*8

// maxFixValueLen is the longest fix value: the header and three optional
// float64 fields.
const maxFixValueLen = fixHeaderLen + 3*8

// minKeyTime and maxKeyTime bound the instants a time key can hold: those
// whose Unix time in nanoseconds fits an int64 (years 1678 to 2262).
var (
	minKeyTime = time.Unix(0, math.MinInt64)
	maxKeyTime = time.Unix(0, math.MaxInt64)
)

// keyTimeOK reports whether t can be stored in a time key exactly.
func keyTimeOK(t time.Time) bool {
	return !t.Before(minKeyTime) && !t.After(maxKeyTime)
}

// putTimeKey writes the sortable 8-byte form of t to b: the Unix time in
// nanoseconds with its sign bit flipped, big-endian, so that byte order is
// time order also before 1970. Instants outside [minKeyTime, maxKeyTime] are
// clamped, which is what a range bound needs; stored instants are checked
// with keyTimeOK first.
func putTimeKey(b []byte, t time.Time) {
	var n int64
	switch {
	case t.Before(minKeyTime):
		n = math.MinInt64
	case t.After(maxKeyTime):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	binary.BigEndian.PutUint64(b, uint64(n)^(1<<63))
}

// timeKey returns the 8-byte sortable form of t.
func timeKey(t time.Time) []byte {
	b := make([]byte, timeKeyLen)
	putTimeKey(b, t)
	return b
}

// keyTime decodes the sortable time prefix of a key; len(b) must be at
// least timeKeyLen.
func keyTime(b []byte) time.Time {
	n := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	return time.Unix(0, n).UTC()
}

// fixKeyLen returns the length of the key of a fix with the given id.
func fixKeyLen(id string) int { return timeKeyLen + len(id) }

// putFixKey writes the key of f, time key then id, to b and returns the
// bytes written.
func putFixKey(b []byte, f *dwell.Fix) int {
	putTimeKey(b, f.Time)
	return timeKeyLen + copy(b[timeKeyLen:], f.ID)
}

// putFixValue writes the compact value of f to b, which must have room for
// maxFixValueLen bytes, and returns the bytes written.
//
// Layout (version 1), little-endian IEEE 754 floats:
//
//	[0]     version (1)
//	[1]     flags: speed, bearing, altitude value, HasAltitude, Mock
//	[2:10]  latitude, degrees
//	[10:18] longitude, degrees
//	[18:26] horizontal accuracy, metres
//	then, in this order and only if flagged: speed (m/s), bearing (degrees),
//	altitude (metres).
//
// Unknown speed and bearing (-1) and a zero altitude take no space. The fix
// id and time live in the key.
func putFixValue(b []byte, f *dwell.Fix) int {
	var flags byte
	if f.SpeedMPS != -1 {
		flags |= fixHasSpeed
	}
	if f.BearingDeg != -1 {
		flags |= fixHasBearing
	}
	if f.AltitudeM != 0 {
		flags |= fixAltValue
	}
	if f.HasAltitude {
		flags |= fixHasAltitude
	}
	if f.Mock {
		flags |= fixMock
	}
	b[0] = fixV1
	b[1] = flags
	le := binary.LittleEndian
	le.PutUint64(b[2:], math.Float64bits(f.Pos.Lat))
	le.PutUint64(b[10:], math.Float64bits(f.Pos.Lng))
	le.PutUint64(b[18:], math.Float64bits(f.AccuracyM))
	n := fixHeaderLen
	if flags&fixHasSpeed != 0 {
		le.PutUint64(b[n:], math.Float64bits(f.SpeedMPS))
		n += 8
	}
	if flags&fixHasBearing != 0 {
		le.PutUint64(b[n:], math.Float64bits(f.BearingDeg))
		n += 8
	}
	if flags&fixAltValue != 0 {
		le.PutUint64(b[n:], math.Float64bits(f.AltitudeM))
		n += 8
	}
	return n
}

// decodeFix decodes a fix from its key and value. It never panics: corrupt
// or unknown input yields an error of kind dwell.Other. The result does not
// alias key or value.
func decodeFix(key, val []byte) (dwell.Fix, error) {
	f, err := decodeFixBody(key, val)
	if err == nil {
		f.ID = string(key[timeKeyLen:])
	}
	return f, err
}

// decodeFixBody is decodeFix without the ID, for callers that keep the ids
// of many fixes in one block.
func decodeFixBody(key, val []byte) (dwell.Fix, error) {
	const op = dwell.Op("boltstore.decodeFix")
	var f dwell.Fix
	if len(key) <= timeKeyLen {
		return f, dwell.E(op, dwell.Other, fmt.Sprintf("fix key of %d bytes, want more than %d", len(key), timeKeyLen))
	}
	if len(val) < fixHeaderLen {
		return f, dwell.E(op, dwell.Other, fmt.Sprintf("fix value of %d bytes, want at least %d", len(val), fixHeaderLen))
	}
	if val[0] != fixV1 {
		return f, dwell.E(op, dwell.Other, fmt.Sprintf("unknown fix value version %d", val[0]))
	}
	flags := val[1]
	if flags&^fixKnownFlags != 0 {
		return f, dwell.E(op, dwell.Other, fmt.Sprintf("unknown fix flags %#x", flags))
	}
	want := fixHeaderLen
	for _, bit := range [...]byte{fixHasSpeed, fixHasBearing, fixAltValue} {
		if flags&bit != 0 {
			want += 8
		}
	}
	if len(val) != want {
		return f, dwell.E(op, dwell.Other, fmt.Sprintf("fix value of %d bytes, want %d for flags %#x", len(val), want, flags))
	}
	le := binary.LittleEndian
	f.Time = keyTime(key)
	f.Pos.Lat = math.Float64frombits(le.Uint64(val[2:]))
	f.Pos.Lng = math.Float64frombits(le.Uint64(val[10:]))
	f.AccuracyM = math.Float64frombits(le.Uint64(val[18:]))
	f.SpeedMPS, f.BearingDeg = -1, -1
	n := fixHeaderLen
	if flags&fixHasSpeed != 0 {
		f.SpeedMPS = math.Float64frombits(le.Uint64(val[n:]))
		n += 8
	}
	if flags&fixHasBearing != 0 {
		f.BearingDeg = math.Float64frombits(le.Uint64(val[n:]))
		n += 8
	}
	if flags&fixAltValue != 0 {
		f.AltitudeM = math.Float64frombits(le.Uint64(val[n:]))
	}
	f.HasAltitude = flags&fixHasAltitude != 0
	f.Mock = flags&fixMock != 0
	return f, nil
}

// encodeJSON returns the version byte followed by the JSON form of v. It is
// used for the low-volume records (directory, settings, rep actions), where
// readability and easy evolution matter more than bytes.
func encodeJSON(op dwell.Op, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, dwell.E(op, dwell.Other, "encoding record", err)
	}
	out := make([]byte, 1+len(b))
	out[0] = recordV1
	copy(out[1:], b)
	return out, nil
}

// decodeJSON decodes a value written by encodeJSON into v. Corrupt input
// yields an error of kind dwell.Other.
func decodeJSON(op dwell.Op, what string, b []byte, v any) error {
	if len(b) == 0 {
		return dwell.E(op, dwell.Other, "empty "+what+" record")
	}
	if b[0] != recordV1 {
		return dwell.E(op, dwell.Other, fmt.Sprintf("unknown %s record version %d", what, b[0]))
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return dwell.E(op, dwell.Other, "decoding "+what+" record", err)
	}
	return nil
}

// The record types below are the on-disk JSON shapes. They are separate
// from the domain types on purpose: renaming a field in package dwell must
// not change what is on disk. Short JSON names keep records small. Times are
// stored in UTC (RFC 3339 with nanoseconds) and come back in UTC.

type latLngRec [2]float64 // lat, lng in degrees

func toLatLngRec(p dwell.LatLng) latLngRec { return latLngRec{p.Lat, p.Lng} }
func (r latLngRec) domain() dwell.LatLng   { return dwell.LatLng{Lat: r[0], Lng: r[1]} }

func toRingRec(ring []dwell.LatLng) []latLngRec {
	if ring == nil {
		return nil
	}
	out := make([]latLngRec, len(ring))
	for i, p := range ring {
		out[i] = toLatLngRec(p)
	}
	return out
}

func ringDomain(ring []latLngRec) []dwell.LatLng {
	if len(ring) == 0 {
		return nil
	}
	out := make([]dwell.LatLng, len(ring))
	for i, p := range ring {
		out[i] = p.domain()
	}
	return out
}

type circleRec struct {
	Center  latLngRec `json:"c"`
	RadiusM float64   `json:"r"`
}

type polygonRec struct {
	Shell []latLngRec   `json:"s"`
	Holes [][]latLngRec `json:"h,omitempty"`
}

type clientRec struct {
	DisplayName string      `json:"n,omitempty"`
	Kind        int         `json:"k,omitempty"`
	Address     string      `json:"a,omitempty"`
	ExternalID  string      `json:"x,omitempty"`
	Circle      *circleRec  `json:"fc,omitempty"`
	Polygon     *polygonRec `json:"fp,omitempty"`
	CreateTime  time.Time   `json:"ct"`
	UpdateTime  time.Time   `json:"ut"`
	// Rev is the record's revision (dwell.Client.Revision); a record
	// written before revisions were kept has none and reads as 1.
	Rev int64 `json:"rev,omitempty"`
}

func toClientRec(c *dwell.Client) clientRec {
	r := clientRec{
		DisplayName: c.DisplayName,
		Kind:        int(c.Kind),
		Address:     c.Address,
		ExternalID:  c.ExternalID,
		CreateTime:  c.CreateTime.UTC(),
		UpdateTime:  c.UpdateTime.UTC(),
	}
	if c.Fence.Circle != nil {
		r.Circle = &circleRec{Center: toLatLngRec(c.Fence.Circle.Center), RadiusM: c.Fence.Circle.RadiusM}
	}
	if p := c.Fence.Polygon; p != nil {
		pr := &polygonRec{Shell: toRingRec(p.Shell)}
		if p.Holes != nil {
			pr.Holes = make([][]latLngRec, len(p.Holes))
			for i, h := range p.Holes {
				pr.Holes[i] = toRingRec(h)
			}
		}
		r.Polygon = pr
	}
	return r
}

func (r *clientRec) domain(id string) dwell.Client {
	c := dwell.Client{
		ID:          dwell.ClientID(id),
		DisplayName: r.DisplayName,
		Kind:        dwell.ClientKind(r.Kind),
		Address:     r.Address,
		ExternalID:  r.ExternalID,
		CreateTime:  r.CreateTime.UTC(),
		UpdateTime:  r.UpdateTime.UTC(),
		Revision:    storedRevision(r.Rev),
	}
	if r.Circle != nil {
		c.Fence.Circle = &dwell.Circle{Center: r.Circle.Center.domain(), RadiusM: r.Circle.RadiusM}
	}
	if r.Polygon != nil {
		p := &dwell.Polygon{Shell: ringDomain(r.Polygon.Shell)}
		if len(r.Polygon.Holes) > 0 {
			p.Holes = make([][]dwell.LatLng, len(r.Polygon.Holes))
			for i, h := range r.Polygon.Holes {
				p.Holes[i] = ringDomain(h)
			}
		}
		c.Fence.Polygon = p
	}
	return c
}

type workingHoursRec struct {
	Weekday     int `json:"d"`
	StartMinute int `json:"s"`
	EndMinute   int `json:"e"`
}

type repRec struct {
	DisplayName  string            `json:"n,omitempty"`
	Email        string            `json:"m,omitempty"`
	TimeZone     string            `json:"z,omitempty"`
	Team         string            `json:"t,omitempty"`
	WorkingHours []workingHoursRec `json:"w,omitempty"`
	CreateTime   time.Time         `json:"ct"`
	UpdateTime   time.Time         `json:"ut"`
	Rev          int64             `json:"rev,omitempty"` // as clientRec.Rev
}

func toRepRec(r *dwell.Rep) repRec {
	rec := repRec{
		DisplayName: r.DisplayName,
		Email:       r.Email,
		TimeZone:    r.TimeZone,
		Team:        string(r.Team),
		CreateTime:  r.CreateTime.UTC(),
		UpdateTime:  r.UpdateTime.UTC(),
	}
	for _, w := range r.WorkingHours {
		rec.WorkingHours = append(rec.WorkingHours, workingHoursRec{int(w.Weekday), w.StartMinute, w.EndMinute})
	}
	return rec
}

func (rec *repRec) domain(id string) dwell.Rep {
	r := dwell.Rep{
		ID:          dwell.RepID(id),
		DisplayName: rec.DisplayName,
		Email:       rec.Email,
		TimeZone:    rec.TimeZone,
		Team:        dwell.TeamID(rec.Team),
		CreateTime:  rec.CreateTime.UTC(),
		UpdateTime:  rec.UpdateTime.UTC(),
		Revision:    storedRevision(rec.Rev),
	}
	for _, w := range rec.WorkingHours {
		r.WorkingHours = append(r.WorkingHours, dwell.WorkingHours{Weekday: time.Weekday(w.Weekday), StartMinute: w.StartMinute, EndMinute: w.EndMinute})
	}
	return r
}

type teamRec struct {
	DisplayName string    `json:"n,omitempty"`
	Managers    []string  `json:"m,omitempty"`
	CreateTime  time.Time `json:"ct"`
	UpdateTime  time.Time `json:"ut"`
	Rev         int64     `json:"rev,omitempty"` // as clientRec.Rev
}

func toTeamRec(t *dwell.Team) teamRec {
	return teamRec{DisplayName: t.DisplayName, Managers: t.Managers, CreateTime: t.CreateTime.UTC(), UpdateTime: t.UpdateTime.UTC()}
}

func (rec *teamRec) domain(id string) dwell.Team {
	t := dwell.Team{ID: dwell.TeamID(id), DisplayName: rec.DisplayName, CreateTime: rec.CreateTime.UTC(), UpdateTime: rec.UpdateTime.UTC(),
		Revision: storedRevision(rec.Rev)}
	if len(rec.Managers) > 0 {
		t.Managers = rec.Managers
	}
	return t
}

// settingsRec stores durations in nanoseconds. A field missing from an older
// record takes its default.
type settingsRec struct {
	RetentionNS *int64 `json:"ret,omitempty"`
	VisitMinNS  *int64 `json:"vmin,omitempty"`
	IdleMinNS   *int64 `json:"imin,omitempty"`
	SilenceNS   *int64 `json:"silence,omitempty"`
	// PartnersRequired is Settings.PartnerAccountsRequired (absent: false).
	PartnersRequired bool `json:"preq,omitempty"`
	// Rev is as clientRec.Rev: stored settings have revision 1 or more.
	Rev int64 `json:"rev,omitempty"`
}

func toSettingsRec(s *dwell.Settings) settingsRec {
	ret, vmin, imin := int64(s.Retention), int64(s.VisitMin), int64(s.IdleMin)
	silence := int64(s.SilenceMin)
	return settingsRec{RetentionNS: &ret, VisitMinNS: &vmin, IdleMinNS: &imin, SilenceNS: &silence, PartnersRequired: s.PartnerAccountsRequired}
}

func (rec *settingsRec) domain() dwell.Settings {
	s := dwell.DefaultSettings()
	if rec.RetentionNS != nil {
		s.Retention = time.Duration(*rec.RetentionNS)
	}
	if rec.VisitMinNS != nil {
		s.VisitMin = time.Duration(*rec.VisitMinNS)
	}
	if rec.IdleMinNS != nil {
		s.IdleMin = time.Duration(*rec.IdleMinNS)
	}
	if rec.SilenceNS != nil {
		s.SilenceMin = time.Duration(*rec.SilenceNS)
	}
	s.PartnerAccountsRequired = rec.PartnersRequired
	s.Revision = storedRevision(rec.Rev)
	return s
}

// storedRevision is the revision of a stored record whose "rev" is rev: a
// record written before revisions were kept has none (0) and counts as
// revision 1, since it was stored once and 0 would mean "not stored" (as a
// precondition: "unconditional", which would let a masked update of an old
// record undo a concurrent one). Its first write then stores revision 2.
func storedRevision(rev int64) int64 { return max(rev, 1) }

// lifeOf returns the revision and the creation instant of a stored
// client, rep, team or partner account record v (all keep the instant
// under "ct").
func lifeOf(op dwell.Op, what string, v []byte) (int64, time.Time, error) {
	var r struct {
		Rev int64     `json:"rev"`
		CT  time.Time `json:"ct"`
	}
	if err := decodeJSON(op, what, v, &r); err != nil {
		return 0, time.Time{}, err
	}
	return storedRevision(r.Rev), r.CT, nil
}

// revisionOf returns the revision of the stored JSON record v (see
// storedRevision), reading only its "rev".
func revisionOf(op dwell.Op, what string, v []byte) (int64, error) {
	var r struct {
		Rev int64 `json:"rev"`
	}
	if err := decodeJSON(op, what, v, &r); err != nil {
		return 0, err
	}
	return storedRevision(r.Rev), nil
}

// fixRec is a fix embedded in a check-in or check-out record.
type fixRec struct {
	ID          string    `json:"id,omitempty"`
	Time        time.Time `json:"t"`
	Pos         latLngRec `json:"p"`
	AccuracyM   float64   `json:"acc"`
	SpeedMPS    float64   `json:"spd"`
	BearingDeg  float64   `json:"brg"`
	AltitudeM   float64   `json:"alt,omitempty"`
	HasAltitude bool      `json:"halt,omitempty"`
	Mock        bool      `json:"mock,omitempty"`
}

func toFixRec(f *dwell.Fix) *fixRec {
	if f == nil {
		return nil
	}
	return &fixRec{ID: f.ID, Time: f.Time.UTC(), Pos: toLatLngRec(f.Pos), AccuracyM: f.AccuracyM,
		SpeedMPS: f.SpeedMPS, BearingDeg: f.BearingDeg, AltitudeM: f.AltitudeM, HasAltitude: f.HasAltitude, Mock: f.Mock}
}

func (r *fixRec) domain() *dwell.Fix {
	if r == nil {
		return nil
	}
	return &dwell.Fix{ID: r.ID, Time: r.Time.UTC(), Pos: r.Pos.domain(), AccuracyM: r.AccuracyM,
		SpeedMPS: r.SpeedMPS, BearingDeg: r.BearingDeg, AltitudeM: r.AltitudeM, HasAltitude: r.HasAltitude, Mock: r.Mock}
}

type checkInRec struct {
	RequestID    string    `json:"rid,omitempty"`
	Client       string    `json:"c"`
	Time         time.Time `json:"t"`
	Fix          *fixRec   `json:"f,omitempty"`
	Verification int       `json:"v,omitempty"`
	DistanceM    float64   `json:"d,omitempty"`
	ReceiveTime  time.Time `json:"rt"`
}

func toCheckInRec(c *dwell.CheckIn) checkInRec {
	return checkInRec{RequestID: c.RequestID, Client: string(c.Client), Time: c.Time.UTC(), Fix: toFixRec(c.Fix),
		Verification: int(c.Verification), DistanceM: c.DistanceM, ReceiveTime: c.ReceiveTime.UTC()}
}

func (r *checkInRec) domain(rep dwell.RepID) dwell.CheckIn {
	return dwell.CheckIn{RequestID: r.RequestID, Rep: rep, Client: dwell.ClientID(r.Client), Time: r.Time.UTC(),
		Fix: r.Fix.domain(), Verification: dwell.Verification(r.Verification), DistanceM: r.DistanceM, ReceiveTime: r.ReceiveTime.UTC()}
}

// dropFix clears the record's fix and reports whether it had one.
func (r *checkInRec) dropFix() bool {
	had := r.Fix != nil
	r.Fix = nil
	return had
}

type dateRec struct {
	Year  int `json:"y"`
	Month int `json:"m"`
	Day   int `json:"d"`
}

type checkOutRec struct {
	RequestID       string    `json:"rid,omitempty"`
	Client          string    `json:"c"`
	Time            time.Time `json:"t"`
	Fix             *fixRec   `json:"f,omitempty"`
	Outcome         int       `json:"o,omitempty"`
	FollowUpDate    *dateRec  `json:"fu,omitempty"`
	RejectionReason int       `json:"rr,omitempty"`
	RejectionText   string    `json:"rx,omitempty"`
	Notes           string    `json:"n,omitempty"`
	ReceiveTime     time.Time `json:"rt"`
}

func toCheckOutRec(c *dwell.CheckOut) checkOutRec {
	r := checkOutRec{RequestID: c.RequestID, Client: string(c.Client), Time: c.Time.UTC(), Fix: toFixRec(c.Fix),
		Outcome: int(c.Outcome), RejectionReason: int(c.RejectionReason), RejectionText: c.RejectionText,
		Notes: c.Notes, ReceiveTime: c.ReceiveTime.UTC()}
	if !c.FollowUpDate.IsZero() {
		r.FollowUpDate = &dateRec{c.FollowUpDate.Year, int(c.FollowUpDate.Month), c.FollowUpDate.Day}
	}
	return r
}

func (r *checkOutRec) domain(rep dwell.RepID) dwell.CheckOut {
	c := dwell.CheckOut{RequestID: r.RequestID, Rep: rep, Client: dwell.ClientID(r.Client), Time: r.Time.UTC(),
		Fix: r.Fix.domain(), Outcome: dwell.Outcome(r.Outcome), RejectionReason: dwell.RejectionReason(r.RejectionReason),
		RejectionText: r.RejectionText, Notes: r.Notes, ReceiveTime: r.ReceiveTime.UTC()}
	if r.FollowUpDate != nil {
		c.FollowUpDate = dwell.Date{Year: r.FollowUpDate.Year, Month: time.Month(r.FollowUpDate.Month), Day: r.FollowUpDate.Day}
	}
	return c
}

// dropFix clears the record's fix and reports whether it had one.
func (r *checkOutRec) dropFix() bool {
	had := r.Fix != nil
	r.Fix = nil
	return had
}

type callRec struct {
	RequestID   string    `json:"rid,omitempty"`
	Client      string    `json:"c"`
	StartTime   time.Time `json:"t"`
	TalkSeconds int64     `json:"ts,omitempty"`
	Direction   int       `json:"d,omitempty"`
	Outcome     int       `json:"o,omitempty"`
	Notes       string    `json:"n,omitempty"`
	ReceiveTime time.Time `json:"rt"`
}

func toCallRec(c *dwell.Call) callRec {
	return callRec{RequestID: c.RequestID, Client: string(c.Client), StartTime: c.StartTime.UTC(), TalkSeconds: c.TalkSeconds,
		Direction: int(c.Direction), Outcome: int(c.Outcome), Notes: c.Notes, ReceiveTime: c.ReceiveTime.UTC()}
}

func (r *callRec) domain(rep dwell.RepID) dwell.Call {
	return dwell.Call{RequestID: r.RequestID, Rep: rep, Client: dwell.ClientID(r.Client), StartTime: r.StartTime.UTC(),
		TalkSeconds: r.TalkSeconds, Direction: dwell.CallDirection(r.Direction), Outcome: dwell.CallOutcome(r.Outcome),
		Notes: r.Notes, ReceiveTime: r.ReceiveTime.UTC()}
}

type trackingRec struct {
	RequestID   string    `json:"rid,omitempty"`
	Time        time.Time `json:"t"`
	Paused      bool      `json:"p,omitempty"`
	ReceiveTime time.Time `json:"rt"`
}

func toTrackingRec(c *dwell.TrackingChange) trackingRec {
	return trackingRec{RequestID: c.RequestID, Time: c.Time.UTC(), Paused: c.Paused, ReceiveTime: c.ReceiveTime.UTC()}
}

func (r *trackingRec) domain(rep dwell.RepID) dwell.TrackingChange {
	return dwell.TrackingChange{RequestID: r.RequestID, Rep: rep, Time: r.Time.UTC(), Paused: r.Paused, ReceiveTime: r.ReceiveTime.UTC()}
}

// errCorrupt is the error of a decoder that met bytes it cannot read.
func errCorrupt(op, msg string) error {
	return dwell.E(dwell.Op(op), dwell.Other, msg)
}
