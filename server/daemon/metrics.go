package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"

	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/server"
)

// Metrics. Every Main has a Prometheus registry of its own (two Mains in
// one process, as in the tests, never share figures), holding the
// server's metrics (server.Metrics), the store's (below) and the Go
// runtime's and process's. It is served as GET /metrics, in Prometheus's
// text format, on the control socket (bbolt) and, with
// Config.MetricsListen, over plain HTTP on a TCP address of its own.
//
// The TCP listener is off by default: it would be a second port open on
// every host, answering anyone who reaches it without a token, at a fixed
// number that may be taken; an operator who runs Prometheus names the
// address (loopback, or the network the scraper is on). On bbolt the
// figures are reachable without it, by whoever may use the data
// directory:
//
//	curl --unix-socket <data-dir>/control.sock http://dwelld/metrics

// metrics is a Main's registry and what records into it.
type metrics struct {
	reg    *prometheus.Registry
	server *server.Metrics
	// boltCommit is told of every group commit of a bbolt store, into
	// boltHists, which are registered only on bbolt (registerStore).
	boltCommit boltstore.CommitFunc
	boltHists  []prometheus.Collector
}

// newMetrics builds a Main's registry with the server's, the Go runtime's
// and the process's metrics, and the histograms a bbolt store records
// into (the fsync's only when noSync is not set).
func newMetrics(noSync bool) (*metrics, error) {
	reg := prometheus.NewRegistry()
	if err := registerAll(reg,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	); err != nil {
		return nil, err
	}
	sm, err := server.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	fsync := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dwell_bolt_fsync_duration_seconds",
		Help:    "Time a bbolt group commit took to write its pages and make them durable (the page writes and the two fdatasyncs of bbolt's write phase), in seconds. Not recorded with fsync off.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 15),
	})
	group := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dwell_bolt_commit_group_requests",
		Help:    "Write requests served by one bbolt group commit (one transaction, one fsync); the group grows with the load, up to 256.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9),
	})
	return &metrics{reg: reg, server: sm, boltHists: []prometheus.Collector{fsync, group}, boltCommit: func(c boltstore.Commit) {
		if c.Failed {
			return
		}
		group.Observe(float64(c.Requests))
		if !noSync {
			fsync.Observe(c.Write.Seconds())
		}
	}}, nil
}

// handler serves the registry as GET /metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	return nil
}

// statsCollector exposes figures of a store's Stats, read once per scrape.
type statsCollector[S any] struct {
	stats func() S
	vals  []statValue[S]
}

// statValue is one metric of a statsCollector.
type statValue[S any] struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	val  func(S) float64
	// labels are desc's label values.
	labels []string
}

func (c *statsCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vals {
		ch <- v.desc
	}
}

func (c *statsCollector[S]) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, v := range c.vals {
		ch <- prometheus.MustNewConstMetric(v.desc, v.kind, v.val(s), v.labels...)
	}
}

// boltCollector exposes the figures of a bbolt store.
func boltCollector(st *boltstore.Store) prometheus.Collector {
	commits := prometheus.NewDesc("dwell_bolt_commits_total",
		"bbolt group commits (read-write transactions), by result: ok, or failed (rolled back; a group with a faulty request is then retried one request per commit).",
		[]string{"result"}, nil)
	return &statsCollector[boltstore.Stats]{stats: st.Stats, vals: []statValue[boltstore.Stats]{
		{commits, prometheus.CounterValue, func(s boltstore.Stats) float64 { return float64(s.Commits) }, []string{"ok"}},
		{commits, prometheus.CounterValue, func(s boltstore.Stats) float64 { return float64(s.FailedCommits) }, []string{"failed"}},
		{prometheus.NewDesc("dwell_bolt_committed_requests_total",
			"Write requests (a batch of fixes, a check-in, a directory write...) made durable by bbolt group commits.", nil, nil),
			prometheus.CounterValue, func(s boltstore.Stats) float64 { return float64(s.Requests) }, nil},
	}}
}

