package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Verifier checks a bearer token and names its caller. *auth.Keyring is the
// implementation.
type Verifier interface {
	// VerifyUntil returns the principal a valid token names and the
	// instant from which it refuses the token as expired: the streams a
	// token opened end then (watch.go, "Scope").
	VerifyUntil(token string, now time.Time) (p dwell.Principal, until time.Time, err error)
}

// Config is what a Server needs.
type Config struct {
	// Store is the durable state. Required.
	Store store.Store
	// Verifier checks bearer tokens. Required.
	Verifier Verifier
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WatchBuffer is the queue of a WatchEvents stream, in events: what the
	// server holds for a client beyond gRPC's own buffers; 0 means 4,096.
	WatchBuffer int
	// WatchStall is how long a WatchEvents stream whose queue is full waits
	// for its client to take an event before it ends with
	// RESOURCE_EXHAUSTED; 0 means 10 seconds.
	WatchStall time.Duration
	// WatchProgress is how long a WatchEvents stream that has read past
	// events outside its scope waits, having given its client nothing,
	// before it sends its position as a progress cursor (watch.go); 0
	// means a minute, a negative value never.
	WatchProgress time.Duration
	// WatchStreamsPerCaller caps the WatchEvents streams one caller (a
	// tenant's token subject of one role) has open on this server at once:
	// one more is refused with RESOURCE_EXHAUSTED (LIMIT_REACHED). 0 means
	// 16, a negative value no cap. WatchStreamsPerTenant caps those of all
	// a tenant's callers together the same way; 0 means 256, a negative
	// value no cap. Why these: watch_limit.go.
	WatchStreamsPerCaller int
	WatchStreamsPerTenant int
	// SilenceSweep is how often the server looks for silent reps (REP_SILENT
	// events); 0 means every minute, a negative value never. A server
	// without a refresher (RefreshWorkers < 0) never looks: the sweeper
	// learns each rep's latest fix from this server's refresher, and would
	// take the reps of another server's days for silent. On a store shared
	// by several servers (pgstore), only the holder of the background
	// lease looks (lease.go).
	SilenceSweep time.Duration
	// RetentionSweep is how often the server deletes the fixes older than
	// their tenant's retention period (the first time after at most five
	// minutes); 0 means every hour, a negative value never.
	RetentionSweep time.Duration
	// RefreshWorkers is how many rep-days the summary refresher derives at
	// once; 0 means 1, which with the refresher's rest after each busy pass
	// leaves at least one and three quarter cores of a two-core machine to
	// ingest. A negative value runs no refresher, and no silence sweeper
	// (see SilenceSweep). Of servers sharing one store (pgstore), only the
	// one holding the store's background lease runs them, and another
	// takes over when it stops or loses its connection (lease.go); a
	// negative value keeps a server out of the contest. Reports derive a
	// day still marked when they read it, and the events the holder
	// publishes reach every server's streams through the store's change
	// feed.
	RefreshWorkers int
	// Metrics, when set, records the server's figures (metrics.go); nil
	// records none.
	Metrics *Metrics
}

