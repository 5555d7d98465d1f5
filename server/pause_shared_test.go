package server_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// pauseRaceStore is server A's PostgreSQL store, which lets the test run
// another server's call at one chosen point: right after A has read a
// rep's pauses for a batch and before it stores the batch.
type pauseRaceStore struct {
	*pgstore.Store
	once  sync.Once
	armed chan struct{} // closed when the next read of pauses should trigger
	then  func()
}

func (s *pauseRaceStore) ListTrackingState(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.TrackingChange, error) {
	out, err := s.Store.ListTrackingState(ctx, tenant, rep, from, to)
	select {
	case <-s.armed:
		s.once.Do(s.then)
	default:
	}
	return out, err
}

// TestPauseOnAnotherServer: a rep's batch goes to server A while its resume
// goes to server B, both on one database. B records the resume and deletes
// the paused time's fixes after A read the pauses (the pause still open,
// so the batch's fixes look fine) and before A stores the batch. A's
// per-rep pause lock does not reach B, so A must notice after storing:
// the batch's fixes in the paused time are deleted and rejected, and none
// is kept.
func TestPauseOnAnotherServer(t *testing.T) {
	t.Setenv(storeEnv, "postgres")
	dir := t.TempDir()
	dsn := pgtest.DSN(t)
	clock := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	race := &pauseRaceStore{armed: make(chan struct{})}
	a := &env{t: t, dir: dir, clock: clock, pgDSN: fmt.Sprintf("%s application_name=dwell-pause-a-%d", dsn, os.Getpid()),
		configure: func(c *server.Config) { race.Store = c.Store.(*pgstore.Store); c.Store = race }}
	a.start()
	t.Cleanup(a.stop)
	b := &env{t: t, dir: dir, clock: clock, pgDSN: dsn}
	b.start()
	t.Cleanup(b.stop)

	a.mustCreateUTCRep("pia")
	now := a.now()
	pauseAt, resumeAt := now.Add(-time.Hour), now.Add(-30*time.Minute)
	a.pause("pia", "p1", pauseAt)
	race.then = func() { b.resume("pia", "r1", resumeAt) }
	close(race.armed)

	// 09:00 to 09:59:30: the first 60 fall in the pause.
	batch := fixes("u", 120, now)
	paused := between(pauseAt, resumeAt)
	resp, err := a.ingest.UploadPings(a.as(acme, dwell.RoleRep, "pia"), &dwellv1.UploadPingsRequest{Fixes: batch})
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	race.once.Do(func() { ran = true })
	if ran {
		t.Fatal("B's resume never ran between A's read of the pauses and its write")
	}
	wantAck(t, "UploadPings on A", resp.GetAck(), batch, paused, dwellv1.FixStatus_FIX_STATUS_ACCEPTED)
	times := a.storedFixTimes("pia")
	for _, at := range times {
		if paused(at) {
			t.Fatalf("a fix at %v, in the pause B closed, was kept", at)
		}
	}
	if len(times) != 60 {
		t.Fatalf("%d fixes kept, want the 60 after the resume", len(times))
	}
}
