package pgstore

// The change feed: how servers sharing one database learn of each other's
// writes to what they hold in memory (store.Change).
//
// Layout. Triggers, so that the files that write the tables need not know:
// AFTER INSERT, UPDATE or DELETE, FOR EACH ROW, on clients, partners,
// settings, events and teams, dwell_notify_change sends
// pg_notify('dwell_changes', kind || '/' || tenant || '/' || id) inside
// the writing transaction. PostgreSQL delivers a notification only if and
// when that transaction commits, to every session listening at the
// commit, and sends equal payloads of one transaction once: a PutClients
// of n clients sends n notifications, an AppendEvents of any number of
// events one (events carry no id: "events/acme/"), a PruneEvents or an
// erasure one "events-removed/acme/", a team write one "teams/acme/"
// (teams carry none either: a reader reads the manager's teams again).
// EraseRepHistory sends "rep-erased/acme/ida" itself, after its deletes,
// in its transaction (no trigger: fixes fire none), so an erasure is
// heard even of a rep without events. Tenants and ids are at most
// dwell.MaxIDBytes (64) bytes, checked by every write, so a payload is at
// most 15+1+64+1+64 bytes, far below PostgreSQL's 8,000-byte limit; a
// longer one (a write the store's checks did not bound) is sent as
// "resync" rather than fail the write.
//
// SyncChanges sends "sync/" || token on the same channel, outside any
// trigger: a barrier, heard by every listener after every change
// committed before it (NOTIFY delivers in commit order).
//
// Caveats: the channel is per database, not per schema, so stores in
// different schemas of one database hear each other's changes (harmless:
// a reader reads its own schema again, and finds nothing changed). A
// listener's own writes are reported to it too.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// changesChannel is the notification channel of the change feed.
const changesChannel = "dwell_changes"

// changesSchema creates the trigger function and its triggers. The
// function is replaced at every Open (under migrate's advisory lock); a
// trigger is created only if its table has none of that name, so that an
// Open takes no lock that would wait for the tables' writers.
const changesSchema = `
CREATE OR REPLACE FUNCTION dwell_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
	kind    text := TG_ARGV[0];
	payload text;
BEGIN
	IF kind = 'events' AND TG_OP <> 'INSERT' THEN
		kind := 'events-removed';
	END IF;
	IF TG_OP = 'DELETE' THEN
		payload := OLD.tenant;
	ELSE
		payload := NEW.tenant;
	END IF;
	payload := kind || '/' || payload || '/';
	IF kind IN ('clients', 'partners') THEN
		IF TG_OP = 'DELETE' THEN
			payload := payload || OLD.id;
		ELSE
			payload := payload || NEW.id;
		END IF;
	END IF;
	IF octet_length(payload) >= 8000 THEN
		payload := 'resync';
	END IF;
	PERFORM pg_notify('dwell_changes', payload);
	RETURN NULL;
END
$fn$;

DO $do$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['clients', 'partners', 'settings', 'events', 'teams'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_trigger
				WHERE tgrelid = t::regclass AND tgname = 'dwell_changes') THEN
			EXECUTE format('CREATE TRIGGER dwell_changes AFTER INSERT OR UPDATE OR DELETE ON %I '
				'FOR EACH ROW EXECUTE FUNCTION dwell_notify_change(%L)', t, t);
		END IF;
	END LOOP;
END
$do$;
`

// Backoff of the listener's reconnections: the first wait, and the most.
const (
	changesMinBackoff = 50 * time.Millisecond
	changesMaxBackoff = 5 * time.Second
)