// pgCollector exposes the figures of a PostgreSQL store and its pool.
func pgCollector(st *pgstore.Store) prometheus.Collector {
	conns := prometheus.NewDesc("dwell_pg_pool_connections",
		"Connections of the PostgreSQL pool now, by state: acquired (in use), idle.", []string{"state"}, nil)
	n := func(f func(pgstore.Stats) int64) func(pgstore.Stats) float64 {
		return func(s pgstore.Stats) float64 { return float64(f(s)) }
	}
	return &statsCollector[pgstore.Stats]{stats: st.Stats, vals: []statValue[pgstore.Stats]{
		{conns, prometheus.GaugeValue, n(func(s pgstore.Stats) int64 { return int64(s.AcquiredConns) }), []string{"acquired"}},
		{conns, prometheus.GaugeValue, n(func(s pgstore.Stats) int64 { return int64(s.IdleConns) }), []string{"idle"}},
		{prometheus.NewDesc("dwell_pg_pool_max_connections", "The PostgreSQL pool's cap on connections.", nil, nil),
			prometheus.GaugeValue, n(func(s pgstore.Stats) int64 { return int64(s.MaxConns) }), nil},
		{prometheus.NewDesc("dwell_pg_pool_acquires_total", "Connections taken from the PostgreSQL pool.", nil, nil),
			prometheus.CounterValue, n(func(s pgstore.Stats) int64 { return s.Acquires }), nil},
		{prometheus.NewDesc("dwell_pg_pool_empty_acquires_total", "Connections taken from the PostgreSQL pool that had to wait, none being idle.", nil, nil),
			prometheus.CounterValue, n(func(s pgstore.Stats) int64 { return s.EmptyAcquires }), nil},
		{prometheus.NewDesc("dwell_pg_pool_acquire_wait_seconds_total", "Time spent waiting for a connection of the PostgreSQL pool, in seconds.", nil, nil),
			prometheus.CounterValue, func(s pgstore.Stats) float64 { return s.AcquireWait.Seconds() }, nil},
		{prometheus.NewDesc("dwell_pg_commits_total", "Read-write transactions committed to PostgreSQL (each durable: synchronous_commit on).", nil, nil),
			prometheus.CounterValue, func(s pgstore.Stats) float64 { return float64(s.Commits) }, nil},
		{prometheus.NewDesc("dwell_pg_retries_total", "Transaction attempts PostgreSQL aborted for a serialization failure or a deadlock, run again.", nil, nil),
			prometheus.CounterValue, func(s pgstore.Stats) float64 { return float64(s.Retries) }, nil},
	}}
}

// metricsServer serves GET /metrics over plain HTTP on a TCP listener.
type metricsServer struct {
	lis    net.Listener
	srv    *http.Server
	served chan struct{}
	// idle is how long a kept-alive connection may wait for its next
	// request (metricsIdle; tests shorten it).
	idle time.Duration
}

// The metrics endpoint answers without a token to whoever reaches its
// port, so no client may hold dwelld's resources: a connection must send
// its request within metricsRead, take its answer within metricsWrite and
// send the next one within metricsIdle, and at most metricsConns are
// served at once (more wait to be accepted), so the file descriptors
// dwelld shares with gRPC and the store cannot be used up through it.
const (
	metricsRead  = 10 * time.Second
	metricsWrite = 30 * time.Second
	metricsIdle  = 30 * time.Second
	metricsConns = 32
)

// listenMetrics binds addr for the metrics endpoint; serve starts it.
func listenMetrics(addr string) (*metricsServer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen %s: cannot serve the metrics there: %w", addr, err)
	}
	return &metricsServer{lis: netutil.LimitListener(lis, metricsConns), idle: metricsIdle}, nil
}

// serve serves h as GET /metrics until close.
func (ms *metricsServer) serve(h http.Handler, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	ms.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsRead,
		ReadTimeout:       metricsRead,
		WriteTimeout:      metricsWrite,
		IdleTimeout:       ms.idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ms.served = make(chan struct{})
	log.Info("metrics serving (GET /metrics)", "addr", ms.lis.Addr().String())
	go func() {
		defer close(ms.served)
		if err := ms.srv.Serve(ms.lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint", "err", err)
		}
	}()
}

// close stops the endpoint: a scrape in flight gets a second to finish.
func (ms *metricsServer) close() {
	if ms.srv == nil {
		ms.lis.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := ms.srv.Shutdown(ctx); err != nil {
		ms.srv.Close()
	}
	<-ms.served
}

// registerStore adds the figures of m's store to m's registry.
func (m *Main) registerStore() error {
	switch st := m.store.(type) {
	case *boltstore.Store:
		return registerAll(m.met.reg, append(m.met.boltHists, boltCollector(st))...)
	case *pgstore.Store:
		return registerAll(m.met.reg, pgCollector(st))
	}
	return nil
}
