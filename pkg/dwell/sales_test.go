package dwell

import (
	"strings"
	"testing"
	"time"
)

var t0Sales = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestValidateOpportunity(t *testing.T) {
	good := Opportunity{ID: "o1", Rep: "r1", Client: "c1", Stage: StageWon, Amount: Money{Currency: "EUR", AmountMinor: 0},
		OpenTime: t0Sales, CloseTime: t0Sales}
	tests := []struct {
		name   string
		change func(o *Opportunity)
		want   []string
	}{
		{"valid, closed at the open instant", func(*Opportunity) {}, nil},
		{"open without a close", func(o *Opportunity) { o.Stage, o.CloseTime = StageOpen, time.Time{} }, nil},
		{"won without a close", func(o *Opportunity) { o.CloseTime = time.Time{} }, []string{"o.close_time"}},
		{"lost without a close", func(o *Opportunity) { o.Stage, o.CloseTime = StageLost, time.Time{} }, []string{"o.close_time"}},
		{"open with a close", func(o *Opportunity) { o.Stage = StageOpen }, []string{"o.close_time"}},
		{"close before open", func(o *Opportunity) { o.CloseTime = t0Sales.Add(-time.Second) }, []string{"o.close_time"}},
		{"no stage", func(o *Opportunity) { o.Stage = StageUnspecified }, []string{"o.stage", "o.close_time"}},
		{"negative amount", func(o *Opportunity) { o.Amount.AmountMinor = -1 }, []string{"o.amount.amount_minor"}},
		{"lower-case currency", func(o *Opportunity) { o.Amount.Currency = "eur" }, []string{"o.amount.currency_code"}},
		{"long currency", func(o *Opportunity) { o.Amount.Currency = "EURO" }, []string{"o.amount.currency_code"}},
		{"no open time", func(o *Opportunity) { o.OpenTime = time.Time{} }, []string{"o.open_time"}},
		{"bad ids", func(o *Opportunity) { o.ID, o.Rep, o.Client = "", "-r", "c/1" }, []string{"o.name", "o.rep", "o.client"}},
		{"external id not UTF-8", func(o *Opportunity) { o.ExternalID = "\xff" }, []string{"o.external_id"}},
		{"opened and won in 9999", func(o *Opportunity) {
			o.OpenTime, o.CloseTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 2, 0, 0, 0, 0, time.UTC)
		}, []string{"o.open_time", "o.close_time"}},
	}
	for _, tt := range tests {
		o := good
		tt.change(&o)
		checkFields(t, tt.name, ValidateOpportunity("o", o), tt.want...)
	}
}

func TestValidateAppointmentAndQuota(t *testing.T) {
	a := Appointment{ID: "a1", Rep: "r1", Client: "c1", PlannedStart: t0Sales, PlannedEnd: t0Sales.Add(time.Hour)}
	checkFields(t, "valid appointment", ValidateAppointment("appointment", a))
	a.PlannedEnd = t0Sales
	checkFields(t, "empty appointment", ValidateAppointment("appointment", a), "appointment.planned_end_time")
	a.PlannedEnd = t0Sales.Add(25 * time.Hour)
	checkFields(t, "25-hour appointment", ValidateAppointment("appointment", a), "appointment.planned_end_time")
	a.PlannedStart, a.PlannedEnd = time.Date(1600, 1, 1, 9, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 10, 0, 0, 0, time.UTC)
	checkFields(t, "planned in 1600", ValidateAppointment("appointment", a), "appointment.planned_start_time")
	a.PlannedStart, a.ID = time.Time{}, ""
	checkFields(t, "no start, no id", ValidateAppointment("appointment", a), "appointment_id", "appointment.planned_start_time")

	q := Quota{Rep: "r1", Start: Date{2026, 3, 1}, End: Date{2026, 3, 31}, Target: Money{Currency: "IDR", AmountMinor: 5}}
	checkFields(t, "valid quota", ValidateQuota("q", q))
	q.End = Date{2026, 2, 28}
	checkFields(t, "reversed quota", ValidateQuota("q", q), "q.end_date")
	q.End = Date{2027, 3, 2} // 366 days after the start: the longest period
	checkFields(t, "quota of 367 days", ValidateQuota("q", q))
	q.End = Date{2027, 3, 3}
	checkFields(t, "quota of 368 days", ValidateQuota("q", q), "q.end_date")
	q.End = Date{2026, 2, 30}
	checkFields(t, "not a day", ValidateQuota("q", q), "q.end_date")
}

