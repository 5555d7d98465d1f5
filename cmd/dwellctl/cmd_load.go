package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const loadHelp = `Streams the fixes of N simulated reps to dwelld over StreamPings and
measures it: fixes per second accepted (durably stored), the latency of
each batch from its send to its acknowledgement (p50, p90, p99, max), and
failures by gRPC status code.

It sets up its own data first, idempotently: reps PREFIX-0001... (time
zone Asia/Jakarta, no working hours) and the simulated city's client
sites (about 380, ids such as c0001, m01, s01-02). That needs --data-dir of
a dwelld on this machine, from whose keys it mints a partner token of a
tenant of its own, --tenant (default "load"), whose key it creates if
missing (the running dwelld accepts it within 10 s: load waits); or a
partner token (DWELL_TOKEN or --token), which may read and write the
directory and relay fixes for any of its reps (a registered partner
account needs the scopes directory-read, directory-write and ingest: the
directory is read to check that no client of the tenant is in the way),
and names the tenant. Give it a
tenant of its own: every run adds days of fixes to its reps. It never
replaces a client of the tenant that is not one of its simulated sites:
when the tenant has its own client under such an id, it stops before
changing anything and says which.

Paths are real: each rep replays a day of the simulator (a few dozen
distinct simulated days are shared round-robin among the reps), moved back
a day at a time into the past as the run needs more fixes, with fresh fix
ids on every run so nothing is a duplicate. Batches of one rep at a time go
over --streams concurrent streams (reps are spread over them), at most
--window unacknowledged batches each; --rate paces each rep (0: as fast as
the acknowledgements allow).

Errors count, by gRPC status code, the batches a failed stream left
unacknowledged and the failed attempts to open a stream; a failed stream is
opened again until the time is up. The progress line goes to stderr once a
second. Exit status 1 if anything failed or any fix was rejected.`

// loadOptions are the flags of dwellctl load.
type loadOptions struct {
	reps, batch, streams, window int
	rate                         float64
	duration                     time.Duration
	prefix, dataDir, tenant      string
	progress                     bool
	seed                         uint64
}

func loadCommand() command {
	return command{
		name:    "load",
		summary: "stream simulated reps' fixes and measure throughput and acknowledgement latency",
		help:    loadHelp,
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			o := loadOptions{}
			fs.IntVar(&o.reps, "reps", 100, "simulated `reps`")
			fs.IntVar(&o.batch, "batch", 100, "fixes per batch, 1 to 1000")
			fs.Float64Var(&o.rate, "rate", 0, "fixes per second per rep; 0 for as fast as acknowledged")
			fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send")
			fs.IntVar(&o.streams, "streams", 64, "concurrent StreamPings streams")
			fs.IntVar(&o.window, "window", 16, "unacknowledged batches per stream at most")
			fs.StringVar(&o.prefix, "prefix", "load", "rep id `prefix`")
			fs.StringVar(&o.dataDir, "data-dir", "", "mint a partner token from this dwelld data `directory` instead of --token")
			fs.StringVar(&o.tenant, "tenant", "load", "with --data-dir, the `tenant` to run in (created if missing); keep it apart from real data")
			fs.BoolVar(&o.progress, "progress", false, "print the progress line even when stderr is not a terminal")
			fs.Uint64Var(&o.seed, "seed", 1, "simulator `seed`")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				return runLoad(ctx, e, g, o)
			}
		},
	}
}

// mintToken mints a token from the keys of a dwelld data directory on
// this machine, as "dwellctl token mint" does.
func mintToken(dataDir string, p dwell.Principal, ttl time.Duration, now time.Time) (string, error) {
	keys := filepath.Join(dataDir, "keys")
	if _, err := os.Stat(keys); err != nil {
		return "", fmt.Errorf("%s: %v (is it a dwelld data directory?)", keys, err)
	}
	kr, err := auth.OpenKeyring(keys)
	if err != nil {
		return "", err
	}
	return kr.Mint(p, ttl, now)
}

