package server

// ClearDayCache empties the server's cache of decoded day summaries, so a
// benchmark can measure a report that decodes every day.
func ClearDayCache(s *Server) { s.days.clear() }

// CachedDays returns the number of decoded days the server caches.
func CachedDays(s *Server) int { return s.days.len() }