// Server implements the dwell.v1 services.
type Server struct {
	store    store.Store
	verifier Verifier
	log      *slog.Logger
	now      func() time.Time
	policies map[string]policy
	zones    sync.Map // IANA name -> *time.Location
	fences   *fences
	// partners enforces the tenant admins' partner accounts (partners.go).
	partners *partnerAccess
	// refresh keeps the per rep-day summaries current (refresh.go);
	// dayListeners are told of each re-derived day before it is stored;
	// an error leaves the day marked, to be told again (refreshDay).
	refresh      *refresher
	dayListeners []func(context.Context, dayChange) error
	days         *dayCache
	// deriveOpen, set by tests only (DeriveOpenPauses), makes the reports
	// derive every day whose open pause holds the present inline instead
	// of reading its summary (liveDay), so a test compares the two.
	deriveOpen atomic.Bool

	// events publishes to the tenants' event logs and wakes WatchEvents
	// streams; silence finds silent reps (watch.go).
	events  *broker
	silence *silenceTracker
	// teamGens counts team writes, for the manager streams (watch.go).
	teamGens    teamGens
	watchBuffer int
	watchStall  time.Duration
	// watchProgress is Config.WatchProgress with its default applied;
	// negative: no progress cursors.
	watchProgress time.Duration
	// watchLimits caps the streams open per caller and per tenant.
	watchLimits *watchLimits
	// feed applies the changes other servers sharing the store commit
	// (feed.go); nil when the store reports none.
	feed *feed
	// closing is closed by Close; background is closed when the silence
	// sweeper (and, on a leaser, the lease loop running it and the
	// refresher) has stopped, pruned when the retention sweeper has.
	closing    chan struct{}
	background chan struct{}
	pruned     chan struct{}
	closeOnce  sync.Once
	// eraseMu keeps erasures apart from re-derivations in flight: a
	// refresh holds it shared, EraseRepHistory exclusively (privacy.go).
	eraseMu sync.RWMutex

	// metrics records the server's figures; nil records none.
	metrics *Metrics
	// refused holds the requests the codec did not decode, for the
	// interceptors to refuse (msgsize.go).
	refused sync.Map

	dir    directoryService
	ingest ingestService
	sales  salesService
	report reportService
}

// New returns a Server over cfg and starts its background summary
// refresher and silence sweeper (on a store shared by several servers,
// only while it holds the store's background lease: lease.go) and, when
// the store reports the changes other servers commit (pgstore), the feed
// that applies them to the server's memory (feed.go); Close stops them.
func New(cfg Config) *Server {
	s := &Server{
		store:    cfg.Store,
		verifier: cfg.Verifier,
		log:      cfg.Logger,
		now:      cfg.Now,
		policies: accessPolicies(),
		fences:   newFences(cfg.Store),
		partners: newPartnerAccess(cfg.Store),

		events:      newBroker(cfg.Store),
		silence:     newSilenceTracker(),
		watchBuffer: cfg.WatchBuffer,
		watchStall:  cfg.WatchStall,
		closing:     make(chan struct{}),
		background:  make(chan struct{}),
		pruned:      make(chan struct{}),
		metrics:     cfg.Metrics,
	}
	s.events.metrics = cfg.Metrics
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.watchBuffer <= 0 {
		s.watchBuffer = defaultWatchBuffer
	}
	if s.watchStall <= 0 {
		s.watchStall = defaultWatchStall
	}
	if s.watchProgress = cfg.WatchProgress; s.watchProgress == 0 {
		s.watchProgress = defaultWatchProgress
	}
	perCaller, perTenant := cfg.WatchStreamsPerCaller, cfg.WatchStreamsPerTenant
	if perCaller == 0 {
		perCaller = defaultWatchStreamsPerCaller
	}
	if perTenant == 0 {
		perTenant = defaultWatchStreamsPerTenant
	}
	s.watchLimits = newWatchLimits(perCaller, perTenant)
	s.dir.s, s.ingest.s, s.report.s = s, s, s
	s.sales.s = s
	switch {
	case cfg.RetentionSweep < 0 || s.store == nil:
		close(s.pruned)
	case cfg.RetentionSweep == 0:
		go s.retentionLoop(defaultRetentionSweep)
	default:
		go s.retentionLoop(cfg.RetentionSweep)
	}
	s.refresh = newRefresher(s, cfg.RefreshWorkers)
	s.days = newDayCache(dayCacheDays)
	s.dayListeners = append(s.dayListeners, s.publishDayEvents)
	sweep := cfg.SilenceSweep
	switch {
	case sweep == 0:
		sweep = defaultSilenceSweep
	case sweep < 0:
		sweep = 0 // never
	}
	l, shared := cfg.Store.(leaser)
	switch {
	case cfg.RefreshWorkers < 0:
		close(s.background)
	case shared:
		go s.leadLoop(l, sweep)
	default:
		if s.store != nil {
			s.rederiveIfNewer(context.Background())
			s.refresh.start()
		}
		if sweep == 0 {
			close(s.background)
			break
		}
		ctx, cancel := s.untilClosing()
		go func() {
			defer close(s.background)
			defer cancel()
			s.sweepLoop(ctx, sweep)
		}()
	}
	if cf, ok := cfg.Store.(changeFeed); ok {
		s.feed = startFeed(s, cf)
	}
	return s
}

