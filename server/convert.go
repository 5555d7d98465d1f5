package server

import (
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file is the only place that converts between wire (dwellv1) and
// domain (dwell) types. Conversions from the wire never fail: they carry what
// was sent, and validation in pkg/dwell reports what is wrong with field
// paths that match the wire names.

// Resource name collections, as in "clients/{client_id}".
const (
	collClients = "clients"
	collReps    = "reps"
	collTeams   = "teams"
)

// parseName returns the id of a resource name "coll/{id}", or false if name
// is not of that form.
func parseName(coll, name string) (string, bool) {
	id, ok := strings.CutPrefix(name, coll+"/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// idFromName returns the id of name, a resource name in collection coll
// given in request field field, or the violations (on field) that make it
// unusable: not of the form "coll/{id}", or with an id no resource can
// have (see dwell.ValidateID). Such names never reach the store, whose own
// checks would name another field, nor a NOT_FOUND message that would echo
// them.
func idFromName(coll, field, name string) (string, []dwell.Violation) {
	id, ok := parseName(coll, name)
	if !ok {
		return "", []dwell.Violation{{Field: field, Description: `must be a resource name "` + coll + `/{id}"`}}
	}
	if vs := dwell.ValidateID(field, id); vs != nil {
		return "", vs
	}
	return id, nil
}

// resourceName returns "coll/id".
func resourceName(coll, id string) string { return coll + "/" + id }

func tsOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeFromPB returns the instant of ts, or the zero time when ts is nil,
// which validation reports as missing. It does not check ts: nanos out of
// range would carry into the seconds. Every timestamp a caller sends goes
// through validTimeFromPB, which refuses such a timestamp; only
// validTimeFromPB calls this.
func timeFromPB(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return time.Unix(ts.GetSeconds(), int64(ts.GetNanos())).UTC()
}

// invalidTimestamp is the violation of a set google.protobuf.Timestamp that
// is not valid (Timestamp.CheckValid).
const invalidTimestamp = "not a valid Timestamp: nanos must be from 0 to 999,999,999 and the instant within the years 1 to 9999"

// validTimeFromPB is timeFromPB for every timestamp a caller sends (the
// device time of rep data: a fix, a check-in, a call, a pause...; the
// times of an appointment or an opportunity), with a violation on field
// when ts is set but not a valid Timestamp: nanos out of range (negative,
// or a second or more) would otherwise be carried into the seconds and the
// data stored up to seconds away from the instant the caller meant.
func validTimeFromPB(field string, ts *timestamppb.Timestamp) (time.Time, []dwell.Violation) {
	if ts != nil && ts.CheckValid() != nil {
		return time.Time{}, []dwell.Violation{{Field: field, Description: invalidTimestamp}}
	}
	return timeFromPB(ts), nil
}

func latLngFromPB(p *dwellv1.LatLng) dwell.LatLng {
	if p == nil {
		return dwell.LatLng{Lat: nan(), Lng: nan()}
	}
	return dwell.LatLng{Lat: p.GetLat(), Lng: p.GetLng()}
}

func latLngToPB(p dwell.LatLng) *dwellv1.LatLng { return &dwellv1.LatLng{Lat: p.Lat, Lng: p.Lng} }

func ringFromPB(r *dwellv1.LinearRing) []dwell.LatLng {
	out := make([]dwell.LatLng, 0, len(r.GetVertices()))
	for _, v := range r.GetVertices() {
		out = append(out, latLngFromPB(v))
	}
	return out
}

func ringToPB(r []dwell.LatLng) *dwellv1.LinearRing {
	out := &dwellv1.LinearRing{Vertices: make([]*dwellv1.LatLng, len(r))}
	for i, v := range r {
		out.Vertices[i] = latLngToPB(v)
	}
	return out
}

func geofenceFromPB(g *dwellv1.Geofence) dwell.Geofence {
	switch s := g.GetShape().(type) {
	case *dwellv1.Geofence_Circle:
		return dwell.Geofence{Circle: &dwell.Circle{
			Center:  latLngFromPB(s.Circle.GetCenter()),
			RadiusM: s.Circle.GetRadiusMeters(),
		}}
	case *dwellv1.Geofence_Polygon:
		p := &dwell.Polygon{Shell: ringFromPB(s.Polygon.GetShell())}
		for _, h := range s.Polygon.GetHoles() {
			p.Holes = append(p.Holes, ringFromPB(h))
		}
		return dwell.Geofence{Polygon: p}
	}
	return dwell.Geofence{}
}

func geofenceToPB(g dwell.Geofence) *dwellv1.Geofence {
	switch {
	case g.Circle != nil:
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
			Center: latLngToPB(g.Circle.Center), RadiusMeters: g.Circle.RadiusM,
		}}}
	case g.Polygon != nil:
		p := &dwellv1.Polygon{Shell: ringToPB(g.Polygon.Shell)}
		for _, h := range g.Polygon.Holes {
			p.Holes = append(p.Holes, ringToPB(h))
		}
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}
	}
	return nil
}