// mintPartnerToken mints a partner token of tenant for subject, valid for
// a day, as the demo and the load tool relay many reps' data.
func mintPartnerToken(dataDir, tenant, subject string, now time.Time) (string, error) {
	tok, err := mintToken(dataDir, dwell.Principal{Tenant: dwell.TenantID(tenant), Subject: subject, Role: dwell.RolePartner}, 24*time.Hour, now)
	if err != nil {
		return "", fmt.Errorf("mint a partner token: %v", err)
	}
	return tok, nil
}

// loadReport is the outcome of a load run; -o json prints it.
type loadReport struct {
	Reps           int            `json:"reps"`
	Streams        int            `json:"streams"`
	Batch          int            `json:"batch"`
	RatePerRep     float64        `json:"rate_per_rep"`
	Seconds        float64        `json:"seconds"`
	BatchesSent    int64          `json:"batches_sent"`
	BatchesAcked   int64          `json:"batches_acked"`
	FixesSent      int64          `json:"fixes_sent"`
	Accepted       int64          `json:"accepted"`
	Duplicates     int64          `json:"duplicates"`
	Rejected       int64          `json:"rejected"`
	FixesPerSecond float64        `json:"fixes_per_second"`
	LatencyMS      latencyMS      `json:"ack_latency_ms"`
	Errors         map[string]int `json:"errors"`
}

type latencyMS struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentiles returns the nearest-rank percentiles of ds (sorted in place).
func percentiles(ds []time.Duration) latencyMS {
	if len(ds) == 0 {
		return latencyMS{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q*float64(len(ds))+0.999999) - 1
		i = max(0, min(i, len(ds)-1))
		return float64(ds[i]) / float64(time.Millisecond)
	}
	return latencyMS{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(ds[len(ds)-1]) / float64(time.Millisecond)}
}

// loadDaysBack is how many days back a rep's replay goes before it
// starts over.
const loadDaysBack = 300

// loadRep is one simulated rep: its name and the day it replays.
type loadRep struct {
	name string
	day  []*dwellv1.Fix // template fixes in time order
	// next is the number of fixes sent so far; fix n is template
	// n % len(day) moved back n / len(day) days (modulo loadDaysBack).
	next int
}

// fill appends the rep's next n fixes to dst, with ids unique to the run.
func (r *loadRep) fill(dst []*dwellv1.Fix, n int, run string) []*dwellv1.Fix {
	for range n {
		k := r.next % len(r.day)
		// Back at most loadDaysBack days, well within the default
		// retention; further fixes reuse those days' times (ids stay unique).
		cycle := r.next / len(r.day) % loadDaysBack
		t := r.day[k]
		at := t.GetDeviceTime().AsTime().AddDate(0, 0, -cycle)
		dst = append(dst, &dwellv1.Fix{
			Id:             r.name[len("reps/"):] + "-" + run + "-" + strconv.Itoa(r.next),
			DeviceTime:     timestamppb.New(at),
			Position:       t.GetPosition(), // shared, read-only
			AccuracyMeters: t.GetAccuracyMeters(),
			Mock:           t.GetMock(),
		})
		r.next++
	}
	return dst
}

// loadCounters are shared by the streams; the progress line reads them.
type loadCounters struct {
	batchesSent, batchesAcked, fixesSent, accepted, duplicates, rejected atomic.Int64
	mu                                                                   sync.Mutex
	latencies                                                            []time.Duration
	errors                                                               map[string]int
}

func (c *loadCounters) fail(code codes.Code, n int) {
	c.mu.Lock()
	c.errors[codeName(code)] += n
	c.mu.Unlock()
}

