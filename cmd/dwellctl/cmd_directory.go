package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

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
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Rep, error) {
					resp, err := dc.CreateRep(ctx, &dwellv1.CreateRepRequest{
						RepId: strings.TrimPrefix(args[0], "reps/"), Rep: rep,
					})
					return resp.GetRep(), err
				}, nil, printRep)
			}
		},
	}
}

func printRep(e *env, g *globals, r *dwellv1.Rep) int {
	return printRecord(e, g, r, [][2]string{
		{"Name:", r.GetName()},
		{"Display name:", r.GetDisplayName()},
		{"Email:", orDash(r.GetEmail())},
		{"Time zone:", r.GetTimeZone()},
		{"Team:", orDash(r.GetTeam())},
		{"Hours:", orDash(formatHours(r.GetWorkingHours()))},
		{"Created:", formatTime(r.GetCreateTime())},
		{"Updated:", formatTime(r.GetUpdateTime())},
		{"Etag:", orDash(r.GetEtag())},
	})
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
				row(tw, "NAME", "DISPLAY NAME", "TEAM", "TIME ZONE", "HOURS", "ETAG")
				for _, r := range reps {
					row(tw, r.GetName(), r.GetDisplayName(), orDash(r.GetTeam()), r.GetTimeZone(), orDash(formatHours(r.GetWorkingHours())), orDash(r.GetEtag()))
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
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Rep, error) {
					resp, err := dc.GetRep(ctx, &dwellv1.GetRepRequest{Name: resourceName("reps", args[0])})
					return resp.GetRep(), err
				}, nil, printRep)
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
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Team, error) {
					resp, err := dc.CreateTeam(ctx, &dwellv1.CreateTeamRequest{
						TeamId: strings.TrimPrefix(args[0], "teams/"),
						Team:   &dwellv1.Team{DisplayName: displayName, Managers: managers},
					})
					return resp.GetTeam(), err
				}, nil, printTeam)
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
				row(tw, "NAME", "DISPLAY NAME", "MANAGERS", "ETAG")
				for _, t := range teams {
					row(tw, t.GetName(), t.GetDisplayName(), orDash(strings.Join(t.GetManagers(), ", ")), orDash(t.GetEtag()))
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

// etagUsage is the help of every update's --etag flag.
const etagUsage = "apply the update only if the record is unchanged since the read that showed this `etag` (get, list and update print it); without it the update applies whatever was written since"

// visited returns the names of the flags set on the command line, so that
// an update's mask names exactly the fields the user named.
func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// updateMask returns the mask of the given paths, or a usage error naming
// the flags that would change something when there is none.
func updateMask(paths []string, flags string) (*fieldmaskpb.FieldMask, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("nothing to change: give %s", flags)
	}
	sort.Strings(paths)
	return &fieldmaskpb.FieldMask{Paths: paths}, nil
}

// exclusive returns a usage error when flags a and b are both on: given,
// or for a boolean flag, given true.
func exclusive(a string, aOn bool, b string, bOn bool) error {
	if aOn && bOn {
		return fmt.Errorf("--%s and --%s contradict each other; give one", a, b)
	}
	return nil
}

// updateFailed reports a failed update. An update that sent an etag and is
// refused with ABORTED (dwelld's answer, AIP-154) or FAILED_PRECONDITION
// (another AIP-154 reading) found the record changed since that etag was
// read, and nothing was changed: that is said in words, with the command
// that reads it again. Any other failure is reported by rpcError. It
// returns exitFail.
func (e *env) updateFailed(name string, g *globals, record, getCmd, etag string, err error) int {
	if c := status.Code(err); etag != "" && (c == codes.Aborted || c == codes.FailedPrecondition) {
		fmt.Fprintf(e.stderr, "dwellctl %s: %s changed since you read it (etag %s), so nothing was changed; get it again (dwellctl %s), then redo the update with its new etag\n",
			name, record, etag, getCmd)
		fmt.Fprintf(e.stderr, "  %s: %s\n", codeName(c), status.Convert(err).Message())
		return exitFail
	}
	return e.rpcError(name, g, err)
}

