package server

import (
	"slices"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestInsertRowError checks that a row error found late (a row the store
// refused after later rows were checked) lands in row order, and that the
// list keeps the first maxImportErrors rows.
func TestInsertRowError(t *testing.T) {
	vs := []dwell.Violation{{Field: "team", Description: "team north does not exist"}}
	rows := func(errs []*dwellv1.ImportRowError) []int64 {
		var out []int64
		for _, e := range errs {
			out = append(out, e.GetRow())
		}
		return out
	}
	var errs []*dwellv1.ImportRowError
	for _, r := range []int64{3, 9} {
		errs = appendRowError(errs, r, "reps/x", vs)
	}
	for _, r := range []int64{5, 0, 12} {
		errs = insertRowError(errs, r, "reps/y", vs)
	}
	if got, want := rows(errs), []int64{0, 3, 5, 9, 12}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if fe := errs[0].GetFieldErrors(); errs[0].GetName() != "reps/y" || len(fe) != 1 || fe[0].GetField() != "team" {
		t.Fatalf("inserted error %v, want reps/y with one error on team", errs[0])
	}

	var full []*dwellv1.ImportRowError
	for r := range int64(maxImportErrors) {
		full = appendRowError(full, 2*r+1, "reps/x", vs) // odd rows 1, 3, ...
	}
	last := full[maxImportErrors-1].GetRow()
	if got := insertRowError(full, last+1, "reps/z", vs); len(got) != maxImportErrors || got[maxImportErrors-1].GetRow() != last {
		t.Fatalf("a row after a full list's last was kept: %d errors, last row %d", len(got), got[len(got)-1].GetRow())
	}
	got := insertRowError(full, 0, "reps/z", vs)
	if len(got) != maxImportErrors || got[0].GetRow() != 0 || got[maxImportErrors-1].GetRow() != last-2 {
		t.Fatalf("row 0 into a full list: %d errors, rows %d..%d; want %d, 0..%d", len(got), got[0].GetRow(), got[len(got)-1].GetRow(), maxImportErrors, last-2)
	}
}
