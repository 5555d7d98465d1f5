package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // reps' zones even on hosts without zoneinfo

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const reportDayHelp = `Prints one rep's day as the server derives it: the segments (visit, idle,
travel, gap, paused) and visits with local times in the rep's time zone,
the day's totals and its data flags. REP may be left out with a rep's own
token. DATE is YYYY-MM-DD, "today" or "yesterday" (default today): the
rep's days, on the calendar of its time zone (the rep named, or the one
whose token it is), or this machine's when the rep cannot be read, which
is then said on stderr.

--svg FILE also draws the day as an SVG picture: a time bar coloured by
segment kind with the visited clients numbered and named, and a map of the
day's fixes with the fences of the visited clients, to scale, with a
legend and a scale bar.

--fixes adds the day's fixes to the JSON of -o json, and needs it: the
table shows how many there were, and --svg draws them.`

func reportDayCommand() command {
	return command{
		name:    "report day",
		args:    "[REP]",
		summary: "a rep's day: segments, visits, totals and flags (--svg draws it)",
		help:    reportDayHelp,
		nargs:   -1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var date, svgPath string
			var withFixes bool
			fs.StringVar(&date, "date", "today", "the local `day`: YYYY-MM-DD, today or yesterday")
			fs.StringVar(&svgPath, "svg", "", "also draw the day into this SVG `file`")
			fs.BoolVar(&withFixes, "fixes", false, "include the day's fixes in the JSON; needs -o json")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "report day"
				if len(args) > 1 {
					return e.usageError(name, "unexpected arguments: %s", strings.Join(args[1:], " "))
				}
				if withFixes && !g.json() {
					return e.usageError(name, "--fixes needs -o json: the table shows the fix count, and --svg draws the fixes")
				}
				d, err := parseDate(date, e.now())
				if err != nil {
					return e.usageError(name, "--date: %v", err)
				}
				rep := ""
				if len(args) == 1 {
					rep = resourceName("reps", args[0])
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				// Today is the rep's today, in its time zone, when the
				// caller may read the rep: the one named, or the one whose
				// token this is.
				if who := cmp.Or(rep, tokenRep(g.token)); who != "" {
					d = repDate(rctx, conn, e, name, who, date, d)
				}
				resp, err := dwellv1.NewReportServiceClient(conn).GetRepDay(rctx, &dwellv1.GetRepDayRequest{
					Rep: rep, Date: d, IncludeFixes: svgPath != "" || withFixes,
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				clients := fetchClients(rctx, conn, dayClients(resp))
				if svgPath != "" {
					repName := ""
					if r, err := dwellv1.NewDirectoryServiceClient(conn).GetRep(rctx, &dwellv1.GetRepRequest{Name: resp.GetRep()}); err == nil {
						repName = r.GetRep().GetDisplayName()
					}
					if err := writeDaySVG(svgPath, resp, repName, clients); err != nil {
						return e.fail(name, err)
					}
				}
				if g.json() {
					if !withFixes {
						resp.Fixes = nil // the picture's input, not the report
					}
					printProto(e.stdout, resp)
					return exitOK
				}
				printRepDay(e.stdout, resp, clients)
				if svgPath != "" {
					fmt.Fprintf(e.stdout, "\nDrawn to %s.\n", svgPath)
				}
				return exitOK
			}
		},
	}
}

// writeDaySVG draws the day into path, through a temporary file so that a
// failure leaves no half-written picture.
func writeDaySVG(path string, resp *dwellv1.GetRepDayResponse, repName string, clients map[string]*dwellv1.Client) error {
	pic, err := newDayPicture(resp, repName, clients)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := pic.WriteSVG(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %v", path, err)
	}
	return os.Rename(tmp, path)
}

// dayClients returns the distinct clients of the day's segments and
// visits, in order of first appearance.
func dayClients(resp *dwellv1.GetRepDayResponse) []string {
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, s := range resp.GetSegments() {
		add(s.GetClient())
	}
	for _, v := range resp.GetVisits() {
		add(v.GetClient())
	}
	return out
}

// fetchClients reads the named clients, for their display names and
// fences. A client that cannot be read (deleted since, say) is left out:
// the report then shows its resource name alone.
func fetchClients(ctx context.Context, conn grpc.ClientConnInterface, names []string) map[string]*dwellv1.Client {
	dc := dwellv1.NewDirectoryServiceClient(conn)
	out := make(map[string]*dwellv1.Client, len(names))
	for _, n := range names {
		c, err := dc.GetClient(ctx, &dwellv1.GetClientRequest{Name: n})
		if err == nil {
			out[n] = c.GetClient()
		}
	}
	return out
}

// clientLabel is "Display Name (clients/id)", or the name alone.
func clientLabel(name string, clients map[string]*dwellv1.Client) string {
	if c := clients[name]; c != nil && c.GetDisplayName() != "" {
		return c.GetDisplayName() + " (" + strings.TrimPrefix(name, "clients/") + ")"
	}
	return name
}

// repZone loads the zone a day was cut in; an unknown zone (which the
// server would not have accepted) falls back to UTC.
func repZone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

func printRepDay(w io.Writer, resp *dwellv1.GetRepDayResponse, clients map[string]*dwellv1.Client) {
	loc := repZone(resp.GetTimeZone())
	d := resp.GetDate()
	day := dayStart(d, loc)
	tw := newTable(w)
	row(tw, "Rep:", resp.GetRep())
	row(tw, "Day:", day.Format("Monday 2 January 2006")+" ("+resp.GetTimeZone()+")")
	fixes := fmt.Sprint(resp.GetFixCount())
	if resp.GetPastRetention() {
		fixes += " (deleted since by the retention period; the day is as derived while they were kept)"
	}
	row(tw, "Fixes:", fixes)
	if segs := resp.GetSegments(); len(segs) > 0 {
		first, last := segs[0].GetStartTime().AsTime(), segs[len(segs)-1].GetEndTime().AsTime()
		row(tw, "Observed:", fmt.Sprintf("%s to %s (%s)", localClock(first, loc, day), localClock(last, loc, day), formatDuration(last.Sub(first))))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nSegments")
	if len(resp.GetSegments()) == 0 {
		fmt.Fprintln(w, "  none: no fixes or check-ins that day")
	} else {
		tw = newTable(w)
		row(tw, "  START", "END", "DURATION", "KIND", "WHERE")
		for _, s := range resp.GetSegments() {
			start, end := s.GetStartTime().AsTime(), s.GetEndTime().AsTime()
			where := ""
			switch s.GetKind() {
			case dwellv1.SegmentKind_SEGMENT_KIND_VISIT:
				where = clientLabel(s.GetClient(), clients)
			case dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL:
				where = formatDistance(s.GetDistanceMeters())
			case dwellv1.SegmentKind_SEGMENT_KIND_IDLE:
				if l := s.GetLocation(); l != nil {
					where = fmt.Sprintf("at %.5f, %.5f", l.GetLat(), l.GetLng())
				}
			}
			row(tw, "  "+localClock(start, loc, day), localClock(end, loc, day), formatDuration(end.Sub(start)), segmentKindName(s.GetKind()), orDash(where))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nVisits")
	if len(resp.GetVisits()) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		tw = newTable(w)
		row(tw, "  #", "START", "END", "DURATION", "CLIENT", "FROM", "CHECK-IN", "OUTCOME")
		for i, v := range resp.GetVisits() {
			start, end := v.GetStartTime().AsTime(), v.GetEndTime().AsTime()
			row(tw, fmt.Sprintf("  %d", i+1), localClock(start, loc, day), localClock(end, loc, day), formatDuration(end.Sub(start)),
				clientLabel(v.GetClient(), clients), visitSourceName(v.GetSource()),
				enumWord(v.GetVerification().String(), "VERIFICATION_"), enumWord(v.GetOutcome().String(), "OUTCOME_"))
		}
		tw.Flush()
	}

	t := resp.GetTotals()
	fmt.Fprintln(w, "\nTotals")
	tw = newTable(w)
	row(tw, "  With prospects:", formatSeconds(t.GetVisitProspectSeconds()))
	row(tw, "  With customers:", formatSeconds(t.GetVisitCustomerSeconds()))
	row(tw, "  Idle:", formatSeconds(t.GetIdleSeconds()))
	row(tw, "  Travel:", formatSeconds(t.GetTravelSeconds())+", "+formatDistance(t.GetDistanceMeters()))
	row(tw, "  No data (gap):", formatSeconds(t.GetGapSeconds()))
	row(tw, "  Paused:", formatSeconds(t.GetPausedSeconds()))
	tw.Flush()

	f := resp.GetFlags()
	fmt.Fprintln(w, "\nFlags")
	tw = newTable(w)
	row(tw, "  Mock-location fixes:", fmt.Sprint(f.GetMockFixes()))
	row(tw, "  Impossible-speed fixes:", fmt.Sprint(f.GetImpossibleSpeedFixes()))
	row(tw, "  Check-ins away from the site:", fmt.Sprint(f.GetUnverifiedCheckIns()))
	row(tw, "  Forgotten check-outs:", fmt.Sprint(f.GetForgottenCheckOuts()))
	tw.Flush()
}

// localClock shows an instant as local "15:04", with "+1d" when it falls on
// the next local day (a day cut at midnight ends at 24:00), "-1d" on the
// day before. day is an instant of the local day shown, its start
// (dayStart); days are counted on the calendar, not in 24 hours, as a day
// the clocks change on is 23 or 25 hours long.
func localClock(t time.Time, loc *time.Location, day time.Time) string {
	lt := t.In(loc)
	s := lt.Format("15:04")
	switch days := dwell.DateOf(lt, loc).DaysSince(dwell.DateOf(day, loc)); {
	case days < 0:
		s += fmt.Sprintf(" %dd", days)
	case days > 0:
		s += fmt.Sprintf(" +%dd", days)
	}
	return s
}

// dayStart returns the first instant of local day d in loc: its midnight,
// or where the clocks skip midnight (Chile, Cuba) the jump, as the server
// cuts days (dwell.Date.Start).
func dayStart(d *dwellv1.Date, loc *time.Location) time.Time {
	return dwell.Date{Year: int(d.GetYear()), Month: time.Month(d.GetMonth()), Day: int(d.GetDay())}.Start(loc)
}

// formatDuration shows a duration to the minute ("1h 05m", "29m"), or in
// seconds below a minute.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatDuration(-d)
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int((d+30*time.Second)/time.Minute))
	}
	m := int((d + 30*time.Second) / time.Minute)
	return fmt.Sprintf("%dh %02dm", m/60, m%60)
}

