// Package pgstore implements store.Store on PostgreSQL (13 or newer; the
// tests run on 15, and 13 and 14 are untested), so
// that several dwelld processes can share one durable store. It passes the
// same conformance suite (package storetest) as the embedded default,
// boltstore, and is the only package that imports a PostgreSQL driver
// (jackc/pgx v5).
//
// # Writes and durability
//
// Every call is one transaction. Most writes run SERIALIZABLE, so a call
// sees and changes the database as if it ran alone, on any number of
// servers; a transaction PostgreSQL aborts for a serialization failure or
// a deadlock is run again, after a wait that grows from 1 ms to 50 ms, for
// up to 10 seconds before the call fails. Writes
// that update rows every other writer updates too run READ COMMITTED, each
// statement right on its own: a client or settings change (it marks every
// recent rep-day of the tenant, while each upload bumps its rep's day;
// under SERIALIZABLE steady uploads starved it) and the event log's appends
// and prunes (they take turns on the tenant's counter row). Every
// connection sets synchronous_commit = on: a write returns nil only once
// its commit's WAL record is flushed to disk, whatever the server's
// default. Group commit is PostgreSQL's own: concurrent commits share WAL
// flushes.
//
// A write whose context is done before it starts returns the context's
// error (errors.Is(err, context.Canceled) holds) and writes nothing. Once
// started, it runs to its end whatever happens to its context, and the
// call returns the outcome: a caller is never told "cancelled" about a
// write that became durable. A read of several statements runs REPEATABLE
// READ, read only, so they all see one snapshot; a read of one statement
// runs on the pool without BEGIN and COMMIT (two round trips fewer).
//
// # Layout
//
// Dwell's tables live in the first schema of the connection's search_path
// (public by default), created at Open if missing (under an advisory lock,
// so servers may start together) and stamped with a layout version in
// dwell_meta; a database of a newer layout is refused. Every table is keyed
// by tenant first: nothing spans tenants but ListDirtyDays and
// ListDataReps, the background workers' listings. Id columns are
// COLLATE "C", so id order is byte order, as page tokens assume. Instants
// are bigint Unix nanoseconds (PostgreSQL's timestamp keeps microseconds;
// the store returns instants to the nanosecond), so, as in boltstore,
// times must lie between the years 1678 and 2262. Local days are date.
// The tables are described in schema.go and at the top of each file:
//
//   - Directory (directory.go, partners.go): clients, reps, teams, settings
//     and partners are rows keyed by (tenant, id); a page is one range of
//     the primary key. A client's geofence and free text are a json record
//     beside its kind; settings are typed columns (a tenant without a row
//     has dwell.DefaultSettings). A partner account's request id stays
//     spent in partner_requests after the account is deleted, and its
//     last deletion in partner_deletions, even once it is created again.
//   - Signing keys (keys.go): signing_keys holds each tenant's token key,
//     written once and never changed (auth.KeyStore), so servers sharing
//     the database accept each other's tokens and keep no state on disk.
//     ReadSigningKeys reads them without creating any table, for dwellctl.
//   - Fixes (fixes.go): one row per fix, whose primary key (tenant, rep,
//     id) deduplicates; AppendFixes is one INSERT ... SELECT FROM unnest
//     ... ON CONFLICT DO NOTHING RETURNING id of the batch's distinct ids in
//     byte order (so concurrent batches sharing ids queue instead of
//     deadlocking), then the day marks and the rep_data row.
//   - Rep actions (actions.go): rows of actions with kind, time, the order
//     recorded (seq), request_id and a json record (a check-in's or
//     check-out's fix under "f"), idempotent by a partial unique index on
//     the request id.
//   - Event log (events.go): events by (tenant, seq) and event_seqs, the
//     per-tenant counter locked by each append, so sequences are gap-free in
//     commit order; one probe of events_by_key per keyed event.
//   - Sales (sales.go): appointments (appointment_requests keeps a request
//     id spent after a delete), opportunities, quotas (a rep's periods
//     never overlap: PutQuotas reads the reps' quotas in its SERIALIZABLE
//     transaction, so of two overlapping puts one aborts and, run again,
//     is refused), and sales_requests
//     (the SHA-256 of each upsert batch, so a true retry is answered as
//     existed and other data under a used request id is dwell.Invalid).
//   - Day summaries (summary.go): days, one row per rep-day (data version,
//     dirty mark, summary with the version it was derived from, detail);
//     the refresher pages dirty days through the partial index days_dirty
//     in byte order of (tenant, rep, date). A team read is one statement,
//     the reps as an array joined LATERAL to one range of the days key each.
//   - Privacy (privacy.go): PruneFixes and PruneActionFixes go oldest first,
//     whole instants at a time; the horizons in rep_data never go down.
//     PruneActionFixes walks the partial index actions_fixed and drops the
//     fix of a record in Go (PostgreSQL's JSON functions refuse \u0000).
//     EraseRepHistory and DeleteFixesBetween are one statement each; a
//     deleted fix's id is free at once.
//   - Leases (lease.go): Lead(ctx, name, fn) runs fn while this process
//     holds a session-level advisory lock keyed by SHA-256("dwell-lease",
//     current schema, name), on a connection of its own (pinged every
//     second; a standby retries every 2 s, a process that just lost the
//     lease after 4 s). At most one session holds it at a time, but a holder
//     whose session was killed runs on until its next ping fails (about 2
//     s), so what fn does must be idempotent. LeaseHolder names the holding
//     backend's pid. The server runs its refresher and silence sweeper under
//     the lease "background".
//
// Revisions: clients, reps, teams, settings, partners and opportunities
// have a revision column, 1 on insert and raised by the statement of every
// later write of the row (the conditional updates, PutClients,
// PutOpportunities, DeleteTeam's clearing of its reps' team); a
// conditional update that changes no row reads the revision to tell
// dwell.NotFound from dwell.Conflict (updateOneTx). The column is in the
// CREATE TABLE statements; a database made by the first release (layout
// 1) gets it at Open, where missing (revisionsSchema), every row at
// revision 1, and its layout is raised to 2, which that release refuses
// to open: an old server writing without raising revisions would let a
// new server's conditional write pass over its change.
//
// Two differences from boltstore that the contract allows: dirty days are
// listed in byte order of the rep id (boltstore lists shorter ids first),
// and a summary put for a day with no data is listed with version 0.
//
// # Change feed
//
// Triggers on clients, partners, settings, events and teams notify the channel
// dwell_changes with "kind/tenant/id" (events: one notification per append,
// and "events-removed" per prune or erasure; EraseRepHistory adds
// "rep-erased/tenant/rep" itself) inside the writing transaction, so a notification is sent if and only if the write commits,
// in commit order. (*Store).WatchChanges listens on a connection of its own,
// reports each change as a store.Change, and reports a resync after every
// (re)connection, since changes before it may have been missed. The server
// applies them to what it keeps in memory (server/feed.go). Writes to these
// five tables commit one at a time database-wide (PostgreSQL's notify
// lock); fixes, actions and days fire no trigger. Notifications are per
// database: Dwell stores in other schemas of the same database hear them
// too (harmless: they re-read their own tables).
//
// # Caveats
//
//   - A dwelld follows other servers' writes to clients, partner accounts,
//     settings, event logs and teams through the change feed, about a millisecond
//     after their commit (BenchmarkFeedPropagation in server), not at once:
//     a write on one server followed at once by a read on another may see
//     the old state. A listener cut off from the database without its
//     connection closing (a partition, a failover that moved the database)
//     notices within about 10 s, by a check it makes every 5 s, and
//     reconnects with a resync (TestWatchChangesPartitioned; see changesIdle
//     in changes.go); a busy listener is checked as often, and its session
//     is not ended as idle (TestWatchChangesBusy).
//   - A pool connection cut off from the database without closing is
//     given up by the pool's liveness ping (5 s) when it was idle, and on
//     Linux by TCP_USER_TIMEOUT (20 s) when a call was sent on it; keepalive
//     probes (10 s, then every 3 s, 3 of them) end an idle one. A call on it
//     fails as dwell.Unavailable rather than waiting for the operating
//     system's retransmissions (about 15 minutes; dial.go,
//     TestIdleConnectionCut).
//   - Session locks need a real session: connect directly or through a
//     session-mode pooler, not a transaction-mode one (PgBouncer
//     pool_mode = transaction), or the lease breaks.
//   - Masked updates are safe across servers: each writes conditionally on
//     the revision it read (UPDATE ... WHERE revision = $n, one statement,
//     so no read-then-write race; see store's "Revisions and conditional
//     writes"), and a server that finds the record changed reads it again
//     and reapplies its fields, up to 10 times, then answers ABORTED.
//     Servers hammering one record at once can thus see ABORTED (the
//     update lock that queues one server's writers of a tenant does not
//     span servers): two servers updating one team back to back, each as
//     fast as it can, had 0 to 0.3% of their updates ABORTED
//     (BenchmarkMaskedUpdate in server, two-servers/one-team). The loser
//     of a conflict is behind the winner's next update more often than
//     not, so more tries only thin this out (0 to 0.04% with 20). A record
//     deleted and created again restarts at revision 1, so the update of
//     a client, rep, team or partner account also requires the
//     create_time it read (AND create_time IS NOT DISTINCT FROM the one
//     passed, in the same statement): an update based on the old record's
//     revision 1 that races both is refused (dwell.Conflict), not taken
//     for one of the new record.
//   - The per-rep pause locks are per server, but a batch stored on a
//     shared store reads the pauses again and deletes what another
//     server's resume closed meanwhile (server's unkeepPaused).
//   - Tests start a throwaway server from the machine's PostgreSQL binaries
//     (package pgtest) or use the one DWELL_TEST_POSTGRES names.
package pgstore
