package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

const hoursHelp = `Working hours (--hours) are a comma-separated list of "DAYS HH:MM-HH:MM"
entries in the rep's local time, where DAYS is a day or a range of days
(mon tue wed thu fri sat sun; a range may wrap, as fri-mon):

  --hours "mon-fri 08:00-17:00, sat 09:00-13:00"

The end may be 24:00; a day may have several windows; a night shift is two
entries. Fixes outside the working hours are refused and not stored.`

func repsCreateCommand() command {
	return command{
		name:    "reps create",
		args:    "ID",
		summary: "create a rep (ID is also the subject of the rep's token)",
		help:    hoursHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName, timeZone, team, email, hours string
			fs.StringVar(&displayName, "name", "", "display `name` (required)")
			fs.StringVar(&timeZone, "time-zone", "", "IANA time `zone`, such as Asia/Jakarta (required)")
			fs.StringVar(&team, "team", "", "`team` id or teams/ID")
			fs.StringVar(&email, "email", "", "e-mail `address`")
			fs.StringVar(&hours, "hours", "", "working `hours`, such as \"mon-fri 08:00-17:00\"")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "reps create"
				wh, err := parseHours(hours)
				if err != nil {
					return e.usageError(name, "--hours: %v", err)
				}
				rep := &dwellv1.Rep{DisplayName: displayName, TimeZone: timeZone, Email: email, WorkingHours: wh}
				if team != "" {
					rep.Team = resourceName("teams", team)
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).CreateRep(rctx, &dwellv1.CreateRepRequest{
					RepId: strings.TrimPrefix(args[0], "reps/"), Rep: rep,
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				return printRep(e, g, resp.GetRep())
			}
		},
	}
}

func printRep(e *env, g *globals, r *dwellv1.Rep) int {
	if g.json() {
		printProto(e.stdout, r)
		return exitOK
	}
	tw := newTable(e.stdout)
	row(tw, "Name:", r.GetName())
	row(tw, "Display name:", r.GetDisplayName())
	row(tw, "Email:", orDash(r.GetEmail()))
	row(tw, "Time zone:", r.GetTimeZone())
	row(tw, "Team:", orDash(r.GetTeam()))
	row(tw, "Hours:", orDash(formatHours(r.GetWorkingHours())))
	row(tw, "Created:", formatTime(r.GetCreateTime()))
	row(tw, "Updated:", formatTime(r.GetUpdateTime()))
	tw.Flush()
	return exitOK
}

func repsListCommand() command {
	return command{
		name:    "reps list",
		summary: "list reps, of one team or all",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			var team string
			l.register(fs)
			fs.StringVar(&team, "team", "", "only reps of this `team` (id or teams/ID; a manager must name one of its teams)")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "reps list"
				if team != "" {
					team = resourceName("teams", team)
				}
				conn, err := g.dial()
				if err != nil {
					return e.fail(name, err)
				}
				defer conn.Close()
				dc := dwellv1.NewDirectoryServiceClient(conn)
				reps, err := list(ctx, e, g, &l, func(ctx context.Context, size int32, token string) ([]*dwellv1.Rep, string, error) {
					resp, err := dc.ListReps(ctx, &dwellv1.ListRepsRequest{PageSize: size, PageToken: token, Team: team})
					return resp.GetReps(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProtos(e.stdout, reps)
					return exitOK
				}
				tw := newTable(e.stdout)
				row(tw, "NAME", "DISPLAY NAME", "TEAM", "TIME ZONE", "HOURS")
				for _, r := range reps {
					row(tw, r.GetName(), r.GetDisplayName(), orDash(r.GetTeam()), r.GetTimeZone(), orDash(formatHours(r.GetWorkingHours())))
				}
				tw.Flush()
				return exitOK
			}
		},
	}
}

