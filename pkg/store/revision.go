package store

import (
	"fmt"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// CheckRevision is the precondition of a conditional write (see the
// package doc, "Revisions and conditional writes"): it returns nil if a
// write of the record what (as "client \"c1\"") based on revision want may
// replace the stored one, whose revision is stored (0: none is stored),
// and otherwise the dwell.Conflict error the write fails with. A want of 0
// always passes; dwell.RevisionAbsent passes only when none is stored.
// Every store checks with it, inside the write's transaction.
func CheckRevision(what string, want, stored int64) error {
	switch {
	case want == 0, want == stored, want == dwell.RevisionAbsent && stored == 0:
		return nil
	case want == dwell.RevisionAbsent:
		return dwell.E(dwell.Conflict, fmt.Sprintf("%s was stored (revision %d) since it was read", what, stored))
	case stored == 0:
		return dwell.E(dwell.Conflict, fmt.Sprintf("%s is not stored, and the write was based on its revision %d", what, want))
	}
	return dwell.E(dwell.Conflict, fmt.Sprintf("%s changed since it was read: revision %d is stored, the write was based on %d", what, stored, want))
}
