package pgstore_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/dwellhq/dwell/pkg/store"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
	"github.com/dwellhq/dwell/pkg/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// dsns remembers the database of every store the harness opened, for
// Reopen.
var dsns sync.Map // *pgstore.Store -> string

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s := openPG(t, dsn)
	dsns.Store(s, dsn)
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) store.Store { return open(t, pgtest.DSN(t)) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			dsn, ok := dsns.Load(s)
			if !ok {
				t.Fatal("Reopen of a store the harness did not open")
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, dsn.(string))
		},
	})
}

// TestOpenConcurrently opens one empty database from several stores at
// once: the schema is created once, under the advisory lock, and every
// Open succeeds.
func TestOpenConcurrently(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}
