package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/events"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

const demoHelp = `Shows Dwell at work in one command. It sets up a demo team around Jakarta
(a few hundred client sites: offices, buildings, malls with shops, shop
streets; a team "demo" with its manager "demo-manager" and simulated reps
demo-01...), then replays the reps' working day of yesterday (08:00 to
18:00 in Asia/Jakarta) at an accelerated clock: the phones' batches of
fixes go over StreamPings as they would have arrived (late and repeated
ones too), check-ins and check-outs as unary calls, and what happens is
printed as it comes: each check-in's verdict, the live events of
WatchEvents, the hours as they pass. It ends with the team's time
breakdown, its KPIs and each rep's day (--svg DIR draws each one, as
"dwellctl report day --svg" does).

Where: with neither --addr nor --data-dir it starts dwelld in-process on a
temporary data directory, removed at the end. --data-dir alone starts it
in-process on that directory (kept: run dwelld on it afterwards to look
around). --addr reaches a running dwelld: add --data-dir with that
server's data directory to mint the tokens, or give a partner token
(--token or DWELL_TOKEN), whose tenant it then runs in.

With --data-dir it runs in a tenant of its own, --tenant (default "demo"),
whose key it creates if missing (a running dwelld accepts it within 10 s:
the demo waits), so that its simulated sites (ids such as c0001, m01,
s01-02), team, reps and events stay out of the company's tenant. It never
replaces a client of the tenant that is not one of its simulated sites:
when the tenant has its own client under such an id, it stops before
changing anything and says which. Running the demo again reuses its team
and reps; on the same day with the same --seed everything it sends is a
duplicate (harmless), while another --seed adds a second day to the same
reps (and replaces the simulated sites with that seed's).`

// demoOptions are the flags of dwellctl demo.
type demoOptions struct {
	reps, clients int
	day           time.Duration
	dataDir       string
	tenant        string
	seed          uint64
	quiet         bool
	svgDir        string
}

func demoCommand() command {
	return command{
		name:    "demo",
		summary: "watch a simulated team's day in Jakarta go through Dwell, then its reports",
		help:    demoHelp,
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			o := demoOptions{}
			fs.IntVar(&o.reps, "reps", 10, "simulated `reps`, 1 to 99")
			fs.IntVar(&o.clients, "clients", 300, "office and building client sites (malls and shop streets come on top)")
			fs.DurationVar(&o.day, "day", 2*time.Minute, "how long the working day (10 h) takes to replay")
			fs.StringVar(&o.dataDir, "data-dir", "", "dwelld data `directory`: mint tokens from it, and without --addr serve it in-process")
			fs.StringVar(&o.tenant, "tenant", "demo", "with --data-dir, the `tenant` to run in (created if missing); keep it apart from real data")
			fs.Uint64Var(&o.seed, "seed", 1, "simulator `seed`")
			fs.BoolVar(&o.quiet, "quiet", false, "print only the final reports")
			fs.StringVar(&o.svgDir, "svg", "", "also draw each rep's day into `directory`/REP.svg")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				return runDemo(ctx, e, g, o)
			}
		},
	}
}

// demoNames are the simulated reps' display names.
var demoNames = []string{
	"Budi Santoso", "Siti Rahayu", "Agus Wijaya", "Dewi Lestari", "Rizky Pratama",
	"Putri Maharani", "Andi Saputra", "Rina Kusuma", "Hendra Gunawan", "Maya Sari",
	"Yusuf Hidayat", "Intan Permata",
}

// demo is one run of the demo.
type demo struct {
	e     *env
	g     *globals
	o     demoOptions
	conn  *grpc.ClientConn
	loc   *time.Location
	date  dwell.Date
	city  *sim.City
	reps  []demoRep
	names map[string]string // resource name -> display name, reps and clients
	speed float64           // simulated seconds per real second
	// ephemeral is set when the server runs in-process on a temporary
	// directory, gone when the demo ends.
	ephemeral bool
	dayStart  time.Time // simulated
	// simNow is the simulated clock once the replay runs, else nil.
	simNow func() time.Time
	mu     sync.Mutex // serialises output
	stats  struct{ fixes, batches, checkIns, checkOuts, events int }
}

type demoRep struct {
	id, name string // "demo-01", "reps/demo-01"
	display  string
	day      *sim.DayResult
}

