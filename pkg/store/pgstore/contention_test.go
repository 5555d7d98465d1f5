package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestClientWriteUnderIngest updates a client, which marks every recent
// rep-day of the tenant, while phones upload without pause for 60 reps of
// the tenant, each batch bumping its rep's day. A client write must not be
// starved by the uploads (each of which touches a row it also updates),
// and no upload may fail.
func TestClientWriteUnderIngest(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	s := openAt(t, now)
	ctx := context.Background()
	const reps = 60
	for r := range reps {
		fs := make([]dwell.Fix, 30)
		for d := range fs {
			fs[d] = testFix(fmt.Sprint("old", d), now.AddDate(0, 0, -d))
		}
		if _, err := s.AppendFixes(ctx, "acme", dwell.RepID(fmt.Sprintf("r%03d", r)), fs); err != nil {
			t.Fatalf("AppendFixes: %v", err)
		}
	}
	c := dwell.Client{ID: "c1", Kind: dwell.ClientKindProspect}
	if err := s.CreateClient(ctx, "acme", c); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	stop := make(chan struct{})
	var uploads atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range errs {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rep := dwell.RepID(fmt.Sprintf("r%03d", (i*len(errs)+w)%reps))
				f := testFix(fmt.Sprintf("w%d-%d", w, i), now.Add(-time.Duration(i%600)*time.Second))
				if _, err := s.AppendFixes(ctx, "acme", rep, []dwell.Fix{f}); err != nil {
					errs[w] = err
					return
				}
				uploads.Add(1)
			}
		})
	}
	var updateErr error
	for range 5 {
		if updateErr = s.UpdateClient(ctx, "acme", c); updateErr != nil {
			break
		}
	}
	close(stop)
	wg.Wait()
	if updateErr != nil {
		t.Fatalf("UpdateClient beside %d uploads: %v", uploads.Load(), updateErr)
	}
	for w, err := range errs {
		if err != nil {
			t.Fatalf("uploader %d: %v", w, err)
		}
	}
	t.Logf("%d uploads beside 5 client updates", uploads.Load())
}