func repsUpdateCommand() command {
	return command{
		name:    "reps update",
		args:    "ID",
		summary: "change a rep: name, time zone, team, e-mail, working hours (only the flags given)",
		help: `Only the fields whose flags are given change; the others keep their values.
--no-team leaves the rep without a team and --no-hours removes its working
hours (fixes are then taken at any time). A new time zone or working hours
derive the rep's last 35 days again. With --etag the update applies only if
the rep is unchanged since the read that showed that etag; if it changed,
nothing is changed and the exit status is 1.

` + hoursHelp,
		nargs: 1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName, timeZone, team, email, hours, etag string
			var noTeam, noHours bool
			fs.StringVar(&displayName, "name", "", "new display `name`")
			fs.StringVar(&timeZone, "time-zone", "", "new IANA time `zone`, such as Asia/Jakarta")
			fs.StringVar(&team, "team", "", "move the rep to this `team` (id or teams/ID; it must exist)")
			fs.BoolVar(&noTeam, "no-team", false, "leave the rep without a team")
			fs.StringVar(&email, "email", "", "new e-mail `address` (--email '' removes it)")
			fs.StringVar(&hours, "hours", "", "new working `hours`, such as \"mon-fri 08:00-17:00\"; they replace all the old ones")
			fs.BoolVar(&noHours, "no-hours", false, "remove the rep's working hours")
			fs.StringVar(&etag, "etag", "", etagUsage)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "reps update"
				given := visited(fs)
				for _, err := range []error{exclusive("team", given["team"], "no-team", noTeam), exclusive("hours", given["hours"], "no-hours", noHours)} {
					if err != nil {
						return e.usageError(name, "%v", err)
					}
				}
				if given["team"] && strings.TrimSpace(team) == "" {
					return e.usageError(name, "--team is empty; to leave the rep without a team give --no-team")
				}
				if given["hours"] && strings.TrimSpace(hours) == "" {
					return e.usageError(name, "--hours is empty; to remove the working hours give --no-hours")
				}
				wh, err := parseHours(hours)
				if err != nil {
					return e.usageError(name, "--hours: %v", err)
				}
				n := resourceName("reps", args[0])
				rep := &dwellv1.Rep{Name: n, DisplayName: displayName, TimeZone: timeZone, Email: email, WorkingHours: wh, Etag: etag}
				var paths []string
				if given["name"] {
					paths = append(paths, "display_name")
				}
				if given["time-zone"] {
					paths = append(paths, "time_zone")
				}
				if given["email"] {
					paths = append(paths, "email")
				}
				if given["team"] {
					rep.Team = resourceName("teams", team)
				}
				if given["team"] || noTeam {
					paths = append(paths, "team")
				}
				if given["hours"] || noHours {
					paths = append(paths, "working_hours")
				}
				mask, err := updateMask(paths, "--name, --time-zone, --team, --no-team, --email, --hours or --no-hours")
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Rep, error) {
					resp, err := dc.UpdateRep(ctx, &dwellv1.UpdateRepRequest{Rep: rep, UpdateMask: mask})
					return resp.GetRep(), err
				}, func(err error) int { return e.updateFailed(name, g, n, "reps get "+args[0], etag, err) }, printRep)
			}
		},
	}
}

func repsDeleteCommand() command {
	return deleteCommand("reps delete", "ID", "reps",
		"delete a rep from the directory (its data stays until erased or expired)", dwellv1.NewDirectoryServiceClient,
		func(ctx context.Context, dc dwellv1.DirectoryServiceClient, n string) error {
			_, err := dc.DeleteRep(ctx, &dwellv1.DeleteRepRequest{Name: n})
			return err
		})
}

func printTeam(e *env, g *globals, t *dwellv1.Team) int {
	return printRecord(e, g, t, [][2]string{
		{"Name:", t.GetName()},
		{"Display name:", t.GetDisplayName()},
		{"Managers:", orDash(strings.Join(t.GetManagers(), ", "))},
		{"Created:", formatTime(t.GetCreateTime())},
		{"Updated:", formatTime(t.GetUpdateTime())},
		{"Etag:", orDash(t.GetEtag())},
	})
}

