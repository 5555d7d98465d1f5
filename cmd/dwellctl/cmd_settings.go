package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file holds "settings get" and "settings update": the tenant's
// thresholds and policies (dwell.v1.Settings). Thresholds are read and
// written as Go durations (5m, 90s, 1h30m) and sent in whole seconds.

// settingsJSON prints settings with every field, false and zero included:
// partner_accounts_required false is a policy, not an absent value.
var settingsJSON = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// printSettings shows the settings: thresholds as durations with their
// seconds, the retention in days.
func printSettings(e *env, g *globals, s *dwellv1.Settings) int {
	if g.json() {
		b, err := settingsJSON.Marshal(s)
		if err == nil {
			err = writeIndented(e.stdout, b)
		}
		if err != nil {
			return e.fail("settings", err)
		}
		return exitOK
	}
	secs := func(n int32) string {
		return fmt.Sprintf("%v (%d s)", time.Duration(n)*time.Second, n)
	}
	tw := newTable(e.stdout)
	row(tw, "Retention:", fmt.Sprintf("%d days", s.GetRetentionDays()))
	row(tw, "Visit min:", secs(s.GetVisitMinSeconds()))
	row(tw, "Idle min:", secs(s.GetIdleMinSeconds()))
	row(tw, "Silence min:", secs(s.GetSilenceMinSeconds()))
	row(tw, "Partner accounts required:", fmt.Sprint(s.GetPartnerAccountsRequired()))
	row(tw, "Etag:", orDash(s.GetEtag()))
	tw.Flush()
	return exitOK
}

func settingsGetCommand() command {
	return command{
		name:    "settings get",
		summary: "show the tenant's thresholds and policies",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "settings get"
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Settings, error) {
					resp, err := dc.GetSettings(ctx, &dwellv1.GetSettingsRequest{Name: "settings"})
					return resp.GetSettings(), err
				}, nil, printSettings)
			}
		},
	}
}

// wholeSeconds converts a threshold flag's duration to the seconds the API
// takes, refusing what the API cannot carry: a duration that is not
// positive, not whole seconds, or longer than an int32 of seconds.
func wholeSeconds(flagName string, d time.Duration) (int32, error) {
	switch {
	case d <= 0:
		return 0, fmt.Errorf("--%s %v: want a positive duration, such as 5m", flagName, d)
	case d%time.Second != 0:
		return 0, fmt.Errorf("--%s %v: want whole seconds, such as 90s or 5m", flagName, d)
	case d/time.Second > math.MaxInt32:
		return 0, fmt.Errorf("--%s %v: too long", flagName, d)
	}
	return int32(d / time.Second), nil
}

func settingsUpdateCommand() command {
	return command{
		name:    "settings update",
		summary: "change the tenant's thresholds and policies (only the flags given); admin only",
		help: `Only the settings whose flags are given change. Thresholds are durations
(90s, 5m, 1h30m) in whole seconds; the server checks their ranges. A change
of settings derives the tenant's last 35 days again.
With --etag the update applies only if the settings are unchanged since the
read that showed that etag; if they changed, nothing is changed and the exit
status is 1.`,
		nargs: 0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var retentionDays int
			var visitMin, idleMin, silenceMin time.Duration
			var partnersRequired bool
			var etag string
			fs.IntVar(&retentionDays, "retention-days", 0, "keep fixes this many `days`, 1 to 3,650 (default 365)")
			fs.DurationVar(&visitMin, "visit-min", 0, "least `time` inside a client's site that makes a visit, 1m to 2h (default 5m)")
			fs.DurationVar(&idleMin, "idle-min", 0, "least stationary `time` that makes an idle stop, 1m to 2h (default 5m)")
			fs.DurationVar(&silenceMin, "silence-min", 0, "working `time` without a fix after which a rep is reported silent, 5m to 24h (default 30m)")
			fs.BoolVar(&partnersRequired, "partner-accounts-required", false, "require a partner account of every partner token (=false: unregistered partner subjects keep every right)")
			fs.StringVar(&etag, "etag", "", etagUsage)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "settings update"
				given := visited(fs)
				s := &dwellv1.Settings{Name: "settings", PartnerAccountsRequired: partnersRequired, Etag: etag}
				var paths []string
				if given["retention-days"] {
					if retentionDays < 1 || retentionDays > math.MaxInt32 {
						return e.usageError(name, "--retention-days %d: want a number of days from 1", retentionDays)
					}
					s.RetentionDays = int32(retentionDays)
					paths = append(paths, "retention_days")
				}
				for _, d := range []struct {
					flag, path string
					v          time.Duration
					dst        *int32
				}{
					{"visit-min", "visit_min_seconds", visitMin, &s.VisitMinSeconds},
					{"idle-min", "idle_min_seconds", idleMin, &s.IdleMinSeconds},
					{"silence-min", "silence_min_seconds", silenceMin, &s.SilenceMinSeconds},
				} {
					if !given[d.flag] {
						continue
					}
					n, err := wholeSeconds(d.flag, d.v)
					if err != nil {
						return e.usageError(name, "%v", err)
					}
					*d.dst = n
					paths = append(paths, d.path)
				}
				if given["partner-accounts-required"] {
					paths = append(paths, "partner_accounts_required")
				}
				mask, err := updateMask(paths, "--retention-days, --visit-min, --idle-min, --silence-min or --partner-accounts-required")
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Settings, error) {
					resp, err := dc.UpdateSettings(ctx, &dwellv1.UpdateSettingsRequest{Settings: s, UpdateMask: mask})
					return resp.GetSettings(), err
				}, func(err error) int { return e.updateFailed(name, g, "the settings", "settings get", etag, err) }, printSettings)
			}
		},
	}
}
