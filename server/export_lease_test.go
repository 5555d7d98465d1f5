package server

// Leading reports whether s holds its store's background lease and runs
// the refresher and the silence sweeper under it, for the external tests.
func Leading(s *Server) bool { return s.leading.Load() }

// Refreshing reports whether s's background summary refresher runs.
func Refreshing(s *Server) bool { return s.refresh.running() }