func formatSeconds(s int64) string { return formatDuration(time.Duration(s) * time.Second) }

// formatDistance shows metres as "850 m" or "12.4 km".
func formatDistance(m float64) string {
	if m < 1000 {
		return fmt.Sprintf("%.0f m", m)
	}
	return fmt.Sprintf("%.1f km", m/1000)
}

// enumWord turns "VERIFICATION_OUTSIDE_GEOFENCE" into "outside geofence",
// and the unspecified value into "-".
func enumWord(s, prefix string) string {
	s = strings.TrimPrefix(s, prefix)
	if s == "UNSPECIFIED" || s == "" {
		return "-"
	}
	return strings.ToLower(strings.ReplaceAll(s, "_", " "))
}

func segmentKindName(k dwellv1.SegmentKind) string { return enumWord(k.String(), "SEGMENT_KIND_") }

func visitSourceName(s dwellv1.VisitSource) string {
	switch s {
	case dwellv1.VisitSource_VISIT_SOURCE_GEOFENCE:
		return "fixes"
	case dwellv1.VisitSource_VISIT_SOURCE_CHECK_IN:
		return "check-in"
	case dwellv1.VisitSource_VISIT_SOURCE_BOTH:
		return "check-in+fixes"
	}
	return "-"
}

// parseDate reads YYYY-MM-DD, "today" or "yesterday" (on now's calendar).
func parseDate(s string, now time.Time) (*dwellv1.Date, error) {
	// Calendar days, not 24 hours back: a day the clocks skip midnight on
	// (Chile, Cuba) is 23 hours long, and "yesterday" an hour after its
	// start is still the day before it.
	var d dwell.Date
	switch s {
	case "today":
		d = dwell.DateOf(now, now.Location())
	case "yesterday":
		d = dwell.DateOf(now, now.Location()).AddDays(-1)
	default:
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a day: want YYYY-MM-DD, today or yesterday", s)
		}
		d = dwell.DateOf(t, time.UTC)
	}
	return &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}, nil
}

