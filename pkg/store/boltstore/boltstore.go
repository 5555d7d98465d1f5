package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// formatVersion is the version of the bucket layout, kept in the meta
// bucket. Open refuses a file of another version.
const formatVersion = 1

// formatMismatch says why the layout version v of the file at path is
// refused: a newer one (a newer dwelld wrote the file) or an unknown one.
func formatMismatch(path string, v []byte) string {
	if len(v) == 8 && binary.BigEndian.Uint64(v) > formatVersion {
		return fmt.Sprintf("%s has storage layout %d, newer than the layout %d this version reads: a newer dwelld wrote it; run that version or a later one",
			path, binary.BigEndian.Uint64(v), formatVersion)
	}
	return fmt.Sprintf("%s has an unknown storage format %x", path, v)
}

// Group commit bounds. A group is one bbolt read-write transaction and one
// fsync. The bounds keep one commit's latency and memory in check; they are
// not delays: the committer never waits for a group to fill.
const (
	// maxGroupRequests bounds the write requests in one commit.
	maxGroupRequests = 256
	// maxGroupItems bounds the fixes (and imported clients) in one commit.
	// A single request larger than this still forms a group of its own.
	maxGroupItems = 20000
	// queueLen is the capacity of the request queue. Writers block (or give
	// up with their context) when it is full.
	queueLen = 1024
)

// minMmapSize is the least memory map Open asks for: 1 GiB.
const minMmapSize = 1 << 30

// mmapSize returns the size of the memory map Open asks bbolt for, for a
// file of fileSize bytes: on 64-bit platforms the file's size doubled or
// plus 4 GiB, whichever is more, in whole GiB; minMmapSize on 32-bit ones.
// bbolt remaps as the file grows past its map, and a remap waits for every
// open read transaction (a long report, a Backup of the whole file), which
// holds up the committer and with it every acknowledgement. Address space
// costs nothing on 64-bit Unix (the map is read-only and shared, so it
// commits no memory); the file itself grows only as data comes (on
// Windows bbolt grows the file to its map, so it gets minMmapSize). So a
// remap, and such a stall, comes only once the file has doubled or grown
// by 4 GiB since Open; past the map bbolt grows it 1 GiB at a time. Where
// the address space is limited and the map cannot be had, Open maps
// minMmapSize instead (bbolt raises it to the file's size).
func mmapSize(fileSize int64) int {
	const gib = 1 << 30
	if strconv.IntSize < 64 || runtime.GOOS == "windows" {
		return minMmapSize
	}
	want := max(2*fileSize, fileSize+4*gib)
	return int((want + gib - 1) / gib * gib)
}

// Options configure Open. The zero value is the production configuration.
type Options struct {
	// NoSync turns durability off: commits are not fsynced, so a crash or
	// power loss may lose acknowledged writes or corrupt the file. For
	// benchmarks and tests only.
	NoSync bool
	// Logger receives the store's rare operational messages (a failed
	// commit, a group retried request by request). Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock, used for the ReceiveTime of rep actions that arrive
	// without one. Nil means time.Now.
	Now func() time.Time
	// OnCommit, when set, is told of every group commit (stats.go), for
	// a caller's metrics. Nil means nobody is told; Stats counts anyway.
	OnCommit CommitFunc
}