func runLoad(ctx context.Context, e *env, g *globals, o loadOptions) int {
	const name = "load"
	switch {
	case o.reps < 1:
		return e.usageError(name, "--reps must be at least 1")
	case o.batch < 1 || o.batch > 1000:
		return e.usageError(name, "--batch %d: want 1 to 1000", o.batch)
	case o.streams < 1:
		return e.usageError(name, "--streams must be at least 1")
	case o.window < 1:
		return e.usageError(name, "--window must be at least 1")
	case o.rate < 0:
		return e.usageError(name, "--rate must not be negative")
	case o.duration <= 0:
		return e.usageError(name, "--duration must be positive")
	}
	if p := checkSimTenant(o.tenant); p != "" {
		return e.usageError(name, "%s", p)
	}
	o.streams = min(o.streams, o.reps)
	created := false
	if o.dataDir != "" {
		var err error
		if created, err = ensureTenantKey(ctx, o.dataDir, o.tenant, false); err != nil {
			return e.fail(name, err)
		}
		tok, err := mintPartnerToken(o.dataDir, o.tenant, "dwellctl-load", e.now())
		if err != nil {
			return e.fail(name, err)
		}
		g.token = tok
	}
	conn, err := g.dial()
	if err != nil {
		return e.fail(name, err)
	}
	defer conn.Close()
	dc := dwellv1.NewDirectoryServiceClient(conn)
	if created {
		fmt.Fprintf(e.stderr, "load: created tenant %q (its key in %s); waiting for dwelld to read it, within 10 s...\n", o.tenant, filepath.Join(o.dataDir, "keys"))
		if err := awaitTenant(ctx, g, dc); err != nil {
			return e.simSetupError(name, g, o.dataDir, o.tenant, err)
		}
	}

	fmt.Fprintf(e.stderr, "load: setting up %d reps and the simulated city...\n", o.reps)
	reps, err := setupLoad(ctx, g, dc, o, e.now())
	if err != nil {
		return e.simSetupError(name, g, o.dataDir, o.tenant, err)
	}
	run := strconv.FormatInt(e.now().UnixNano(), 36)
	c := &loadCounters{errors: map[string]int{}}
	ic := dwellv1.NewIngestServiceClient(conn)

	var pw io.Writer
	if o.progress || isTerminal(e.stderr) {
		pw = e.stderr
	}
	sendCtx, stopSending := context.WithTimeout(ctx, o.duration)
	defer stopSending()
	start := time.Now()
	var wg sync.WaitGroup
	for s := range o.streams {
		var mine []*loadRep
		for i := s; i < len(reps); i += o.streams {
			mine = append(mine, reps[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			loadStream(ctx, sendCtx, ic, mine, o, run, c)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	loadProgress(pw, start, o.duration, c, done)
	elapsed := time.Since(start)

	c.mu.Lock()
	rep := loadReport{
		Reps: o.reps, Streams: o.streams, Batch: o.batch, RatePerRep: o.rate, Seconds: elapsed.Seconds(),
		BatchesSent: c.batchesSent.Load(), BatchesAcked: c.batchesAcked.Load(), FixesSent: c.fixesSent.Load(),
		Accepted: c.accepted.Load(), Duplicates: c.duplicates.Load(), Rejected: c.rejected.Load(),
		LatencyMS: percentiles(c.latencies), Errors: c.errors,
	}
	c.mu.Unlock()
	rep.FixesPerSecond = float64(rep.Accepted) / elapsed.Seconds()
	code := exitOK
	if len(rep.Errors) > 0 || rep.Rejected > 0 {
		code = exitFail
	}
	if rep.Errors[codeName(codes.PermissionDenied)] > 0 {
		fmt.Fprintln(e.stderr, "hint: load relays fixes for many reps: it needs a partner token (--data-dir DIR mints one)")
	}
	if g.json() {
		printJSON(e.stdout, rep)
		return code
	}
	printLoadReport(e.stdout, rep)
	return code
}

// setupLoad creates the reps (an existing one is reused) and the city's
// clients, and simulates the days the reps replay.
func setupLoad(ctx context.Context, g *globals, dc dwellv1.DirectoryServiceClient, o loadOptions, now time.Time) ([]*loadRep, error) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		return nil, err
	}
	city, err := sim.NewCity(o.seed, sim.CityConfig{})
	if err != nil {
		return nil, err
	}
	rctx, cancel := g.rpcCtx(ctx)
	err = importSimClients(rctx, dc, city)
	cancel()
	if err != nil {
		return nil, err
	}
	// Template days, simulated in parallel, for a yesterday of a week ago
	// so that the cycles run back into the past, never ahead of now.
	date := dwellDate(now.AddDate(0, 0, -7), jakarta)
	days := make([][]*dwellv1.Fix, min(o.reps, 48))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		serr error
		sem  = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for i := range days {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := sim.Day(o.seed+uint64(i), city, sim.Realistic(), sim.DayConfig{Rep: dwell.RepID(fmt.Sprintf("t%d", i)), Date: date, Loc: jakarta})
			if err != nil {
				mu.Lock()
				serr = err
				mu.Unlock()
				return
			}
			fixes := d.AllFixes()
			slices.SortFunc(fixes, func(a, b dwell.Fix) int { return a.Time.Compare(b.Time) })
			days[i] = simFixesPB(fixes)
		}()
	}
	wg.Wait()
	if serr != nil {
		return nil, serr
	}
	reps := make([]*loadRep, o.reps)
	errs := make(chan error, o.reps)
	ids := make(chan int)
	for range min(16, o.reps) {
		go func() {
			for i := range ids {
				id := fmt.Sprintf("%s-%04d", o.prefix, i+1)
				rctx, cancel := g.rpcCtx(ctx)
				_, err := dc.CreateRep(rctx, &dwellv1.CreateRepRequest{RepId: id, Rep: &dwellv1.Rep{
					DisplayName: fmt.Sprintf("Load rep %d", i+1), TimeZone: "Asia/Jakarta",
				}})
				cancel()
				if status.Code(err) == codes.AlreadyExists {
					err = nil
				}
				reps[i] = &loadRep{name: "reps/" + id, day: days[i%len(days)]}
				errs <- err
			}
		}()
	}
	go func() {
		for i := range o.reps {
			ids <- i
		}
		close(ids)
	}()
	var first error
	for range o.reps {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return reps, first
}

// loadStream sends its reps' batches, round-robin, over one StreamPings
// stream until sendCtx ends, then waits for the outstanding
// acknowledgements. A failed stream counts its unacknowledged batches
// under the status code and is opened again.
func loadStream(ctx, sendCtx context.Context, ic dwellv1.IngestServiceClient, reps []*loadRep, o loadOptions, run string, c *loadCounters) {
	var interval time.Duration // between two batches of this stream
	if o.rate > 0 {
		interval = time.Duration(float64(o.batch) / (o.rate * float64(len(reps))) * float64(time.Second))
	}
	next := time.Now()
	turn := 0
	var lat []time.Duration
	defer func() {
		c.mu.Lock()
		c.latencies = append(c.latencies, lat...)
		c.mu.Unlock()
	}()
	for sendCtx.Err() == nil {
		// The stream lives on past sendCtx, to drain its acknowledgements;
		// ctx (the whole command) still ends it.
		sctx, cancel := context.WithCancel(ctx)
		stream, err := ic.StreamPings(sctx)
		if err != nil {
			cancel()
			c.fail(status.Code(err), 1)
			if !retryable(status.Code(err)) {
				return
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var (
			mu       sync.Mutex
			sentAt   = map[int64]time.Time{}
			batchID  int64
			slots    = make(chan struct{}, o.window)
			recvDone = make(chan error, 1)
		)
		go func() {
			for {
				resp, err := stream.Recv()
				if err != nil {
					recvDone <- err
					return
				}
				now := time.Now()
				mu.Lock()
				t, ok := sentAt[resp.GetBatchId()]
				delete(sentAt, resp.GetBatchId())
				mu.Unlock()
				if ok {
					lat = append(lat, now.Sub(t))
				}
				a := resp.GetAck()
				c.batchesAcked.Add(1)
				c.accepted.Add(int64(a.GetAccepted()))
				c.duplicates.Add(int64(a.GetDuplicates()))
				c.rejected.Add(int64(a.GetRejected()))
				<-slots
			}
		}()
		var sendErr error
		fixes := make([]*dwellv1.Fix, 0, o.batch)
	send:
		for sendCtx.Err() == nil {
			if interval > 0 {
				if d := time.Until(next); d > 0 {
					select {
					case <-time.After(d):
					case <-sendCtx.Done():
						break send
					}
				}
				next = next.Add(interval)
			}
			select {
			case slots <- struct{}{}:
			case <-sendCtx.Done():
				break send
			case err := <-recvDone:
				recvDone <- err
				break send
			}
			r := reps[turn%len(reps)]
			turn++
			fixes = r.fill(fixes[:0], o.batch, run)
			batchID++
			mu.Lock()
			sentAt[batchID] = time.Now()
			mu.Unlock()
			if sendErr = stream.Send(&dwellv1.StreamPingsRequest{Rep: r.name, Fixes: fixes, BatchId: batchID}); sendErr != nil {
				break
			}
			fixes = make([]*dwellv1.Fix, 0, o.batch) // the sent slice may still be marshalled
			c.batchesSent.Add(1)
			c.fixesSent.Add(int64(o.batch))
		}
		if sendErr == nil {
			stream.CloseSend()
		}
		err = <-recvDone // io.EOF once every acknowledgement is in
		cancel()
		if !errors.Is(err, io.EOF) {
			mu.Lock()
			n := len(sentAt)
			mu.Unlock()
			c.fail(status.Code(err), max(n, 1))
			if !retryable(status.Code(err)) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// retryable tells the failures worth opening the stream again for (the
// server restarting, overloaded or cut off) from those that will only
// repeat (no right to upload, a bad request).
func retryable(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal, codes.Unknown, codes.DeadlineExceeded:
		return true
	}
	return false
}

// loadProgress redraws the progress line once a second until done.
func loadProgress(w io.Writer, start time.Time, d time.Duration, c *loadCounters, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastAcc int64
	lastT := start
	end := "\r"
	if !isTerminal(w) {
		end = "\n"
	}
	for {
		select {
		case <-done:
			if w != nil && end == "\r" {
				fmt.Fprintln(w)
			}
			return
		case now := <-tick.C:
			if w == nil {
				continue
			}
			acc := c.accepted.Load()
			rate := float64(acc-lastAcc) / now.Sub(lastT).Seconds()
			lastAcc, lastT = acc, now
			c.mu.Lock()
			nerr := 0
			for _, n := range c.errors {
				nerr += n
			}
			c.mu.Unlock()
			el := min(now.Sub(start), d)
			fmt.Fprintf(w, "load: %3.0fs/%.0fs  %s fixes accepted  %s fixes/s now  %d batches in flight  %d errors   %s",
				el.Seconds(), d.Seconds(), thousands(acc), thousands(int64(rate)), c.batchesSent.Load()-c.batchesAcked.Load(), nerr, end)
		}
	}
}

func printLoadReport(w io.Writer, r loadReport) {
	tw := newTable(w)
	rate := "as fast as acknowledged"
	if r.RatePerRep > 0 {
		rate = fmt.Sprintf("%g fixes/s per rep", r.RatePerRep)
	}
	row(tw, "Reps:", fmt.Sprintf("%d over %d streams, batches of %d, %s", r.Reps, r.Streams, r.Batch, rate))
	row(tw, "Ran:", fmt.Sprintf("%.1f s", r.Seconds))
	row(tw, "Batches:", fmt.Sprintf("%s sent, %s acknowledged", thousands(r.BatchesSent), thousands(r.BatchesAcked)))
	row(tw, "Fixes:", fmt.Sprintf("%s sent, %s accepted, %s duplicates, %s rejected", thousands(r.FixesSent), thousands(r.Accepted), thousands(r.Duplicates), thousands(r.Rejected)))
	row(tw, "Throughput:", fmt.Sprintf("%s fixes/s accepted (durable)", thousands(int64(r.FixesPerSecond))))
	l := r.LatencyMS
	row(tw, "Ack latency:", fmt.Sprintf("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", l.P50, l.P90, l.P99, l.Max))
	if len(r.Errors) == 0 {
		row(tw, "Errors:", "none")
	} else {
		codes := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			codes = append(codes, k)
		}
		slices.Sort(codes)
		for i, k := range codes {
			label := ""
			if i == 0 {
				label = "Errors:"
			}
			row(tw, label, fmt.Sprintf("%s %d", k, r.Errors[k]))
		}
	}
	tw.Flush()
}
