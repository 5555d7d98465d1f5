package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const reportVisitsHelp = `Lists the visits of a rep (--rep) or a team (--team) over a range of local
days, newest first, as ListVisits derives them: each with its local day and
times in the rep's time zone, the client, how it was established (fixes,
check-in or both), the check-in's verification and the outcome. --client
and --verification narrow the list. Add --all to follow every page.

` + rangeHelp

func reportVisitsCommand() command {
	return command{
		name:    "report visits",
		summary: "the visits of a rep or a team over a range of days",
		help:    reportVisitsHelp,
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var r rangeFlags
			var l listFlags
			var client, verification string
			r.register(fs, false)
			l.register(fs)
			fs.StringVar(&client, "client", "", "only visits to this `client`, ID or clients/ID")
			fs.StringVar(&verification, "verification", "", "only visits whose check-in is `verified`, outside-geofence, low-accuracy, mock-location, no-fix or stale-fix")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "report visits"
				from, to, reps, team, err := r.resolve(e.now(), false)
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				ver, err := parseVerification(verification)
				if err != nil {
					return e.usageError(name, "--verification: %v", err)
				}
				req := &dwellv1.ListVisitsRequest{Rep: first(reps), Team: team, StartDate: from, EndDate: to, Verification: ver}
				if client != "" {
					req.Client = resourceName("clients", client)
				}
				return runList(ctx, e, g, name, &l,
					func(ctx context.Context, conn *grpc.ClientConn, size int32, token string) ([]*dwellv1.Visit, string, error) {
						if token == "" { // the first page: read the range on the reps' calendar
							req.StartDate, req.EndDate = r.localDates(ctx, conn, e, name, reps, team, from, to)
						}
						req.PageSize, req.PageToken = size, token
						resp, err := dwellv1.NewReportServiceClient(conn).ListVisits(ctx, req)
						return resp.GetVisits(), resp.GetNextPageToken(), err
					},
					func(ctx context.Context, conn *grpc.ClientConn, vs []*dwellv1.Visit) {
						printVisits(e.stdout, vs, repZones(ctx, conn, vs))
					})
			}
		},
	}
}

// parseVerification reads a check-in verification filter: verified,
// outside-geofence and so on, or empty for all.
func parseVerification(s string) (dwellv1.Verification, error) {
	if s == "" {
		return dwellv1.Verification_VERIFICATION_UNSPECIFIED, nil
	}
	up := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(s)))
	if v, ok := dwellv1.Verification_value["VERIFICATION_"+strings.TrimPrefix(up, "VERIFICATION_")]; ok && v != 0 {
		return dwellv1.Verification(v), nil
	}
	return 0, fmt.Errorf("%q: want verified, outside-geofence, low-accuracy, mock-location, no-fix or stale-fix", s)
}

// repZones reads the time zone of each rep of the visits. A rep that
// cannot be read is left out: its times are then shown in UTC.
func repZones(ctx context.Context, conn grpc.ClientConnInterface, vs []*dwellv1.Visit) map[string]*time.Location {
	dc := dwellv1.NewDirectoryServiceClient(conn)
	out := map[string]*time.Location{}
	tried := map[string]bool{}
	for _, v := range vs {
		if tried[v.GetRep()] {
			continue
		}
		tried[v.GetRep()] = true
		if r, err := dc.GetRep(ctx, &dwellv1.GetRepRequest{Name: v.GetRep()}); err == nil {
			out[v.GetRep()] = repZone(r.GetRep().GetTimeZone())
		}
	}
	return out
}

// printVisits writes visits as a table with local times: "09:05" on the
// visit's day in the rep's zone, or UTC ("02:05Z") when the zone is
// unknown.
func printVisits(w io.Writer, vs []*dwellv1.Visit, zones map[string]*time.Location) {
	if len(vs) == 0 {
		fmt.Fprintln(w, "No visits in the range.")
		return
	}
	tw := newTable(w)
	row(tw, "REP", "DAY", "START", "END", "DURATION", "CLIENT", "FROM", "CHECK-IN", "OUTCOME")
	for _, v := range vs {
		start, end := v.GetStartTime().AsTime(), v.GetEndTime().AsTime()
		loc, suffix := zones[v.GetRep()], ""
		if loc == nil {
			loc, suffix = time.UTC, "Z"
		}
		d := v.GetDate()
		day := dayStart(d, loc)
		dur := end.Sub(start) - time.Duration(v.GetPausedSeconds()+v.GetOffHoursSeconds())*time.Second
		row(tw, v.GetRep(), formatDate(d), localClock(start, loc, day)+suffix, localClock(end, loc, day)+suffix, formatDuration(dur),
			v.GetClient(), visitSourceName(v.GetSource()),
			enumWord(v.GetVerification().String(), "VERIFICATION_"), enumWord(v.GetOutcome().String(), "OUTCOME_"))
	}
	tw.Flush()
}
