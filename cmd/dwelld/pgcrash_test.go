package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// TestAcknowledgedFixesSurvivePostgresKill9 uploads to dwelld on
// PostgreSQL, kills the database server (every process of it, SIGKILL)
// while uploads run, and restarts it. While it is down an upload is
// refused UNAVAILABLE (a phone retries that), never acknowledged; once it
// is back, the same dwelld, not restarted, accepts uploads again; and
// every fix acknowledged as accepted, before the kill or after, is stored:
// uploaded again, each comes back DUPLICATE.
func TestAcknowledgedFixesSurvivePostgresKill9(t *testing.T) {
	pg := pgtest.Start(t)
	dsn := pg.DSN(t)
	m, srvLog := startPG(t, filepath.Join(t.TempDir(), "d"), []string{"--postgres", dsn}, nil)
	defer func() {
		if t.Failed() {
			t.Logf("dwelld log:\n%s", srvLog.String())
		}
	}()
	conn := dial(t, m.Addr())

	keys, err := pgstore.ReadSigningKeys(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := auth.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	token := func(ctx context.Context, subject string, role dwell.Role) context.Context {
		tok, err := kr.Mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: subject, Role: role}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}
	const reps = 4
	dc := dwellv1.NewDirectoryServiceClient(conn)
	for r := range reps {
		if _, err := dc.CreateRep(token(t.Context(), "admin", dwell.RoleAdmin), &dwellv1.CreateRepRequest{RepId: fmt.Sprintf("r%d", r), Rep: &dwellv1.Rep{DisplayName: "R", TimeZone: "UTC"}}); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu        sync.Mutex
		acked     = map[string]bool{} // "rep/fixid"
		refused   = map[codes.Code]int{}
		afterBack atomic.Int64 // batches acknowledged after the restart
		back      atomic.Bool
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	base := time.Now().Add(-time.Hour)
	ic := dwellv1.NewIngestServiceClient(conn)
	for r := range reps {
		rctx := token(context.Background(), fmt.Sprintf("r%d", r), dwell.RoleRep)
		wg.Go(func() {
			for b := 0; !stop.Load(); b++ {
				var fs []*dwellv1.Fix
				for i := range 50 {
					k := b*50 + i
					fs = append(fs, &dwellv1.Fix{Id: fmt.Sprintf("f%d", k), DeviceTime: timestamppb.New(base.Add(time.Duration(k) * time.Millisecond)),
						Position: &dwellv1.LatLng{Lat: 1, Lng: 1}, AccuracyMeters: 5})
				}
				ctx, cancel := context.WithTimeout(rctx, 10*time.Second)
				resp, err := ic.UploadPings(ctx, &dwellv1.UploadPingsRequest{Fixes: fs})
				cancel()
				mu.Lock()
				if err != nil {
					refused[status.Code(err)]++
					mu.Unlock()
					time.Sleep(20 * time.Millisecond) // as a phone backs off
					continue
				}
				for _, res := range resp.GetAck().GetResults() {
					if res.GetStatus() == dwellv1.FixStatus_FIX_STATUS_ACCEPTED {
						acked[fmt.Sprintf("r%d/%s", r, res.GetId())] = true
					}
				}
				mu.Unlock()
				if back.Load() {
					afterBack.Add(1)
				}
			}
		})
	}
	// Uploads run until some fixes of every rep are acknowledged.
	var before int
	for deadline := time.Now().Add(30 * time.Second); before < reps*100; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d fixes acknowledged in 30 s before the kill", before)
		}
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		before = len(acked)
		mu.Unlock()
	}
	pg.Kill(t)
	time.Sleep(700 * time.Millisecond) // uploads meet the dead database
	pg.Restart(t)
	back.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for afterBack.Load() < 2*reps && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if n := afterBack.Load(); n < 2*reps {
		t.Fatalf("%d batches acknowledged in 30 s after the database came back, want %d: dwelld did not recover", n, 2*reps)
	}
	if refused[codes.Unavailable] == 0 {
		t.Fatalf("no upload was refused while the database was down (refusals by code: %v)", refused)
	}
	for code, n := range refused {
		if code != codes.Unavailable {
			t.Fatalf("%d uploads refused %v while the database was down, want UNAVAILABLE only (refusals by code: %v)", n, code, refused)
		}
	}

	// Re-upload every acknowledged fix: each must come back DUPLICATE.
	for r := range reps {
		rctx := token(t.Context(), fmt.Sprintf("r%d", r), dwell.RoleRep)
		var fs []*dwellv1.Fix
		for key := range acked {
			rep, id, _ := strings.Cut(key, "/")
			if rep == fmt.Sprintf("r%d", r) {
				fs = append(fs, &dwellv1.Fix{Id: id, DeviceTime: timestamppb.New(base), Position: &dwellv1.LatLng{Lat: 1, Lng: 1}, AccuracyMeters: 5})
			}
		}
		for len(fs) > 0 {
			n := min(len(fs), dwell.MaxFixesPerBatch)
			resp, err := ic.UploadPings(rctx, &dwellv1.UploadPingsRequest{Fixes: fs[:n]})
			if err != nil {
				t.Fatalf("re-upload: %v", err)
			}
			if a := resp.GetAck(); a.GetDuplicates() != int32(n) {
				t.Fatalf("rep r%d: %d of %d acknowledged fixes were lost in the database's crash", r, int32(n)-a.GetDuplicates(), n)
			}
			fs = fs[n:]
		}
	}
	t.Logf("%d fixes acknowledged (%d before the kill), all present; refusals while down: %v", len(acked), before, refused)
}
