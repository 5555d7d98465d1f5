//go:build !linux

package pgstore

import "syscall"

// setUserTimeout does nothing outside Linux: keepalive alone bounds an
// idle connection there, and a query sent on a dead path waits for the
// operating system's retransmissions to give up.
func setUserTimeout(_, _ string, _ syscall.RawConn) error { return nil }