// say prints one live line, stamped with the simulated local time.
func (d *demo) say(at time.Time, format string, args ...any) {
	if d.o.quiet {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.e.stdout, "%s  %s\n", at.In(d.loc).Format("15:04"), fmt.Sprintf(format, args...))
}

func (d *demo) display(name string) string {
	if n := d.names[name]; n != "" {
		return n
	}
	return strings.TrimPrefix(strings.TrimPrefix(name, "clients/"), "reps/")
}

func runDemo(ctx context.Context, e *env, g *globals, o demoOptions) int {
	const name = "demo"
	switch {
	case o.reps < 1 || o.reps > 99:
		return e.usageError(name, "--reps %d: want 1 to 99", o.reps)
	case o.clients < 1 || o.clients > 100000:
		return e.usageError(name, "--clients %d: want 1 to 100000", o.clients)
	case o.day <= 0:
		return e.usageError(name, "--day must be positive")
	}
	if p := checkSimTenant(o.tenant); p != "" {
		return e.usageError(name, "%s", p)
	}
	if o.svgDir != "" {
		if err := os.MkdirAll(o.svgDir, 0o755); err != nil {
			return e.fail(name, err)
		}
	}
	dataDir := o.dataDir
	created := false
	if !g.addrSet {
		// Serve in-process, on a temporary directory unless one is named.
		if dataDir == "" {
			tmp, err := os.MkdirTemp("", "dwell-demo-")
			if err != nil {
				return e.fail(name, err)
			}
			defer os.RemoveAll(tmp)
			dataDir = tmp
		}
		// The demo's tenant has its key before the server reads the keys.
		if _, err := ensureTenantKey(ctx, dataDir, o.tenant, true); err != nil {
			return e.fail(name, err)
		}
		m := daemon.NewMain()
		m.Config.Listen = "127.0.0.1:0"
		m.Config.DataDir = dataDir
		m.Config.LogLevel = "error"
		m.Stdout, m.Stderr = io.Discard, e.stderr
		if err := m.Run(ctx); err != nil {
			_ = m.Close()
			return e.fail(name, fmt.Errorf("start dwelld in-process on %s: %v (if a dwelld already serves it, add --addr)", dataDir, err))
		}
		defer m.Close()
		g.addr = m.Addr()
		fmt.Fprintf(e.stdout, "Started dwelld in-process at %s on %s.\n", g.addr, dataDir)
	}
	if dataDir != "" {
		if g.addrSet {
			var err error
			if created, err = ensureTenantKey(ctx, dataDir, o.tenant, false); err != nil {
				return e.fail(name, err)
			}
		}
		tok, err := mintPartnerToken(dataDir, o.tenant, "demo", e.now())
		if err != nil {
			return e.fail(name, err)
		}
		g.token = tok
	}
	if g.token == "" {
		return e.usageError(name, "with --addr, give --data-dir of that dwelld or a partner token (--token, DWELL_TOKEN)")
	}
	conn, err := g.dial()
	if err != nil {
		return e.fail(name, err)
	}
	defer conn.Close()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		return e.fail(name, err)
	}
	d := &demo{e: e, g: g, o: o, conn: conn, loc: loc, names: map[string]string{}, ephemeral: !g.addrSet && o.dataDir == ""}
	d.date = dwellDate(e.now().AddDate(0, 0, -1), loc)
	if created {
		fmt.Fprintf(e.stdout, "Created tenant %q (its key in %s); waiting for dwelld to read it, within 10 s...\n", o.tenant, filepath.Join(dataDir, "keys"))
		if err := awaitTenant(ctx, g, dwellv1.NewDirectoryServiceClient(conn)); err != nil {
			return e.simSetupError(name, g, dataDir, o.tenant, err)
		}
	}
	if err := d.setup(ctx); err != nil {
		return e.simSetupError(name, g, dataDir, o.tenant, err)
	}
	if err := d.replay(ctx); err != nil {
		return e.rpcError(name, g, err)
	}
	return d.report(ctx)
}