func clientFromPB(c *dwellv1.Client) dwell.Client {
	return dwell.Client{
		DisplayName: c.GetDisplayName(),
		Kind:        dwell.ClientKind(c.GetKind()),
		Address:     c.GetAddress(),
		ExternalID:  c.GetExternalId(),
		Fence:       geofenceFromPB(c.GetGeofence()),
	}
}

func clientToPB(c dwell.Client) *dwellv1.Client {
	return &dwellv1.Client{
		Name:        resourceName(collClients, string(c.ID)),
		DisplayName: c.DisplayName,
		Kind:        dwellv1.ClientKind(c.Kind),
		Address:     c.Address,
		ExternalId:  c.ExternalID,
		Geofence:    geofenceToPB(c.Fence),
		CreateTime:  tsOrNil(c.CreateTime),
		UpdateTime:  tsOrNil(c.UpdateTime),
		Etag:        lifeEtagOf(c.Revision, c.CreateTime),
	}
}

func workingHoursFromPB(ws []*dwellv1.WorkingHours) []dwell.WorkingHours {
	var out []dwell.WorkingHours
	for _, w := range ws {
		out = append(out, dwell.WorkingHours{
			Weekday:     time.Weekday(w.GetDayOfWeek()),
			StartMinute: int(w.GetStartMinute()),
			EndMinute:   int(w.GetEndMinute()),
		})
	}
	return out
}

func workingHoursToPB(ws []dwell.WorkingHours) []*dwellv1.WorkingHours {
	var out []*dwellv1.WorkingHours
	for _, w := range ws {
		out = append(out, &dwellv1.WorkingHours{
			DayOfWeek:   int32(w.Weekday),
			StartMinute: int32(w.StartMinute),
			EndMinute:   int32(w.EndMinute),
		})
	}
	return out
}

// repFromPB converts a wire rep. The team reference is returned separately
// because it must be parsed (and may be malformed).
func repFromPB(r *dwellv1.Rep) dwell.Rep {
	return dwell.Rep{
		DisplayName:  r.GetDisplayName(),
		Email:        r.GetEmail(),
		TimeZone:     r.GetTimeZone(),
		WorkingHours: workingHoursFromPB(r.GetWorkingHours()),
	}
}

func repToPB(r dwell.Rep) *dwellv1.Rep {
	out := &dwellv1.Rep{
		Name:         resourceName(collReps, string(r.ID)),
		DisplayName:  r.DisplayName,
		Email:        r.Email,
		TimeZone:     r.TimeZone,
		WorkingHours: workingHoursToPB(r.WorkingHours),
		CreateTime:   tsOrNil(r.CreateTime),
		UpdateTime:   tsOrNil(r.UpdateTime),
		Etag:         lifeEtagOf(r.Revision, r.CreateTime),
	}
	if r.Team != "" {
		out.Team = resourceName(collTeams, string(r.Team))
	}
	return out
}

func teamFromPB(t *dwellv1.Team) dwell.Team {
	return dwell.Team{
		DisplayName: t.GetDisplayName(),
		Managers:    append([]string(nil), t.GetManagers()...),
	}
}

func teamToPB(t dwell.Team) *dwellv1.Team {
	return &dwellv1.Team{
		Name:        resourceName(collTeams, string(t.ID)),
		DisplayName: t.DisplayName,
		Managers:    t.Managers,
		CreateTime:  tsOrNil(t.CreateTime),
		UpdateTime:  tsOrNil(t.UpdateTime),
		Etag:        lifeEtagOf(t.Revision, t.CreateTime),
	}
}

// fixFromPBValid is fixFromPB with a violation on prefix+"device_time"
// when the device time is not a valid Timestamp (validTimeFromPB); the
// fix's Time is then zero.
func fixFromPBValid(prefix string, pf *dwellv1.Fix) (dwell.Fix, []dwell.Violation) {
	f := fixFromPB(pf)
	var vs []dwell.Violation
	f.Time, vs = validTimeFromPB(prefix+"device_time", pf.GetDeviceTime())
	return f, vs
}

