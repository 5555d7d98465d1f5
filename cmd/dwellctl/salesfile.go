package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file reads the sales import files (opportunities and quotas) and
// the values of the sales commands' flags: stages, amounts of money and
// instants.

// opportunityRow is one opportunity read from an import file.
type opportunityRow struct {
	Opp *dwellv1.Opportunity
	Src source
}

var opportunityColumns = []string{"id", "rep", "client", "stage", "currency", "amount", "open_time", "close_time", "external_id"}

// parseOpportunitiesCSV reads an opportunities import file. Like
// parseRepsCSV it checks syntax only (a known stage, a number where an
// amount belongs, an RFC 3339 instant); the server judges the values and
// the references.
func parseOpportunitiesCSV(r io.Reader) ([]opportunityRow, error) {
	cr, col, err := salesCSV(r, opportunityColumns, map[string]string{"name": "id"}, "id", "rep", "client", "stage", "currency", "amount", "open_time")
	if err != nil {
		return nil, err
	}
	var rows []opportunityRow
	var errs errList
	// first is the line of each id's first row: an id twice in a file is
	// malformed, since which row the server kept would depend on whether
	// the two fell into one batch (refused) or two (the later stored).
	first := map[string]source{}
	err = eachCSVRow(cr, col, &errs, func(src source, get func(string) string) {
		id := resourceName("opportunities", get("id"))
		if prev, dup := first[id]; dup && get("id") != "" {
			errs.add(src, "id %s repeats %s: an opportunity may appear once in a file", get("id"), prev)
			return
		}
		first[id] = src
		stage, err := parseStage(get("stage"))
		if err != nil {
			errs.add(src, "stage: %v", err)
			return
		}
		amount, err := parseMoney(get("currency"), get("amount"))
		if err != nil {
			errs.add(src, "amount: %v", err)
			return
		}
		open, err := parseInstant(get("open_time"))
		if err != nil {
			errs.add(src, "open_time: %v", err)
			return
		}
		closed, err := parseInstant(get("close_time"))
		if err != nil {
			errs.add(src, "close_time: %v", err)
			return
		}
		rows = append(rows, opportunityRow{Src: src, Opp: &dwellv1.Opportunity{
			Name:       resourceName("opportunities", get("id")),
			Rep:        resourceName("reps", get("rep")),
			Client:     resourceName("clients", get("client")),
			Stage:      stage,
			Amount:     amount,
			OpenTime:   open,
			CloseTime:  closed,
			ExternalId: get("external_id"),
		}})
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// quotaRow is one quota read from an import file.
type quotaRow struct {
	Quota *dwellv1.Quota
	Src   source
}

var quotaColumns = []string{"rep", "start_date", "end_date", "currency", "target"}

// parseQuotasCSV reads a quotas import file, checking syntax only, and
// that no quota appears twice: a quota is identified by its rep and
// start_date, and the server keeps the last of two, so a repeat is a
// mistake in the file rather than an update.
func parseQuotasCSV(r io.Reader) ([]quotaRow, error) {
	cr, col, err := salesCSV(r, quotaColumns, map[string]string{"amount": "target"}, quotaColumns...)
	if err != nil {
		return nil, err
	}
	var rows []quotaRow
	var errs errList
	first := map[string]source{} // by rep and start_date
	err = eachCSVRow(cr, col, &errs, func(src source, get func(string) string) {
		start, err := calendarDay(get("start_date"))
		if err != nil {
			errs.add(src, "start_date: %v", err)
			return
		}
		rep := resourceName("reps", get("rep"))
		key := rep + " " + formatDate(start)
		if prev, dup := first[key]; dup && get("rep") != "" {
			errs.add(src, "the quota of %s starting %s repeats %s: a quota (rep and start_date) may appear once in a file", get("rep"), formatDate(start), prev)
			return
		}
		first[key] = src
		end, err := calendarDay(get("end_date"))
		if err != nil {
			errs.add(src, "end_date: %v", err)
			return
		}
		target, err := parseMoney(get("currency"), get("target"))
		if err != nil {
			errs.add(src, "target: %v", err)
			return
		}
		rows = append(rows, quotaRow{Src: src, Quota: &dwellv1.Quota{
			Rep: resourceName("reps", get("rep")), StartDate: start, EndDate: end, Target: target,
		}})
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// salesCSV reads the header of a sales import file and checks that it has
// the required columns.
func salesCSV(r io.Reader, known []string, aliases map[string]string, required ...string) (*csv.Reader, map[string]int, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, oneInputError(source{Line: 1}, "empty file: a header row is required (%s)", strings.Join(known, ","))
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	col, err := csvHeader(header, known, aliases)
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	for _, c := range required {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, nil, oneInputError(source{Line: 1}, "header lacks column %s", strings.Join(missing, ", "))
	}
	return cr, col, nil
}

// parseStage reads an opportunity stage: open, won or lost (any case, or
// the enum name OPPORTUNITY_STAGE_WON).
func parseStage(s string) (dwellv1.OpportunityStage, error) {
	up := strings.ToUpper(strings.TrimSpace(s))
	if v, ok := dwellv1.OpportunityStage_value["OPPORTUNITY_STAGE_"+strings.TrimPrefix(up, "OPPORTUNITY_STAGE_")]; ok && v != 0 {
		return dwellv1.OpportunityStage(v), nil
	}
	return 0, fmt.Errorf("%q is not a stage: want open, won or lost", s)
}

func stageName(s dwellv1.OpportunityStage) string {
	return enumWord(s.String(), "OPPORTUNITY_STAGE_")
}

// parseMoney reads an amount in major units ("1500000" rupiah, "1234.50"
// euros, "1.500" Kuwaiti dinars; commas only between groups of three
// digits, as in "1,234.50": a decimal comma is refused, not misread) of an
// ISO 4217 currency into minor units, exactly: no more decimals than the
// currency has (currencyDecimals).
func parseMoney(currency, amount string) (*dwellv1.Money, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	if cur == "" {
		return nil, fmt.Errorf("a currency is required, such as IDR or EUR")
	}
	whole, frac, hasPoint := strings.Cut(strings.TrimSpace(amount), ".")
	digits, ok := groupedDigits(whole)
	decimals := currencyDecimals(cur)
	switch {
	case !ok || hasPoint && !allDigits(frac):
		return nil, fmt.Errorf("%q is not an amount: want digits with a decimal point, such as 1500000 or 1,234.50", amount)
	case len(frac) > decimals:
		return nil, fmt.Errorf("%q has more decimals than %s has (%d)", amount, cur, decimals)
	}
	frac += strings.Repeat("0", decimals-len(frac))
	minor, err := strconv.ParseInt(digits+frac, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is too large an amount", amount)
	}
	return &dwellv1.Money{CurrencyCode: cur, AmountMinor: minor}, nil
}

// groupedDigits returns the digits of s, which is digits alone or digits
// with a comma before every group of three ("1,234,567"), and whether it
// is either.
func groupedDigits(s string) (string, bool) {
	groups := strings.Split(s, ",")
	for i, g := range groups {
		if g == "" || !allDigits(g) || i > 0 && len(g) != 3 || i == 0 && len(groups) > 1 && len(g) > 3 {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// parseMoneyFlag reads "CUR AMOUNT", such as "EUR 1,234.50" (the way
// amounts are printed).
func parseMoneyFlag(s string) (*dwellv1.Money, error) {
	cur, amount, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return nil, fmt.Errorf("%q: want CURRENCY AMOUNT, such as \"EUR 1234.50\"", s)
	}
	return parseMoney(cur, amount)
}

// parseInstant reads an RFC 3339 instant ("2026-11-27T09:00:00+07:00");
// empty is no instant.
func parseInstant(s string) (*timestamppb.Timestamp, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an RFC 3339 instant, such as 2026-11-27T09:00:00+07:00", s)
	}
	return timestamppb.New(t), nil
}

// localLayout is the local form of an appointment's times: a wall clock in
// the rep's time zone.
const localLayout = "2006-01-02 15:04"

// parseWallOrInstant reads an RFC 3339 instant, or a local "YYYY-MM-DD
// HH:MM" in loc. It reports whether s was local (and so needed loc).
func parseWallOrInstant(s string, loc *time.Location) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, nil
	}
	wall, err := time.Parse(localLayout, s)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("%q is neither an RFC 3339 instant (2026-11-27T09:00:00+07:00) nor a local \"YYYY-MM-DD HH:MM\" in the rep's time zone", s)
	}
	// The instants that read as this wall clock in loc: one, except where
	// the zone's offset changes. Its offsets a day either side are the
	// only candidates (zones change offset at most once a day).
	var at []time.Time
	for _, probe := range []time.Time{wall.Add(-24 * time.Hour), wall, wall.Add(24 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(off) * time.Second)
		if t.In(loc).Format(localLayout) == wall.Format(localLayout) && !slices.ContainsFunc(at, t.Equal) {
			at = append(at, t)
		}
	}
	switch len(at) {
	case 0:
		return time.Time{}, true, fmt.Errorf("%q does not exist in %s: the clocks skip it; give another time", s, loc)
	case 1:
		return at[0], true, nil
	default:
		return time.Time{}, true, fmt.Errorf("%q happens twice in %s: the clocks go back over it; give it as an RFC 3339 instant with its offset", s, loc)
	}
}

// isLocalTime reports whether s is in the local form, which needs the
// rep's time zone to mean an instant.
func isLocalTime(s string) bool {
	_, err := time.Parse(localLayout, strings.TrimSpace(s))
	return err == nil
}

// calendarDay reads a YYYY-MM-DD day.
func calendarDay(s string) (*dwellv1.Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not a day: want YYYY-MM-DD", s)
	}
	return &dwellv1.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}, nil
}