func TestDateArithmetic(t *testing.T) {
	d := Date{2026, 2, 27}
	if got := d.AddDays(3); got != (Date{2026, 3, 2}) {
		t.Errorf("AddDays(3) = %v, want 2026-03-02", got)
	}
	if got := (Date{2026, 3, 2}).DaysSince(d); got != 3 {
		t.Errorf("DaysSince = %d, want 3", got)
	}
	if got := d.DaysSince(Date{2026, 3, 2}); got != -3 {
		t.Errorf("DaysSince backwards = %d, want -3", got)
	}
	for _, c := range []struct {
		a, b Date
		want int
	}{{d, d, 0}, {d, Date{2026, 2, 28}, -1}, {Date{2026, 3, 1}, d, 1}, {Date{2025, 12, 31}, d, -1}, {Date{2026, 1, 30}, d, -1}} {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	// 28 March 23:30 UTC is 00:30 on the 29th in Berlin, the short day.
	if got := DateOf(time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), berlin); got != (Date{2026, 3, 29}) {
		t.Errorf("DateOf = %v, want 2026-03-29", got)
	}
	if got := (Date{2026, 3, 30}).Start(berlin).Sub((Date{2026, 3, 29}).Start(berlin)); got != 23*time.Hour {
		t.Errorf("the 29th lasts %v in Berlin, want 23h", got)
	}
	vs := ValidateDateRange("start_date", "end_date", Date{2025, 1, 1}, Date{2026, 1, 3})
	if len(vs) != 1 || vs[0].Field != "end_date" || !strings.Contains(vs[0].Description, "366") {
		t.Errorf("a range of 367 days after its start: %v", vs)
	}
}

func FuzzValidateOpportunity(f *testing.F) {
	f.Add("o1", "r1", "c1", 2, "EUR", int64(5), int64(0), int64(3600), "x")
	f.Add("", "", "", 9, "", int64(-1), int64(-5), int64(0), "\xff")
	f.Fuzz(func(t *testing.T, id, rep, client string, stage int, cur string, amount, open, closeOff int64, ext string) {
		o := Opportunity{ID: OpportunityID(id), Rep: RepID(rep), Client: ClientID(client), Stage: OpportunityStage(stage),
			Amount: Money{Currency: cur, AmountMinor: amount}, ExternalID: ext}
		if open != 0 {
			o.OpenTime = time.Unix(open, 0)
		}
		if closeOff != 0 {
			o.CloseTime = o.OpenTime.Add(time.Duration(closeOff) * time.Second)
		}
		for _, v := range ValidateOpportunity("o", o) {
			if !strings.HasPrefix(v.Field, "o.") || v.Description == "" {
				t.Fatalf("violation %+v", v)
			}
		}
	})
}

// TestDateStart checks, for every day of two years in zones whose clocks
// jump at midnight (Santiago, Havana), at other hours (Berlin, New York,
// Lord Howe's half hour) or never (Jakarta), that Start is an instant of
// the day and the instant before it one of the day before.
func TestDateStart(t *testing.T) {
	for _, name := range []string{"America/Santiago", "America/Havana", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Jakarta"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		for d := (Date{Year: 2026, Month: 1, Day: 1}); d.Year < 2028; d = d.AddDays(1) {
			s := d.Start(loc)
			if got := DateOf(s, loc); got != d {
				t.Fatalf("%s: %v.Start = %v, on %v", name, d, s.In(loc), got)
			}
			if got, want := DateOf(s.Add(-time.Nanosecond), loc), d.AddDays(-1); got != want {
				t.Fatalf("%s: the instant before %v.Start (%v) is on %v, want %v", name, d, s.In(loc), got, want)
			}
		}
	}
	// Chile's clocks jump from 00:00 to 01:00 on 6 September 2026.
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := (Date{Year: 2026, Month: 9, Day: 6}).Start(santiago), time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("2026-09-06 starts in Santiago at %v, want %v", got.UTC(), want)
	}
}

// TestNextWorkingChangeSkippedMidnight: on 6 September 2026 Santiago's
// clocks skip midnight; that Sunday's working hours still open and close
// on the day, not a week later.
func TestNextWorkingChangeSkippedMidnight(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	r := Rep{WorkingHours: []WorkingHours{{Weekday: time.Sunday, StartMinute: 9 * 60, EndMinute: 17 * 60}}}
	at := func(day, hour int) time.Time { return time.Date(2026, 9, day, hour, 0, 0, 0, santiago) }
	for _, c := range []struct{ t, want time.Time }{
		{at(5, 12), at(6, 9)}, // Saturday noon: Sunday's opening
		{at(6, 3), at(6, 9)},  // Sunday after the jump
		{at(6, 10), at(6, 17)},
		{at(6, 18), at(13, 9)},
	} {
		if got := r.NextWorkingChange(c.t, santiago); !got.Equal(c.want) {
			t.Errorf("NextWorkingChange(%v) = %v, want %v", c.t, got.In(santiago), c.want)
		}
	}
}