// fixFromPB converts a wire fix but its device time (fixFromPBValid sets
// it); unknown optional values become -1 (speed, bearing) or HasAltitude
// false.
func fixFromPB(f *dwellv1.Fix) dwell.Fix {
	out := dwell.Fix{
		ID:         f.GetId(),
		Pos:        latLngFromPB(f.GetPosition()),
		AccuracyM:  f.GetAccuracyMeters(),
		SpeedMPS:   -1,
		BearingDeg: -1,
		Mock:       f.GetMock(),
	}
	if f.SpeedMetersPerSecond != nil {
		out.SpeedMPS = f.GetSpeedMetersPerSecond()
	}
	if f.BearingDegrees != nil {
		out.BearingDeg = f.GetBearingDegrees()
	}
	if f.AltitudeMeters != nil {
		out.AltitudeM = f.GetAltitudeMeters()
		out.HasAltitude = true
	}
	return out
}

// fixToPB converts a stored fix back to the wire, leaving unknown optional
// values (negative speed or bearing, no altitude) unset.
func fixToPB(f dwell.Fix) *dwellv1.Fix {
	out := &dwellv1.Fix{
		Id:             f.ID,
		DeviceTime:     tsOrNil(f.Time),
		Position:       latLngToPB(f.Pos),
		AccuracyMeters: f.AccuracyM,
		Mock:           f.Mock,
	}
	if f.SpeedMPS >= 0 {
		out.SpeedMetersPerSecond = &f.SpeedMPS
	}
	if f.BearingDeg >= 0 {
		out.BearingDegrees = &f.BearingDeg
	}
	if f.HasAltitude {
		out.AltitudeMeters = &f.AltitudeM
	}
	return out
}

func settingsToPB(s dwell.Settings) *dwellv1.Settings {
	return &dwellv1.Settings{
		Name:            "settings",
		RetentionDays:   int32(s.Retention / (24 * time.Hour)),
		VisitMinSeconds: int32(s.VisitMin / time.Second),
		IdleMinSeconds:  int32(s.IdleMin / time.Second),

		SilenceMinSeconds: int32(s.SilenceMin / time.Second),

		PartnerAccountsRequired: s.PartnerAccountsRequired,
		Etag:                    etagOf(s.Revision),
	}
}

func dateFromPB(d *dwellv1.Date) dwell.Date {
	return dwell.Date{Year: int(d.GetYear()), Month: time.Month(d.GetMonth()), Day: int(d.GetDay())}
}

func violationsToPB(vs []dwell.Violation) []*dwellv1.RejectedField {
	out := make([]*dwellv1.RejectedField, len(vs))
	for i, v := range vs {
		out[i] = &dwellv1.RejectedField{Field: v.Field, Description: v.Description}
	}
	return out
}

