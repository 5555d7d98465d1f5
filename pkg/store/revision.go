package store

import (
	"fmt"
	"time"

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

// CheckLife is the second precondition of a conditional write of a
// record that can be deleted and created again under its id (a client,
// rep, team or partner account; see the package doc): it returns nil if
// want is 0 or the write's record was created at created, the creation
// instant of the stored one, and otherwise the dwell.Conflict error the
// write fails with. Such a record created again starts again at revision
// 1, so the revision alone would let a write read from the deleted record
// (its fields, geofence included) replace the new one.
func CheckLife(what string, want int64, created, stored time.Time) error {
	if want == 0 || created.Equal(stored) {
		return nil
	}
	return dwell.E(dwell.Conflict, fmt.Sprintf("%s was deleted and created again since it was read (created %s, the write was based on the one created %s)",
		what, stored.UTC().Format(time.RFC3339Nano), created.UTC().Format(time.RFC3339Nano)))
}
