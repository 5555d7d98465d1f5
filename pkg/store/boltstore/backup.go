package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Backup writes a consistent copy of the whole file to w while the store
// goes on serving reads and writes. The copy is the state of one read
// transaction: every write that returned before Backup was called is in it,
// none that starts after begin is called is, and it is a bbolt file that
// Open (or Verify) takes as it is, so restoring is using it as dwell.db.
//
// begin, if not nil, is called once the transaction is open and before the
// first byte is written, with the copy's length in bytes: exactly that many
// bytes are written if Backup returns nil. If begin returns an error,
// Backup writes nothing and returns it.
//
// Backup returns the number of bytes written. When ctx is done it stops
// within one write of at most 32 KiB and returns ctx's error (errors.Is
// holds); w then holds a torn copy that must be discarded. A closed store
// returns dwell.Unavailable.
//
// The transaction is a reader: the committer never waits for it, except to
// grow the memory map past its size (see mmapSize: once the file has
// doubled or grown by 4 GiB since Open), which waits for open readers and
// so for Backup to end. While it is open,
// pages the committer frees cannot be reused, so the file grows by what is
// written meanwhile. Close waits for a running Backup: cancel ctx first.
func (s *Store) Backup(ctx context.Context, w io.Writer, begin func(size int64) error) (int64, error) {
	const op = dwell.Op("boltstore.Backup")
	var n int64
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		n, err = writeTx(ctx, tx, w, begin)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy of the store file at path to w, as
// Backup does, for a file no Store holds open (dwelld stopped). It opens
// the file read-only, waiting up to timeout for its lock: a file a running
// store holds is dwell.FailedPrecondition, a missing one dwell.NotFound.
// While it runs, Open of the file waits for it (up to its 5 seconds).
func BackupFile(ctx context.Context, path string, timeout time.Duration, w io.Writer, begin func(size int64) error) (int64, error) {
	const op = dwell.Op("boltstore.BackupFile")
	if _, err := checkFile(path); err != nil {
		return 0, dwell.E(op, err)
	}
	db, err := openChecked(path, timeout)
	if errors.Is(err, bolt.ErrTimeout) {
		return 0, dwell.E(op, dwell.FailedPrecondition, fmt.Sprintf("%s is locked by another process (a running dwelld?)", path))
	}
	if err != nil {
		return 0, dwell.E(op, dwell.Invalid, fmt.Sprintf("%s is not a readable store file", path), err)
	}
	defer db.Close()
	var n int64
	err = db.View(func(tx *bolt.Tx) (err error) {
		n, err = writeTx(ctx, tx, w, begin)
		return err
	})
	if err != nil {
		return n, dwell.E(op, err)
	}
	return n, nil
}

// writeTx writes the whole file as of tx to w (see Backup).
func writeTx(ctx context.Context, tx *bolt.Tx, w io.Writer, begin func(size int64) error) (int64, error) {
	if begin != nil {
		if err := begin(tx.Size()); err != nil {
			return 0, err
		}
	}
	n, err := tx.WriteTo(ctxWriter{ctx, w})
	if cerr := ctx.Err(); cerr != nil {
		return n, cerr
	}
	return n, err
}

// ctxWriter is a Writer that refuses every write once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Contents is what a store file holds, as Verify reports it.
type Contents struct {
	// Bytes is the length of the file's committed data in bytes (the file
	// may be longer: bbolt grows it ahead of its data).
	Bytes int64
	// Tenants are the tenants that have a bucket in the file, in byte
	// order. A tenant is only listed once something was stored for it.
	Tenants []dwell.TenantID
	// Reps is the number of reps in the tenants' directories.
	Reps int
	// Fixes is the number of fixes stored, all tenants and reps.
	Fixes int64
	// Events is the number of events in the tenants' event logs.
	Events int64
}

// Verify opens the store file at path read-only and checks it: that the
// file is as long as its newest meta page says, that its page tree is
// well formed (checkFile: no page out of range, of the wrong type,
// reachable twice or pointing outside itself; before bbolt reads it, as
// bbolt trusts its file and crashes on such damage), bbolt's consistency
// check (every page reachable or free, never both; keys in order) and the
// layout version. It reports what the file holds. It waits up to timeout
// for the file's lock, so it fails on a file a running store holds
// (dwell.FailedPrecondition).
//
// A missing file is dwell.NotFound; a file that is not a store, is cut
// short or fails a check is dwell.Invalid, with the first problems found
// in its message. Verify reads the whole file twice: it takes about as
// long as reading it from disk twice, and memory of about 100 bytes per
// page (4 KiB).
func Verify(ctx context.Context, path string, timeout time.Duration) (Contents, error) {
	const op = dwell.Op("boltstore.Verify")
	if err := ctx.Err(); err != nil {
		return Contents{}, dwell.E(op, err)
	}
	size, err := checkFile(path)
	if err != nil {
		return Contents{}, dwell.E(op, err)
	}
	db, err := openChecked(path, timeout)
	if errors.Is(err, bolt.ErrTimeout) {
		return Contents{}, dwell.E(op, dwell.FailedPrecondition, fmt.Sprintf("%s is locked by another process (a running dwelld?)", path))
	}
	if err != nil {
		return Contents{}, dwell.E(op, dwell.Invalid, fmt.Sprintf("%s is not a readable store file", path), err)
	}
	defer db.Close()
	c := Contents{Bytes: size}
	err = db.View(func(tx *bolt.Tx) error {
		var problems []error
		for err := range tx.Check() {
			if len(problems) < 5 {
				problems = append(problems, err)
			}
		}
		if len(problems) > 0 {
			return dwell.E(dwell.Invalid, fmt.Sprintf("%s fails bbolt's consistency check", path), errors.Join(problems...))
		}
		meta := tx.Bucket(bktMeta)
		if meta == nil {
			return dwell.E(dwell.Invalid, fmt.Sprintf("%s holds no Dwell data (no meta bucket)", path))
		}
		if v := meta.Get(keyFormat); len(v) != 8 || binary.BigEndian.Uint64(v) != formatVersion {
			return dwell.E(dwell.Invalid, formatMismatch(path, v))
		}
		return contents(ctx, tx, &c)
	})
	if err != nil {
		return Contents{}, dwell.E(op, err)
	}
	return c, nil
}

// openChecked opens the bbolt file at path read-only. Open rebuilds the
// free-page list by walking every page and panics on the first problem the
// walk reports; the panic is turned into an error here, but bbolt's walking
// goroutine goes on over the closed transaction and may crash the process
// later. Call checkFile first: a file that passes it gives that walk
// nothing to report.
func openChecked(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
}

// contents counts what tx holds into c.
func contents(ctx context.Context, tx *bolt.Tx, c *Contents) error {
	prefix := tenantKey("")
	cur := tx.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = cur.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		tb := tx.Bucket(k)
		if tb == nil {
			continue
		}
		c.Tenants = append(c.Tenants, dwell.TenantID(k[len(prefix):]))
		if b := tb.Bucket(bktReps); b != nil {
			c.Reps += b.Stats().KeyN
		}
		if b := tb.Bucket(bktEvents); b != nil {
			c.Events += int64(b.Stats().KeyN)
		}
		all := tb.Bucket(bktRepData)
		if all == nil {
			continue
		}
		err := all.ForEachBucket(func(rep []byte) error {
			if fb := all.Bucket(rep).Bucket(bktFixes); fb != nil {
				c.Fixes += int64(fb.Stats().KeyN)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Before bbolt reads a file that is not known to be sound (a backup),
// checkFile walks its page tree with plain reads. bbolt maps the file and
// trusts it: a page past the end of a cut-short file faults, and a page
// of the wrong type, an element pointing outside its page or a cycle of
// pages panics or loops in goroutines of bbolt's own, where no recover
// reaches (its Open rebuilds the free-page list by walking every page).
// checkFile finds those first and reports them as errors.
//
// The on-disk format is bbolt's (version 2, unchanged since 2014), in the
// machine's byte order. A page starts with a 16-byte header: id (8),
// flags (2), count (2), overflow (4). The meta page (pages 0 and 1, the
// valid one with the higher transaction id wins) follows the header with
// magic, version, page size and flags (4 bytes each), the root bucket
// (its root page 8, sequence 8), the free list's page (8), the high-water
// page id (8), the transaction id (8) and an FNV-1a checksum of the 56
// bytes before it (8). A branch page's elements are 16 bytes each: key
// position (4, from the element), key size (4), child page (8). A leaf
// page's elements are flags (4, 1 for a bucket), position (4), key size
// (4), value size (4); a bucket's value starts with its root page (8) and
// sequence (8), and if that root is 0 the bucket's only page follows
// inline.
const (
	metaMagic     = 0xED0CDAED
	metaVersion   = 2
	pageHeader    = 16
	metaLen       = 64
	metaSummedLen = 56
	elemLen       = 16
	bucketHeader  = 16
	branchFlag    = 0x01
	leafFlag      = 0x02
	bucketFlag    = 0x01
	minPageSize   = 512
	maxPageSize   = 1 << 20
)

// fileMeta is what checkFile uses of a meta page.
type fileMeta struct {
	pageSize  int64
	root      uint64
	hwm, txid uint64
}

// checkFile checks the bbolt file at path as described above and returns
// the length of its committed data in bytes (high-water page id times page
// size). A missing file is dwell.NotFound; any problem is dwell.Invalid.
func checkFile(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, dwell.E(dwell.NotFound, fmt.Sprintf("%s does not exist", path), err)
	}
	if err != nil {
		return 0, dwell.E(dwell.Other, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, dwell.E(dwell.Other, err)
	}
	m, ok := readMeta(f, 0)
	if m1, ok1 := readMeta(f, m.pageSize); ok1 && (!ok || m1.txid > m.txid) {
		m, ok = m1, true
	}
	if !ok {
		// Meta page 0 is torn: find page 1 at the usual page sizes.
		for _, ps := range []int64{4096, 8192, 16384, 65536} {
			if m1, ok1 := readMeta(f, ps); ok1 && m1.pageSize == ps {
				m, ok = m1, true
				break
			}
		}
	}
	if !ok {
		return 0, dwell.E(dwell.Invalid, fmt.Sprintf("%s is not a bbolt file (no valid meta page)", path))
	}
	size := int64(m.hwm) * m.pageSize
	if m.hwm > uint64(fi.Size()) || size > fi.Size() {
		return 0, dwell.E(dwell.Invalid, fmt.Sprintf("%s is cut short: %d bytes, its meta page commits to %d", path, fi.Size(), size))
	}
	w := &pageWalk{f: f, m: m, seen: map[uint64]bool{}}
	if _, err := w.page(m.root, 0, nil, nil); err != nil {
		return 0, dwell.E(dwell.Invalid, fmt.Sprintf("%s fails bbolt's consistency check", path), err)
	}
	return size, nil
}

// readMeta reads the meta page at off and reports whether it is valid.
func readMeta(f io.ReaderAt, off int64) (fileMeta, bool) {
	var p [pageHeader + metaLen]byte
	if off < 0 {
		return fileMeta{}, false
	}
	if _, err := f.ReadAt(p[:], off); err != nil {
		return fileMeta{}, false
	}
	ne := binary.NativeEndian
	m := p[pageHeader:]
	if ne.Uint32(m) != metaMagic || ne.Uint32(m[4:]) != metaVersion {
		return fileMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:metaSummedLen])
	if h.Sum64() != ne.Uint64(m[metaSummedLen:]) {
		return fileMeta{}, false
	}
	fm := fileMeta{pageSize: int64(ne.Uint32(m[8:])), root: ne.Uint64(m[16:]), hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}
	if fm.pageSize < minPageSize || fm.pageSize > maxPageSize {
		return fileMeta{}, false
	}
	return fm, true
}

// pageWalk walks the page tree of one file.
type pageWalk struct {
	f    io.ReaderAt
	m    fileMeta
	seen map[uint64]bool
}

// maxDepth bounds the nesting of pages and buckets a walk follows; bbolt's
// trees are a few levels deep per bucket, and Dwell nests buckets 4 deep.
const maxDepth = 256

// page checks page id, a bucket's root or a branch's child, and what it
// points to, and returns the largest key under it. Its keys must lie in
// [lo, hi) (nil: unbounded), as bbolt's check requires.
func (w *pageWalk) page(id uint64, depth int, lo, hi []byte) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("page %d: nested more than %d deep", id, maxDepth)
	}
	if id < 2 || id >= w.m.hwm {
		return nil, fmt.Errorf("page id %d out of range [2, %d)", id, w.m.hwm)
	}
	if w.seen[id] {
		return nil, fmt.Errorf("page %d: reachable twice", id)
	}
	w.seen[id] = true
	var h [pageHeader]byte
	if _, err := w.f.ReadAt(h[:], int64(id)*w.m.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	ne := binary.NativeEndian
	if got := ne.Uint64(h[:]); got != id {
		return nil, fmt.Errorf("page %d: says it is page %d", id, got)
	}
	overflow := uint64(ne.Uint32(h[12:]))
	if overflow >= w.m.hwm-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the high-water mark %d", id, overflow, w.m.hwm)
	}
	for o := id + 1; o <= id+overflow; o++ {
		if w.seen[o] {
			return nil, fmt.Errorf("page %d: overflow page %d reachable twice", id, o)
		}
		w.seen[o] = true
	}
	p := make([]byte, int64(overflow+1)*w.m.pageSize)
	if _, err := w.f.ReadAt(p, int64(id)*w.m.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return w.node(fmt.Sprintf("page %d", id), p, depth, lo, hi)
}

// node checks the branch or leaf page p (its header included), whose keys
// must lie in [lo, hi), and returns its largest key (for a branch, the
// largest under its last child).
func (w *pageWalk) node(name string, p []byte, depth int, lo, hi []byte) ([]byte, error) {
	ne := binary.NativeEndian
	if len(p) < pageHeader {
		return nil, fmt.Errorf("%s: shorter than a page header", name)
	}
	flags, count := ne.Uint16(p[8:]), int(ne.Uint16(p[10:]))
	if flags != branchFlag && flags != leafFlag {
		return nil, fmt.Errorf("%s: flags %#x, want a branch or a leaf", name, flags)
	}
	if pageHeader+count*elemLen > len(p) {
		return nil, fmt.Errorf("%s: %d elements do not fit in %d bytes", name, count, len(p))
	}
	keys := make([][]byte, count)
	for i := range keys {
		off := pageHeader + i*elemLen
		e := p[off : off+elemLen]
		pos, ksize := int(ne.Uint32(e[4:])), int(ne.Uint32(e[8:]))
		if flags == branchFlag {
			pos, ksize = int(ne.Uint32(e)), int(ne.Uint32(e[4:]))
		}
		if off+pos+ksize > len(p) {
			return nil, fmt.Errorf("%s: element %d's key lies outside the page", name, i)
		}
		keys[i] = p[off+pos : off+pos+ksize]
	}
	var maxKey []byte
	prev := lo
	for i, key := range keys {
		if err := keyOrder(name, i, key, prev, hi); err != nil {
			return nil, err
		}
		off := pageHeader + i*elemLen
		e := p[off : off+elemLen]
		if flags == branchFlag {
			next := hi
			if i+1 < len(keys) {
				next = keys[i+1]
			}
			var err error
			if maxKey, err = w.page(ne.Uint64(e[8:]), depth+1, key, next); err != nil {
				return nil, err
			}
			prev = maxKey
			continue
		}
		prev, maxKey = key, key
		start := off + int(ne.Uint32(e[4:])) + len(key)
		vsize := int(ne.Uint32(e[12:]))
		if start+vsize > len(p) {
			return nil, fmt.Errorf("%s: element %d's value lies outside the page", name, i)
		}
		if ne.Uint32(e)&bucketFlag == 0 {
			continue
		}
		v := p[start : start+vsize]
		if len(v) < bucketHeader {
			return nil, fmt.Errorf("%s: element %d is a bucket of %d bytes", name, i, len(v))
		}
		// A bucket is a tree of its own, with keys unbounded.
		var err error
		if root := ne.Uint64(v); root != 0 {
			_, err = w.page(root, depth+1, nil, nil)
		} else { // inline: one leaf page inside the value
			_, err = w.node(fmt.Sprintf("%s element %d (inline bucket)", name, i), v[bucketHeader:], depth+1, nil, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	return maxKey, nil
}

// keyOrder checks key i of a page, as bbolt's check does: the first at
// least prev (the lower bound), each later one above prev (the key before
// it, or the largest under the child before it), all below hi.
func keyOrder(name string, i int, key, prev, hi []byte) error {
	switch c := bytes.Compare(prev, key); {
	case i == 0 && prev != nil && c > 0:
		return fmt.Errorf("%s: first key %x is below its lower bound %x", name, key, prev)
	case i > 0 && c >= 0:
		return fmt.Errorf("%s: key %d (%x) is not above the one before (%x)", name, i, key, prev)
	}
	if hi != nil && bytes.Compare(key, hi) >= 0 {
		return fmt.Errorf("%s: key %d (%x) is not below its upper bound %x", name, i, key, hi)
	}
	return nil
}