func formatDate(d *dwellv1.Date) string {
	if d == nil {
		return "-"
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
}

// rangeFlags are the date range and the reps or team of a breakdown or a
// KPI report.
type rangeFlags struct {
	from, to string
	team     string
	reps     stringList
}

func (r *rangeFlags) register(fs *flag.FlagSet, manyReps bool) {
	fs.StringVar(&r.from, "from", "", "first local `day`, YYYY-MM-DD, today or yesterday (default: six days before --to)")
	fs.StringVar(&r.to, "to", "today", "last local `day`, inclusive")
	fs.StringVar(&r.team, "team", "", "the `team`, ID or teams/ID")
	if manyReps {
		fs.Var(&r.reps, "rep", "a `rep`, ID or reps/ID (repeatable; instead of --team)")
	} else {
		fs.Var(&r.reps, "rep", "the `rep`, ID or reps/ID (instead of --team)")
	}
}

// resolve checks the flags and returns the range and the reps' names.
func (r *rangeFlags) resolve(now time.Time, manyReps bool) (from, to *dwellv1.Date, reps []string, team string, err error) {
	if to, err = parseDate(r.to, now); err != nil {
		return nil, nil, nil, "", fmt.Errorf("--to: %v", err)
	}
	if r.from == "" {
		t := time.Date(int(to.GetYear()), time.Month(to.GetMonth()), int(to.GetDay())-6, 12, 0, 0, 0, time.UTC)
		from = &dwellv1.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}
	} else if from, err = parseDate(r.from, now); err != nil {
		return nil, nil, nil, "", fmt.Errorf("--from: %v", err)
	}
	switch {
	case r.team == "" && len(r.reps) == 0:
		return nil, nil, nil, "", fmt.Errorf("give --team or --rep")
	case r.team != "" && len(r.reps) > 0:
		return nil, nil, nil, "", fmt.Errorf("give --team or --rep, not both")
	case !manyReps && len(r.reps) > 1:
		return nil, nil, nil, "", fmt.Errorf("give one --rep")
	}
	for _, rep := range r.reps {
		reps = append(reps, resourceName("reps", rep))
	}
	if r.team != "" {
		team = resourceName("teams", r.team)
	}
	return from, to, reps, team, nil
}

