package pgstore

import (
	"sync/atomic"
	"time"
)

// Stats are a Store's figures: its connection pool's now, and its
// transactions' since Open.
type Stats struct {
	// AcquiredConns are the pool's connections in use now; IdleConns
	// those open and idle; TotalConns both and those being opened;
	// MaxConns the pool's cap.
	AcquiredConns, IdleConns, TotalConns, MaxConns int32
	// Acquires is the number of connections taken from the pool since
	// Open; EmptyAcquires those that had to wait for one (none idle), and
	// AcquireWait the time all acquires spent waiting.
	Acquires, EmptyAcquires int64
	AcquireWait             time.Duration
	// Commits is the number of read-write transactions committed;
	// Retries the attempts PostgreSQL aborted for a serialization failure
	// or a deadlock and that were run again. The change feed's and the
	// lease's own connections are not counted.
	Commits, Retries uint64
}

// txStats are the atomic counters behind Stats.Commits and Retries.
type txStats struct {
	commits, retries atomic.Uint64
}

// Stats returns the store's figures. It is safe to call at any time, from
// any goroutine; after Close the pool's figures are zero.
func (s *Store) Stats() Stats {
	ps := s.pool.Stat()
	return Stats{
		AcquiredConns: ps.AcquiredConns(),
		IdleConns:     ps.IdleConns(),
		TotalConns:    ps.TotalConns(),
		MaxConns:      ps.MaxConns(),
		Acquires:      ps.AcquireCount(),
		EmptyAcquires: ps.EmptyAcquireCount(),
		AcquireWait:   ps.AcquireDuration(),
		Commits:       s.txs.commits.Load(),
		Retries:       s.txs.retries.Load(),
	}
}
