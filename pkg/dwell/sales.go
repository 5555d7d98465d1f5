package dwell

import (
	"fmt"
	"time"
)

// The sales inputs: what the KPIs compare visits against. Appointments are
// planned visits, opportunities are deals, quotas are targets. Partners and
// admins write them (SalesService); they are never derived.

// AppointmentID names an appointment within a tenant.
type AppointmentID string

// OpportunityID names an opportunity within a tenant.
type OpportunityID string

// Appointment is a planned visit of a rep to a client.
type Appointment struct {
	ID     AppointmentID
	Rep    RepID
	Client ClientID
	// PlannedStart and PlannedEnd bound the planned visit, Start < End.
	PlannedStart, PlannedEnd time.Time
	// RequestID is the idempotency key of the create that stored it.
	RequestID  string
	CreateTime time.Time
}

// OpportunityStage is where a deal stands.
type OpportunityStage int

// Opportunity stages.
const (
	StageUnspecified OpportunityStage = iota
	// StageOpen is a deal being qualified or negotiated.
	StageOpen
	// StageWon is a deal closed and won; CloseTime is set.
	StageWon
	// StageLost is a deal closed and lost; CloseTime is set.
	StageLost
)

// Money is an amount in one currency.
type Money struct {
	// Currency is an ISO 4217 code of three upper-case letters ("EUR").
	Currency string
	// AmountMinor is the amount in minor units (cents; whole rupiah for
	// IDR), 0 to MaxAmountMinor.
	AmountMinor int64
}

// MaxAmountMinor bounds an amount: 10^15 minor units (ten trillion euros,
// a quadrillion rupiah), far above any deal or quota, and low enough that
// sums of thousands of amounts stay far inside int64 (about 9.2 × 10^18);
// package kpi still saturates its sums, so no input can overflow them.
const MaxAmountMinor = 1_000_000_000_000_000

// Opportunity is a deal with a client, owned by a rep.
type Opportunity struct {
	ID     OpportunityID
	Rep    RepID
	Client ClientID
	Stage  OpportunityStage
	Amount Money
	// OpenTime is when the deal was opened; CloseTime when it was won or
	// lost (zero while open).
	OpenTime, CloseTime time.Time
	// ExternalID is the partner's (CRM's) id of the deal, if any.
	ExternalID string
	// Revision is set by the store; see Client.Revision.
	Revision int64
}

// Quota is a rep's target won amount for a period of local days.
type Quota struct {
	Rep RepID
	// Start and End are the first and last local day of the period,
	// inclusive. A quota is identified by (Rep, Start).
	Start, End Date
	Target     Money
}

// MaxSalesBatch bounds the opportunities or quotas of one upsert.
const MaxSalesBatch = 1000

// MaxAppointment is the longest an appointment may last, from its planned
// start to its planned end (ValidateAppointment). KPI 3 reads a range's
// kept appointments up to that far past the range's end (package kpi,
// LookAhead).
const MaxAppointment = 24 * time.Hour

// ValidateAppointment checks an appointment for create: its id (field
// "appointment_id", as it arrives beside the resource), the rep and client
// ids (field+".rep", field+".client") and a planned start before the planned
// end (field+".planned_start_time", field+".planned_end_time"), at most
// MaxAppointment (24 hours) apart, the start in the years ValidateInstant
// accepts. Whether the rep and client exist is the caller's to check.
func ValidateAppointment(field string, a Appointment) []Violation {
	vs := ValidateID("appointment_id", string(a.ID))
	vs = append(vs, ValidateID(fieldPath(field, "rep"), string(a.Rep))...)
	vs = append(vs, ValidateID(fieldPath(field, "client"), string(a.Client))...)
	start, end := fieldPath(field, "planned_start_time"), fieldPath(field, "planned_end_time")
	switch {
	case a.PlannedStart.IsZero():
		vs = addViolation(vs, start, "planned_start_time is required")
	case a.PlannedEnd.IsZero():
		vs = addViolation(vs, end, "planned_end_time is required")
	case !a.PlannedEnd.After(a.PlannedStart):
		vs = addViolation(vs, end, "planned_end_time must be after planned_start_time %s, got %s", fmtTime(a.PlannedStart), fmtTime(a.PlannedEnd))
	case a.PlannedEnd.Sub(a.PlannedStart) > MaxAppointment:
		vs = addViolation(vs, end, "an appointment may last at most 24 hours, got %s", a.PlannedEnd.Sub(a.PlannedStart))
	}
	vs = append(vs, ValidateInstant(start, a.PlannedStart)...)
	return vs
}

