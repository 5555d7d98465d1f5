package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Options configures a Store.
type Options struct {
	// Logger receives the store's rare operational messages. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock: the ReceiveTime of rep actions that arrive without
	// one, and "today" for the days a settings or client change marks.
	// Nil means time.Now.
	Now func() time.Time
	// MaxConns caps the connection pool; 0 means pgxpool's default (the
	// larger of 4 and the number of CPUs).
	MaxConns int32
}

// Store is the PostgreSQL implementation of store.Store. It is safe for
// concurrent use by many goroutines, and many Stores (in many processes)
// may share one database. Create it with Open and release it with Close.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	// mu guards closed; every call holds it shared while it enters
	// (inflight.Add), Close holds it exclusively to flip closed, then waits
	// for inflight, so no call runs on a closed pool.
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	// zones caches the loaded time zones that rep days are cut in.
	zonesMu sync.Mutex
	zones   map[string]*time.Location

	// txs counts transactions for Stats (stats.go).
	txs txStats
	// retryBudget is retryBudget; tests shorten it.
	retryBudget time.Duration
}

var _ store.Store = (*Store)(nil)

// retryBudget is how long a transaction that PostgreSQL aborted for a
// serialization failure or a deadlock is run again before its error is
// returned. It is a time, not a count of attempts: several uploads to one
// rep-day and the refresher meet on one row, and on a loaded machine one of
// them lost 20 attempts in a row (half a second) and its batch was refused.
const retryBudget = 10 * time.Second

// retryWaitMax caps the wait between two attempts of an aborted
// transaction.
const retryWaitMax = 50 * time.Millisecond

// Open connects to the database named by dsn (a PostgreSQL URL or key=value
// connection string, see pgx.ParseConfig), creates or upgrades Dwell's
// tables in it, and returns the store. Several processes may Open the same
// database at once: the schema is created under an advisory lock. A
// database written by a newer layout is refused (dwell.FailedPrecondition).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	const op = dwell.Op("pgstore.Open")
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, dwell.E(op, dwell.Invalid, "parsing the connection string", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	// Acknowledged means durable: a commit returns only once its WAL
	// record is flushed, whatever the server's default.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// Calls on a connection whose path died fail within seconds (dial.go).
	boundDial(&cfg.ConnConfig.Config)
	if cfg.PingTimeout == 0 {
		cfg.PingTimeout = poolPingTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dwell.E(op, dwell.Unavailable, "connecting to PostgreSQL", err)
	}
	s := &Store{pool: pool, log: opts.Logger, now: opts.Now, zones: map[string]*time.Location{}, retryBudget: retryBudget}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, dwell.E(op, err)
	}
	return s, nil
}

// Close waits for in-flight calls and closes the connection pool. Later
// calls return dwell.Unavailable; a second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	s.pool.Close()
	return nil
}

// enter registers a call; it fails once the store is closed. A caller that
// entered must call s.inflight.Done.
func (s *Store) enter(op dwell.Op) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return dwell.E(op, dwell.Unavailable, "store is closed")
	}
	s.inflight.Add(1)
	return nil
}

// write runs fn in one SERIALIZABLE read-write transaction and commits it;
// it returns nil only once the commit is durable. A context already done
// when write is called writes nothing and returns its error, wrapped.
// Once started, the transaction runs to its end whatever happens to ctx
// (fn gets a context without cancellation), so a caller is never told
// "cancelled" about a write that became durable. A transaction PostgreSQL
// aborts for a serialization failure or a deadlock is run again, so fn
// must be safe to repeat and must not keep results from a failed attempt
// (reset what it collects at its start). An error of fn that is a
// *dwell.Error is returned as is; database errors become dwell.Other (or
// dwell.Unavailable when the server is unreachable).
func (s *Store) write(ctx context.Context, op dwell.Op, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.writeAt(ctx, op, pgx.Serializable, fn)
}

// writeReadCommitted runs fn as write does, but at READ COMMITTED. It is
// for writes whose statements are each right on their own and that update
// rows many other writers update too: a tenant's event counter, or every
// recent rep-day of a tenant (a client or settings change marks them all,
// while every upload bumps its rep's day). Under SERIALIZABLE such a write
// is aborted whenever one of those rows changed after it began, so a long
// one beside steady uploads, or one of two writers that take turns on one
// row, is starved (TestClientWriteUnderIngest). At READ COMMITTED an UPDATE
// waits for the row's other writer and then applies to its latest version.
func (s *Store) writeReadCommitted(ctx context.Context, op dwell.Op, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.writeAt(ctx, op, pgx.ReadCommitted, fn)
}