// Store is the bbolt implementation of store.Store. It is safe for
// concurrent use by many goroutines. Create it with Open and release it with
// Close.
type Store struct {
	db  *bolt.DB
	log *slog.Logger
	now func() time.Time

	// mu guards closed and the send side of queue: readers and enqueuers
	// hold it shared, Close holds it exclusively to flip closed and close
	// queue, so no request is sent on a closed channel and no read runs on a
	// closed database.
	mu     sync.RWMutex
	closed bool
	queue  chan *request
	// stopped is closed when the committer has drained queue and exited.
	stopped chan struct{}

	// Committer state, touched only by the committer goroutine.

	// groups counts the group commits attempted.
	groups uint64
	// stats count the commits for Stats; onCommit is Options.OnCommit and
	// noSync Options.NoSync (stats.go).
	stats    commitStats
	onCommit CommitFunc
	noSync   bool
	// index holds, per rep, the in-memory view of its fix-id index (see
	// fixindex.go); indexSize is the number of entries held in all.
	index     map[repKey]*repIndex
	indexSize int
	// mergeMin and indexBudget are the constants of the same names; tests
	// lower them to exercise merges and eviction.
	mergeMin, indexBudget int

	// zones caches the rep time zones that dirty marks are cut in.
	zonesMu sync.Mutex
	zones   map[string]*time.Location
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the bbolt file at path and starts the
// committer. The file is locked against other processes; Open waits up to
// 5 seconds for the lock and then fails with dwell.FailedPrecondition and
// ErrLocked in the error's chain (another process, a running dwelld, holds
// the file). A file written by an incompatible version of this package is
// refused with a dwell.FailedPrecondition error.
func Open(path string, opts Options) (*Store, error) {
	const op = dwell.Op("boltstore.Open")
	bo := &bolt.Options{
		Timeout: 5 * time.Second,
		NoSync:  opts.NoSync,
		// NoFreelistSync skips writing the free-page list at every commit:
		// with many small commits that list is a large share of the pages
		// written and fsynced. The price is paid once, at Open, which
		// rebuilds the list by walking the file (proportional to its size;
		// about a second per few GiB). Correctness after a crash is
		// unaffected: the list is derived from the committed tree.
		NoFreelistSync: true,
		// The hashmap free list allocates and frees in O(1) instead of
		// scanning a sorted array, which matters once the file is large and
		// fragmented by many small commits, each of which frees the pages
		// it copied.
		FreelistType: bolt.FreelistMapType,
	}
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	bo.InitialMmapSize = mmapSize(size)
	var db *bolt.DB
	var err error
	// bbolt opens the file, then waits for its lock: a file renamed over
	// path meanwhile (dwellctl backup --to a data directory a dwelld is
	// starting on) would be served unlinked, and every write to it lost.
	// The file locked must be the one at path; if not, open that one.
	var opened *os.File
	bo.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		opened = f
		return f, err
	}
	for range 3 {
		db, err = bolt.Open(path, 0o600, bo)
		if errors.Is(err, syscall.ENOMEM) && bo.InitialMmapSize > minMmapSize {
			// The address space is limited (ulimit -v, systemd's LimitAS):
			// map no more than bbolt would by itself, and remap more often.
			bo.InitialMmapSize = minMmapSize
			db, err = bolt.Open(path, 0o600, bo)
		}
		if err != nil || isFileAt(opened, path) {
			break
		}
		db.Close()
		err = fmt.Errorf("%s was replaced while it was opened", path)
	}
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, dwell.E(op, dwell.FailedPrecondition, fmt.Sprintf("opening %s", path), ErrLocked)
	}
	if err != nil {
		return nil, dwell.E(op, dwell.Other, fmt.Sprintf("opening %s", path), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bktMeta)
		if err != nil {
			return err
		}
		v := meta.Get(keyFormat)
		if v == nil {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], formatVersion)
			return meta.Put(keyFormat, b[:])
		}
		if len(v) != 8 || binary.BigEndian.Uint64(v) != formatVersion {
			return dwell.E(op, dwell.FailedPrecondition, formatMismatch(path, v))
		}
		return nil
	})
	if err != nil {
		db.Close()
		if dwell.Is(dwell.FailedPrecondition, err) {
			return nil, err // the layout's refusal, already said with op
		}
		return nil, dwell.E(op, err)
	}
	s := &Store{
		db:      db,
		log:     opts.Logger,
		now:     opts.Now,
		queue:   make(chan *request, queueLen),
		stopped: make(chan struct{}),
		index:   map[repKey]*repIndex{},

		mergeMin:    mergeMin,
		indexBudget: indexBudget,
		onCommit:    opts.OnCommit,
		noSync:      opts.NoSync,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	go s.commitLoop()
	return s, nil
}

// Close stops accepting requests, waits for the committer to commit every
// request already queued, and closes the file. Calls after Close return
// dwell.Unavailable; a second Close returns nil.
func (s *Store) Close() error {
	const op = dwell.Op("boltstore.Close")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return dwell.E(op, dwell.Other, err)
	}
	return nil
}