// ValidateMoney checks an amount: a currency of three upper-case ASCII
// letters (field+".currency_code") and an amount of 0 to MaxAmountMinor
// (field+".amount_minor").
func ValidateMoney(field string, m Money) []Violation {
	var vs []Violation
	ok := len(m.Currency) == 3
	for i := 0; ok && i < 3; i++ {
		ok = 'A' <= m.Currency[i] && m.Currency[i] <= 'Z'
	}
	if !ok {
		vs = addViolation(vs, fieldPath(field, "currency_code"), "currency_code must be an ISO 4217 code of three upper-case letters, got %q", m.Currency)
	}
	if m.AmountMinor < 0 {
		vs = addViolation(vs, fieldPath(field, "amount_minor"), "amount_minor must be 0 or more, got %d", m.AmountMinor)
	}
	if m.AmountMinor > MaxAmountMinor {
		vs = addViolation(vs, fieldPath(field, "amount_minor"), "amount_minor may be at most 1,000,000,000,000,000 (10^15 minor units), got %d", m.AmountMinor)
	}
	return vs
}

// ValidateOpportunity checks an opportunity for an upsert or after an
// update: valid ids (field+".name", field+".rep", field+".client"), a known
// stage (field+".stage"), a valid amount (field+".amount"), an open time
// (field+".open_time"), a close time for WON and LOST and none while open,
// not before the open time (field+".close_time"), both in the years
// ValidateInstant accepts, and optional external id text. Whether the rep
// and client exist is the caller's to check.
func ValidateOpportunity(field string, o Opportunity) []Violation {
	vs := ValidateID(fieldPath(field, "name"), string(o.ID))
	vs = append(vs, ValidateID(fieldPath(field, "rep"), string(o.Rep))...)
	vs = append(vs, ValidateID(fieldPath(field, "client"), string(o.Client))...)
	if o.Stage <= StageUnspecified || o.Stage > StageLost {
		vs = addViolation(vs, fieldPath(field, "stage"), "stage is required: OPEN, WON or LOST")
	}
	vs = append(vs, ValidateMoney(fieldPath(field, "amount"), o.Amount)...)
	if o.OpenTime.IsZero() {
		vs = addViolation(vs, fieldPath(field, "open_time"), "open_time is required")
	}
	ct := fieldPath(field, "close_time")
	closed := o.Stage == StageWon || o.Stage == StageLost
	switch {
	case closed && o.CloseTime.IsZero():
		vs = addViolation(vs, ct, "close_time is required for a WON or LOST opportunity")
	case !closed && !o.CloseTime.IsZero():
		vs = addViolation(vs, ct, "close_time is only allowed for a WON or LOST opportunity")
	case closed && !o.OpenTime.IsZero() && o.CloseTime.Before(o.OpenTime):
		vs = addViolation(vs, ct, "close_time must not be before open_time %s, got %s", fmtTime(o.OpenTime), fmtTime(o.CloseTime))
	}
	vs = append(vs, ValidateInstant(fieldPath(field, "open_time"), o.OpenTime)...)
	vs = append(vs, ValidateInstant(ct, o.CloseTime)...)
	vs = append(vs, ValidateText(fieldPath(field, "external_id"), o.ExternalID, false)...)
	return vs
}

// ValidateQuota checks a quota: a valid rep id (field+".rep"), real start and
// end days (field+".start_date", field+".end_date") with start <= end and at
// most 366 days apart, and a valid target (field+".target").
func ValidateQuota(field string, q Quota) []Violation {
	vs := ValidateID(fieldPath(field, "rep"), string(q.Rep))
	sd, ed := ValidateDate(fieldPath(field, "start_date"), q.Start), ValidateDate(fieldPath(field, "end_date"), q.End)
	vs = append(append(vs, sd...), ed...)
	if sd == nil && ed == nil {
		switch n := q.End.DaysSince(q.Start); {
		case n < 0:
			vs = addViolation(vs, fieldPath(field, "end_date"), "end_date must not be before start_date")
		case n > MaxRangeDays:
			vs = addViolation(vs, fieldPath(field, "end_date"), "a period may span at most %d days, got %d", MaxRangeDays+1, n+1)
		}
	}
	vs = append(vs, ValidateMoney(fieldPath(field, "target"), q.Target)...)
	return vs
}

