package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// importRows streams rows to ImportClients as acme's admin, 1,000 a
// message, and returns the answer.
func importRows(t *testing.T, e *env, rows []*dwellv1.Client) (*dwellv1.ImportClientsResponse, error) {
	t.Helper()
	stream, err := e.dirc.ImportClients(e.admin(acme))
	if err != nil {
		t.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(len(rows), 1000)
		if err := stream.Send(&dwellv1.ImportClientsRequest{Clients: rows[:n]}); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	return stream.CloseAndRecv()
}

// TestImportOfManyBadRowsAnswers imports 60,000 rows of which 50,000 lack
// a kind (a partner's export with a systematic defect). The answer must
// still reach a client with gRPC's default 4 MiB receive limit, count every
// row, list the first bad rows, and the good rows must be stored.
func TestImportOfManyBadRowsAnswers(t *testing.T) {
	e := newEnv(t)
	const n, good = 60000, 10000
	rows := make([]*dwellv1.Client, n)
	for i := range rows {
		rows[i] = circleClient(fmt.Sprintf("imp-%05d", i), -6.2+float64(i%100)*0.001, 106.8+float64(i/100)*0.001, 60)
		if i >= good {
			rows[i].Kind = dwellv1.ClientKind_CLIENT_KIND_UNSPECIFIED
		}
	}
	resp, err := importRows(t, e, rows)
	if err != nil {
		t.Fatalf("ImportClients: %v", err)
	}
	if resp.GetReceived() != n || resp.GetStored() != good {
		t.Fatalf("import = received %d stored %d; want %d, %d", resp.GetReceived(), resp.GetStored(), n, good)
	}
	errs := resp.GetErrors()
	if len(errs) == 0 || len(errs) > n-good {
		t.Fatalf("%d row errors, want from 1 to %d", len(errs), n-good)
	}
	for i, re := range errs {
		if re.GetRow() != int64(good+i) || len(re.GetFieldErrors()) != 1 || re.GetFieldErrors()[0].GetField() != "kind" {
			t.Fatalf("row error %d = %v, want row %d with a violation on kind", i, re, good+i)
		}
	}
	cs, _, err := e.st.ListClients(t.Context(), acme, store.ClientFilter{}, store.Page{Limit: n})
	if err != nil || len(cs) != good {
		t.Fatalf("stored clients = %d, %v; want %d", len(cs), err, good)
	}

	// Rows whose names are 100 KB long: the answer names each row, but
	// does not echo 10 MB of names.
	rows = rows[:0]
	for i := range 100 {
		rows = append(rows, circleClient(fmt.Sprintf("%05d%s", i, strings.Repeat("x", 100000)), 0, 0, 50))
	}
	resp, err = importRows(t, e, rows)
	if err != nil || resp.GetStored() != 0 || len(resp.GetErrors()) != 100 {
		t.Fatalf("import of long names = %d stored, %d errors, %v; want 0 stored, 100 errors", resp.GetStored(), len(resp.GetErrors()), err)
	}
	for i, re := range resp.GetErrors() {
		if want := fmt.Sprintf("clients/%05d", i); !strings.HasPrefix(re.GetName(), want) || len(re.GetName()) > 1000 {
			t.Fatalf("row %d error names %d bytes %.20q..., want a short prefix of %q...", i, len(re.GetName()), re.GetName(), want)
		}
	}
}

// TestImportStoppedSaysWhatIsStored stops the store in the middle of an
// import whose rows 3 and 7 are bad: the call fails with the store's
// UNAVAILABLE, and its message says truly which rows are stored (the good
// rows before the chunk that failed), not "rows 0 to N" by count.
func TestImportStoppedSaysWhatIsStored(t *testing.T) {
	e := newEnv(t)
	stream, err := e.dirc.ImportClients(e.admin(acme))
	if err != nil {
		t.Fatal(err)
	}
	const first = 1002 // two bad rows: the first chunk of 1,000 ends at row 1001
	var rows []*dwellv1.Client
	for i := range first + 10 {
		c := circleClient(fmt.Sprintf("imp-%05d", i), -6.2, 106.8, 60)
		if i == 3 || i == 7 {
			c.DisplayName = ""
		}
		rows = append(rows, c)
	}
	if err := stream.Send(&dwellv1.ImportClientsRequest{Clients: rows[:first]}); err != nil {
		t.Fatal(err)
	}
	// The first chunk is durable once a second message is read after it.
	if err := stream.Send(&dwellv1.ImportClientsRequest{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cs, _, err := e.st.ListClients(t.Context(), acme, store.ClientFilter{}, store.Page{Limit: 2000})
		if err == nil && len(cs) == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first chunk was not stored: %d clients, %v", len(cs), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&dwellv1.ImportClientsRequest{Clients: rows[first:]}); err != nil {
		t.Fatal(err)
	}
	_, err = stream.CloseAndRecv()
	wantReason(t, "import with the store closed", err, codes.Unavailable, dwell.ReasonStoreUnavailable)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "row 1002") || !strings.Contains(msg, "1000 ") {
		t.Fatalf("message %q, want it to name row 1002 and the 1000 rows stored before it", msg)
	}
}
