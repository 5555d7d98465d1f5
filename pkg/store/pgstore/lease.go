package pgstore

// Leases: one process of those sharing a database runs a piece of work.
//
// Layout. No table: a lease is a session-level advisory lock
// (pg_try_advisory_lock) held by a connection of its own, opened with the
// store's connection settings but not taken from the pool, so that no
// other call ever runs on it and closing it releases the lock. The lock's
// 64-bit key is the first eight bytes of the SHA-256 of "dwell-lease",
// the connection's current schema and the lease's name, so that stores in
// different schemas of one database (the tests' layout) hold different
// leases; advisory locks are per database, so different databases never
// meet.
//
// A holder cut off from the database without its connection being closed
// (a network partition: no FIN, no RST) stops its work at its next failed
// ping, but PostgreSQL would keep its session, and so the lock, until
// the operating system's TCP keepalive gives up (two hours and more by
// default): no other process could take the work over. So the holder's
// session ends itself (leaseBounds): idle_session_timeout (PostgreSQL
// 14 and later) ends it leaseIdle after the last ping that reached the
// server, on a Unix socket as on TCP; tcp_keepalives_* and
// tcp_user_timeout end a TCP session whose peer stopped answering within
// about six seconds (on PostgreSQL 13, the only bound; over a Unix socket
// PostgreSQL ignores them). Either way the session ends after the holder
// stopped: its ping fails within about 2 s, the session lasts at least
// leaseIdle (5 s), so a takeover in a partition waits up to about
// leaseIdle plus leaseRetry, without two processes working at once.
//
// Caveats. PostgreSQL grants the lock to one session at a time, but a
// holder learns that its session is gone (the server killed it, or the
// network failed) only at its next ping, up to leasePing later (plus the
// ping's own timeout), while another process may take the lease at once:
// for that long two processes may run the work. The work must therefore
// be idempotent (the summary refresher's writes are versioned, events are
// deduplicated by key). A holder that cannot ping for leaseIdle (its
// process stalled that long) loses its session and with it the lease.
//
// A session-level lock needs a session: through a pooler in transaction
// mode (PgBouncer's pool_mode = transaction) the lock would stay with a
// server connection the pooler hands to others. Point the store at
// PostgreSQL itself, or at a pooler in session mode.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// leasePing is how often a lease holder checks that its session is
// alive; a ping that does not answer within leasePing loses the lease.
const leasePing = time.Second

// leaseIdle is how long the server keeps a lease holder's session that
// sent nothing (no ping) before it ends it, releasing the lease: five
// pings missed. leaseBounds sets it, and the TCP timeouts that end
// a session whose peer vanished in about as long.
const leaseIdle = 5 * leasePing

// leaseBounds is when the server ends a lease holder's session (see
// bound): after leaseIdle without a query, or over TCP once the peer does
// not answer 3 keepalive probes sent 1 s apart after 3 s of silence, or
// does not acknowledge what was sent within 6 s.
var leaseBounds = sessionBounds{
	keepaliveIdle: 3 * time.Second, keepaliveInterval: time.Second, keepaliveCount: 3,
	userTimeout: 6 * time.Second, idle: leaseIdle,
}

// leaseRetry is how often a process that does not hold a lease tries to
// take it, and how long it waits after failing to connect. A process that
// just lost the lease waits twice as long, so that a healthy peer, which
// tries within leaseRetry, takes the work over rather than the process
// whose connection just failed.
const leaseRetry = 2 * time.Second

