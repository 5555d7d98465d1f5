package server

import "context"

// FeedSync waits until s's change feed has applied every change committed
// before the call, as the refresher does before deriving a page of marks;
// nil at once for a server without a feed.
func FeedSync(ctx context.Context, s *Server) error { return s.feed.sync(ctx) }
