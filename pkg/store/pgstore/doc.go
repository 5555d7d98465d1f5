// Package pgstore implements store.Store on PostgreSQL (13 or newer), so
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
// a deadlock is run again (up to 20 times) before the call fails. Writes
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
// write that became durable. Reads run REPEATABLE READ, read only: every
// statement of one call sees one snapshot.
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
// The tables are described in schema.go and at the top of each file.
//
// # Caveats
//
//   - The store is shared, the server's in-memory state is not. A dwelld
//     keeps per tenant a geofence index, a partner-account cache, the
//     per-rep locks of pause privacy and of updates, and a summary
//     refresher; these follow only the writes made through that process.
//     Until they follow the database (a LISTEN/NOTIFY feed of directory
//     changes, row locks, a lease per tenant for the refresher), run one
//     dwelld per database, or accept that another server's directory
//     changes reach a server's fence index only at its restart.
//   - The tenant signing keys stay in --data-dir; servers sharing a
//     database need the same keys.
//   - Tests start a throwaway server from the machine's PostgreSQL binaries
//     (package pgtest) or use the one DWELL_TEST_POSTGRES names.
package pgstore
