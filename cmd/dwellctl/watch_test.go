package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// String returns what was written so far: syncWriter is also the output
// stream of a dwellctl running in a goroutine, read by the test while it
// writes.
func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// lines returns the complete lines written so far.
func (w *syncWriter) lines() []string {
	s := w.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// runningWatch is a "dwellctl watch" running in a goroutine until stop.
type runningWatch struct {
	out, errs syncWriter
	cancel    context.CancelFunc
	code      chan int
}

func startWatch(t *testing.T, c *cli, args ...string) *runningWatch {
	t.Helper()
	return startWatchTo(t, c, nil, args...)
}

// startWatchTo is startWatch with the events written to stdout instead of
// the watch's own buffer, when stdout is not nil.
func startWatchTo(t *testing.T, c *cli, stdout io.Writer, args ...string) *runningWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &runningWatch{cancel: cancel, code: make(chan int, 1)}
	out := io.Writer(&w.out)
	if stdout != nil {
		out = stdout
	}
	go func() {
		w.code <- run(ctx, append([]string{"watch"}, args...), strings.NewReader(""), out, &w.errs, func(k string) string { return c.env[k] })
	}()
	t.Cleanup(func() { w.stop(t) })
	waitFor(t, "watch "+strings.Join(args, " ")+" positioned", func() bool { return strings.Contains(w.errs.String(), "Watching ") }, func() string { return w.errs.String() })
	return w
}

// stop cancels the watch as an interrupt would and returns its exit code.
func (w *runningWatch) stop(t *testing.T) int {
	t.Helper()
	w.cancel()
	select {
	case code := <-w.code:
		w.code <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("watch did not end within 30 s of its interrupt; stderr:\n%s", w.errs.String())
		return -1
	}
}

// cursors returns the cursor of each event line printed in table form: its
// last field.
func (w *runningWatch) cursors() []string {
	var out []string
	for _, l := range w.out.lines() {
		f := strings.Fields(l)
		out = append(out, f[len(f)-1])
	}
	return out
}