// QuotaOverlaps checks that storing batch (quotas[i] at field "<field>[i]")
// over stored leaves no rep with two quotas whose periods share a day: a
// rep's quotas never overlap, so KPI 10 never counts one day's target
// twice. A quota replaces the one of its rep with the same start day, in
// stored or earlier in the batch (the last entry of a batch naming one
// twice is the one stored); every other quota of the rep, of the batch or
// stored, must end before it starts or start after it ends. A batch quota
// that overlaps one is reported once, on field+"[i].start_date" if that
// quota starts before it (its start falls in that period), else on
// field+"[i].end_date", naming the other quota's period: an earlier entry
// of the batch, else a stored quota. Stored quotas that overlap each other
// (written before this rule) are not reported. The caller has validated
// each quota (ValidateQuota); stored may hold any reps' quotas.
func QuotaOverlaps(field string, batch, stored []Quota) []Violation {
	type key struct {
		rep   RepID
		start Date
	}
	last := make(map[key]int, len(batch))
	for i, q := range batch {
		last[key{q.Rep, q.Start}] = i
	}
	// The batch entries stored, per rep in batch order, and the stored
	// quotas of those reps that they do not replace.
	kept := map[RepID][]int{}
	for i, q := range batch {
		if last[key{q.Rep, q.Start}] == i {
			kept[q.Rep] = append(kept[q.Rep], i)
		}
	}
	others := map[RepID][]Quota{}
	for _, q := range stored {
		if _, replaced := last[key{q.Rep, q.Start}]; !replaced && kept[q.Rep] != nil {
			others[q.Rep] = append(others[q.Rep], q)
		}
	}
	overlap := func(a, b Quota) bool { return !a.End.Before(b.Start) && !b.End.Before(a.Start) }
	report := func(vs []Violation, i int, o Quota, what string) []Violation {
		q, f := batch[i], fmt.Sprintf("%s[%d].start_date", field, i)
		if q.Start.Before(o.Start) {
			f = fmt.Sprintf("%s[%d].end_date", field, i)
		}
		return addViolation(vs, f, "period %s to %s overlaps %s of rep %s, %s to %s: a rep's quotas may not overlap; "+
			"replace that quota (same start_date) or delete it (DeleteQuota) first", q.Start, q.End, what, q.Rep, o.Start, o.End)
	}
	var vs []Violation
next:
	for i, q := range batch {
		if last[key{q.Rep, q.Start}] != i {
			continue
		}
		for _, j := range kept[q.Rep] {
			if j >= i {
				break
			}
			if overlap(batch[j], q) {
				vs = report(vs, i, batch[j], fmt.Sprintf("%s[%d], the quota", field, j))
				continue next
			}
		}
		for _, o := range others[q.Rep] {
			if overlap(o, q) {
				vs = report(vs, i, o, "the stored quota")
				continue next
			}
		}
	}
	return vs
}

// MaxRangeDays is how many days a date range may extend past its first
// day: a range holds at most MaxRangeDays+1 local days.
const MaxRangeDays = 366

// ValidateDateRange checks a required range of local days [start, end]
// (fields startField and endField): both real days, start <= end, end at
// most MaxRangeDays after start.
func ValidateDateRange(startField, endField string, start, end Date) []Violation {
	vs := append(ValidateDate(startField, start), ValidateDate(endField, end)...)
	if vs != nil {
		return vs
	}
	switch n := end.DaysSince(start); {
	case n < 0:
		vs = addViolation(vs, endField, "%s must not be before %s", fieldLeaf(endField), fieldLeaf(startField))
	case n > MaxRangeDays:
		vs = addViolation(vs, endField, "%s may be at most %d days after %s, got %d", fieldLeaf(endField), MaxRangeDays, fieldLeaf(startField), n)
	}
	return vs
}

// DateOf returns the local calendar day of instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// DaysSince returns the number of calendar days from e to d (negative if d
// is before e). Both must be valid.
func (d Date) DaysSince(e Date) int {
	// UTC has no daylight saving, so whole days are exact multiples of 24 h.
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b) / (24 * time.Hour))
}

// AddDays returns the day n calendar days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// Compare returns -1 if d is an earlier day than e, 1 if a later one, 0 if
// the same: the order of slices.SortFunc.
func (d Date) Compare(e Date) int {
	switch {
	case d.Before(e):
		return -1
	case e.Before(d):
		return 1
	}
	return 0
}

// Start returns the first instant of local day d in loc: its midnight, or
// where the clocks skip midnight (daylight saving that starts at 00:00, as
// in Chile or Cuba) the instant they jump to. d must be valid.
func (d Date) Start(loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if y, m, dd := t.Date(); y != d.Year || m != d.Month || dd != d.Day {
		// time.Date read the missing midnight with the offset before the
		// jump, an instant of the day before; the day begins at the jump.
		_, jump := t.ZoneBounds()
		return jump
	}
	return t
}

// String returns d as "2006-01-02".
func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}
