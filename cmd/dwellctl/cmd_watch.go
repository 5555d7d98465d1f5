package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const watchHelp = `Streams the live events of the tenant (or of one team) as they are
detected: visits started and ended, geofences entered and exited, check-ins
away from the client's site, idle stretches, silent reps. Each event is one
line: its time, type, rep, client and, last, its cursor; with -o json, one
JSON object a line, with a "cursor" field.

Without --from the stream starts with new events only. To resume where a
watch stopped, without repeating or missing an event, pass the cursor it
printed on stopping (or that of the last event it printed):

  dwellctl watch --from CURSOR

With --team or --type, or with a manager's token, the stream skips the
events outside its scope, and the server tells watch, after a quiet
while (a minute by default), how far it has read past them: a progress
cursor. watch prints nothing for it, but keeps it as the cursor to resume
from, as it keeps each event's: resuming from it skips nothing of the
scope, re-reads less of the log, and is not refused by the expiry of
other teams' events, as the last event's cursor may be after a long quiet.

When the connection breaks, watch reconnects by itself from the last
cursor it received, pausing 0.5 s, then 1 s, 2 s... up to 30 s between
tries, and says so on stderr; before its first event it resumes from the
position the server gave when the stream started, so nothing of the outage
is missed either. It runs until interrupted (Ctrl-C, SIGTERM),
which ends it with status 0 and prints the cursor to resume from on
stderr. It stops with status 1 on an error that retrying cannot mend (a
cursor from another tenant, or older than the events kept, a token
without the right to watch, or one that expired during the stream: the
server ends a stream when its token expires; then it prints the cursor to
resume from with a new token), and when it cannot write an event out (its
reader went away, as "watch | head -2" does, or a full disk): then it
prints on stderr the cursor to resume from, that of the last event
written. --timeout does not apply to the stream.`

// Pauses between the reconnections of watch: the first, doubled after each
// try that received nothing, up to the last.
const (
	watchFirstPause = 500 * time.Millisecond
	watchMaxPause   = 30 * time.Second
)

// A watch pings its connection when no event came for watchKeepalive and
// takes it for dead (and reconnects) when the ping is not answered within
// watchKeepaliveTimeout: a stream waits for events for hours, and a
// connection whose network vanished without a FIN would otherwise hold it
// until the kernel gave up, minutes to hours later. dwelld accepts pings
// every 10 s or more.
const (
	watchKeepalive        = 30 * time.Second
	watchKeepaliveTimeout = 10 * time.Second
)

// startCursorHeader is the response header of WatchEvents with the cursor
// of the stream's starting position (server.StartCursorHeader; dwellctl
// speaks only the wire API).
const startCursorHeader = "dwell-start-cursor"

func watchCommand() command {
	return command{
		name:    "watch",
		summary: "stream live visit, geofence and idle events; resumable with --from",
		help:    watchHelp,
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var from, team string
			var types stringList
			fs.StringVar(&from, "from", "", "resume after this event `cursor` (as printed by an earlier watch)")
			fs.StringVar(&team, "team", "", "only this `team`'s reps, ID or teams/ID")
			fs.Var(&types, "type", "only events of this `type` (repeatable): visit-started, visit-ended, geofence-entered, geofence-exited, check-in-unverified, idle-started, rep-silent")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "watch"
				req := &dwellv1.WatchEventsRequest{Cursor: strings.TrimSpace(from), SendProgress: true}
				if team != "" {
					req.Team = resourceName("teams", team)
				}
				for _, t := range types {
					et, err := parseEventType(t)
					if err != nil {
						return e.usageError(name, "--type: %v", err)
					}
					req.Types = append(req.Types, et)
				}
				return watch(ctx, e, g, req)
			}
		},
	}
}

// parseEventType reads an event type: visit-started and so on, or the
// enum name.
func parseEventType(s string) (dwellv1.EventType, error) {
	up := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(s)))
	if v, ok := dwellv1.EventType_value["EVENT_TYPE_"+strings.TrimPrefix(up, "EVENT_TYPE_")]; ok && v != 0 {
		return dwellv1.EventType(v), nil
	}
	return 0, fmt.Errorf("%q is not an event type: want visit-started, visit-ended, geofence-entered, geofence-exited, check-in-unverified, idle-started or rep-silent", s)
}