// waitFor polls cond until it holds, failing the test after 60 s with
// what and the state describe gives.
func waitFor(t *testing.T, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cutProxy forwards TCP connections to a server and can cut every one of
// them at once and refuse new ones for a while, as a dropped network does.
type cutProxy struct {
	lis   net.Listener
	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{lis: lis}
	go func() {
		for {
			in, err := lis.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", backend)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(func() { lis.Close(); p.cut() })
	return p
}

func (p *cutProxy) addr() string { return p.lis.Addr().String() }

// cut closes every connection open through the proxy; with down, it
// refuses new ones until set up again.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.cut()
	}
}

// watchSeed seeds the simulated city and days of the watch tests.
const watchSeed = 7

// watchTenant is the tenant of a test server for the watch tests: its
// admin's and a partner's tokens, and a simulated city in Jakarta whose
// clients are imported.
type watchTenant struct {
	cli                        *cli // DWELL_ADDR set
	addr, adminTok, partnerTok string
	city                       *sim.City
	jakarta                    *time.Location
	date                       dwell.Date // yesterday in Jakarta
}

// newWatchTenant starts a test server (testServerWith(t, configure)) and
// sets its tenant up.
func newWatchTenant(t *testing.T, configure func(*server.Config)) *watchTenant {
	t.Helper()
	addr, dataDir := testServerWith(t, configure)
	w := &watchTenant{cli: &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}, addr: addr}
	mint := func(role, subject string) string {
		return strings.TrimSpace(w.cli.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", role, "--subject", subject).stdout)
	}
	w.adminTok, w.partnerTok = mint("admin", "admin"), mint("partner", "crm")
	var err error
	if w.jakarta, err = time.LoadLocation("Asia/Jakarta"); err != nil {
		t.Fatal(err)
	}
	if w.city, err = sim.NewCity(watchSeed, sim.CityConfig{}); err != nil {
		t.Fatal(err)
	}
	w.date = dwellDate(time.Now().AddDate(0, 0, -1), w.jakarta)
	if err := importSimClients(ctxT(t), dwellv1.NewDirectoryServiceClient(grpcConn(t, addr, w.adminTok)), w.city); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWatch follows the events of a simulated day's uploads with three
// watches: one throughout (-o json), the reference; one through a proxy
// whose connections are cut before its first event and again mid-day,
// which reconnects by itself from the position its stream started at, then
// from its last cursor, and is then interrupted; and one started with --from the
// cursor the interrupted one printed. The second and third together print
// exactly the reference's events, in order: none repeated, none lost.
func TestWatch(t *testing.T) {
	w := newWatchTenant(t, nil)
	addr, adminTok, partnerTok, jakarta, date := w.addr, w.adminTok, w.partnerTok, w.jakarta, w.date
	c := w.cli
	admin := c.with("DWELL_TOKEN", adminTok)
	admin.must(0, "reps", "create", "rep-1", "--name", "Budi Santoso", "--time-zone", "Asia/Jakarta")
	day, err := sim.Day(watchSeed, w.city, sim.Realistic(), sim.DayConfig{Rep: "rep-1", Date: date, Loc: jakarta})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	ic := dwellv1.NewIngestServiceClient(grpcConn(t, addr, partnerTok))
	n := len(day.Uploads)
	upload := func(from, to int) {
		t.Helper()
		for _, b := range day.Uploads[from:to] {
			resp, err := ic.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "reps/rep-1", Fixes: simFixesPB(b.Fixes)})
			if err != nil {
				t.Fatal(err)
			}
			if r := resp.GetAck().GetRejected(); r > 0 {
				t.Fatalf("%d fixes rejected: %v", r, resp.GetAck().GetResults())
			}
		}
	}

	partner := c.with("DWELL_TOKEN", partnerTok)
	ref := startWatch(t, partner, "-o", "json")
	// A watch that cannot write its events out (a full disk) stops with
	// status 1 at the first event, instead of reconnecting for ever.
	full := startWatchTo(t, partner, failingWriter{}, "-o", "json")
	proxy := newCutProxy(t, addr)
	cutOne := startWatch(t, partner.with("DWELL_ADDR", proxy.addr()))

	// The network drops before the first event, and the first sixth of
	// the day arrives meanwhile: the watch resumes from the position the
	// server gave when its stream started, so it misses none of it.
	waitFor(t, "the cut watch's stream", func() bool { return strings.Contains(cutOne.errs.String(), "Watching new events.") },
		func() string { return cutOne.errs.String() })
	proxy.setDown(true)
	upload(0, n/6)
	waitFor(t, "the reference's events of the first sixth", func() bool { return len(ref.out.lines()) > 0 }, func() string { return ref.errs.String() })
	waitFor(t, "a failed reconnection before any event", func() bool { return strings.Count(cutOne.errs.String(), "reconnecting in") >= 2 },
		func() string { return cutOne.errs.String() })
	proxy.setDown(false)
	select {
	case code := <-full.code:
		full.code <- code // for its cleanup's stop
		if code != exitFail || !strings.Contains(full.errs.String(), "no space left on device") || strings.Contains(full.errs.String(), "reconnecting") {
			t.Errorf("a watch whose output fails exited %d, stderr:\n%s\nwant status 1 naming the write error, without reconnecting", code, full.errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("a watch whose output fails still runs after 10 s; stderr:\n%s", full.errs.String())
	}
	waitFor(t, "the events of the first outage", func() bool { return len(cutOne.cursors()) > 0 }, func() string { return cutOne.errs.String() })
	if strings.Contains(cutOne.errs.String(), "may be missed") {
		t.Errorf("the cut watch had no position to resume from:\n%s", cutOne.errs.String())
	}
	upload(n/6, n/3)
	// The network drops again; the second third of the day arrives meanwhile.
	proxy.setDown(true)
	refBefore := len(ref.out.lines())
	upload(n/3, 2*n/3)
	waitFor(t, "the reference's events of the second third", func() bool { return len(ref.out.lines()) > refBefore }, func() string { return ref.errs.String() })
	waitFor(t, "a failed reconnection", func() bool { return strings.Count(cutOne.errs.String(), "reconnecting in") >= 2 },
		func() string { return cutOne.errs.String() })
	before := len(cutOne.cursors())
	proxy.setDown(false)
	waitFor(t, "the reconnection", func() bool { return strings.Count(cutOne.errs.String(), "Watching events after ") >= 2 },
		func() string { return cutOne.errs.String() })
	// The pause grows while reconnecting fails: 500ms, then 1s.
	if errs := cutOne.errs.String(); !strings.Contains(errs, "reconnecting in 500ms") || !strings.Contains(errs, "reconnecting in 1s") {
		t.Errorf("the cut watch did not say it reconnects with a growing pause:\n%s", errs)
	}
	waitFor(t, "the events missed while disconnected", func() bool { return len(cutOne.cursors()) > before }, func() string { return cutOne.errs.String() })
	if code := cutOne.stop(t); code != exitOK {
		t.Fatalf("interrupted watch exited %d, want 0; stderr:\n%s", code, cutOne.errs.String())
	}
	printed := cutOne.cursors()
	last := printed[len(printed)-1]
	if want := "Resume with: dwellctl watch --from " + last + "\n"; !strings.HasSuffix(cutOne.errs.String(), want) {
		t.Fatalf("interrupted watch's stderr ends %q, want %q", cutOne.errs.String(), want)
	}

	// The rest of the day, and the check-ins, arrive while nobody watches
	// but the reference; the resumed watch catches up.
	upload(2*n/3, n)
	for _, ci := range day.CheckIns {
		if _, err := ic.CheckIn(ctx, simCheckInPB("reps/rep-1", ci)); err != nil {
			t.Fatalf("CheckIn: %v", err)
		}
	}
	for _, co := range day.CheckOuts {
		if _, err := ic.CheckOut(ctx, simCheckOutPB("reps/rep-1", co)); err != nil {
			t.Fatalf("CheckOut: %v", err)
		}
	}
	resumed := startWatch(t, partner, "--from", last)

	// Wait until the reference has been still for a second and the two
	// others have printed at least as many events.
	var refEvents []*dwellv1.Event
	stillSince, seen := time.Now(), -1
	waitFor(t, "the watches to settle", func() bool {
		lines := ref.out.lines()
		if len(lines) != seen {
			seen, stillSince = len(lines), time.Now()
			return false
		}
		return time.Since(stillSince) > time.Second && len(printed)+len(resumed.cursors()) >= len(lines)
	}, func() string {
		return fmt.Sprintf("reference %d events, interrupted %d + resumed %d; resumed stderr:\n%s", seen, len(printed), len(resumed.cursors()), resumed.errs.String())
	})
	for _, l := range ref.out.lines() {
		ev := &dwellv1.Event{}
		if err := protojson.Unmarshal([]byte(l), ev); err != nil {
			t.Fatalf("watch -o json printed a line that is not an Event: %v\n%s", err, l)
		}
		refEvents = append(refEvents, ev)
	}
	got := append(slices.Clone(printed), resumed.cursors()...)
	var want []string
	for _, ev := range refEvents {
		want = append(want, ev.GetCursor())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("interrupted + resumed watches printed %d cursors, the reference %d; they differ:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	// The table lines say what the JSON says.
	lines := append(cutOne.out.lines(), resumed.out.lines()...)
	types := map[dwellv1.EventType]int{}
	for i, ev := range refEvents {
		types[ev.GetType()]++
		if ev.GetRep() != "reps/rep-1" || ev.GetCursor() == "" || ev.GetEventTime() == nil {
			t.Errorf("event %d: %v", i, ev)
		}
		for _, part := range []string{formatTime(ev.GetEventTime()), enumWord(ev.GetType().String(), "EVENT_TYPE_"), ev.GetRep(), orDash(ev.GetClient())} {
			if !strings.Contains(lines[i], part) {
				t.Errorf("table line %d %q lacks %q of %v", i, lines[i], part, ev)
			}
		}
	}
	if types[dwellv1.EventType_EVENT_TYPE_VISIT_STARTED] == 0 || types[dwellv1.EventType_EVENT_TYPE_VISIT_ENDED] == 0 {
		t.Errorf("a simulated day's events hold no visit started or ended: %v", types)
	}
	// Every visit the API lists started in an event, at that client.
	started := map[string]bool{}
	for _, ev := range refEvents {
		if ev.GetType() == dwellv1.EventType_EVENT_TYPE_VISIT_STARTED {
			started[ev.GetClient()] = true
		}
	}
	visits, err := dwellv1.NewReportServiceClient(grpcConn(t, addr, adminTok)).ListVisits(ctx, &dwellv1.ListVisitsRequest{
		Rep: "reps/rep-1", StartDate: pbDate(date), EndDate: pbDate(date), PageSize: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range visits.GetVisits() {
		if !started[v.GetClient()] {
			t.Errorf("visit %v has no visit-started event at its client", v)
		}
	}
	for _, w := range []*runningWatch{ref, resumed} {
		if code := w.stop(t); code != exitOK {
			t.Errorf("watch exited %d on interrupt, want 0; stderr:\n%s", code, w.errs.String())
		}
	}
	t.Logf("%d events (%v), %d before the interrupt", len(refEvents), types, len(printed))
}

// TestWatchRefused: a request that retrying cannot mend ends the watch
// with exit 1 at once: a cursor that is not one, a rep's token.
func TestWatchRefused(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	if r := c.with("DWELL_TOKEN", tok).must(1, "watch", "--from", "not-a-cursor"); !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "cursor") {
		t.Errorf("watch --from a bad cursor: stderr %q", r.stderr)
	}
	rep := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "rep", "--subject", "r1").stdout)
	if r := c.with("DWELL_TOKEN", rep).must(1, "watch"); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("watch with a rep's token: stderr %q", r.stderr)
	}
}

// TestReportVisits lists a simulated day's visits with dwellctl, one per
// page, and checks them against ListVisits and the day's report.
func TestReportVisits(t *testing.T) {
	sd := loadSimDay(t, sim.Realistic(), 7)
	date := fmt.Sprintf("%04d-%02d-%02d", sd.date.Year, sd.date.Month, sd.date.Day)
	conn := grpcConn(t, sd.c.env["DWELL_ADDR"], sd.c.env["DWELL_TOKEN"])
	ctx := ctxT(t)
	api, err := dwellv1.NewReportServiceClient(conn).ListVisits(ctx, &dwellv1.ListVisitsRequest{
		Rep: "reps/rep-1", StartDate: pbDate(sd.date), EndDate: pbDate(sd.date), PageSize: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := api.GetVisits()
	if len(want) < 2 {
		t.Fatalf("the simulated day has %d visits; the test needs two pages", len(want))
	}
	r := sd.c.must(0, "report", "visits", "--rep", "rep-1", "--from", date, "--to", date, "--page-size", "1", "--all", "-o", "json")
	got := decodeProtos(t, r.stdout, func() *dwellv1.Visit { return &dwellv1.Visit{} })
	if len(got) != len(want) {
		t.Fatalf("report visits --all printed %d visits, ListVisits has %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("visit %d: printed %v, want %v", i, got[i], want[i])
		}
	}
	day, err := dwellv1.NewReportServiceClient(conn).GetRepDay(ctx, &dwellv1.GetRepDayRequest{Rep: "reps/rep-1", Date: pbDate(sd.date)})
	if err != nil {
		t.Fatal(err)
	}
	if len(day.GetVisits()) != len(want) {
		t.Errorf("GetRepDay has %d visits, report visits %d", len(day.GetVisits()), len(want))
	}

	// Without --all, one page and a note on how to get the next.
	r = sd.c.must(0, "report", "visits", "--rep", "rep-1", "--from", date, "--to", date, "--page-size", "1")
	if !strings.Contains(r.stderr, "More results: add --all, or --page-token") {
		t.Errorf("one page of visits: stderr %q", r.stderr)
	}
	// The table: local times in Jakarta, newest first.
	r = sd.c.must(0, "report", "visits", "--rep", "rep-1", "--from", date, "--to", date, "--all")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "REP") {
		t.Fatalf("report visits printed %d lines for %d visits:\n%s", len(lines), len(want), r.stdout)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	for i, v := range want {
		start := v.GetStartTime().AsTime().In(jakarta).Format("15:04")
		if !strings.Contains(lines[i+1], start) || !strings.Contains(lines[i+1], v.GetClient()) || !strings.Contains(lines[i+1], date) {
			t.Errorf("table line %q lacks %s, %s or %s", lines[i+1], start, v.GetClient(), date)
		}
	}
}

// failingWriter fails every write, as stdout on a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestWatchProgress: a watch of team north, while only south's rep has a
// day of events, prints nothing, but keeps the progress cursors the
// server sends: after a cut connection it resumes from one (a cursor of
// one of south's events, which it never printed). Then north's rep has
// its day, and the watch prints exactly north's events, as a reference
// watch of every event has them.
func TestWatchProgress(t *testing.T) {
	w := newWatchTenant(t, func(c *server.Config) { c.WatchProgress, c.SilenceSweep = 100*time.Millisecond, -1 })
	addr, city, jakarta := w.addr, w.city, w.jakarta
	admin := w.cli.with("DWELL_TOKEN", w.adminTok)
	for _, team := range []string{"north", "south"} {
		admin.must(0, "teams", "create", team, "--name", team)
		admin.must(0, "reps", "create", "rep-"+team, "--name", "Rep "+team, "--time-zone", "Asia/Jakarta", "--team", team)
	}
	ctx := ctxT(t)
	ic := dwellv1.NewIngestServiceClient(grpcConn(t, addr, w.partnerTok))
	uploadDay := func(rep string, seed uint64) {
		t.Helper()
		day, err := sim.Day(seed, city, sim.Realistic(), sim.DayConfig{Rep: dwell.RepID(rep), Date: w.date, Loc: jakarta})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range day.Uploads {
			if _, err := ic.UploadPings(ctx, &dwellv1.UploadPingsRequest{Rep: "reps/" + rep, Fixes: simFixesPB(b.Fixes)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	partner := w.cli.with("DWELL_TOKEN", w.partnerTok)
	ref := startWatch(t, partner, "-o", "json")
	// refEvents returns the reference's events so far, once it has been
	// still for a second.
	refEvents := func() []*dwellv1.Event {
		stillSince, seen := time.Now(), -1
		waitFor(t, "the reference watch to settle", func() bool {
			if n := len(ref.out.lines()); n != seen {
				seen, stillSince = n, time.Now()
			}
			return seen > 0 && time.Since(stillSince) > time.Second
		}, func() string { return ref.errs.String() })
		var out []*dwellv1.Event
		for _, l := range ref.out.lines() {
			ev := &dwellv1.Event{}
			if err := protojson.Unmarshal([]byte(l), ev); err != nil {
				t.Fatalf("watch -o json printed a line that is not an Event: %v\n%s", err, l)
			}
			out = append(out, ev)
		}
		return out
	}
	proxy := newCutProxy(t, addr)
	north := startWatch(t, partner.with("DWELL_ADDR", proxy.addr()), "--team", "north")

	uploadDay("rep-south", watchSeed)
	south := map[string]bool{}
	for _, ev := range refEvents() {
		south[ev.GetCursor()] = true
	}
	// Cut the north watch's connection, once a second, until it resumes
	// from one of south's cursors: one it can only have had as progress.
	lastCut := time.Now()
	waitFor(t, "the north watch to resume from a progress cursor", func() bool {
		errs := north.errs.String()
		if i := strings.LastIndex(errs, "Watching events after "); i >= 0 {
			cursor := strings.TrimSuffix(strings.Fields(errs[i+len("Watching events after "):])[0], ".")
			if south[cursor] {
				return true
			}
		}
		if time.Since(lastCut) > time.Second {
			proxy.cut()
			lastCut = time.Now()
		}
		return false
	}, func() string { return north.errs.String() })
	if lines := north.out.lines(); len(lines) != 0 {
		t.Fatalf("the north watch printed %d lines for south's day:\n%s", len(lines), strings.Join(lines, "\n"))
	}

	uploadDay("rep-north", watchSeed+1)
	var want []string
	for _, ev := range refEvents() {
		if ev.GetRep() == "reps/rep-north" {
			want = append(want, ev.GetCursor())
		}
	}
	if len(want) == 0 {
		t.Fatal("north's day made no event")
	}
	waitFor(t, "the north watch's events", func() bool { return len(north.cursors()) >= len(want) }, func() string { return north.errs.String() })
	if got := north.cursors(); !slices.Equal(got, want) {
		t.Fatalf("the north watch printed %d cursors, the reference has %d of north:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for _, l := range north.out.lines() {
		if !strings.Contains(l, "reps/rep-north") {
			t.Fatalf("the north watch printed %q", l)
		}
	}
	if code := north.stop(t); code != exitOK {
		t.Fatalf("interrupted watch exited %d, want 0; stderr:\n%s", code, north.errs.String())
	}
	t.Logf("%d events of south, %d of north; the north watch's stderr:\n%s", len(south), len(want), north.errs.String())
}