func nan() float64 { return math.NaN() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// eventToPB converts a logged event with its cursor.
func eventToPB(e dwell.Event, cursor string) *dwellv1.Event {
	out := &dwellv1.Event{
		Cursor:     cursor,
		Type:       dwellv1.EventType(e.Type),
		Rep:        resourceName(collReps, string(e.Rep)),
		EventTime:  tsOrNil(e.Time),
		DetectTime: tsOrNil(e.DetectTime),
		Late:       e.Late,
	}
	if e.Client != "" {
		out.Client = resourceName(collClients, string(e.Client))
	}
	return out
}

// Sales and report conversions.

// Resource name collections of the sales inputs.
const (
	collAppointments  = "appointments"
	collOpportunities = "opportunities"
)

func dateToPB(d dwell.Date) *dwellv1.Date {
	return &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}

// idOf returns the id of a resource name, or the whole string when it is
// not one, so that validation reports it against the id rules.
func idOf(coll, name string) string {
	if id, ok := parseName(coll, name); ok {
		return id
	}
	return name
}

func moneyFromPB(m *dwellv1.Money) dwell.Money {
	return dwell.Money{Currency: m.GetCurrencyCode(), AmountMinor: m.GetAmountMinor()}
}

func moneyToPB(m dwell.Money) *dwellv1.Money {
	return &dwellv1.Money{CurrencyCode: m.Currency, AmountMinor: m.AmountMinor}
}

// appointmentFromPB converts a wire appointment whose request holds it in
// field, with a violation on each of its times that is set but not a valid
// Timestamp (validTimeFromPB).
func appointmentFromPB(field, id string, a *dwellv1.Appointment) (dwell.Appointment, []dwell.Violation) {
	start, vs := validTimeFromPB(field+".planned_start_time", a.GetPlannedStartTime())
	end, evs := validTimeFromPB(field+".planned_end_time", a.GetPlannedEndTime())
	return dwell.Appointment{
		ID:           dwell.AppointmentID(id),
		Rep:          dwell.RepID(idOf(collReps, a.GetRep())),
		Client:       dwell.ClientID(idOf(collClients, a.GetClient())),
		PlannedStart: start,
		PlannedEnd:   end,
	}, append(vs, evs...)
}

func appointmentToPB(a dwell.Appointment) *dwellv1.Appointment {
	return &dwellv1.Appointment{
		Name:             resourceName(collAppointments, string(a.ID)),
		Rep:              resourceName(collReps, string(a.Rep)),
		Client:           resourceName(collClients, string(a.Client)),
		PlannedStartTime: tsOrNil(a.PlannedStart),
		PlannedEndTime:   tsOrNil(a.PlannedEnd),
		CreateTime:       tsOrNil(a.CreateTime),
	}
}

// opportunityFromPB converts a wire opportunity that its request holds in
// field, with a violation on each of its times that is set but not a valid
// Timestamp (validTimeFromPB).
func opportunityFromPB(field string, o *dwellv1.Opportunity) (dwell.Opportunity, []dwell.Violation) {
	open, vs := validTimeFromPB(field+".open_time", o.GetOpenTime())
	closeAt, cvs := validTimeFromPB(field+".close_time", o.GetCloseTime())
	return dwell.Opportunity{
		ID:         dwell.OpportunityID(idOf(collOpportunities, o.GetName())),
		Rep:        dwell.RepID(idOf(collReps, o.GetRep())),
		Client:     dwell.ClientID(idOf(collClients, o.GetClient())),
		Stage:      dwell.OpportunityStage(o.GetStage()),
		Amount:     moneyFromPB(o.GetAmount()),
		OpenTime:   open,
		CloseTime:  closeAt,
		ExternalID: o.GetExternalId(),
	}, append(vs, cvs...)
}

func opportunityToPB(o dwell.Opportunity) *dwellv1.Opportunity {
	return &dwellv1.Opportunity{
		Name:       resourceName(collOpportunities, string(o.ID)),
		Rep:        resourceName(collReps, string(o.Rep)),
		Client:     resourceName(collClients, string(o.Client)),
		Stage:      dwellv1.OpportunityStage(o.Stage),
		Amount:     moneyToPB(o.Amount),
		OpenTime:   tsOrNil(o.OpenTime),
		CloseTime:  tsOrNil(o.CloseTime),
		ExternalId: o.ExternalID,
		Etag:       etagOf(o.Revision),
	}
}

func quotaFromPB(q *dwellv1.Quota) dwell.Quota {
	return dwell.Quota{Rep: dwell.RepID(idOf(collReps, q.GetRep())), Start: dateFromPB(q.GetStartDate()),
		End: dateFromPB(q.GetEndDate()), Target: moneyFromPB(q.GetTarget())}
}

func quotaToPB(q dwell.Quota) *dwellv1.Quota {
	return &dwellv1.Quota{Rep: resourceName(collReps, string(q.Rep)), StartDate: dateToPB(q.Start),
		EndDate: dateToPB(q.End), Target: moneyToPB(q.Target)}
}

// collPartners is the collection of partner accounts, "partners/{id}".
const collPartners = "partners"

// scopeToPB and the conversions below rely on dwell.Scope and
// dwellv1.PartnerScope numbering the scopes alike (a test checks it).
func scopeToPB(s dwell.Scope) dwellv1.PartnerScope { return dwellv1.PartnerScope(s) }

func partnerFromPB(a *dwellv1.Partner) dwell.PartnerAccount {
	out := dwell.PartnerAccount{DisplayName: a.GetDisplayName(), Disabled: a.GetDisabled()}
	for _, s := range a.GetScopes() {
		out.Scopes = append(out.Scopes, dwell.Scope(s))
	}
	return out
}

func partnerToPB(a dwell.PartnerAccount) *dwellv1.Partner {
	out := &dwellv1.Partner{
		Name:        resourceName(collPartners, string(a.ID)),
		DisplayName: a.DisplayName,
		Disabled:    a.Disabled,
		CreateTime:  tsOrNil(a.CreateTime),
		UpdateTime:  tsOrNil(a.UpdateTime),
		Etag:        lifeEtagOf(a.Revision, a.CreateTime),
	}
	for _, s := range a.Scopes {
		out.Scopes = append(out.Scopes, scopeToPB(s))
	}
	return out
}
