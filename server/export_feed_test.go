package server

import "github.com/dwellhq/dwell/pkg/dwell"

// FenceCount returns how many fences the tenant's geofence index holds, or
// -1 if it is not built, for the external tests of the change feed.
func FenceCount(s *Server, t dwell.TenantID) int { return s.fences.size(t) }

// FeedReady returns a channel closed once the server's change feed has
// applied its first resync (it listens: no later change is missed), or a
// closed channel if the server has no feed.
func FeedReady(s *Server) <-chan struct{} {
	if s.feed == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return s.feed.ready
}

// FeedResyncs returns how many resyncs the server's change feed began and
// finished applying (0, 0 without a feed).
func FeedResyncs(s *Server) (begun, done int64) {
	if s.feed == nil {
		return 0, 0
	}
	return s.feed.resyncsBegun.Load(), s.feed.resyncsDone.Load()
}
