package boltstore

import (
	"sync/atomic"
	"time"
)

// Commit describes one group commit (one bbolt read-write transaction), as
// told to Options.OnCommit.
type Commit struct {
	// Requests is the number of write requests in the group.
	Requests int
	// Items is the number of fixes and imported records the group carried.
	Items int
	// Write is how long the commit took to write its pages to the file and
	// make them durable: bbolt's write phase, the page writes, an fdatasync,
	// the meta page and a second fdatasync, which dominate it. With NoSync
	// it is the writes alone. Zero for a failed commit.
	Write time.Duration
	// Failed reports that the transaction was rolled back: a request failed
	// unexpectedly (the group is then retried one request per commit, each
	// told on its own) or the commit itself failed.
	Failed bool
}

// CommitFunc is told of every group commit. The committer calls it after
// the transaction has ended and before it answers the group's writers, so
// it must return at once (record a figure and return) and must not call
// the Store.
type CommitFunc func(Commit)

// Stats are a Store's cumulative figures since Open.
type Stats struct {
	// Commits is the number of group commits that succeeded; FailedCommits
	// those rolled back (see Commit.Failed).
	Commits, FailedCommits uint64
	// Requests is the number of write requests in the successful commits.
	Requests uint64
	// Syncs is the number of successful commits made durable with fsync
	// (Commits, or 0 with NoSync); SyncTime the sum of their Commit.Write,
	// in nanoseconds as a time.Duration.
	Syncs    uint64
	SyncTime time.Duration
}

// commitStats are the atomic counters behind Stats.
type commitStats struct {
	commits, failed, requests, syncs atomic.Uint64
	syncNanos                        atomic.Int64
}

// Stats returns the store's cumulative figures. It is safe to call at any
// time, from any goroutine, also after Close.
func (s *Store) Stats() Stats {
	return Stats{
		Commits:       s.stats.commits.Load(),
		FailedCommits: s.stats.failed.Load(),
		Requests:      s.stats.requests.Load(),
		Syncs:         s.stats.syncs.Load(),
		SyncTime:      time.Duration(s.stats.syncNanos.Load()),
	}
}

// noteCommit counts a group commit and tells Options.OnCommit of it. t is
// the group's transaction, nil if it never began.
func (s *Store) noteCommit(group []*request, t *txn, err error) {
	c := Commit{Requests: len(group), Failed: err != nil}
	for _, r := range group {
		c.Items += r.items
	}
	if err != nil {
		s.stats.failed.Add(1)
	} else {
		if t != nil {
			ts := t.tx.Stats()
			c.Write = ts.GetWriteTime()
		}
		s.stats.commits.Add(1)
		s.stats.requests.Add(uint64(len(group)))
		if !s.noSync {
			s.stats.syncs.Add(1)
			s.stats.syncNanos.Add(int64(c.Write))
		}
	}
	if s.onCommit != nil {
		s.onCommit(c)
	}
}