// Lead runs fn while this process holds the lease name, and again each
// time it wins the lease back, until ctx ends; it then returns ctx's
// error, wrapped. Of the processes calling Lead with one name on one
// database schema, PostgreSQL grants the lease to one at a time (a
// session-level advisory lock on a connection of Lead's own); the others
// try again every 2 s.
//
// fn's context ends when the lease is lost (the connection fails, or does
// not answer its ping, sent every second), when the store is closed, or
// when ctx ends; Lead waits for fn to return and only then closes the
// connection, which releases the lease. If fn returns earlier, the lease
// is released all the same. A process that held the lease tries again
// after 4 s, so that another takes the work over first.
//
// The guarantee is PostgreSQL's view: at most one session holds the lease
// at a time. A holder whose session the server killed, or whose network
// failed, runs on until its next ping fails (up to about two seconds), and
// another process may win the lease meanwhile, so what fn does must be
// idempotent. A holder cut off from the server without its connection
// closing keeps the lease until the server ends its silent session, 5 s
// after the last ping that arrived (about 6 s over TCP on PostgreSQL 13),
// so another process takes over within about 7 s.
//
// Lead returns dwell.Unavailable once the store is closed (at once if it
// is closed when Lead starts); it does not keep Close waiting, but fn's
// context ends within a second of Close.
func (s *Store) Lead(ctx context.Context, name string, fn func(ctx context.Context)) error {
	const op = dwell.Op("pgstore.Lead")
	for {
		if err := ctx.Err(); err != nil {
			return dwell.E(op, err)
		}
		if s.isClosed() {
			return dwell.E(op, dwell.Unavailable, "store is closed")
		}
		conn, won, err := s.tryLease(ctx, name)
		wait := leaseRetry
		if won {
			s.hold(ctx, conn, name, fn)
			wait = 2 * leaseRetry
		}
		if conn != nil {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
		if err != nil && ctx.Err() == nil && !s.isClosed() {
			s.log.WarnContext(ctx, "lease: cannot reach the database; trying again", "lease", name, "wait", leaseRetry, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return dwell.E(op, ctx.Err())
		case <-t.C:
		}
	}
}

// tryLease opens a connection and tries to take the lease name on it. It
// returns the connection (nil if none could be opened), which the caller
// must close whatever the outcome, and whether the lease was won.
func (s *Store) tryLease(ctx context.Context, name string) (*pgx.Conn, bool, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, false, err
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return conn, false, err
	}
	var won bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaseKey(schema, name)).Scan(&won); err != nil {
		return conn, false, err
	}
	if won {
		// Set only once won: the others' connections close at once.
		if err := leaseBounds.bound(ctx, conn); err != nil {
			return conn, false, err
		}
	}
	return conn, won, nil
}

// hold runs fn while conn, which holds the lease, answers its pings, the
// store is open and ctx lasts; it returns once fn has returned.
func (s *Store) hold(ctx context.Context, conn *pgx.Conn, name string, fn func(ctx context.Context)) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx)
	}()
	t := time.NewTicker(leasePing)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-t.C:
		}
		if s.isClosed() {
			cancel()
			<-done
			return
		}
		pctx, pcancel := context.WithTimeout(ctx, leasePing)
		err := conn.Ping(pctx)
		pcancel()
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "lease: lost (the connection failed its ping)", "lease", name, "err", err)
			cancel()
			<-done
			return
		}
	}
}

// leaseKey returns the advisory lock key of the lease name in schema.
func leaseKey(schema, name string) int64 {
	h := sha256.New()
	h.Write([]byte("dwell-lease\x00"))
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(binary.BigEndian.Uint64(h.Sum(nil)))
}

// LeaseHolder returns the process id of the PostgreSQL backend whose
// session holds the lease name in the store's schema (see Lead), or 0 if
// no session holds it. It is for operators and tests: the holder may
// change as soon as it returns.
func (s *Store) LeaseHolder(ctx context.Context, name string) (int, error) {
	const op = dwell.Op("pgstore.LeaseHolder")
	var pid int
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		pid = 0
		var schema string
		if err := tx.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
			return err
		}
		k := uint64(leaseKey(schema, name))
		// pg_locks shows a bigint advisory key as two 32-bit halves:
		// classid the high, objid the low; objsubid 1 marks a bigint key.
		err := tx.QueryRow(ctx, `
			SELECT coalesce(max(pid), 0) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND objsubid = 1
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			  AND classid::bigint = $1 AND objid::bigint = $2`,
			int64(k>>32), int64(k&0xffffffff)).Scan(&pid)
		return err
	})
	return pid, err
}