// setup creates the city's clients, the team and the reps (reusing any
// that exist), and simulates the reps' days.
func (d *demo) setup(ctx context.Context) error {
	city, err := sim.NewCity(d.o.seed, sim.CityConfig{Clients: d.o.clients})
	if err != nil {
		return err
	}
	d.city = city
	for _, c := range city.Clients() {
		d.names["clients/"+string(c.ID)] = c.DisplayName
	}
	dc := dwellv1.NewDirectoryServiceClient(d.conn)
	rctx, cancel := d.g.rpcCtx(ctx)
	defer cancel()
	if err := importSimClients(rctx, dc, city); err != nil {
		return err
	}
	_, err = dc.CreateTeam(rctx, &dwellv1.CreateTeamRequest{TeamId: "demo", Team: &dwellv1.Team{
		DisplayName: "Demo team, Jakarta", Managers: []string{"demo-manager"},
	}})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return err
	}
	for i := range d.o.reps {
		r := demoRep{id: fmt.Sprintf("demo-%02d", i+1)}
		r.name = "reps/" + r.id
		r.display = demoNames[i%len(demoNames)]
		if i >= len(demoNames) {
			r.display += fmt.Sprintf(" %d", i/len(demoNames)+1)
		}
		_, err := dc.CreateRep(rctx, &dwellv1.CreateRepRequest{RepId: r.id, Rep: &dwellv1.Rep{
			DisplayName: r.display, TimeZone: "Asia/Jakarta", Team: "teams/demo",
		}})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return err
		}
		profile := sim.Realistic()
		if i%4 == 3 {
			profile = sim.Canvassing() // a shop-street beat for some
		}
		r.day, err = sim.Day(d.o.seed*1000+uint64(i), city, profile, sim.DayConfig{Rep: dwell.RepID(r.id), Date: d.date, Loc: d.loc})
		if err != nil {
			return err
		}
		uniqueIDs(r.day, fmt.Sprintf("%04d%02d%02d-s%d-", d.date.Year, d.date.Month, d.date.Day, d.o.seed))
		d.names[r.name] = r.display
		d.reps = append(d.reps, r)
	}
	fmt.Fprintf(d.e.stdout, "Demo team %q: %d reps, %d client sites around Jakarta (%d offices and buildings, malls with their shops, shop streets).\n",
		"teams/demo", len(d.reps), len(city.Clients()), d.o.clients)
	return nil
}

// demoAction is one thing a phone sends, at the simulated instant it
// reaches the server.
type demoAction struct {
	at       time.Time
	rep      *demoRep
	batch    *sim.Batch
	checkIn  *sim.CheckIn
	checkOut *sim.CheckOut
}

