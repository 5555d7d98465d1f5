// Package boltstore implements store.Store on one embedded bbolt file. It is
// the only package that imports bbolt.
//
// # Writes: group commit
//
// Every write (AppendFixes, Record*, Create*, Update*, Delete*, Put*) is a
// request to a single committer goroutine. The committer takes the first
// queued request, drains whatever else is already queued (up to 256
// requests or 20,000 fixes), applies them all in one read-write transaction
// and commits it with one fsync, then answers each request. There is no
// timer: while one group's fsync runs, the next requests queue up and form
// the next group, so the group size follows the load and a lone write waits
// for nothing but its own fsync.
//
// Requests in a group are isolated: one that fails on its own terms
// (dwell.AlreadyExists, dwell.NotFound, dwell.Invalid) fails alone, and it
// fails before it writes anything. A request that fails unexpectedly (kind
// dwell.Other: corrupt data, an I/O error) may have written part of its
// work, so the group's transaction is rolled back and its requests are
// retried one transaction each; the faulty one then fails alone. If the
// commit itself fails, every request of the group gets the error.
//
// A write returns nil only once its group is committed and fsynced
// (Options.NoSync aside). A write whose context is done before it is queued
// returns the context's error (errors.Is(err, context.Canceled) holds) and
// writes nothing. Once queued, a write is carried out whatever happens to
// its context, and the call waits for the outcome: a caller is never told
// "cancelled" about a write that then becomes durable.
//
// Reads run in bbolt read transactions, concurrently with each other and
// with the committer, and see the last committed state.
//
// # Layout
//
// One bbolt file. Keys in buckets sort bytewise; "time key" is the instant
// in Unix nanoseconds as 8 big-endian bytes with the sign bit flipped, so
// that byte order is time order (also before 1970).
//
//	meta                      format -> layout version (8 bytes)
//	t/<tenant>                one bucket per tenant; nothing spans tenants
//	  clients                 client id -> version byte + JSON record
//	  reps                    rep id -> version byte + JSON record
//	  teams                   team id -> version byte + JSON record
//	  settings                "current" -> version byte + JSON record
//	  events                  sequence (8 bytes) -> version byte + JSON event (see events.go)
//	  events.keys             event key -> sequence
//	  repdata/<rep>           one bucket per rep that has fixes or actions
//	    fixes                 time key + fix id -> fix (compact binary, see codec.go)
//	    fixids                sequence -> run: sorted (id hash, time key) entries
//	    fixids.log            sequence -> pending (id hash, time key) entries
//	    fixes.pruned          time key below which the rep's fixes were deleted (privacy.go)
//	    actions.unfixed       time key below which the rep's check-ins and check-outs have no fix (privacy.go)
//	    actions.cleared       time key below which PruneActionFixes cleared their fixes; never lowered (privacy.go)
//	    checkins, checkouts, calls, tracking        time key + sequence -> JSON record
//	    checkins.req, checkouts.req, calls.req, tracking.req   request id -> record key
//	  dayver, dirty, summaries, daydetail      per rep-day data versions, dirty marks and summaries (summary.go)
//	  erased                  rep-day key -> the data version EraseRepHistory raised the day to (summary.go)
//	  appointments, opportunities, quotas      the sales inputs and their indexes (sales.go)
//	  partners, partners.req                   partner accounts and the request ids that created them (partners.go)
//	  partners.del                             the last deletion of each partner account ever deleted (partners.go)
//
// Fixes are the volume: a fix takes its key (8 bytes and the id) and 26 to
// 50 bytes of value, and the fixes of a rep mostly arrive in time order, so
// inserts append to the end of the rep's fixes bucket, which is split at 90%
// rather than 50% fill. The fix-id index (fixids, fixids.log) is described
// in fixindex.go: a small log-structured merge tree keyed by a 16-byte hash
// of the fix id, because a B+tree keyed by random ids would cost a page
// write per fix.
//
// Revisions (store's "Revisions and conditional writes") live in the JSON
// records of clients, reps, teams, settings, partners and opportunities
// ("rev"). A record written before they existed has none and reads as
// revision 1, not 0: it was stored, and 0 as a precondition means
// "unconditional", which would leave a masked update of such a record
// unguarded; its next write stores 2. A conditional write compares inside
// the committer's transaction, before it writes, so a refusal
// (dwell.Conflict) fails only its own request of a group commit, and a
// group holding two writes based on one revision refuses the second. For
// a client, rep, team or partner it also compares the record's creation
// instant ("ct") with the one passed (store.CheckLife, lifeOf), so a write
// based on a deleted record's revision 1 fails on the one created again.
//
// # Caveats
//
//   - Open takes an exclusive lock on the file; a second process (or a
//     second Open in the same process) waits 5 seconds and fails
//     (dwell.FailedPrecondition, ErrLocked). HoldFile takes a shared lock
//     and refuses a held file at once: dwellctl backup holds it to rename
//     a copy over a file only while no Store has it open.
//   - Open walks the whole file to rebuild bbolt's free-page list (the list
//     is not written at each commit, which saves a page write or more per
//     commit). Expect about a second per few GiB.
//   - The committer keeps, per rep written since Open, an in-memory view of
//     the rep's fix-id index: about 8 bytes per stored fix of the rep, up to
//     a budget of 2^24 entries, beyond which the least recently used reps'
//     views are dropped and reloaded from the file when next needed (a
//     sequential read of the rep's index).
//   - Fix times must lie between the years 1678 and 2262 (Unix nanoseconds
//     in an int64); others are refused with dwell.Invalid.
//   - DeleteRep removes the directory entry only; the rep's fixes and
//     actions stay until EraseRepHistory or retention (PruneFixes) deletes
//     them (privacy.go). EraseRepHistory reads the tenant's whole event log
//     (outside the committer) to find the rep's events.
//   - DeleteFixesBetween (a pause: no location is kept for a time the rep
//     paused tracking) forgets the deleted fixes' ids at once, so it reads
//     the rep's whole fix-id index and rewrites the index records that held
//     one (pausedfixes.go); a call that finds no fix writes nothing.
//   - Listing with a filter scans the tenant's bucket from Page.After until
//     the page is full and one more match is found.
package boltstore