// relative reports whether --from or --to is "today" or "yesterday", which
// depend on whose calendar is read.
func (r *rangeFlags) relative() bool {
	for _, s := range []string{r.from, r.to} {
		if s == "today" || s == "yesterday" {
			return true
		}
	}
	return false
}

// rangeHelp is the help text on how a range's today and yesterday are read;
// every command with rangeFlags appends it.
const rangeHelp = `"today" and "yesterday" in --from and --to (and the default --to) are the
reps' local days, as for "report day": with --rep, on the calendar of the
rep's time zone (of the reps', when several --rep share one); with --team,
of the zone the team's reps share. When the reps are in several zones, or
their zones cannot be read, they are this computer's days, and the range
used is printed on stderr.`

// localDates returns the range with today and yesterday read on the reps'
// calendar: the zone of the named reps, or of the team's reps, when they
// all have one and the caller may read them (GetRep, ListReps). Otherwise
// it keeps the computer's calendar, which resolve used, and says on stderr
// which range that is and why. A range of explicit dates is returned as
// resolve read it.
func (r *rangeFlags) localDates(ctx context.Context, conn grpc.ClientConnInterface, e *env, name string, reps []string, team string, from, to *dwellv1.Date) (*dwellv1.Date, *dwellv1.Date) {
	if !r.relative() {
		return from, to
	}
	now, why := repsNow(ctx, conn, e, reps, team)
	if why != "" {
		fmt.Fprintf(e.stderr, "dwellctl %s: range %s to %s, on this computer's calendar (%s): %s\n",
			name, formatDate(from), formatDate(to), e.now().Location(), why)
		return from, to
	}
	// The flags were read once already, by resolve: they parse again.
	f, t, _, _, err := r.resolve(now, true)
	if err != nil {
		return from, to
	}
	return f, t
}

