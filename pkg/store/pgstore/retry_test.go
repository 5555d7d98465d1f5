package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

// abort makes PostgreSQL abort tx with SQLSTATE code, as it does a
// transaction that lost a serialization conflict (40001) or a deadlock
// (40P01).
func abort(ctx context.Context, tx pgx.Tx, code string) error {
	_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'made to fail' USING ERRCODE = '`+code+`'; END $$`)
	return err
}

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), pgtest.DSN(t), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestRetryOutlastsContention: a write aborted 30 times in a row (more than
// the 20 attempts that once refused an upload racing the refresher in CI)
// still commits within the retry budget, and every abort is counted.
func TestRetryOutlastsContention(t *testing.T) {
	s := openInternal(t)
	const aborts = 30
	attempts := 0
	err := s.write(context.Background(), "test.write", func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		if attempts <= aborts {
			code := "40001"
			if attempts%2 == 0 {
				code = "40P01"
			}
			return abort(ctx, tx, code)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write after %d aborts: %v", aborts, err)
	}
	if attempts != aborts+1 {
		t.Errorf("attempts = %d, want %d", attempts, aborts+1)
	}
	if got := s.Stats().Retries; got != aborts {
		t.Errorf("Stats().Retries = %d, want %d", got, aborts)
	}
}

// TestRetryGivesUp: a write that is aborted at every attempt fails once the
// budget is spent, with the database's error, and other errors are not run
// again.
func TestRetryGivesUp(t *testing.T) {
	s := openInternal(t)
	s.retryBudget = 300 * time.Millisecond
	attempts := 0
	start := time.Now()
	err := s.write(context.Background(), "test.write", func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		return abort(ctx, tx, "40001")
	})
	elapsed := time.Since(start)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "40001" || dwell.KindOf(err) != dwell.Other {
		t.Fatalf("write aborted every time = %v (kind %v), want the 40001 error, kind Other", err, dwell.KindOf(err))
	}
	if attempts < 2 || elapsed < s.retryBudget {
		t.Errorf("gave up after %d attempts and %v, want several attempts over at least %v", attempts, elapsed, s.retryBudget)
	}

	attempts = 0
	err = s.write(context.Background(), "test.write", func(ctx context.Context, tx pgx.Tx) error {
		attempts++
		return abort(ctx, tx, "23505")
	})
	if err == nil || attempts != 1 {
		t.Errorf("write failing with a unique violation = %v after %d attempts, want its error after 1", err, attempts)
	}
}

// TestRetryWait: waits grow from about 1 ms and stop growing at
// retryWaitMax, each within half of its nominal value either way.
func TestRetryWait(t *testing.T) {
	for _, c := range []struct {
		attempt int
		nominal time.Duration
	}{{1, time.Millisecond}, {2, 2 * time.Millisecond}, {4, 8 * time.Millisecond}, {7, retryWaitMax}, {60, retryWaitMax}} {
		for range 100 {
			if d := retryWait(c.attempt); d < c.nominal/2 || d >= c.nominal*3/2 {
				t.Fatalf("retryWait(%d) = %v, want in [%v, %v)", c.attempt, d, c.nominal/2, c.nominal*3/2)
			}
		}
	}
}
