package dwell_test

import (
	"errors"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestReasonOf: an error's reason is the first one named in its chain by
// an error of its kind, else its kind's default; a reason of a wrapped
// error of another kind is not taken.
func TestReasonOf(t *testing.T) {
	const op = dwell.Op("test.Op")
	stale := dwell.E(dwell.Conflict, dwell.ReasonEtagMismatch, "stale")
	for _, c := range []struct {
		what string
		err  error
		want dwell.Reason
	}{
		{"a kind alone", dwell.E(op, dwell.NotFound, "missing"), dwell.ReasonNotFound},
		{"a reason named", dwell.E(op, dwell.FailedPrecondition, dwell.ReasonLogRestored), dwell.ReasonLogRestored},
		{"a reason wrapped by an op", dwell.E(op, stale), dwell.ReasonEtagMismatch},
		{"a reason wrapped by a message of the same kind", dwell.E(op, dwell.Conflict, "gave up", stale), dwell.ReasonEtagMismatch},
		{"the outer reason first", dwell.E(op, dwell.Conflict, dwell.ReasonConcurrentUpdates, stale), dwell.ReasonConcurrentUpdates},
		{"a reason of another kind", dwell.E(op, dwell.Unavailable, stale), dwell.ReasonStoreUnavailable},
		{"a foreign error", errors.New("disk"), dwell.ReasonInternal},
		{"nil", nil, dwell.ReasonInternal},
	} {
		if got := dwell.ReasonOf(c.err); got != c.want {
			t.Errorf("%s: ReasonOf(%v) = %q, want %q", c.what, c.err, got, c.want)
		}
	}
}