// watch runs WatchEvents until ctx ends, reconnecting from the last cursor
// received when the stream breaks. req.Cursor advances as events are
// printed and progress cursors received.
func watch(ctx context.Context, e *env, g *globals, req *dwellv1.WatchEventsRequest) int {
	const name = "watch"
	pause := watchFirstPause
	for {
		got, err := watchOnce(ctx, e, g, req)
		var de dialError
		if errors.As(err, &de) {
			return e.fail(name, de.err)
		}
		var oe outputError
		if errors.As(err, &oe) {
			// A full disk or a closed pipe: reconnecting cannot mend it.
			if req.GetCursor() != "" {
				fmt.Fprintf(e.stderr, "Resume with: dwellctl watch --from %s\n", req.GetCursor())
			}
			return e.fail(name, oe.err)
		}
		if ctx.Err() != nil {
			if req.GetCursor() != "" {
				fmt.Fprintf(e.stderr, "Stopped. Resume with: dwellctl watch --from %s\n", req.GetCursor())
			}
			return exitOK
		}
		if !watchRetryable(err) {
			code := e.rpcError(name, g, err)
			if status.Code(err) == codes.Unauthenticated && req.GetCursor() != "" {
				// The token expired during the stream (or was refused):
				// with a new one, nothing is missed from here.
				fmt.Fprintf(e.stderr, "Resume with a valid token: dwellctl watch --from %s\n", req.GetCursor())
			}
			if status.Code(err) == codes.FailedPrecondition && req.GetCursor() != "" {
				fmt.Fprintln(e.stderr, "hint: the log no longer holds the events after this cursor (expired with the tenant's retention period, or the server's data was restored from a backup); watch without --from to follow new events, and read what was missed with `dwellctl report`")
			}
			return code
		}
		if got > 0 {
			pause = watchFirstPause
		}
		what := "the stream ended"
		if err != nil {
			st := status.Convert(err)
			what = fmt.Sprintf("the stream broke (%s: %s)", codeName(st.Code()), st.Message())
		}
		fmt.Fprintf(e.stderr, "dwellctl watch: %s; reconnecting in %v\n", what, pause)
		select {
		case <-ctx.Done():
			if req.GetCursor() != "" {
				fmt.Fprintf(e.stderr, "Stopped. Resume with: dwellctl watch --from %s\n", req.GetCursor())
			}
			return exitOK
		case <-time.After(pause):
		}
		pause = min(2*pause, watchMaxPause)
	}
}

// watchRetryable reports whether a stream that ended with err (nil: the
// server ended it) is worth opening again: the connection or the server
// failed, or the client fell behind; not a refused request.
func watchRetryable(err error) bool {
	if err == nil {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded, codes.Internal, codes.Unknown:
		return true
	}
	return false
}

// dialError is a connection that could not even be set up (a malformed
// address): retrying cannot mend it.
type dialError struct{ err error }

func (d dialError) Error() string { return d.err.Error() }

// outputError is an event that could not be written out (a full disk, a
// closed pipe): retrying cannot mend it either.
type outputError struct{ err error }

func (o outputError) Error() string { return o.err.Error() }

// watchOnce opens one stream from req.Cursor and prints its events until
// it ends, advancing req.Cursor past each event printed and to each
// progress cursor received (a response without events: nothing is
// printed). It returns how many events and progress cursors it received,
// and the error that ended the stream (nil when the server ended it). Each stream has a connection of its own: a connection that
// failed would hold a new stream back for gRPC's own reconnection backoff
// (up to two minutes), not watch's.
func watchOnce(ctx context.Context, e *env, g *globals, req *dwellv1.WatchEventsRequest) (int, error) {
	conn, err := g.dial(grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: watchKeepalive, Timeout: watchKeepaliveTimeout}))
	if err != nil {
		return 0, dialError{err}
	}
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := dwellv1.NewReportServiceClient(conn).WatchEvents(sctx, req)
	if err != nil {
		return 0, err
	}
	// The server sends its headers once the stream is positioned in the
	// log: from then on nothing published is missed. They name the
	// position as a cursor, so a stream lost before its first event
	// resumes from there, not from whatever the log's end is by then.
	md, err := stream.Header()
	if err != nil {
		return 0, err
	}
	if req.GetCursor() == "" {
		fmt.Fprintln(e.stderr, "Watching new events.")
		if c := md.Get(startCursorHeader); len(c) == 1 {
			req.Cursor = c[0]
		} else {
			fmt.Fprintln(e.stderr, "dwellctl watch: the server gives no starting position (it predates dwell-start-cursor): if this stream breaks before its first event, events until the reconnection may be missed")
		}
	} else {
		fmt.Fprintf(e.stderr, "Watching events after %s.\n", req.GetCursor())
	}
	n := 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		for _, ev := range resp.GetEvents() {
			if err := printEvent(e.stdout, g, ev); err != nil {
				return n, outputError{fmt.Errorf("writing an event out: %w", err)}
			}
			req.Cursor = ev.GetCursor()
			n++
		}
		// A progress cursor: the stream has read past events outside its
		// scope. Resuming from it is as good as from the last event's.
		if c := resp.GetProgressCursor(); c != "" {
			req.Cursor = c
			n++
		}
	}
}

// printEvent writes one event as a line: a table row or a JSON object.
func printEvent(w io.Writer, g *globals, ev *dwellv1.Event) error {
	if g.json() {
		b, err := protoJSON.Marshal(ev)
		if err != nil {
			return err
		}
		var line bytes.Buffer
		if err := json.Compact(&line, b); err != nil {
			return err
		}
		line.WriteByte('\n')
		_, err = w.Write(line.Bytes())
		return err
	}
	typ := enumWord(ev.GetType().String(), "EVENT_TYPE_")
	if ev.GetLate() {
		typ += " (late)"
	}
	_, err := fmt.Fprintf(w, "%-20s  %-26s  %-16s  %-18s  %s\n", formatTime(ev.GetEventTime()), typ, ev.GetRep(), orDash(ev.GetClient()), ev.GetCursor())
	return err
}
