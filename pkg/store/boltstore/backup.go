package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
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
// grow the memory map past its size (1 GiB at first, then in 1 GiB steps),
// which waits for open readers and so for Backup to end. While it is open,
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
	if _, err := committedSize(path); err != nil {
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

// Verify opens the store file at path read-only and checks it: bbolt's
// consistency check of every page (each reachable once, none both
// reachable and free, every key in order), the layout version, and that
// the file is as long as its newest meta page says. It reports what the
// file holds. It waits up to timeout for the file's lock, so it fails on a
// file a running store holds (dwell.FailedPrecondition).
//
// Caveat: bbolt asserts, in a goroutine of its own where no recover
// reaches, that every page it walks has the id and a type it expects; a
// file whose page headers are damaged (not cut short: that is caught
// first) therefore crashes the process instead of failing Verify. Run
// Verify where a crash is a failure too, as dwellctl backup does: it
// renames the copy into place only after Verify returns nil.
//
// A missing file is dwell.NotFound; a file that is not a store, is
// truncated or fails a check is dwell.Invalid, with the first problems
// found in its message. Verify reads the whole file: it takes about as long
// as reading it from disk, and memory of about 40 bytes per page (4 KiB).
func Verify(ctx context.Context, path string, timeout time.Duration) (Contents, error) {
	const op = dwell.Op("boltstore.Verify")
	if err := ctx.Err(); err != nil {
		return Contents{}, dwell.E(op, err)
	}
	size, err := committedSize(path)
	if err != nil {
		return Contents{}, dwell.E(op, err)
	}
	// bbolt maps the file and reads its pages in place: a page past the end
	// of a truncated file would fault, so committedSize checked the length
	// before any page is read.
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
		if err := walk(ctx, tx); err != nil {
			return dwell.E(dwell.Invalid, fmt.Sprintf("%s fails bbolt's consistency check", path), err)
		}
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
			return dwell.E(dwell.Invalid, fmt.Sprintf("%s has an unknown storage format %x", path, v))
		}
		return contents(ctx, tx, &c)
	})
	if err != nil {
		return Contents{}, dwell.E(op, err)
	}
	return c, nil
}

// openChecked opens the bbolt file at path read-only. Open rebuilds the
// free-page list by walking every page, and panics on the first problem
// the walk reports (keys out of order, a page reachable twice): that panic
// is turned into an error here.
func openChecked(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
}

// walk reads every key of every bucket in tx, and so every page reachable
// from its root, turning bbolt's panics at a malformed page (and faults
// reading the map) into an error.
func walk(ctx context.Context, tx *bolt.Tx) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed page: %v", r)
		}
	}()
	var bucket func(b *bolt.Bucket) error
	bucket = func(b *bolt.Bucket) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				continue
			}
			if sub := b.Bucket(k); sub != nil {
				if err := bucket(sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return bucket(b) })
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

// bbolt's on-disk meta page, as far as committedSize reads it: a 16-byte
// page header, then magic, version, page size and flags (4 bytes each),
// the root bucket (16), the free list's page (8), the high-water page id
// (8), the transaction id (8) and an FNV-1a checksum of everything from
// magic to the transaction id (8), in the machine's byte order.
const (
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	metaOff        = 16
	metaLen        = 64
	metaSummedLen  = 56
	metaPageSzOff  = metaOff + 8
	metaPgidOff    = metaOff + 40
	metaTxidOff    = metaOff + 48
	metaSumOff     = metaOff + 56
	metaMinPageLen = 1024
)

// committedSize returns the length of the data the newest valid meta page
// of the bbolt file at path commits to (its high-water page id times the
// page size), and an error of kind Invalid if the file is shorter than
// that: a copy cut short. It reads only the two meta pages.
func committedSize(path string) (int64, error) {
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
	var best struct {
		ok         bool
		txid, size uint64
	}
	read := func(off int64) {
		var p [metaOff + metaLen]byte
		if _, err := f.ReadAt(p[:], off); err != nil {
			return
		}
		ne := binary.NativeEndian
		m := p[metaOff:]
		if ne.Uint32(m) != metaMagic || ne.Uint32(m[4:]) != metaVersion {
			return
		}
		h := fnv.New64a()
		h.Write(m[:metaSummedLen])
		if h.Sum64() != ne.Uint64(p[metaSumOff:]) {
			return
		}
		pageSize := uint64(ne.Uint32(p[metaPageSzOff:]))
		if txid := ne.Uint64(p[metaTxidOff:]); !best.ok || txid > best.txid {
			best.ok, best.txid, best.size = true, txid, ne.Uint64(p[metaPgidOff:])*pageSize
		}
	}
	read(0)
	// The second meta page is one page in; the page size is in the first,
	// unless that one is torn: then try the usual sizes.
	var first [metaOff + metaLen]byte
	pageSizes := []int64{4096, 8192, 16384, 65536}
	if _, err := f.ReadAt(first[:], 0); err == nil {
		if ps := int64(binary.NativeEndian.Uint32(first[metaPageSzOff:])); ps >= metaMinPageLen {
			pageSizes = append([]int64{ps}, pageSizes...)
		}
	}
	for _, ps := range pageSizes {
		if ps < fi.Size() {
			read(ps)
		}
	}
	if !best.ok {
		return 0, dwell.E(dwell.Invalid, fmt.Sprintf("%s is not a bbolt file (no valid meta page)", path))
	}
	if int64(best.size) > fi.Size() || best.size > 1<<50 {
		return 0, dwell.E(dwell.Invalid, fmt.Sprintf("%s is cut short: %d bytes, its meta page commits to %d", path, fi.Size(), best.size))
	}
	return int64(best.size), nil
}