// errClosed is the error of a call on a closed store.
func errClosed(op dwell.Op) error {
	return dwell.E(op, dwell.Unavailable, "store is closed")
}

// request is one write waiting for the committer.
type request struct {
	// items is the number of fixes or imported records, for group bounds.
	items int
	// apply does the request's work inside the group's transaction. It may
	// run more than once (see commit) and must set its results afresh each
	// time. It must not write before returning an error of a kind other
	// than dwell.Other: such an error fails only this request and the
	// transaction goes on. An error of kind Other means the transaction may
	// hold a partial write and the group is rolled back.
	apply func(t *txn) error
	// err is the request's outcome, set by the committer before done.
	err  error
	done chan struct{}
}

// write queues a write and waits for its group to commit. If ctx is done
// before the request is queued, write returns ctx's error (wrapped; use
// errors.Is) and nothing is written. Once queued, the request is committed
// or failed regardless of ctx, and write waits for that outcome: a caller is
// never told "cancelled" about a write that may yet become durable.
func (s *Store) write(ctx context.Context, op dwell.Op, items int, apply func(t *txn) error) error {
	if err := ctx.Err(); err != nil {
		return dwell.E(op, err)
	}
	r := &request{items: items, apply: apply, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed(op)
	}
	select {
	case s.queue <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return dwell.E(op, ctx.Err())
	}
	s.mu.RUnlock()
	<-r.done
	if r.err != nil {
		return dwell.E(op, r.err)
	}
	return nil
}

// view runs fn in a read-only transaction.
func (s *Store) view(ctx context.Context, op dwell.Op, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return dwell.E(op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed(op)
	}
	if err := s.db.View(fn); err != nil {
		return dwell.E(op, err)
	}
	return nil
}

// commitLoop is the committer: the only goroutine that opens read-write
// transactions. It takes the first queued request, drains whatever else is
// already queued up to the group bounds, commits them together and replies
// to each. While one group's fsync runs, the next group queues up, so the
// group size adapts to the load with no added latency.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	group := make([]*request, 0, maxGroupRequests)
	var carry *request
	for {
		group = group[:0]
		first := carry
		carry = nil
		if first == nil {
			r, ok := <-s.queue
			if !ok {
				return
			}
			first = r
		}
		group = append(group, first)
		items := first.items
	drain:
		for len(group) < maxGroupRequests && items < maxGroupItems {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break drain
				}
				if items+r.items > maxGroupItems {
					carry = r
					break drain
				}
				group = append(group, r)
				items += r.items
			default:
				break drain
			}
		}
		s.commit(group)
		for i, r := range group {
			close(r.done)
			group[i] = nil
		}
	}
}

// errDirty aborts a group transaction in which request i (or, if i is -1,
// the end-of-group work) failed after it may have written.
type errDirty struct {
	i   int
	err error
}

func (e *errDirty) Error() string { return e.err.Error() }

// commit applies group in one transaction and sets every request's err.
// A request failing with a kind other than Other (NotFound, AlreadyExists,
// Invalid) fails alone. A request failing with kind Other may have left a
// partial write, so the transaction is rolled back and, if the group had
// other requests, each is retried in a transaction of its own; the faulty
// one then fails alone. A failed commit fails every request in it.
func (s *Store) commit(group []*request) {
	s.groups++
	var t *txn
	err := s.db.Update(func(tx *bolt.Tx) error {
		t = newTxn(s, tx)
		for i, r := range group {
			r.err = r.apply(t)
			if r.err != nil && dwell.KindOf(r.err) == dwell.Other {
				return &errDirty{i: i, err: r.err}
			}
		}
		if err := t.finishFixes(); err != nil {
			// A merge may have failed half-way; which request's rep it was
			// is found by retrying them one by one.
			return &errDirty{i: -1, err: err}
		}
		return nil
	})
	s.noteCommit(group, t, err)
	s.fixesDone(t, err == nil)
	if err == nil {
		return
	}
	if d, ok := err.(*errDirty); ok {
		if len(group) == 1 {
			group[0].err = d.err
			return
		}
		s.log.Warn("boltstore: request failed inside a group commit; retrying the group one by one",
			"requests", len(group), "err", d.err)
		for i := range group {
			s.commit(group[i : i+1])
		}
		return
	}
	s.log.Error("boltstore: commit failed", "requests", len(group), "err", err)
	for _, r := range group {
		r.err = dwell.E(dwell.Other, "commit failed", err)
	}
}

