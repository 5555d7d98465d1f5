package server

import "testing"

// TestNamedRepsViolationsBounded: a request may hold 128 KiB of rep names
// (tens of thousands); their repeats are looked for among the first 1,001
// names only, so the violations built stay bounded.
func TestNamedRepsViolationsBounded(t *testing.T) {
	vs := namedRepsViolations(make([]string, 60000))
	if len(vs) > maxPageSize+1 || len(vs) == 0 || vs[0].Field != "reps" {
		t.Errorf("%d violations for 60,000 names (first %v), want the count's and at most %d repeats", len(vs), vs[:min(len(vs), 1)], maxPageSize)
	}
}