// replay plays every rep's uploads, check-ins and check-outs in order of
// arrival on the accelerated clock, and prints what happens, with the
// live events beside.
func (d *demo) replay(ctx context.Context) error {
	var acts []demoAction
	for i := range d.reps {
		r := &d.reps[i]
		for j := range r.day.Uploads {
			acts = append(acts, demoAction{at: r.day.Uploads[j].ArriveAt, rep: r, batch: &r.day.Uploads[j]})
		}
		for j := range r.day.CheckIns {
			acts = append(acts, demoAction{at: r.day.CheckIns[j].ReceiveTime, rep: r, checkIn: &r.day.CheckIns[j]})
		}
		for j := range r.day.CheckOuts {
			acts = append(acts, demoAction{at: r.day.CheckOuts[j].ReceiveTime, rep: r, checkOut: &r.day.CheckOuts[j]})
		}
	}
	// By arrival; at one instant fixes first, then check-ins, then
	// check-outs, as a phone sends them.
	rank := func(a demoAction) int {
		switch {
		case a.batch != nil:
			return 0
		case a.checkIn != nil:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(acts, func(a, b demoAction) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return rank(a) - rank(b)
	})
	start := time.Date(d.date.Year, d.date.Month, d.date.Day, 8, 0, 0, 0, d.loc)
	end := time.Date(d.date.Year, d.date.Month, d.date.Day, 18, 0, 0, 0, d.loc)
	d.dayStart = start
	d.speed = end.Sub(start).Seconds() / d.o.day.Seconds()
	fmt.Fprintf(d.e.stdout, "Replaying %s, 08:00 to 18:00 in Asia/Jakarta, %.0f times faster than life (--day %v). Late uploads arrive when the phones sent them.\n\n",
		time.Date(d.date.Year, d.date.Month, d.date.Day, 12, 0, 0, 0, d.loc).Format("Monday 2 January 2006"), d.speed, d.o.day)

	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); d.watch(wctx) }()
	defer func() { stopWatch(); <-watched }()

	ic := dwellv1.NewIngestServiceClient(d.conn)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := ic.StreamPings(sctx)
	if err != nil {
		return err
	}
	acks := make(chan error, 1)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				acks <- err
				return
			}
			if n := resp.GetAck().GetRejected(); n > 0 {
				d.say(d.dayStart, "note: %d fixes of batch %d were rejected", n, resp.GetBatchId())
			}
		}
	}()
	real0 := time.Now()
	// simAt is the simulated instant of a real one.
	simAt := func(t time.Time) time.Time {
		return start.Add(time.Duration(float64(t.Sub(real0)) * d.speed))
	}
	d.mu.Lock()
	d.simNow = func() time.Time { return simAt(time.Now()) }
	d.mu.Unlock()
	nextHour := start.Add(time.Hour)
	var batchID int64
	for _, a := range acts {
		at := a.at
		if at.Before(start) {
			at = start
		}
		if at.After(end) {
			at = end // what the phones send after hours goes at the end
		}
		// Wait for the simulated clock, printing the hours as they pass.
		for {
			now := simAt(time.Now())
			for !nextHour.After(now) && !nextHour.After(at) {
				d.say(nextHour, "-- %d fixes in %d batches, %d check-ins, %d check-outs so far --",
					d.stats.fixes, d.stats.batches, d.stats.checkIns, d.stats.checkOuts)
				nextHour = nextHour.Add(time.Hour)
			}
			if !at.After(now) {
				break
			}
			wait := time.Duration(float64(at.Sub(now)) / d.speed)
			select {
			case <-time.After(min(wait, time.Second)):
			case <-ctx.Done():
				return ctx.Err()
			case err := <-acks:
				return fmt.Errorf("StreamPings ended early: %w", errOr(err, io.ErrUnexpectedEOF))
			}
		}
		switch {
		case a.batch != nil:
			batchID++
			if err := stream.Send(&dwellv1.StreamPingsRequest{Rep: a.rep.name, Fixes: simFixesPB(a.batch.Fixes), BatchId: batchID}); err != nil {
				return fmt.Errorf("StreamPings: %w", errOr(<-acks, err))
			}
			d.stats.fixes += len(a.batch.Fixes)
			d.stats.batches++
		case a.checkIn != nil:
			rctx, cancel := d.g.rpcCtx(ctx)
			resp, err := ic.CheckIn(rctx, simCheckInPB(a.rep.name, *a.checkIn))
			cancel()
			if err != nil {
				return err
			}
			d.stats.checkIns++
			verdict := "verified at the site"
			if v := resp.GetVerification(); v != dwellv1.Verification_VERIFICATION_VERIFIED {
				verdict = fmt.Sprintf("NOT verified: %s, %.0f m from the site", enumWord(v.String(), "VERIFICATION_"), resp.GetDistanceMeters())
			}
			late := ""
			if a.checkIn.ReceiveTime.Sub(a.checkIn.Time) > 5*time.Minute {
				late = fmt.Sprintf(" (made %s, sent late)", a.checkIn.Time.In(d.loc).Format("15:04"))
			}
			d.say(at, "%-16s checks in at %s: %s%s", a.rep.display, d.display("clients/"+string(a.checkIn.Client)), verdict, late)
		case a.checkOut != nil:
			rctx, cancel := d.g.rpcCtx(ctx)
			_, err := ic.CheckOut(rctx, simCheckOutPB(a.rep.name, *a.checkOut))
			cancel()
			if err != nil {
				return err
			}
			d.stats.checkOuts++
			d.say(at, "%-16s checks out of %s: %s", a.rep.display, d.display("clients/"+string(a.checkOut.Client)),
				enumWord(dwellv1.Outcome(a.checkOut.Outcome).String(), "OUTCOME_"))
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if err := <-acks; err != nil {
		return fmt.Errorf("StreamPings: %w", err)
	}
	d.settle(ctx)
	d.mu.Lock()
	events := d.stats.events
	d.mu.Unlock()
	d.say(end, "-- day over: %d fixes in %d batches, %d check-ins, %d check-outs, %d live events --",
		d.stats.fixes, d.stats.batches, d.stats.checkIns, d.stats.checkOuts, events)
	return nil
}

// settle gives the server a moment to derive the last uploads (its
// refresher runs behind ingest), so their live events show before the
// day's end: it waits until no event has arrived for a second, at most
// five seconds.
func (d *demo) settle(ctx context.Context) {
	deadline := time.Now().Add(5 * time.Second)
	last, quiet := -1, time.Now()
	for time.Now().Before(deadline) {
		d.mu.Lock()
		n := d.stats.events
		d.mu.Unlock()
		if n != last {
			last, quiet = n, time.Now()
		} else if time.Since(quiet) >= time.Second {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// watch prints the live events of the demo team until ctx ends. A stream
// ended by the server for a slow reader (RESOURCE_EXHAUSTED) or a blip
// (UNAVAILABLE) is resumed from the last cursor. A server without
// WatchEvents gets a note and the demo goes on without.
func (d *demo) watch(ctx context.Context) {
	rc := dwellv1.NewReportServiceClient(d.conn)
	cursor := ""
	for resumes := 0; ; resumes++ {
		stream, err := rc.WatchEvents(ctx, &dwellv1.WatchEventsRequest{Team: "teams/demo", Cursor: cursor})
		for err == nil {
			var resp *dwellv1.WatchEventsResponse
			resp, err = stream.Recv()
			for _, ev := range resp.GetEvents() {
				cursor = ev.GetCursor()
				d.printEvent(ev)
			}
		}
		code := status.Code(err)
		switch {
		case ctx.Err() != nil:
			return
		case (code == codes.ResourceExhausted || code == codes.Unavailable) && resumes < 20:
			continue
		case code == codes.Unimplemented:
			d.note("note: this dwelld does not stream live events yet (WatchEvents answered UNIMPLEMENTED); the demo goes on without them.")
		default:
			d.note(fmt.Sprintf("note: the live events stopped: %v", err))
		}
		return
	}
}

func (d *demo) printEvent(ev *dwellv1.Event) {
	d.mu.Lock()
	d.stats.events++
	d.mu.Unlock()
	what := enumWord(ev.GetType().String(), "EVENT_TYPE_")
	if c := ev.GetClient(); c != "" {
		what += " " + d.display(c)
	}
	// The server marks an event late against the real clock, and the demo
	// replays a past day, so the server calls every event late; on the
	// demo's accelerated clock an event is late when it arrives more than
	// events.LateAfter after it happened (a phone that was offline).
	late := ev.GetLate()
	d.mu.Lock()
	if d.simNow != nil {
		late = d.simNow().Sub(ev.GetEventTime().AsTime()) > events.LateAfter
	}
	d.mu.Unlock()
	if late {
		what += " (late data)"
	}
	d.say(ev.GetEventTime().AsTime(), "%-16s event: %s", d.display(ev.GetRep()), what)
}

// note prints a line without a time stamp, even with --quiet.
func (d *demo) note(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.e.stdout, line)
}

// report prints the team's breakdown and KPIs for the day and each rep's
// day totals.
func (d *demo) report(ctx context.Context) int {
	const name = "demo"
	rc := dwellv1.NewReportServiceClient(d.conn)
	day := pbDate(d.date)
	w := d.e.stdout
	rctx, cancel := d.g.rpcCtx(ctx)
	defer cancel()

	fmt.Fprintf(w, "\nTime breakdown of teams/demo on %s\n\n", formatDate(day))
	bd, err := rc.GetTimeBreakdown(rctx, &dwellv1.GetTimeBreakdownRequest{Team: "teams/demo", StartDate: day, EndDate: day})
	switch {
	case err == nil:
		printBreakdown(w, bd, false)
	case notServed(w, "time breakdowns (GetTimeBreakdown)", err):
	default:
		return d.e.rpcError(name, d.g, err)
	}
	fmt.Fprintf(w, "\nKPIs of teams/demo on %s\n\n", formatDate(day))
	k, err := rc.GetKpis(rctx, &dwellv1.GetKpisRequest{Team: "teams/demo", StartDate: day, EndDate: day})
	switch {
	case err == nil:
		printKpis(w, k)
	case notServed(w, "KPIs (GetKpis)", err):
	default:
		return d.e.rpcError(name, d.g, err)
	}

	fmt.Fprintf(w, "\nEach rep's day (GetRepDay)\n\n")
	tw := newTable(w)
	var drawn []string
	// CHECK-INS OK counts the visits whose check-in was verified at the
	// site; KPI 3's "verified visits" above counts every derived visit.
	row(tw, "REP", "NAME", "VISITS", "CHECK-INS OK", "WITH CLIENTS", "IDLE", "TRAVEL", "DISTANCE", "NO DATA", "FIXES", "FLAGS")
	for _, r := range d.reps {
		resp, err := rc.GetRepDay(rctx, &dwellv1.GetRepDayRequest{Rep: r.name, Date: day, IncludeFixes: d.o.svgDir != ""})
		if err != nil {
			tw.Flush()
			return d.e.rpcError(name, d.g, err)
		}
		if d.o.svgDir != "" {
			path := filepath.Join(d.o.svgDir, r.id+".svg")
			if err := writeDaySVG(path, resp, r.display, fetchClients(rctx, d.conn, dayClients(resp))); err != nil {
				tw.Flush()
				return d.e.fail(name, err)
			}
			drawn = append(drawn, path)
		}
		t, f := resp.GetTotals(), resp.GetFlags()
		verified := 0
		for _, v := range resp.GetVisits() {
			if v.GetVerification() == dwellv1.Verification_VERIFICATION_VERIFIED {
				verified++
			}
		}
		var flags []string
		if n := f.GetMockFixes(); n > 0 {
			flags = append(flags, plural(int(n), "mock fix"))
		}
		if n := f.GetUnverifiedCheckIns(); n > 0 {
			flags = append(flags, plural(int(n), "unverified check-in"))
		}
		if n := f.GetForgottenCheckOuts(); n > 0 {
			flags = append(flags, plural(int(n), "forgotten check-out"))
		}
		row(tw, r.id, r.display, fmt.Sprint(len(resp.GetVisits())), fmt.Sprint(verified),
			formatSeconds(t.GetVisitProspectSeconds()+t.GetVisitCustomerSeconds()), formatSeconds(t.GetIdleSeconds()),
			formatSeconds(t.GetTravelSeconds()), formatDistance(t.GetDistanceMeters()), formatSeconds(t.GetGapSeconds()),
			fmt.Sprint(resp.GetFixCount()), orDash(strings.Join(flags, ", ")))
	}
	tw.Flush()
	if len(drawn) > 0 {
		fmt.Fprintf(w, "\nDrew each rep's day: %s\n", strings.Join(drawn, ", "))
	}
	if d.ephemeral {
		fmt.Fprintf(w, "\nThe demo's server and its temporary data are gone now. To keep them and draw a rep's day:\n\n"+
			"  dwellctl demo --data-dir demo-data\n  dwelld --data-dir demo-data &\n"+
			"  export DWELL_TOKEN=$(dwellctl token mint --data-dir demo-data --tenant %s --role manager --subject demo-manager)\n"+
			"  dwellctl report day %s --date %s --svg day.svg\n", d.o.tenant, d.reps[0].id, formatDate(day))
	} else if d.o.dataDir != "" {
		fmt.Fprintf(w, "\nDraw a rep's day (with a token of tenant %q, such as its team's manager demo-manager):\n\n"+
			"  export DWELL_TOKEN=$(dwellctl token mint --data-dir %s --tenant %s --role manager --subject demo-manager)\n"+
			"  dwellctl report day %s --date %s --svg day.svg\n", d.o.tenant, d.o.dataDir, d.o.tenant, d.reps[0].id, formatDate(day))
	} else {
		fmt.Fprintf(w, "\nDraw a rep's day (with a token of this tenant, such as the team's manager demo-manager):\n\n"+
			"  dwellctl report day %s --date %s --svg day.svg\n", d.reps[0].id, formatDate(day))
	}
	return exitOK
}

// uniqueIDs prefixes the day's fix ids and claim request ids, which the
// simulator numbers from 1 every day, so that a day replayed with another
// date or seed is new data rather than duplicates of an earlier run, and
// the same replay again is all duplicates (harmless).
func uniqueIDs(day *sim.DayResult, prefix string) {
	for i := range day.Uploads {
		for j := range day.Uploads[i].Fixes {
			day.Uploads[i].Fixes[j].ID = prefix + day.Uploads[i].Fixes[j].ID
		}
	}
	renamed := func(f *dwell.Fix) *dwell.Fix {
		if f == nil {
			return nil
		}
		c := *f
		c.ID = prefix + c.ID
		return &c
	}
	for i := range day.CheckIns {
		day.CheckIns[i].RequestID = prefix + day.CheckIns[i].RequestID
		day.CheckIns[i].Fix = renamed(day.CheckIns[i].Fix)
	}
	for i := range day.CheckOuts {
		day.CheckOuts[i].RequestID = prefix + day.CheckOuts[i].RequestID
		day.CheckOuts[i].Fix = renamed(day.CheckOuts[i].Fix)
	}
}
