package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestRowErrorsInRowOrder checks that a row error found late (a row the store
// refused after later rows were checked) lands in row order, and that the
// list keeps the first maxImportErrors rows.
func TestRowErrorsInRowOrder(t *testing.T) {
	vs := []dwell.Violation{{Field: "team", Description: "team north does not exist"}}
	rows := func(errs []*dwellv1.ImportRowError) []int64 {
		var out []int64
		for _, e := range errs {
			out = append(out, e.GetRow())
		}
		return out
	}
	var re rowErrors
	for _, r := range []int64{3, 9} {
		re.add(r, "reps/x", vs)
	}
	for _, r := range []int64{5, 0, 12} {
		re.add(r, "reps/y", vs)
	}
	errs := re.list
	if got, want := rows(errs), []int64{0, 3, 5, 9, 12}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if fe := errs[0].GetFieldErrors(); errs[0].GetName() != "reps/y" || len(fe) != 1 || fe[0].GetField() != "team" {
		t.Fatalf("inserted error %v, want reps/y with one error on team", errs[0])
	}

	var full rowErrors
	for r := range int64(maxImportErrors) {
		full.add(2*r+1, "reps/x", vs) // odd rows 1, 3, ...
	}
	last := full.list[maxImportErrors-1].GetRow()
	full.add(last+1, "reps/z", vs)
	if got := full.list; len(got) != maxImportErrors || got[maxImportErrors-1].GetRow() != last {
		t.Fatalf("a row after a full list's last was kept: %d errors, last row %d", len(got), got[len(got)-1].GetRow())
	}
	full.add(0, "reps/z", vs)
	got := full.list
	if len(got) != maxImportErrors || got[0].GetRow() != 0 || got[maxImportErrors-1].GetRow() != last-2 {
		t.Fatalf("row 0 into a full list: %d errors, rows %d..%d; want %d, 0..%d", len(got), got[0].GetRow(), got[len(got)-1].GetRow(), maxImportErrors, last-2)
	}
}

// TestRowErrorsBounded checks that a row lists its first maxRowFieldErrors
// violations and counts the others in one more, and that the list stops
// at maxImportErrorBytes, keeping the first rows.
func TestRowErrorsBounded(t *testing.T) {
	var vs []dwell.Violation
	for i := range 500 {
		vs = append(vs, dwell.Violation{Field: strings.Repeat("f", 600), Description: fmt.Sprintf("violation %d %s", i, strings.Repeat("d", 600))})
	}
	var re rowErrors
	for r := range int64(maxImportErrors) {
		re.add(r, "clients/x", vs)
	}
	first := re.list[0].GetFieldErrors()
	if len(first) != maxRowFieldErrors+1 || first[maxRowFieldErrors].GetField() != "" || !strings.HasPrefix(first[maxRowFieldErrors].GetDescription(), "490 more") {
		t.Fatalf("a row of 500 violations lists %d; the last: %v", len(first), first[len(first)-1])
	}
	for _, fe := range first[:maxRowFieldErrors] {
		if len(fe.GetField()) > maxStatusMessageBytes || len(fe.GetDescription()) > maxStatusMessageBytes {
			t.Fatalf("a field error of %d and %d bytes", len(fe.GetField()), len(fe.GetDescription()))
		}
	}
	resp := &dwellv1.ImportClientsResponse{Received: 1 << 40, Errors: re.list}
	if n := proto.Size(resp); n > maxImportErrorBytes+64 || !re.full || len(re.list) == 0 || re.list[len(re.list)-1].GetRow() != int64(len(re.list)-1) {
		t.Fatalf("answer of %d bytes, %d rows (full %v)", n, len(re.list), re.full)
	}
}
