//go:build unix

package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// HoldFile takes a shared lock on the store file at path, the lock bbolt
// takes to read a file (flock(2), LOCK_SH), and returns the function that
// releases it. A file that an open Store holds (bbolt's exclusive lock) is
// refused at once, without waiting, as dwell.FailedPrecondition with
// ErrLocked in the chain; a missing file is dwell.NotFound.
//
// While the lock is held, Open of the file waits for it (up to its 5
// seconds). dwellctl backup holds it while it renames a new copy over the
// file, so that it never replaces the file under a running dwelld: that
// dwelld would go on writing to the old, unlinked file, and lose at its
// next start everything it acknowledged meanwhile.
func HoldFile(path string) (release func(), err error) {
	const op = dwell.Op("boltstore.HoldFile")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dwell.E(op, dwell.NotFound, fmt.Sprintf("%s does not exist", path), err)
	}
	if err != nil {
		return nil, dwell.E(op, dwell.Other, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, syscall.EWOULDBLOCK):
		f.Close()
		return nil, dwell.E(op, dwell.FailedPrecondition, fmt.Sprintf("locking %s", path), ErrLocked)
	case err != nil:
		f.Close()
		return nil, dwell.E(op, dwell.Other, fmt.Sprintf("locking %s", path), err)
	}
	return func() { f.Close() }, nil // closing the file releases its lock
}