// repsNow returns the instant now on the calendar of the reps (or the
// team's reps): in the time zone they share (rangeZone), where "today" and
// "yesterday" are their days, as the server cuts them. When they share none
// or it cannot be read, it returns this computer's now and why not.
func repsNow(ctx context.Context, conn grpc.ClientConnInterface, e *env, reps []string, team string) (now time.Time, why string) {
	zone, why := rangeZone(ctx, conn, reps, team)
	if zone == "" {
		return e.now(), why
	}
	return e.now().In(repZone(zone)), ""
}

// repDate returns the day arg names for rep (a reps/ID name): d, which
// parseDate read from arg on this computer's calendar, or, for "today" and
// "yesterday", the day on the calendar of the rep's time zone (repsNow),
// as the ranges read them (localDates). When the rep's zone cannot be
// read it keeps d and says on stderr which day that is and why.
func repDate(ctx context.Context, conn grpc.ClientConnInterface, e *env, name, rep, arg string, d *dwellv1.Date) *dwellv1.Date {
	if arg != "today" && arg != "yesterday" {
		return d
	}
	now, why := repsNow(ctx, conn, e, []string{rep}, "")
	if why != "" {
		fmt.Fprintf(e.stderr, "dwellctl %s: %s is %s, on this computer's calendar (%s): %s\n",
			name, arg, formatDate(d), e.now().Location(), why)
		return d
	}
	if local, err := parseDate(arg, now); err == nil {
		return local
	}
	return d
}