func teamsGetCommand() command {
	return command{
		name:    "teams get",
		args:    "ID",
		summary: "show one team (a manager sees its own)",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "teams get"
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Team, error) {
					resp, err := dc.GetTeam(ctx, &dwellv1.GetTeamRequest{Name: resourceName("teams", args[0])})
					return resp.GetTeam(), err
				}, nil, printTeam)
			}
		},
	}
}

func teamsUpdateCommand() command {
	return command{
		name:    "teams update",
		args:    "ID",
		summary: "rename a team or replace its managers (only the flags given)",
		help: `Only the fields whose flags are given change. --manager is repeatable and
the managers given replace the whole list (name every manager the team
keeps); --no-managers leaves the team with none. With --etag the update
applies only if the team is unchanged since the read that showed that etag;
if it changed, nothing is changed and the exit status is 1.`,
		nargs: 1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName, etag string
			var managers stringList
			var noManagers bool
			fs.StringVar(&displayName, "name", "", "new display `name`")
			fs.Var(&managers, "manager", "token `subject` of a manager (repeatable); the ones given replace all")
			fs.BoolVar(&noManagers, "no-managers", false, "remove every manager")
			fs.StringVar(&etag, "etag", "", etagUsage)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "teams update"
				given := visited(fs)
				if err := exclusive("manager", given["manager"], "no-managers", noManagers); err != nil {
					return e.usageError(name, "%v", err)
				}
				for _, m := range managers {
					if strings.TrimSpace(m) == "" {
						return e.usageError(name, "--manager is empty; to remove every manager give --no-managers")
					}
				}
				var paths []string
				if given["name"] {
					paths = append(paths, "display_name")
				}
				if given["manager"] || noManagers {
					paths = append(paths, "managers")
				}
				mask, err := updateMask(paths, "--name, --manager or --no-managers")
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				n := resourceName("teams", args[0])
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Team, error) {
					resp, err := dc.UpdateTeam(ctx, &dwellv1.UpdateTeamRequest{
						Team:       &dwellv1.Team{Name: n, DisplayName: displayName, Managers: managers, Etag: etag},
						UpdateMask: mask,
					})
					return resp.GetTeam(), err
				}, func(err error) int { return e.updateFailed(name, g, n, "teams get "+args[0], etag, err) }, printTeam)
			}
		},
	}
}

func teamsDeleteCommand() command {
	return deleteCommand("teams delete", "ID", "teams",
		"delete a team; its reps are left without a team", dwellv1.NewDirectoryServiceClient,
		func(ctx context.Context, dc dwellv1.DirectoryServiceClient, n string) error {
			_, err := dc.DeleteTeam(ctx, &dwellv1.DeleteTeamRequest{Name: n})
			return err
		})
}

// callDirectory is callService for DirectoryService.
func callDirectory[R any](ctx context.Context, e *env, g *globals, name string,
	call func(context.Context, dwellv1.DirectoryServiceClient) (R, error),
	failed func(error) int, show func(*env, *globals, R) int) int {
	return callService(ctx, e, g, name, dwellv1.NewDirectoryServiceClient, call, failed, show)
}

// callService dials the server, makes one call on the service client
// returns with the --timeout deadline and prints its answer with show:
// the body of every command that reads or writes one record. A failed
// call is reported by failed, or by rpcError when failed is nil.
func callService[C, R any](ctx context.Context, e *env, g *globals, name string,
	client func(grpc.ClientConnInterface) C, call func(context.Context, C) (R, error),
	failed func(error) int, show func(*env, *globals, R) int) int {
	conn, rctx, done, err := g.connect(ctx)
	if err != nil {
		return e.fail(name, err)
	}
	defer done()
	r, err := call(rctx, client(conn))
	if err != nil {
		if failed != nil {
			return failed(err)
		}
		return e.rpcError(name, g, err)
	}
	return show(e, g, r)
}
