package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// BenchmarkBatchReads measures the three reads ingest makes per batch
// (GetSettings, PrunedBefore, ListTrackingState), beside one AppendFixes of
// a single fix as the baseline of a write's round trips.
func BenchmarkBatchReads(b *testing.B) {
	s := openPG(b, pgtest.DSN(b))
	ctx := context.Background()
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	if err := s.CreateRep(ctx, "acme", dwell.Rep{ID: "r1", DisplayName: "R1", TimeZone: "Asia/Jakarta"}); err != nil {
		b.Fatal(err)
	}
	b.Run("reads", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetSettings(ctx, "acme"); err != nil {
				b.Fatal(err)
			}
			if _, err := s.PrunedBefore(ctx, "acme", "r1"); err != nil {
				b.Fatal(err)
			}
			if _, err := s.ListTrackingState(ctx, "acme", "r1", now.Add(-time.Hour), now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append1", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := s.AppendFixes(ctx, "acme", "r1", []dwell.Fix{testFix(time.Duration(i).String(), now.Add(time.Duration(i)*time.Second))}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