// Close stops the change feed, the silence and retention sweepers and the
// summary refresher (waiting for
// the pass in progress; marks left are durable and drained at the next
// start) and ends every WatchEvents stream with UNAVAILABLE (its client
// resumes from its cursor elsewhere or later). Call it before stopping the
// gRPC server, whose graceful stop would otherwise wait for those streams,
// and before closing the store. It does not close the store. Safe to call
// twice; the Server must not serve after Close.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.feed.stop()
	<-s.background
	<-s.pruned
	s.refresh.stop()
}

// maxRecvMsgBytes bounds one request message. A batch of 1,000 fixes is
// about 100 KB; an ImportClients message of 500 polygon sites of 1,000
// vertices is about 10 MB.
const maxRecvMsgBytes = 32 << 20

// LoadFences builds the geofence index of each tenant from the store, so the
// first fixes after a start do not wait for it. Tenants not named here are
// built on first use. With a change feed, it first waits (up to 10 s) for
// the feed to listen, so that no index is built twice.
func (s *Server) LoadFences(ctx context.Context, tenants []dwell.TenantID) error {
	s.feed.waitReady(ctx, feedReadyWait)
	for _, t := range tenants {
		if _, err := s.fences.index(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Keepalive on the server's connections. Long streams (WatchEvents,
// StreamPings) can sit idle for hours, and a connection that died without a
// FIN (a phone that lost its network, a NAT that forgot the flow) would
// hold its stream and its goroutines until the kernel gave up on it: the
// server pings a connection idle for keepaliveTime and closes it when the
// ping is not answered within keepaliveTimeout. Clients may ping as often
// as every keepaliveMinClientTime, with or without a stream open, so a
// watcher can detect a dead connection itself: under grpc-go's default
// policy (5 minutes) a client that pings an idle stream every 10 seconds
// to 2 minutes, as client libraries are commonly set, gets GOAWAY
// "too_many_pings" at its fourth ping (TestWatchSurvivesClientKeepalive).
const (
	keepaliveTime          = 2 * time.Minute
	keepaliveTimeout       = 20 * time.Second
	keepaliveMinClientTime = 10 * time.Second
)

// NewGRPCServer returns a grpc.Server with every dwell.v1 service, health
// (reporting through hs) and reflection registered, the request size
// limits (limitCodec, then the limit, recovery and auth interceptors; and
// outside them, with Config.Metrics, the metrics interceptor: metrics.go)
// installed, and keepalive set (keepaliveTime).
// Extra options are appended.
func NewGRPCServer(s *Server, hs *health.Server, opts ...grpc.ServerOption) *grpc.Server {
	// The size limit's first (inside metrics alone, which counts its
	// refusals), so that a request the codec refused is answered, and its
	// note taken, before anything else reads it (msgsize.go).
	unary := []grpc.UnaryServerInterceptor{s.limitUnary, s.recoverUnary, s.authUnary}
	stream := []grpc.StreamServerInterceptor{s.limitStream, s.recoverStream, s.authStream}
	if s.metrics != nil {
		unary = append([]grpc.UnaryServerInterceptor{s.metricsUnary}, unary...)
		stream = append([]grpc.StreamServerInterceptor{s.metricsStream}, stream...)
	}
	opts = append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgBytes),
		grpc.ForceServerCodecV2(limitCodec{base: encoding.GetCodecV2("proto"), refused: &s.refused}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinClientTime, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}, opts...)
	g := grpc.NewServer(opts...)
	dwellv1.RegisterDirectoryServiceServer(g, &s.dir)
	dwellv1.RegisterIngestServiceServer(g, &s.ingest)
	dwellv1.RegisterSalesServiceServer(g, &s.sales)
	dwellv1.RegisterReportServiceServer(g, &s.report)
	grpc_health_v1.RegisterHealthServer(g, hs)
	reflection.Register(g)
	return g
}

// authenticate verifies the call's bearer token against the policy of
// method and returns ctx carrying the caller.
func (s *Server) authenticate(ctx context.Context, method string) (context.Context, error) {
	const op = dwell.Op("server.authenticate")
	pol, ok := s.policies[method]
	if !ok {
		s.log.WarnContext(ctx, "access denied", slog.String("audit", "no_policy"), slog.String("method", method))
		return nil, toStatus(ctx, s.log, dwell.E(op, dwell.PermissionDenied, dwell.ReasonRoleNotAllowed, "permission denied: no access policy for "+method))
	}
	if pol.public {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	tok, err := auth.BearerFromMetadata(md)
	var p dwell.Principal
	var until time.Time
	if err == nil {
		p, until, err = s.verifier.VerifyUntil(tok, s.now())
	}
	if err != nil {
		// Audited like a denial, with what the caller cannot forge: the
		// method and the peer's address (never the token or its claims).
		var from string
		if pr, ok := peer.FromContext(ctx); ok && pr.Addr != nil {
			from = pr.Addr.String()
		}
		s.log.WarnContext(ctx, "access denied",
			slog.String("audit", "unauthenticated"),
			slog.String("method", method),
			slog.String("peer", from),
			slog.String("why", err.Error()))
		return nil, toStatus(ctx, s.log, err)
	}
	if !pol.allows(p.Role) {
		return nil, toStatus(ctx, s.log, s.denyBecause(ctx, op, p, method, "role "+p.Role.String()+" may not call "+shortMethod(method), dwell.ReasonRoleNotAllowed))
	}
	if p.Role == dwell.RolePartner {
		if err := s.checkPartner(ctx, p, method); err != nil {
			return nil, toStatus(ctx, s.log, err)
		}
	}
	return withTokenUntil(withPrincipal(ctx, p), until), nil
}

func shortMethod(full string) string {
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[i+1:]
	}
	return full
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	resp, err := h(ctx, req)
	return resp, toStatus(ctx, s.log, err)
}

// authedStream is a stream whose caller authenticate verified: its
// context carries the principal, and a message received once the token
// has expired (from until, by the server's clock) is refused with the
// status and audit record a call with that token gets, so that no stream
// (StreamPings, the imports) outlives its token by more than a call would;
// WatchEvents, which receives nothing, ends itself (watch.go). The message
// that arrived is not acted on: a phone sends it again with a new token.
type authedStream struct {
	grpc.ServerStream
	ctx    context.Context
	s      *Server
	until  time.Time
	method string
}

func (a *authedStream) Context() context.Context { return a.ctx }

func (a *authedStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !a.until.IsZero() && !a.s.now().Before(a.until) {
		return a.s.tokenExpired(a.ctx, dwell.Op(a.method))
	}
	return nil
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	var as grpc.ServerStream = &authedStream{ServerStream: ss, ctx: ctx, s: s, until: tokenUntil(ctx), method: info.FullMethod}
	if p, err := principalFrom(ctx); err == nil && p.Role == dwell.RolePartner {
		as = &partnerStream{ServerStream: as, s: s, p: p, method: info.FullMethod}
	}
	return toStatus(ctx, s.log, h(srv, as))
}

// recoverUnary turns a handler panic into INTERNAL and logs it with the
// stack. No panic is meant to be reachable; this is the last line.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			resp, err = nil, internalError()
		}
	}()
	return h(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ss.Context(), "panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
			err = internalError()
		}
	}()
	return h(srv, ss)
}

// location returns the *time.Location of an IANA zone name, cached.
func (s *Server) location(name string) (*time.Location, error) {
	if l, ok := s.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, dwell.E(dwell.Op("server.location"), err)
	}
	s.zones.Store(name, l)
	return l, nil
}