func repsGetCommand() command {
	return command{
		name:    "reps get",
		args:    "ID",
		summary: "show one rep",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "reps get"
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).GetRep(rctx, &dwellv1.GetRepRequest{Name: resourceName("reps", args[0])})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				return printRep(e, g, resp.GetRep())
			}
		},
	}
}

func repsEraseHistoryCommand() command {
	return command{
		name:    "reps erase-history",
		args:    "ID --yes",
		summary: "erase a rep's location history for good (fixes, visits, calls, summaries, events); admin only",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			yes := fs.Bool("yes", false, "confirm: the erase cannot be undone")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "reps erase-history"
				if !*yes {
					return e.usageError(name, "erasing %s's history cannot be undone; pass --yes to confirm", args[0])
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				n := resourceName("reps", args[0])
				resp, err := dwellv1.NewDirectoryServiceClient(conn).EraseRepHistory(rctx, &dwellv1.EraseRepHistoryRequest{Name: n})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printJSON(e.stdout, map[string]any{"name": n, "fixes_erased": resp.GetFixesErased(), "actions_erased": resp.GetActionsErased(),
						"days_erased": resp.GetDaysErased(), "events_erased": resp.GetEventsErased()})
					return exitOK
				}
				fmt.Fprintf(e.stdout, "Erased the history of %s: %d fixes, %d check-ins/check-outs/calls, %d day summaries, %d events\n",
					n, resp.GetFixesErased(), resp.GetActionsErased(), resp.GetDaysErased(), resp.GetEventsErased())
				return exitOK
			}
		},
	}
}

func teamsCreateCommand() command {
	return command{
		name:    "teams create",
		args:    "ID",
		summary: "create a team",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName string
			var managers stringList
			fs.StringVar(&displayName, "name", "", "display `name` (required)")
			fs.Var(&managers, "manager", "token `subject` of a manager who reads this team (repeatable)")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "teams create"
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).CreateTeam(rctx, &dwellv1.CreateTeamRequest{
					TeamId: strings.TrimPrefix(args[0], "teams/"),
					Team:   &dwellv1.Team{DisplayName: displayName, Managers: managers},
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				t := resp.GetTeam()
				if g.json() {
					printProto(e.stdout, t)
					return exitOK
				}
				tw := newTable(e.stdout)
				row(tw, "Name:", t.GetName())
				row(tw, "Display name:", t.GetDisplayName())
				row(tw, "Managers:", orDash(strings.Join(t.GetManagers(), ", ")))
				row(tw, "Created:", formatTime(t.GetCreateTime()))
				tw.Flush()
				return exitOK
			}
		},
	}
}

func teamsListCommand() command {
	return command{
		name:    "teams list",
		summary: "list teams (a manager sees its own)",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			l.register(fs)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "teams list"
				conn, err := g.dial()
				if err != nil {
					return e.fail(name, err)
				}
				defer conn.Close()
				dc := dwellv1.NewDirectoryServiceClient(conn)
				teams, err := list(ctx, e, g, &l, func(ctx context.Context, size int32, token string) ([]*dwellv1.Team, string, error) {
					resp, err := dc.ListTeams(ctx, &dwellv1.ListTeamsRequest{PageSize: size, PageToken: token})
					return resp.GetTeams(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProtos(e.stdout, teams)
					return exitOK
				}
				tw := newTable(e.stdout)
				row(tw, "NAME", "DISPLAY NAME", "MANAGERS")
				for _, t := range teams {
					row(tw, t.GetName(), t.GetDisplayName(), orDash(strings.Join(t.GetManagers(), ", ")))
				}
				tw.Flush()
				return exitOK
			}
		},
	}
}

// healthCommand checks grpc.health.v1.
func healthCommand() command {
	return command{
		name:    "health",
		summary: "check the server's health (exit 0 only when SERVING)",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var service string
			fs.StringVar(&service, "service", "", "`service` to check; empty is the whole server")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				return checkHealth(ctx, e, g, service)
			}
		},
	}
}
