// Package server implements Dwell's gRPC services (dwell.v1) and their
// interceptors. Handlers are thin: authorize, validate, convert, call the
// store, convert back. Protobuf types never leave this package; convert.go is
// the one place that translates them, and toStatus in errors.go the one place
// that turns errors into gRPC statuses.
//
// Every RPC passes the auth interceptor, which verifies the bearer token and
// applies the role check of the policy table in access.go (default deny);
// handlers then check the target (which rep, which team). A stream keeps to
// the caller's rights while it lasts: a partner's account is checked at
// every message (partners.go); a stream ends UNAUTHENTICATED ("token
// expired", audited) once its token would be refused (its exp plus
// auth.Leeway, on the server's clock, Config.Now): WatchEvents by itself,
// the client streams (StreamPings, the imports) at the first message
// received after (authedStream in server.go), which is not acted on; and
// a manager's WatchEvents follows
// her teams: filtered to a team taken from her it ends PERMISSION_DENIED
// (audited), unfiltered it goes on without that team (watch.go, "Scope").
//
// This comment is the map of the package's rules that span files; each
// file's top comment holds the detail of its part (feed.go, lease.go,
// refresh.go, watch.go, status.go, privacy.go, daycache.go).
//
// # Requests and statuses
//
// Errors are dwell.E(op, kind, ...) and become gRPC statuses only in
// toStatus; an unknown error is INTERNAL, logged and never leaked. Every
// status the server returns (handlers, streams, the auth interceptor, the
// recovery of a panic) carries exactly one google.rpc.ErrorInfo (AIP-193):
// domain "dwell.v1" and a reason from the frozen list dwell.Reasons, which
// is the enum dwell.v1.ErrorReason of proto/dwell/v1/errors.proto (the
// partners' list, kept equal by TestReasonsMatchProto). The reason is the
// one the error names (dwell.E(op, kind, dwell.ReasonCursorExpired, ...),
// dwell.ReasonOf), else its kind's default (Kind.DefaultReason); name one
// wherever a kind has causes a client acts on differently (watch cursors,
// etags, request ids, partner accounts, token expiry). Metadata is only
// "field" (the first violation's) on INVALID_ARGUMENT; INTERNAL is reason
// INTERNAL and nothing more. Statuses gRPC writes itself (an unknown
// method, a message over maxRecvMsgBytes, unary or streamed) carry none;
// a message over its type's smaller bound (msgsize.go) carries one. A
// status stays within the 8 KiB trailer gRPC clients accept: its message
// has at most 512 bytes and its details (the ErrorInfo, then the
// BadRequest's first violations; the message gives the total) at most
// 4 KiB. A resource name's id is checked
// (idFromName) before any store call, with the violation on the request's
// field. Instants without a tighter rule lie in 1678-2261 UTC
// (dwell.ValidateInstant). Every google.protobuf.Timestamp a caller sends
// (fixes, actions, appointments, opportunities) goes through
// validTimeFromPB: nanos out of range are INVALID_ARGUMENT on the field,
// never carried into the seconds (TestSalesRefuseInvalidTimestamps).
//
// What one caller can make the server hold is bounded. A request message
// is bounded by its type before it is decoded (msgsize.go: 256 KiB for
// UploadPings and each StreamPings message, 4 MiB for a client write, 1 MiB
// for a rep write, 8 MiB for a sales batch, maxRecvMsgBytes for an import
// message, 64 KiB for any other): limitCodec leaves a larger one
// undecoded, and the first interceptors answer RESOURCE_EXHAUSTED
// (LIMIT_REACHED), or INVALID_ARGUMENT on the list for a batch of more
// than 1,000 entries, counted on the wire (gRPC would turn a codec error
// into INTERNAL; TestUploadPingsTooLargeRefusedBeforeDecoding). A caller
// may have Config.WatchStreamsPerCaller (16) WatchEvents streams open on a
// server, a tenant WatchStreamsPerTenant (256): one more is
// RESOURCE_EXHAUSTED (LIMIT_REACHED; watch_limit.go); a stream's queue
// holds memory only for the events queued (TestIdleWatchStreamsHoldLittle).
// An import's answer is bounded (rowErrors, below).
//
// A request_id reused for a write that cannot be its retry (another client,
// a resume for a pause, another appointment id, another batch of
// opportunities or quotas: the store keeps each upsert's SHA-256) is
// INVALID_ARGUMENT; a true retry is answered with the original. The
// request_id of a create whose record was deleted since (CreatePartner,
// CreateAppointment) stays spent: its retry is FAILED_PRECONDITION, also
// once another request has created a record under the same id, which the
// store tells apart by the request id each record keeps
// (TestRetryAfterDeleteAndCreateAgain).
//
// Clients, reps, teams, settings, partner accounts and opportunities carry
// a store-maintained revision (1 at creation, +1 at every write, imports
// and DeleteTeam's clearing of reps included). It is on the wire as the
// AIP-154 etag, with the creation instant for records that can be deleted,
// so that an etag of a deleted record never passes for one created again
// under its id (TestEtagAcrossDelete). A masked update (updateMasked in
// directory.go) reads the record, merges its mask's fields, validates and
// writes with the store's conditional write (UPDATE ... WHERE revision = $n
// in pgstore, a check inside the write transaction in boltstore), which for
// a record that can be deleted also requires the creation instant read
// (store.CheckLife): a record deleted and created again between the read
// and the write is back at revision 1, and the revision alone would let
// the update write the deleted record (a client's geofence, kind and
// address among its fields) over the new one
// (TestMaskedUpdateAcrossDeleteAndCreate). If the record changed since the
// read (dwell.Conflict) it reads again and merges again, up to
// maxUpdateTries (10) times with a random pause of up to 1 ms at first,
// doubling to at most maxUpdatePause (20 ms), and then answers
// ABORTED. An update carrying an etag is tried once against it. Imports and
// upserts write whole records and raise their revisions, so a racing
// masked update merges again on top of them: ImportClients and
// UpsertOpportunities unconditionally (PutClients keeps a client's
// create_time inside its own write), an ImportReps row conditionally
// on the revision and life of the rep it read (putRep in
// import_reps.go), reading again when either changed, so that a rep
// deleted and created again in between is replaced keeping the new
// create_time, never given the deleted one's
// (TestImportRepsAcrossDeleteAndCreate). The per-tenant updateLocks
// only queue one server's writers so that they do not starve
// one another; safety across servers rests on the conditional write
// (TestMaskedUpdatesOnTwoServers).
//
// Sales amounts are at most dwell.MaxAmountMinor (10^15 minor units), so
// the KPIs' sums stay inside int64 (package kpi saturates them anyway). A
// rep's quotas never overlap: UpsertQuotas refuses a batch that would
// leave two sharing a day (a quota with a stored one's start replaces it),
// with the violation on the entry's start_date or end_date; the store
// checks it in its write transaction (store.Sales.PutQuotas), so it holds
// under concurrent upserts and across servers. DeleteQuota, scoped like
// UpsertQuotas, removes one (TestQuotasNeverOverlap).
//
// Imports list the first maxImportErrors (1,000) bad rows, fewer when
// their errors would pass maxImportErrorBytes (1 MiB), each with its first
// maxRowFieldErrors (10) violations and one counting the others
// (rowErrors), and the validators build at most ten violations of a list
// (a ring's vertices, a polygon's holes, working hours) and one counting
// the rest: the answer reaches a client of gRPC's default 4 MiB limit and
// the server's memory stays bounded however bad the rows
// (TestImportClientsAnswerBounded). ImportReps
// writes each row as CreateRep or as a whole UpdateRep (so a new zone
// derives the rep's days again) conditional on the rep it read,
// importRepWorkers (32) at a time, so that the writes share the store's
// group commit.
//
// # Ingest
//
// UploadPings and StreamPings resolve the target rep (writeTarget: a rep
// token writes only for itself; a partner names the rep; the rep must
// exist), then batch converts each fix and validates it (a valid
// google.protobuf.Timestamp, as for every action's time: validTimeFromPB;
// dwell.ValidateFix: finite position in range, accuracy >= 0, time at most
// 24 h ahead and within retention, id of 1 to 64 bytes; inside working
// hours, not on a day retention pruned, not inside a closed pause of the
// rep). Bad fixes are marked rejected with their field violations; they
// never cost the others. A fix that fails only the checks of time that
// may have changed since it was first sent (retention, working hours, a
// pruned day, a pause) is looked up among the rep's stored fixes first
// (storedAmong): a re-sent fix already stored is a duplicate, not
// rejected. When every fix of a batch is rejected, UploadPings fails with
// INVALID_ARGUMENT (a client that ignores acknowledgements still learns)
// and StreamPings acknowledges the batch. The valid fixes go to
// Store.AppendFixes, and the acknowledgement (accepted, duplicate or
// rejected per fix) is sent only once they are durable. StreamPings keeps
// up to maxInFlightBatches (16) batches of a stream in flight, so even one
// phone rides the store's group commit; acknowledgements still go out in
// batch order. CheckIn answers with timeline.Verify, the rule the
// derivation applies, given the check-in's time (a fix dated more than
// timeline.MaxFixAge from it is STALE_FIX at once), so the immediate
// answer and the day agree; check-ins
// are verified against the client read from the store, so they never
// depend on the fence index being current.
//
// # Partner accounts
//
// A partner token is a tenant's service account. The tenant's admin
// registers accounts (DirectoryService.CreatePartner and the rest,
// partners/{id}, the id being the tokens' subject) with scopes from a
// frozen set (dwell.Scope) and may disable them. access.go holds, beside
// the policy table, partnerScopes: the one scope each partner-callable RPC
// needs (a test keeps the two tables in step). After the role check,
// authenticate looks the subject up in partnerAccess (partners.go): per
// tenant an immutable map of the accounts, the instant each account ever
// deleted was last deleted (the store keeps it: store.Partners
// ListPartnerDeletions) and the tenant's
// Settings.PartnerAccountsRequired, behind an atomic pointer, loaded on
// the tenant's first partner call and replaced whole after each partner
// write (or dropped after a write of that setting), under a per-tenant
// mutex held across the store write, so a change applies from the next
// call. A registered account that is disabled or lacks the scope is
// PERMISSION_DENIED and audited; streams it opened are checked again at
// every message. A subject whose account was deleted is refused, whatever
// the settings, until an account is created again under its id, and then
// only its tokens issued (Principal.IssuedAt, the token's iat in whole
// seconds) after the last deletion are let in, with the new account's
// scopes: deleting an account revokes its tokens for good, so it is
// allowed whether or not the tenant requires accounts. Any other subject
// with no account is refused when the tenant requires accounts, and
// otherwise keeps every partner right (tokens minted before accounts
// existed). The map follows this server's writes in the same step, and
// other servers' writes through the change feed (feed.go: the grants,
// deletions included, are dropped about 1 ms after their commit and read
// again from the store).
//
// # Geofence indexes
//
// fences.go keeps one geofence.Index per tenant, built from the store at
// startup (Server.LoadFences, for every tenant in the keyring) or on first
// use, and changed in the same step as every client write through
// DirectoryService: a per-tenant mutex spans the store write and the index
// update, so the index applies changes in commit order; readers never
// lock. Other servers' client writes reach it through the change feed
// (feed.go).
//
// # Reports
//
// GetRepDay checks that the caller may read the rep, cuts the rep's local
// day (and working-hours windows: the time between two, a split shift's
// break, is SEGMENT_KIND_OFF_HOURS) in its IANA zone, and calls derive
// (refresh.go): the day's fixes, check-ins, check-outs and tracking
// changes from the store, with the next local day's check-ins and
// check-outs, then timeline.Derive with the tenant's fence index and a
// store-backed client lookup. The next day's claims only pair: a check-in
// still open at the day's end is closed by the client's first check-out
// up to the end of the next day (timeline.Input), so a meeting across the
// rep's midnight counts no forgotten check-out and its visit (the
// check-in's, on the day it began) carries that check-out's outcome, in
// GetRepDay, ListVisits and the KPIs alike; the check-out stays a record
// of its own day (KPIs 6 and 7 count it there). GetKpis counts the two
// visits of such a meeting, one on each day and at most 30 minutes
// apart (timeline.StayGapMax), as one meeting (package kpi's doc; the
// summary's part tells whether a day's first visit begins it and its
// last runs to its end), as WatchEvents tells them as one visit. The store marks the day
// before a check-in's or check-out's own (store.Summaries), so that day's
// summary follows. With include_fixes the answer
// carries the fixes too (what dwellctl report day --svg draws). A day
// that began before the retention period is served from its stored summary
// and detail instead (storedRepDay in report.go, marked past_retention).
// ListRepStatuses ("who is idle now") is described in status.go.
//
// GetTimeBreakdown, GetKpis and ListVisits read the stored day summaries
// only (one read transaction for a whole team; a team's appointments and
// quotas are read in one transaction too); a day still dirty when read is
// derived inline, so answers always include every acknowledged write. A
// day begun with no data has no data version and no summary:
// GetTimeBreakdown and GetKpis derive inline, from the rep's pauses
// alone, each such day a pause covers (pausedDays in refresh.go: the days
// after a pause not yet resumed, and those of a pause further back than
// the 31 days its resume marks), reading a rep's tracking changes over
// the range once when it has a day without data in it; ListVisits needs
// no such day (it has no visit). The
// store keeps, beside each day's data version, its summary's version, so a
// team query learns every day's versions from that small record and
// decodes only the summaries its cache of decoded days (daycache.go,
// warmed by every stored summary and, after a start, by Server.WarmReports
// over the last store.RederiveDays days in the background) lacks. GetKpis
// also reads the kpiLookBackDays (60) days before its range (as
// kpi.Input.Since): those days serve only the range's joins, the
// follow-ups given then and due in the range (KPI 7) and the meetings of
// the range's wins (KPI 5); and the day after it (two where a rep's day
// after it is cut short by a daylight-saving change: kpi.LookAhead),
// whose visits serve only to tell whether an appointment planned in the
// range, which lasts up to a day, was kept after the range's end (KPI 3).
// What a field day is (a day paused whole keeps its row and its paused
// seconds but is no field day) and which currency KPI money is summed in
// are in package kpi's doc. A local day runs from
// dwell.Date.Start to the next day's start: midnight, or the jump where
// the clocks skip midnight (Chile, Cuba); working hours that end at 24:00
// end there too. A day's working windows are dwell.Rep.WorkingWindows, the
// one definition that ingest's refusal of fixes (InWorkingHours), the
// derivation's bounds (dayBounds), ListRepStatuses, the silence sweep
// (afterWorking) and GetTrackingConfig's refresh_time all read: a window
// edge the clocks skip is the jump, and a window whose end they show twice
// (23:00-24:00 repeats in Chile and Egypt) runs to its later occurrence,
// so a fix acknowledged as accepted inside the hours is in the day.
//
// derive hands timeline.Derive a pause not yet resumed as lasting until
// now when it runs live (GetRepDay, ListRepStatuses), and until the day's
// end when the refresher derives the day's summary (what the day will have
// been; a resume derives it again). Paused seconds are reported apart and
// are not field time in the KPIs (summary format v2; v1 summaries still
// decode); a pause inside a visit leaves one visit whose paused time its
// duration leaves out (format v3), and a live visit paused at the client
// has not ended while the pause lasts (no VISIT_ENDED, package events;
// a later day with data elsewhere ends it).
//
// # Summaries and live events
//
// Every write a day derives from marks that rep-day in the store, in the
// same transaction; the refresher (refresh.go) derives marked days again,
// tells the day listeners and stores the summaries. The one day listener
// is publishDayEvents (watch.go), which turns the two timelines into new
// facts with events.Diff and hands them to the broker; when the new day
// begins with a visit or idle stop Diff has something new to say of, or
// its data first shows enough of the rep to end a stay carried in, or
// late data moved the first visit that began it (it may no longer carry
// that stay on, and then starts on its own), it
// also reads what the rep's last day with data before it handed on
// (carryInto: that day's current summary, or the day derived when its
// summary is stale; days without data between are passed over), so that
// a stay across the rep's midnight is one visit, started and ended once,
// and an idle stop across it is started once, when the next day's part
// begins at most timeline.StayGapMax (30 minutes) after the previous
// day's ended (the bound GetKpis counts one meeting by: a rep at a client
// at the end of one day's working hours and the start of the next, or
// paused or with the phone off there overnight, made two visits,
// TestEventsPausedOvernightAtClient); and when the new day newly
// ends with an open visit (or late data show its open visit left, or
// ending earlier), it reads the rep's next day with data (laterDay, the
// same way). A visit of the next day told of as the stay's continuation
// that late data of either day part from it gets its own VISIT_STARTED,
// which its VISIT_ENDED pairs with (TestEventsFirstVisitPartedByLateFixes,
// TestEventsFirstVisitPartedByDayBefore). A visit open at its day's end (working hours
// over, the phone switched off, at the client) thus gets its VISIT_ENDED
// once the next day with data shows the rep elsewhere, whichever of the
// two days is derived first (package events, "Across midnight";
// TestEventsVisitOpenAtDayEnd). watch.go also holds the WatchEvents
// streams and the silence sweeper, which publishes REP_SILENT after the
// tenant's silence_min_seconds of working time without a fix. The
// sweeper's tracker is seeded at start with each rep's last stored fix,
// then follows the end of each derived day's last segment that is not
// PAUSED (or, for a day of one fix and no segment, that fix:
// trackedUntil), moving back when the day it came from lost its end, as
// when a resume deletes the fixes of a paused time (followDay,
// TestNoSilenceFromSweptFixes). A fix the timeline drops (a mock
// location, a spoof reached at an impossible speed) thus never delays a
// silence, and ListRepStatuses times SILENT from the same instant
// (status.go); paused time is no silence, and after a
// resume the silence counts from it (silentAt); a silence is published
// once, by its key. A stream whose scope skips events, and whose client
// asked for it (send_progress), also sends its read position as a
// progress cursor after a quiet spell (watch.go, "Progress"). A cursor
// names its position and a check of the event there, so that a resume on
// a log restored from a backup, whose new events took positions the
// cursor had passed, is FAILED_PRECONDITION rather than a silent skip
// (watch.go, "Cursors"; TestWatchCursorAfterRestore).
//
// GetRepDay, GetTimeBreakdown, GetKpis and ListVisits tell one story of a
// day (TestZoneChangeOldDay, TestSettingsChangeOldDay, TestKpisVsBreakdown
// and the other tests of summary_consistency_test.go). The reports read
// the stored summaries and derive inline a day whose summary is stale or
// missing; GetRepDay derives a recent day, and serves the current summary
// of a day older than the days a settings, client or rep change derives
// again (report.go: settled), as it does past retention, since such a
// change leaves those days as they were derived. Such an old day with no
// data version in the rep's zone now (after a change of zone its data is
// counted in the days of the old zone) is derived from its pauses alone
// (noDataRepDay), as the reports derive it (pausedDays). A pause not yet
// resumed lasts until now in all of them (refresh.go: liveDay,
// pausedDays): the reports read the current summary of the day that holds
// the present with its open pause, the day's last segment, ending now
// (kpi.Day.PausedUntil, the derivation's answer then: nothing else in the
// day depends on where the pause ends), or derive the day when the pause
// did not run to the day's end in the summary (a fix after it) or the
// present lies before that segment; a day not begun yet is empty. A client change
// (DeleteClient among them) takes effect in the refresher's derivations
// only once this server's fence index holds it (fences.settle), so no
// summary derived with the index of before is stored as current.
// ListVisits names a visit by its start, rep, day and client, so a page
// boundary between two visits of one start skips neither.
//
// # Servers sharing one store
//
// With a store that several servers share (pgstore, dwelld --postgres),
// what each server keeps in memory follows the others' writes through the
// store's change feed (feed.go), and the refresher waits for that feed
// before deriving each page of marked days (sync in feed.go: about one
// store read per page of refreshPage marks, BenchmarkFeedSync; nothing on
// a store of one server). The refresher and the silence sweeper run only
// on the server holding the store's "background" lease (lease.go, over
// pgstore's Lead); Config.RefreshWorkers < 0 keeps a server out of it.
// Another server takes over within about 2 s of the holder closing its
// session or PostgreSQL ending it, about 1 s on average
// (BenchmarkLeaseTakeover); a holder cut off without its connection
// closing stops within about 2 s, when its ping fails, and PostgreSQL ends
// its silent session 5 s after its last ping, so another server takes over
// within about 7 s (pgstore's lease.go, TestLeadHolderPartitioned). Uploads
// to a server not holding the lease do not wake its refresher, so their
// live events come up to about 2 s (refreshPoll) later. The silence
// tracker is cleared at each lease win and seeded, at start and at each
// lease win, with the tracked end of the current summary of each rep's
// last-fix day, so restarts and handovers keep silence events' keys
// stable; a silence is told only of a rep that still has a stored fix. An
// erasure through any server makes every server forget the rep in its
// tracker (pgstore notifies "rep-erased" in the erasure's transaction;
// the feed applies it under eraseMu, after any derivation in flight), so
// the leader times the rep's next fixes afresh, not from the erased ones
// (TestSilenceEraseOnOtherServerResend,
// TestSilenceEraseOnOtherServerAfterSilence); a feed that resynced may
// have missed one, so the sweeper clears and seeds its tracker again
// before its next sweep (TestSilenceResyncForgetsErased,
// TestSilenceLeaseWinForgetsErased). A rep whose day the refresher noted
// but had not stored when the seed read it is unwatched until its next
// derived day: a silence missed, never one made up. A resync brings in step every
// tenant's geofence index, also one whose first build is in progress (it
// waits for the build: TestFeedResyncDuringFirstBuild).
//
// The per-rep pause lock (pauseLocks in ingest.go: batches shared, pauses
// and resumes exclusive) holds within one server, so on a shared store a
// batch reads the rep's pauses again once stored and deletes and rejects
// its fixes that a resume on another server closed meanwhile
// (unkeepPaused; a resume recorded after that read sweeps them itself;
// TestPauseOnAnotherServer runs the interleaving). Masked updates are safe
// across servers through the conditional write; two servers updating one
// record back to back see 0 to 0.3% of updates ABORTED
// (BenchmarkMaskedUpdate). A rep is stored only in a team that exists:
// CreateRep and UpdateRep check the team inside the write's own
// transaction (boltstore in the commit; pgstore in the INSERT or UPDATE
// under SERIALIZABLE, so a concurrent DeleteTeam is seen or retried) and
// refuse with dwell.Invalid on team, which the server answers exactly as
// its own earlier check (INVALID_ARGUMENT on rep.team; a row error in
// ImportReps): a DeleteTeam racing a move into the team never leaves a rep
// that a team created again under the same id would hand to its managers
// (TestMoveIntoDeletedTeam, storetest's DeleteTeamRacesRepMove). The
// tenants' signing keys live in the database for such servers (see package
// daemon).
//
// # Retention, erasure and pauses
//
// privacy.go holds the retention sweeper and EraseRepHistory. The sweeper
// runs every RetentionSweep (an hour by default), first within
// firstRetentionSweep (5 minutes) of a start. It lists every rep with data
// (ListDataReps) and deletes its fixes older than the tenant's
// retention_days (PruneFixes, pruneBatch (5,000) per store write, oldest
// first); boltstore's fix-id index drops their entries at its next
// compaction. It then clears the fix each of the rep's check-ins and
// check-outs kept from before the period (PruneActionFixes, same cut and
// batch): the records, their outcomes and the verification decided at
// receipt stay, rewritten in place so request-id retries still find them;
// a per-rep horizon spares later passes the history already cleared. It
// also deletes the oldest events of each tenant's log detected before the
// period (PruneEvents: the kept part stays a suffix of the log), and
// WatchEvents refuses a cursor older than what is kept with
// FAILED_PRECONDITION, and ends so a stream the sweep overtook (one that
// lagged behind the events it deleted: watch.go, "Cursors"). Raising the
// period later does not bring pruned fixes back.
//
// Days keep their stored summaries, and settings or client changes derive
// again only days wholly inside the period, so reports over old ranges
// keep their figures. A rep's prune horizon (store.Privacy.PrunedBefore:
// the later of the cut of the last sweep that deleted one of its fixes and
// of the last that cleared a check-in's or check-out's position) bounds
// the days that lost data. No day that began before it is derived again:
// the store never marks it (settings and client changes, a resume), ingest
// refuses data for it, the refresher stores its summary again as of any
// newer version (keptSummary in report.go), a report that finds it stale
// reads that summary, and GetRepDay serves it (past_retention).
// GetTrackingConfig's offline buffer keeps a phone's held-back fixes clear
// of such days: at most the retention, and the time since the rep's
// horizon, less the longest local day (25 h) and an hour's margin
// (offlineBuffer in ingest.go), so a phone that follows it has every fix
// accepted; it is never under an hour, and with a retention of 1 day,
// where no buffer keeps that promise, a fix of a day's last two hours kept
// past its end may be refused (TestOfflineBufferClearOfPrunedDays).
//
// EraseRepHistory (admin only, audited) deletes a rep's fixes, fix ids,
// check-ins, check-outs, calls, day summaries and events in one store
// write, raises its days' data versions so nothing derived before can pass
// for current, and records for each day the version it raised it to,
// below which PutDaySummary and AppendDayEvents (the refresher's publish)
// store nothing: no derivation read before the erase stores a summary or
// publishes events after it, on any server sharing the store
// (TestEraseDuringLeaderRefresh; pgstore's erase locks event_seqs in SHARE
// mode, so each event append runs wholly before or after it, and appends
// of every tenant wait while an erase runs). Fixes uploaded after the
// erase are new history, derived and published as usual. It also drops the
// server's in-memory event tail and silence state for the rep, and, on a
// shared store, every other server's (the change feed's rep-erased: see
// "Servers sharing one store").
//
// PauseTracking and ResumeTracking store tracking changes (a rep action
// like a call; a resume marks every day back to its pause, 31 at most: the
// reports derive a paused day without data themselves, pausedDays). derive hands
// timeline.Derive the changes of the day and the state at its start
// (Store.ListTrackingState: the last changes before it, however old); how
// the day is derived around pauses is in package timeline (pause.go). No
// location is kept for a paused time: ingest refuses fixes inside a closed
// pause (REJECTED on device_time; the rep's changes are read once per
// batch), and a pause or resume that closes a paused interval deletes the
// fixes already stored for it, durably before it answers
// (store.Privacy.DeleteFixesBetween, which drops their ids from the dedup
// index and marks their days). Fixes after a pause not resumed are taken:
// a phone sending fixes tracks again (its resume may be queued behind
// them, or lost), the timeline ends the pause at the first of them, and
// the resume, when it comes, deletes those of the paused time. A pause
// followed by fixes and then by another pause had its resume lost: it ends
// at the first of those fixes and the later pause starts an interval of
// its own. Derive, ingest's check, the sweep, GetTrackingConfig and the
// silence sweeper all take their intervals from timeline.Pauses; the
// server's (pausesFrom) read the rep's stored fixes where that rule asks
// for them, and read back as far as the interval in force began, so the
// sweep deletes exactly the fixes the day shows paused. pauseLocks keeps a
// batch from storing fixes after a pause deleted that time.
package server
