package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/timeline"
	"github.com/dwellhq/dwell/server"
)

// olderRelease is a store as a server of a release before derivation
// versions saw it: RederiveAll does nothing and records nothing.
type olderRelease struct{ store.Store }

func (olderRelease) RederiveAll(context.Context, uint64) (bool, error) { return false, nil }

// TestNewDerivationRederives upgrades a server: the summaries an older
// release stored are derived again when a server with a newer derivation
// starts (the recent day's data version is raised and its summary stored
// again from it), once: a restart of the same release marks nothing more.
func TestNewDerivationRederives(t *testing.T) {
	e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	e.configure = func(c *server.Config) { c.Store = olderRelease{c.Store} }
	e.start()
	t.Cleanup(e.stop)
	ctx := context.Background()
	createIda(t, e)
	e.mustCreateClient(e.admin(acme), "site", feedLat, feedLng, 60)
	stayDay(t, e)
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	date := dwell.Date{Year: 2026, Month: 11, Day: 20}
	summary := func() store.DaySummary {
		t.Helper()
		sum, _, err := e.st.GetDaySummary(ctx, acme, "ida", date)
		if err != nil {
			t.Fatalf("GetDaySummary: %v", err)
		}
		return sum
	}
	before := summary()
	if !before.Current() {
		t.Fatalf("the older release's summary is not current: %+v", before)
	}

	e.stop()
	e.configure = nil
	e.start() // the new release
	var after store.DaySummary
	eventually(t, "the day derived again by the new release", func() (bool, string) {
		after = summary()
		return after.Version > before.Version && after.Current(), fmt.Sprintf("version %d, summary of version %d", after.Version, after.SummaryVersion)
	})
	if marked, err := e.st.RederiveAll(ctx, timeline.Version); err != nil || marked {
		t.Errorf("RederiveAll(%d) after the new release started = %v, %v; want false (recorded), nil", timeline.Version, marked, err)
	}

	e.stop()
	e.start() // the same release again
	if err := e.srv.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if again := summary(); again.Version != after.Version {
		t.Errorf("a restart of the same release marked the day again: version %d, was %d", again.Version, after.Version)
	}
}
