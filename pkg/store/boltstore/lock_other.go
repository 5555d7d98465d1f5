//go:build !unix

package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// HoldFile would take a shared lock on the store file at path (see
// lock_unix.go). On systems without flock(2) it only checks that the file
// exists (dwell.NotFound otherwise): it cannot tell whether a Store holds
// it, and never reports ErrLocked.
func HoldFile(path string) (release func(), err error) {
	const op = dwell.Op("boltstore.HoldFile")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, dwell.E(op, dwell.NotFound, fmt.Sprintf("%s does not exist", path), err)
	} else if err != nil {
		return nil, dwell.E(op, dwell.Other, err)
	}
	return func() {}, nil
}