// TestValidateMoneyBound: an amount above MaxAmountMinor is refused, so
// that no sum of accepted amounts in the KPIs can come near int64's end
// (two deals of 5 × 10^18 once summed to a negative won amount).
func TestValidateMoneyBound(t *testing.T) {
	checkFields(t, "the largest amount", ValidateMoney("m", Money{Currency: "IDR", AmountMinor: MaxAmountMinor}))
	checkFields(t, "one more", ValidateMoney("m", Money{Currency: "IDR", AmountMinor: MaxAmountMinor + 1}), "m.amount_minor")
	checkFields(t, "5e18", ValidateMoney("m", Money{Currency: "IDR", AmountMinor: 5e18}), "m.amount_minor")
	q := Quota{Rep: "r1", Start: Date{2026, 3, 1}, End: Date{2026, 3, 31}, Target: Money{Currency: "IDR", AmountMinor: 5e18}}
	checkFields(t, "quota target of 5e18", ValidateQuota("q", q), "q.target.amount_minor")
}

// TestQuotaOverlaps: a rep's quotas never share a day. A quota with the
// start of a stored one replaces it (and is checked with its new end);
// any other overlap, with a stored quota or within the batch, is named on
// the batch entry's start_date (the other began first) or end_date.
func TestQuotaOverlaps(t *testing.T) {
	month := func(rep RepID, m time.Month) Quota {
		start := Date{2026, m, 1}
		return Quota{Rep: rep, Start: start, End: Date{2026, m + 1, 1}.AddDays(-1), Target: Money{Currency: "IDR", AmountMinor: 1000000}}
	}
	span := func(rep RepID, from, to Date) Quota {
		return Quota{Rep: rep, Start: from, End: to, Target: Money{Currency: "IDR", AmountMinor: 3000000}}
	}
	stored := []Quota{month("budi", 10), month("budi", 11), month("budi", 12), month("sari", 10)}
	q4 := span("budi", Date{2026, 10, 1}, Date{2026, 12, 31})
	for _, tt := range []struct {
		name   string
		batch  []Quota
		stored []Quota
		want   []string
	}{
		{"next month", []Quota{month("budi", 1).withYear(2027)}, stored, nil},
		{"October replaced by October", []Quota{month("budi", 10)}, stored, nil},
		{"October replaced by the quarter, over November and December", []Quota{q4}, stored, []string{"q[0].end_date"}},
		{"the quarter from mid-October", []Quota{span("budi", Date{2026, 10, 15}, Date{2026, 12, 31})}, stored, []string{"q[0].start_date"}},
		{"another rep's quotas do not count", []Quota{span("sari", Date{2026, 11, 1}, Date{2026, 12, 31})}, stored, nil},
		{"the quarter after deleting November and December", []Quota{q4}, stored[:1], nil},
		{"the quarter and the months, one batch", []Quota{q4, month("budi", 11)}, nil, []string{"q[1].start_date"}},
		{"the months, then the quarter, one batch", []Quota{month("budi", 11), q4}, nil, []string{"q[1].end_date"}},
		{"one start twice: the last entry counts", []Quota{q4, month("budi", 10), month("budi", 11)}, nil, nil},
		{"days that touch do not overlap", []Quota{span("budi", Date{2026, 9, 1}, Date{2026, 9, 30})}, stored, nil},
		{"one shared day", []Quota{span("budi", Date{2026, 9, 1}, Date{2026, 10, 1})}, stored, []string{"q[0].end_date"}},
	} {
		checkFields(t, tt.name, QuotaOverlaps("q", tt.batch, tt.stored), tt.want...)
	}
	vs := QuotaOverlaps("q", []Quota{q4}, stored)
	if len(vs) != 1 || !strings.Contains(vs[0].Description, "2026-11-01 to 2026-11-30") {
		t.Errorf("the quarter over the stored months: %v, want the November quota's period named", vs)
	}
}

func (q Quota) withYear(y int) Quota {
	q.Start.Year, q.End.Year = y, y
	return q
}