// Bucket and key names. See doc.go for the layout.
var (
	bktMeta     = []byte("meta")
	keyFormat   = []byte("format")
	bktClients  = []byte("clients")
	bktReps     = []byte("reps")
	bktTeams    = []byte("teams")
	bktSettings = []byte("settings")
	keySettings = []byte("current")
	bktRepData  = []byte("repdata")

	bktEvents    = []byte("events")
	bktEventKeys = []byte("events.keys")

	bktFixes        = []byte("fixes")
	bktFixIDs       = []byte("fixids")
	bktFixLog       = []byte("fixids.log")
	bktCheckIns     = []byte("checkins")
	bktCheckInReqs  = []byte("checkins.req")
	bktCheckOuts    = []byte("checkouts")
	bktCheckOutReqs = []byte("checkouts.req")
	bktCalls        = []byte("calls")
	bktCallReqs     = []byte("calls.req")
	bktTracking     = []byte("tracking")
	bktTrackingReqs = []byte("tracking.req")
)

// appendFillPercent is the split fill of buckets whose keys mostly arrive
// in order (fixes and rep actions by time): pages are packed nearly full
// instead of half, halving the pages written and stored. bbolt does not
// persist FillPercent; it is set on every bucket handle a write opens.
const appendFillPercent = 0.9

// tenantKey returns the name of a tenant's top-level bucket. The prefix
// keeps tenant buckets apart from the meta bucket whatever the tenant id.
func tenantKey(id dwell.TenantID) []byte { return append([]byte("t/"), id...) }

// repKey identifies a rep across tenants within one transaction.
type repKey struct {
	tenant dwell.TenantID
	rep    dwell.RepID
}

// repBuckets are the bucket handles of one rep's data, opened lazily.
type repBuckets struct {
	b     *bolt.Bucket
	fixes *bolt.Bucket // time key + fix id -> fix
	ids   *bolt.Bucket // fix id hash -> time key (the merged fix-id index)
	log   *bolt.Bucket // sequence -> pending fix-id log record
}

// sub returns (creating it) the rep's sub-bucket name.
func (rb *repBuckets) sub(name []byte, fill float64) (*bolt.Bucket, error) {
	b, err := rb.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	b.FillPercent = fill
	return b, nil
}

// txn is a read-write transaction with bucket handles cached across the
// requests of one group.
type txn struct {
	s       *Store
	tx      *bolt.Tx
	tenants map[dwell.TenantID]*bolt.Bucket
	reps    map[repKey]*repBuckets
	fixes   map[repKey]*fixState
	zones   map[repKey]*time.Location
}

func newTxn(s *Store, tx *bolt.Tx) *txn {
	return &txn{s: s, tx: tx, tenants: map[dwell.TenantID]*bolt.Bucket{},
		reps: map[repKey]*repBuckets{}, fixes: map[repKey]*fixState{}, zones: map[repKey]*time.Location{}}
}

// tenant returns the tenant's bucket, creating it if create is set; it
// returns nil, nil if the bucket is absent and create is not set.
func (t *txn) tenant(id dwell.TenantID, create bool) (*bolt.Bucket, error) {
	if b := t.tenants[id]; b != nil {
		return b, nil
	}
	var b *bolt.Bucket
	if create {
		var err error
		if b, err = t.tx.CreateBucketIfNotExists(tenantKey(id)); err != nil {
			return nil, err
		}
	} else if b = t.tx.Bucket(tenantKey(id)); b == nil {
		return nil, nil
	}
	t.tenants[id] = b
	return b, nil
}

