package server

// ClearDayCache empties the server's cache of decoded day summaries, so a
// benchmark can measure a report that decodes every day.
func ClearDayCache(s *Server) { s.days.clear() }
