package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const reportStatusHelp = `Prints who is idle now: each rep's state (tracking, paused, silent, no data,
outside hours), what it is doing (visit, idle, travel, gap, paused) since
when and for how long, the client of a visit, and its last fix (local time,
age, position; no position while tracking is paused). Times are in each
rep's time zone; durations run to the server's as_of_time. A time after it
(a phone's clock ahead: the server takes fixes up to 24 hours ahead) has
lasted nothing yet: its duration shows as 0s and its last fix as "just
now", never as a negative duration.

Reps are named with --rep (repeatable) or --team; with neither, a manager
gets the reps of its teams, an admin or partner every rep, a rep itself.`

func reportStatusCommand() command {
	return command{
		name:    "report status",
		summary: "who is idle now: each rep's current state, since when, last fix",
		help:    reportStatusHelp,
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			var team string
			var reps stringList
			l.register(fs)
			fs.StringVar(&team, "team", "", "the `team`, ID or teams/ID")
			fs.Var(&reps, "rep", "a `rep`, ID or reps/ID (repeatable; instead of --team)")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "report status"
				if team != "" && len(reps) > 0 {
					return e.usageError(name, "give --team or --rep, not both")
				}
				req := &dwellv1.ListRepStatusesRequest{}
				if team != "" {
					req.Team = resourceName("teams", team)
				}
				for _, r := range reps {
					req.Reps = append(req.Reps, resourceName("reps", r))
				}
				conn, err := g.dial()
				if err != nil {
					return e.fail(name, err)
				}
				defer conn.Close()
				rc := dwellv1.NewReportServiceClient(conn)
				var asOf *timestamppb.Timestamp
				statuses, err := list(ctx, e, g, &l, func(ctx context.Context, size int32, token string) ([]*dwellv1.RepStatus, string, error) {
					req.PageSize, req.PageToken = size, token
					resp, err := rc.ListRepStatuses(ctx, req)
					asOf = resp.GetAsOfTime()
					return resp.GetRepStatuses(), resp.GetNextPageToken(), err
				})
				if err != nil {
					notServed(e.stderr, "rep statuses (ListRepStatuses)", err)
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProtos(e.stdout, statuses)
					return exitOK
				}
				printStatuses(e.stdout, statuses, asOf.AsTime())
				return exitOK
			}
		},
	}
}

// printStatuses writes rep statuses as a table, durations to asOf. A
// since or last-fix time after asOf (a phone's clock ahead; fixes are taken
// up to 24 h ahead) has lasted nothing: 0s, "just now".
func printStatuses(w io.Writer, ss []*dwellv1.RepStatus, asOf time.Time) {
	tw := newTable(w)
	row(tw, "REP", "STATE", "DOING", "SINCE", "FOR", "CLIENT", "LAST FIX", "POSITION")
	for _, s := range ss {
		loc := repZone(s.GetTimeZone())
		today := dwell.DateOf(asOf, loc).Start(loc)
		since, dur := "-", "-"
		if s.GetSinceTime() != nil {
			since = localClock(s.GetSinceTime().AsTime(), loc, today)
			dur = formatDuration(max(asOf.Sub(s.GetSinceTime().AsTime()), 0))
		}
		last, pos := "-", "-"
		if s.GetLastFixTime() != nil {
			at := s.GetLastFixTime().AsTime()
			ago := "just now"
			if d := asOf.Sub(at); d > 0 {
				ago = formatDuration(d) + " ago"
			}
			last = fmt.Sprintf("%s (%s)", localClock(at, loc, today), ago)
		}
		if p := s.GetLastFixLocation(); p != nil {
			pos = fmt.Sprintf("%.5f,%.5f ±%.0f m", p.GetLat(), p.GetLng(), s.GetLastFixAccuracyMeters())
		} else if s.GetLastFixTime() != nil {
			pos = "(hidden: paused)"
		}
		row(tw, s.GetRep(), enumWord(s.GetState().String(), "REP_STATE_"), segmentKindName(s.GetKind()),
			since, dur, orDash(s.GetClient()), last, pos)
	}
	tw.Flush()
	fmt.Fprintf(w, "As of %s.\n", asOf.UTC().Format(time.RFC3339))
}