// tenantSub returns the tenant's sub-bucket name, creating both if create
// is set; it returns nil, nil if either is absent and create is not set.
func (t *txn) tenantSub(id dwell.TenantID, name []byte, create bool) (*bolt.Bucket, error) {
	tb, err := t.tenant(id, create)
	if tb == nil || err != nil {
		return nil, err
	}
	if !create {
		return tb.Bucket(name), nil
	}
	return tb.CreateBucketIfNotExists(name)
}

// rep returns the rep's buckets, creating the rep's bucket (and its fixes
// and fix-id buckets if withFixes) as needed.
func (t *txn) rep(tenant dwell.TenantID, rep dwell.RepID, withFixes bool) (*repBuckets, error) {
	k := repKey{tenant, rep}
	rb := t.reps[k]
	if rb == nil {
		all, err := t.tenantSub(tenant, bktRepData, true)
		if err != nil {
			return nil, err
		}
		b, err := all.CreateBucketIfNotExists([]byte(rep))
		if err != nil {
			return nil, err
		}
		rb = &repBuckets{b: b}
		t.reps[k] = rb
	}
	if withFixes && rb.fixes == nil {
		var err error
		if rb.fixes, err = rb.sub(bktFixes, appendFillPercent); err != nil {
			return nil, err
		}
		if rb.ids, err = rb.sub(bktFixIDs, bolt.DefaultFillPercent); err != nil {
			return nil, err
		}
		if rb.log, err = rb.sub(bktFixLog, appendFillPercent); err != nil {
			return nil, err
		}
	}
	return rb, nil
}

// readTenantSub returns a tenant's sub-bucket in a read transaction, or nil.
func readTenantSub(tx *bolt.Tx, id dwell.TenantID, name []byte) *bolt.Bucket {
	tb := tx.Bucket(tenantKey(id))
	if tb == nil {
		return nil
	}
	return tb.Bucket(name)
}

// walkTenants calls fn with each key and value of the sub-bucket name of
// every tenant from tenant after on, in key order, until fn returns done or
// an error. In tenant after's own sub-bucket the walk starts past key
// afterKey, or at the first key when afterKey is nil. It serves the lists
// that page across tenants.
func walkTenants(tx *bolt.Tx, after dwell.TenantID, afterKey, name []byte, fn func(tenant dwell.TenantID, k, v []byte) (done bool, err error)) error {
	prefix := tenantKey("")
	c := tx.Cursor()
	for tk, _ := c.Seek(tenantKey(after)); tk != nil && bytes.HasPrefix(tk, prefix); tk, _ = c.Next() {
		tenant := dwell.TenantID(tk[len(prefix):])
		tb := tx.Bucket(tk)
		if tb == nil {
			continue
		}
		b := tb.Bucket(name)
		if b == nil {
			continue
		}
		bc := b.Cursor()
		var k, v []byte
		if tenant == after && afterKey != nil {
			if k, v = bc.Seek(afterKey); k != nil && bytes.Equal(k, afterKey) {
				k, v = bc.Next()
			}
		} else {
			k, v = bc.First()
		}
		for ; k != nil; k, v = bc.Next() {
			if done, err := fn(tenant, k, v); done || err != nil {
				return err
			}
		}
	}
	return nil
}

// readRepSub returns a rep's sub-bucket in a read transaction, or nil.
func readRepSub(tx *bolt.Tx, tenant dwell.TenantID, rep dwell.RepID, name []byte) *bolt.Bucket {
	all := readTenantSub(tx, tenant, bktRepData)
	if all == nil {
		return nil
	}
	rb := all.Bucket([]byte(rep))
	if rb == nil {
		return nil
	}
	return rb.Bucket(name)
}

// checkTenant returns a dwell.Invalid error if id cannot name a tenant.
func checkTenant(op dwell.Op, id dwell.TenantID) error {
	if id == "" || len(id) > dwell.MaxIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "tenant", Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
	}
	return nil
}

// checkID returns a dwell.Invalid error naming field if id is empty or too
// long.
func checkID(op dwell.Op, field, id string) error {
	if id == "" || len(id) > dwell.MaxIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: field, Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
	}
	return nil
}

// isFileAt reports whether f is the file now at path.
func isFileAt(f *os.File, path string) bool {
	open, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(open, now)
}