// writeAt is write at isolation level iso.
func (s *Store) writeAt(ctx context.Context, op dwell.Op, iso pgx.TxIsoLevel, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return dwell.E(op, err)
	}
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.inflight.Done()
	return s.run(context.WithoutCancel(ctx), op, pgx.TxOptions{IsoLevel: iso}, fn)
}

// read runs fn in one REPEATABLE READ, READ ONLY transaction: every
// statement of fn sees the same snapshot. Errors are mapped as by write.
func (s *Store) read(ctx context.Context, op dwell.Op, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.inflight.Done()
	return s.run(ctx, op, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// querier is what a read runs its statements on: the transaction of read,
// or the pool for readOne.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// readOne runs fn, a read of one statement, on the pool, without a
// transaction of its own: one statement sees one snapshot, and BEGIN and
// COMMIT would cost two more round trips (ingest makes three such reads a
// batch). Errors are mapped as by read.
func (s *Store) readOne(ctx context.Context, op dwell.Op, fn func(ctx context.Context, q querier) error) error {
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.inflight.Done()
	if err := fn(ctx, s.pool); err != nil {
		return dbError(op, err)
	}
	return nil
}

func (s *Store) run(ctx context.Context, op dwell.Op, txo pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, s.pool, txo, func(tx pgx.Tx) error { return fn(ctx, tx) })
		if err == nil {
			if txo.AccessMode != pgx.ReadOnly {
				s.txs.commits.Add(1)
			}
			return nil
		}
		if retryable(err) && time.Since(start) < s.retryBudget {
			s.txs.retries.Add(1)
			time.Sleep(retryWait(attempt))
			continue
		}
		return dbError(op, err)
	}
}

// retryWait is how long to wait after the attempt-th attempt (from 1) of a
// transaction was aborted: 1 ms doubled at each attempt up to retryWaitMax,
// so that the conflicting transaction can finish, and scaled by a random
// factor from 0.5 to 1.5, so that writers that collided once (several
// uploads to one rep-day) do not meet again at every attempt in step.
func retryWait(attempt int) time.Duration {
	d := min(time.Millisecond<<min(attempt-1, 16), retryWaitMax)
	return d/2 + rand.N(d)
}

// retryable reports whether err is a transaction abort that a retry may
// not meet again: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// dbError maps an error of a transaction to Dwell's kinds: a *dwell.Error
// (from the store's own checks) and a context's error are kept; a lost or
// refused connection is dwell.Unavailable; any other database error is
// dwell.Other.
func dbError(op dwell.Op, err error) error {
	var de *dwell.Error
	if errors.As(err, &de) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return dwell.E(op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08 is a connection exception, 57P0x an operator or crash
		// shutdown, 53xxx insufficient resources: all transient.
		if len(pe.Code) == 5 && (pe.Code[:2] == "08" || pe.Code[:4] == "57P0" || pe.Code[:2] == "53") {
			return dwell.E(op, dwell.Unavailable, "database unavailable", err)
		}
		return dwell.E(op, dwell.Other, "database error", err)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return dwell.E(op, dwell.Unavailable, "database unavailable", err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return dwell.E(op, dwell.Unavailable, "database unavailable", err)
	}
	// The connection broke during the call (the server crashed or was
	// cut off): transient. A write's outcome is then unknown, which a
	// retry settles, as every write is idempotent.
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return dwell.E(op, dwell.Unavailable, "database connection lost", err)
	}
	return dwell.E(op, dwell.Other, "database error", err)
}

// Instants are stored as bigint Unix nanoseconds: PostgreSQL's timestamp
// keeps microseconds only, and the store returns instants to the
// nanosecond. The range is that of an int64 (years 1678 to 2262), as in
// boltstore.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos returns t in Unix nanoseconds, or false if t is out of range (a
// write of such an instant is dwell.Invalid).
func nanos(t time.Time) (int64, bool) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, false
	}
	return t.UnixNano(), true
}

// boundNanos returns t in Unix nanoseconds, clamped to the range: for the
// bounds of a read (time.Time{} as "from the start").
func boundNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos returns the instant of Unix nanoseconds n, in UTC.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// optNanos and fromOptNanos store an instant that may be zero (unset) as
// NULL.
func optNanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := boundNanos(t)
	return &n
}

func fromOptNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromNanos(*n)
}

// timeInvalid is the error of a write of an instant out of range.
func timeInvalid(op dwell.Op, field string, t time.Time) error {
	return dwell.E(op, dwell.Invalid, dwell.Violation{Field: field, Description: fmt.Sprintf("time %s is out of the storable range (years 1678 to 2262)", t.UTC().Format(time.RFC3339Nano))})
}

// checkPage returns dwell.Invalid for a page with a limit below 1.
func checkPage(op dwell.Op, p store.Page) error {
	if p.Limit < 1 {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "page_size", Description: "must be at least 1"})
	}
	return nil
}
