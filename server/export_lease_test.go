package server

// Leading reports whether s holds its store's background lease and runs
// the refresher and the silence sweeper under it, for the external tests:
// on such a store the refresher runs only under the lease.
func Leading(s *Server) bool { _, ok := s.store.(leaser); return ok && s.refresh.running() }

// Refreshing reports whether s's background summary refresher runs.
func Refreshing(s *Server) bool { return s.refresh.running() }