// tokenRep returns the name (reps/ID) of the rep whose token token is, its
// subject, or "" for a token of another role or one that does not parse.
// It reads the token's claims without verifying it: they only choose
// whose calendar "today" is read on (report day without REP), while the
// server verifies the token and answers for that rep alone.
func tokenRep(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Subject string `json:"sub"`
		Role    string `json:"role"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Role != dwell.RoleRep.String() || c.Subject == "" {
		return ""
	}
	return "reps/" + c.Subject
}

// rangeZone returns the time zone the reps (or the team's reps) share, or
// "" and why not.
func rangeZone(ctx context.Context, conn grpc.ClientConnInterface, reps []string, team string) (zone, why string) {
	dc := dwellv1.NewDirectoryServiceClient(conn)
	zones := map[string]bool{}
	if team != "" {
		req := &dwellv1.ListRepsRequest{Team: team, PageSize: 1000}
		for {
			resp, err := dc.ListReps(ctx, req)
			if err != nil {
				return "", fmt.Sprintf("the reps of %s cannot be read (%s)", team, status.Convert(err).Message())
			}
			for _, rep := range resp.GetReps() {
				zones[rep.GetTimeZone()] = true
			}
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		if len(zones) == 0 {
			return "", team + " has no reps"
		}
	}
	for _, rep := range reps {
		r, err := dc.GetRep(ctx, &dwellv1.GetRepRequest{Name: rep})
		if err != nil {
			return "", fmt.Sprintf("%s cannot be read (%s)", rep, status.Convert(err).Message())
		}
		zones[r.GetRep().GetTimeZone()] = true
	}
	if len(zones) > 1 {
		names := make([]string, 0, len(zones))
		for z := range zones {
			names = append(names, z)
		}
		sort.Strings(names)
		return "", "the reps are in several time zones (" + strings.Join(names, ", ") + ")"
	}
	for z := range zones {
		return z, ""
	}
	return "", "no rep named"
}

// notServed prints the note for an RPC this dwelld does not serve yet, if
// err says so, and reports whether it did.
func notServed(w io.Writer, what string, err error) bool {
	if status.Code(err) != codes.Unimplemented {
		return false
	}
	fmt.Fprintf(w, "note: this dwelld does not serve %s yet (it answered UNIMPLEMENTED: %s).\n", what, status.Convert(err).Message())
	return true
}

func reportBreakdownCommand() command {
	return command{
		name:    "report breakdown",
		summary: "time with prospects and customers, idle, travel and gaps, per rep or per day",
		help: `Prints the time breakdown of reps (--rep, repeatable) or of a team (--team)
over a range of local days, one row per rep (--by rep) or per rep and day
(--by day), and the total.

` + rangeHelp,
		nargs: 0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var r rangeFlags
			var by string
			r.register(fs, true)
			fs.StringVar(&by, "by", "rep", "rows per `rep` or per day")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "report breakdown"
				from, to, reps, team, err := r.resolve(e.now(), true)
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				grouping := dwellv1.Grouping_GROUPING_REP
				switch by {
				case "rep":
				case "day":
					grouping = dwellv1.Grouping_GROUPING_DAY
				default:
					return e.usageError(name, "--by %s: want rep or day", by)
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				from, to = r.localDates(rctx, conn, e, name, reps, team, from, to)
				resp, err := dwellv1.NewReportServiceClient(conn).GetTimeBreakdown(rctx, &dwellv1.GetTimeBreakdownRequest{
					Reps: reps, Team: team, StartDate: from, EndDate: to, Grouping: grouping,
				})
				if err != nil {
					notServed(e.stderr, "time breakdowns (GetTimeBreakdown)", err)
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProto(e.stdout, resp)
					return exitOK
				}
				printBreakdown(e.stdout, resp, grouping == dwellv1.Grouping_GROUPING_DAY)
				return exitOK
			}
		},
	}
}

// printBreakdown writes a breakdown as a table with a total row.
func printBreakdown(w io.Writer, resp *dwellv1.GetTimeBreakdownResponse, byDay bool) {
	tw := newTable(w)
	head := []string{"REP"}
	if byDay {
		head = append(head, "DAY")
	}
	head = append(head, "FIELD DAYS", "PROSPECTS", "CUSTOMERS", "IDLE", "TRAVEL", "DISTANCE", "GAP", "PAUSED")
	row(tw, head...)
	line := func(first []string, days string, t *dwellv1.DayTotals) {
		cells := append(first, days,
			formatSeconds(t.GetVisitProspectSeconds()), formatSeconds(t.GetVisitCustomerSeconds()),
			formatSeconds(t.GetIdleSeconds()), formatSeconds(t.GetTravelSeconds()), formatDistance(t.GetDistanceMeters()),
			formatSeconds(t.GetGapSeconds()), formatSeconds(t.GetPausedSeconds()))
		row(tw, cells...)
	}
	days := 0
	for _, r := range resp.GetRows() {
		first := []string{r.GetRep()}
		if byDay {
			first = append(first, formatDate(r.GetDate()))
		}
		days += int(r.GetFieldDays())
		line(first, fmt.Sprint(r.GetFieldDays()), r.GetTotals())
	}
	first := []string{"TOTAL"}
	if byDay {
		first = append(first, "")
	}
	line(first, fmt.Sprint(days), resp.GetTotal())
	tw.Flush()
	if len(resp.GetRows()) == 0 {
		fmt.Fprintln(w, "No data in the range: every total is an explicit zero.")
	}
}

func reportKpisCommand() command {
	return command{
		name:    "report kpis",
		summary: "the ten sales KPIs of a rep or a team over a range of days",
		help: `Prints the ten KPIs of DESIGN for one rep (--rep) or a team (--team) over a
range of the reps' local days, each with the field days and records it
rests on.

` + rangeHelp,
		nargs: 0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var r rangeFlags
			r.register(fs, false)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "report kpis"
				from, to, reps, team, err := r.resolve(e.now(), false)
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				req := &dwellv1.GetKpisRequest{Team: team, StartDate: from, EndDate: to}
				if len(reps) == 1 {
					req.Rep = reps[0]
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				req.StartDate, req.EndDate = r.localDates(rctx, conn, e, name, reps, team, from, to)
				from, to = req.GetStartDate(), req.GetEndDate()
				resp, err := dwellv1.NewReportServiceClient(conn).GetKpis(rctx, req)
				if err != nil {
					notServed(e.stderr, "KPIs (GetKpis)", err)
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProto(e.stdout, resp)
					return exitOK
				}
				who := req.Rep + req.Team
				fmt.Fprintf(e.stdout, "KPIs of %s, %s to %s\n\n", who, formatDate(from), formatDate(to))
				printKpis(e.stdout, resp)
				return exitOK
			}
		},
	}
}

// printKpis writes the ten KPIs, each a heading with its basis and a few
// labelled lines.
func printKpis(w io.Writer, k *dwellv1.GetKpisResponse) {
	tw := newTable(w)
	head := func(n int, title string, b *dwellv1.Basis) {
		if n > 1 {
			row(tw, "")
		}
		row(tw, fmt.Sprintf("%2d. %s", n, title), fmt.Sprintf("(%s, %s)", plural(int(b.GetDays()), "field day"), plural(int(b.GetRecords()), "record")))
	}
	item := func(label, value string) { row(tw, "      "+label, value) }

	i := k.GetIdle()
	head(1, "Idle time in the field", i.GetBasis())
	item("idle", fmt.Sprintf("%s, %s per field day, %s of field time", formatSeconds(i.GetIdleSeconds()),
		formatSeconds(int64(i.GetIdleSecondsPerDay())), percent(i.GetIdleShare())))
	item("travel", fmt.Sprintf("%s, %s", formatSeconds(i.GetTravelSeconds()), formatDistance(i.GetTravelMeters())))

	v := k.GetVisitTime()
	head(2, "Time with prospects", v.GetBasis())
	item("prospects", fmt.Sprintf("%s, %s a visit on average", formatSeconds(v.GetProspectSeconds()), formatSeconds(int64(v.GetProspectMeanSeconds()))))
	item("customers", fmt.Sprintf("%s, %s a visit on average", formatSeconds(v.GetCustomerSeconds()), formatSeconds(int64(v.GetCustomerMeanSeconds()))))
	item("visit lengths", histogram(v.GetDurationHistogram()))
	item("sweet spot", fmt.Sprintf("%s a visit to clients later won, %s to the others",
		formatSeconds(int64(v.GetWonMeanSeconds())), formatSeconds(int64(v.GetNotWonMeanSeconds()))))

	m := k.GetMeetings()
	head(3, "Meetings and appointments per day", m.GetBasis())
	item("verified visits", fmt.Sprintf("%.1f per field day", m.GetVerifiedVisitsPerDay()))
	item("appointments", fmt.Sprintf("%d kept of %d planned", m.GetAppointmentsKept(), m.GetAppointmentsPlanned()))

	c := k.GetCalls()
	head(4, "Average talk time per call", c.GetBasis())
	item("calls", fmt.Sprintf("%d, %d connected", c.GetCalls(), c.GetConnectedCalls()))
	item("talk time", fmt.Sprintf("%s per connected call", formatSeconds(int64(c.GetMeanTalkSeconds()))))

	wr := k.GetWinRatio()
	head(5, "Meeting-to-win ratio", wr.GetBasis())
	item("wins", fmt.Sprintf("%d from %d meetings with those clients (ratio %.2f)", wr.GetWins(), wr.GetMeetings(), wr.GetRatio()))
	item("after 2+ meetings", percent(wr.GetMultiMeetingWinShare())+" of wins")

	rj := k.GetRejection()
	head(6, "Rejection rate and reasons", rj.GetBasis())
	item("rejected", fmt.Sprintf("%d of %d meetings with an outcome (%s)", rj.GetRejections(), rj.GetMeetingsWithOutcome(), percent(rj.GetRate())))
	if n := rj.GetCheckOutsWithoutMeeting(); n > 0 {
		item("no meeting", fmt.Sprintf("%d check-outs with an outcome, no check-in nor visit of the client that day: not counted", n))
	}
	reasons := append([]*dwellv1.RejectionCount(nil), rj.GetReasons()...)
	sort.SliceStable(reasons, func(a, b int) bool { return reasons[a].GetCount() > reasons[b].GetCount() })
	for _, r := range reasons {
		item("  "+enumWord(r.GetReason().String(), "REJECTION_REASON_"), fmt.Sprint(r.GetCount()))
	}

	cd := k.GetCadence()
	head(7, "Sales cadence and follow-up rate", cd.GetBasis())
	item("positive responses", fmt.Sprintf("%.1f per field day", cd.GetPositivePerDay()))
	item("follow-ups", fmt.Sprintf("%d done on time of %d due (%s), median %.1f days to follow up",
		cd.GetFollowUpsDone(), cd.GetFollowUpsDue(), percent(cd.GetFollowUpRate()), cd.GetMedianDaysToFollowUp()))

	en := k.GetEngagement()
	head(8, "Engagement with existing customers", en.GetBasis())
	item("customers", fmt.Sprintf("%d visits, %d calls", en.GetCustomerVisits(), en.GetCustomerCalls()))
	item("won amount", percent(en.GetCustomerWonShare())+" from existing customers")

	sc := k.GetSalesCycle()
	head(9, "Average sales cycle", sc.GetBasis())
	item("open to won", fmt.Sprintf("mean %.1f days, median %.1f days, spread across reps %.1f days", sc.GetMeanDays(), sc.GetMedianDays(), sc.GetTeamSpreadDays()))

	q := k.GetQuota()
	head(10, "Quota attainment", q.GetBasis())
	item("won", fmt.Sprintf("%s of %s quota (%s)", formatMoney(q.GetWon()), formatMoney(q.GetQuota()), percent(q.GetAttainment())))
	tw.Flush()
}

// plural is "1 record" or "2 records" ("fixes" after an x).
func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "x"):
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

// histogram shows the visit-length buckets of KPI 2.
func histogram(h []int32) string {
	labels := []string{"<5m", "5-15m", "15-30m", "30-60m", "60m+"}
	var parts []string
	for i, n := range h {
		l := fmt.Sprintf("bucket %d", i+1)
		if i < len(labels) {
			l = labels[i]
		}
		parts = append(parts, fmt.Sprintf("%s: %d", l, n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// currencyExponents holds the ISO 4217 currencies whose minor unit is not
// a hundredth: those without one (amount_minor is whole units; IDR too, by
// the API's rule, although ISO gives it two decimals) and those with three
// or four decimals. Every other currency has two.
var currencyExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IDR": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// currencyDecimals returns how many decimals an amount of cur has: the
// power of ten between its major and minor units.
func currencyDecimals(cur string) int {
	if d, ok := currencyExponents[cur]; ok {
		return d
	}
	return 2
}

// formatMoney shows an amount as "IDR 1,500,000", "EUR 1,234.50" or
// "KWD 1.500", with the currency's decimals.
func formatMoney(m *dwellv1.Money) string {
	if m == nil {
		return "-"
	}
	cur := m.GetCurrencyCode()
	a := m.GetAmountMinor()
	sign := ""
	if a < 0 {
		sign, a = "-", -a
	}
	d := currencyDecimals(cur)
	if d == 0 {
		return strings.TrimSpace(cur + " " + sign + thousands(a))
	}
	unit := int64(1)
	for range d {
		unit *= 10
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s%s.%0*d", cur, sign, thousands(a/unit), d, a%unit))
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