// WatchChanges calls fn for every change that any process commits to the
// database's clients, partner accounts, settings, event logs and teams, in commit
// order, one call at a time, until ctx ends; it then returns ctx's error,
// wrapped. It listens on a connection of its own (not one of the pool's),
// opened with the store's connection settings.
//
// fn is first called with a resync change (store.Change.Resync) once the
// listener is in place: changes committed before it are not reported, so
// what the caller read from the store before then may be stale. When the
// connection is lost, or does not answer the check the listener makes
// every 5 s within 5 s (a partition: see changesIdle), WatchChanges
// reconnects, waiting 50 ms at first and twice as long after each failure
// up to 5 s, and calls fn with a resync change again once it listens.
// fn should return quickly: notifications wait while it runs (PostgreSQL
// queues them for the session), and the check waits too; a call of fn
// that runs for 30 s lets the server end the session as idle, which costs
// a reconnection and a resync.
//
// WatchChanges returns dwell.Unavailable if the store is closed before it
// starts or reconnects, and within about 5 s of Close while it listens; it
// does not keep Close waiting.
func (s *Store) WatchChanges(ctx context.Context, fn func(store.Change)) error {
	const op = dwell.Op("pgstore.WatchChanges")
	backoff := changesMinBackoff
	for {
		if err := ctx.Err(); err != nil {
			return dwell.E(op, err)
		}
		if s.isClosed() {
			return dwell.E(op, dwell.Unavailable, "store is closed")
		}
		conn, err := s.listen(ctx)
		if err == nil {
			fn(store.Change{Resync: true})
			start := time.Now()
			err = s.receiveChanges(ctx, conn, fn)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			if ctx.Err() != nil {
				return dwell.E(op, ctx.Err())
			}
			if s.isClosed() {
				return dwell.E(op, dwell.Unavailable, "store is closed")
			}
			if time.Since(start) > changesMaxBackoff {
				backoff = changesMinBackoff
			}
		}
		if ctx.Err() != nil {
			return dwell.E(op, ctx.Err())
		}
		s.log.WarnContext(ctx, "change feed: listener connection lost; reconnecting", "wait", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return dwell.E(op, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, changesMaxBackoff)
	}
}

// isClosed reports whether Close was called.
func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// The listener's liveness. A listener cut off from the database without
// its connection closing (a network partition, a database host that
// vanished in a failover) would otherwise wait for notifications that
// never come, for as long as the operating system's TCP keepalive takes
// to give up (minutes; forever behind a proxy that keeps answering),
// while the server's caches miss every other server's changes: a revoked
// partner grant or a moved fence. So the listener asks the server to
// answer (listenSQL again) every changesIdle, whether notifications come or
// not, and gives the connection up when no answer comes within
// changesPingTimeout; it reconnects, and the resync that follows repairs
// what it missed. The server ends the session left behind (changesBounds).
const (
	// changesIdle is how often the listener checks that its connection
	// still answers (and that the store is open).
	changesIdle = 5 * time.Second
	// changesPingTimeout is how long that check, and opening the
	// listener's connection, may take before the connection is given up.
	changesPingTimeout = 5 * time.Second
	// listenSQL starts the listener, and is its check: listening again
	// on the channel it listens on does nothing, and keeps the session's
	// last statement what an operator looking at pg_stat_activity expects.
	listenSQL = "LISTEN " + changesChannel
)

// changesBounds is when the server ends a listener's session whose
// process is gone (see sessionBounds): after 30 s without a query (the
// listener sends one every changesIdle at least), or over TCP once the
// peer does not answer 3 keepalive probes sent 2 s apart after 5 s of
// silence, or does not acknowledge what was sent within 15 s.
var changesBounds = sessionBounds{
	keepaliveIdle: 5 * time.Second, keepaliveInterval: 2 * time.Second, keepaliveCount: 3,
	userTimeout: 15 * time.Second, idle: 30 * time.Second,
}

// listen opens the listener's connection, bounds its session and starts
// listening, within changesPingTimeout.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, changesPingTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if err := changesBounds.bound(cctx, conn); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if _, err := conn.Exec(cctx, listenSQL); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// receiveChanges passes the notifications of conn to fn until the
// connection fails or does not answer its check (see changesIdle), the
// store is closed or ctx ends.
func (s *Store) receiveChanges(ctx context.Context, conn *pgx.Conn, fn func(store.Change)) error {
	// Checked every changesIdle whether notifications come or not: they
	// are not queries, so they do not keep the session from the server's
	// idle_session_timeout (changesBounds), and a busy listener must
	// notice Close too.
	pinged := time.Now()
	for {
		wctx, cancel := context.WithDeadline(ctx, pinged.Add(changesIdle))
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A timeout (also of a deadline already past, once the
			// notifications received are delivered) leaves the connection
			// usable; pgconn closes it on any other error.
			if !pgconn.Timeout(err) {
				return err
			}
			if s.isClosed() {
				return errors.New("store is closed")
			}
			pctx, cancel := context.WithTimeout(ctx, changesPingTimeout)
			_, err := conn.Exec(pctx, listenSQL)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("listener connection did not answer within %v: %w", changesPingTimeout, err)
			}
			pinged = time.Now()
			continue
		}
		if n.Channel != changesChannel {
			continue
		}
		if c, ok := parseChange(n.Payload); ok {
			fn(c)
		}
	}
}

// parseChange decodes a notification's payload: kind/tenant/id,
// "resync" or sync/token. Tenants never contain '/' (auth.CheckTenantID);
// an id or a token may. It returns false for a payload of an unknown kind
// (a newer build's).
func parseChange(payload string) (store.Change, bool) {
	if payload == "resync" {
		return store.Change{Resync: true}, true
	}
	if tok, ok := strings.CutPrefix(payload, syncPrefix); ok && tok != "" {
		return store.Change{Sync: tok}, true
	}
	kind, rest, ok1 := strings.Cut(payload, "/")
	tenant, id, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || tenant == "" {
		return store.Change{}, false
	}
	switch k := store.ChangeKind(kind); k {
	case store.ChangeClients, store.ChangePartners, store.ChangeRepErased:
		if id == "" {
			return store.Change{}, false
		}
		return store.Change{Tenant: dwell.TenantID(tenant), Kind: k, ID: id}, true
	case store.ChangeSettings, store.ChangeEvents, store.ChangeEventsRemoved, store.ChangeTeams:
		return store.Change{Tenant: dwell.TenantID(tenant), Kind: k}, true
	}
	return store.Change{}, false
}

// syncPrefix starts the payload of a SyncChanges notification; no kind of
// change is named "sync".
const syncPrefix = "sync/"

// maxSyncToken is the longest token SyncChanges sends, in bytes, far
// below PostgreSQL's 8,000-byte payload limit.
const maxSyncToken = 256

// SyncChanges sends token through the change feed: every WatchChanges
// listening on the database (in any process) reports it as a
// store.Change with Sync set to token, after every change committed
// before this call, so a listener that has applied what it was told
// before that Change is in step with the database as of this call. A
// listener whose connection is down misses it (it resyncs on
// reconnecting). It costs one round trip and writes nothing; it returns
// dwell.Unavailable once the store is closed. A token
// that is empty or longer than 256 bytes is dwell.Invalid.
func (s *Store) SyncChanges(ctx context.Context, token string) error {
	const op = dwell.Op("pgstore.SyncChanges")
	if token == "" || len(token) > maxSyncToken {
		return dwell.E(op, dwell.Invalid, "sync token must be 1 to 256 bytes")
	}
	// One statement, no transaction: NOTIFY is sent when it commits.
	return s.readOne(ctx, op, func(ctx context.Context, q querier) error {
		rows, err := q.Query(ctx, "SELECT pg_notify($1, $2)", changesChannel, syncPrefix+token)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	})
}
