package server_test

import (
	"fmt"
	"runtime"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// TestImportClientsAnswerBounded: rows whose every vertex is bad (a
// polygon of 101 rings of 1,000 repeated vertices, 2 bytes each on the
// wire: 200,000 violations a row when each was listed) get an answer a
// default client receives (its 4 MiB limit), which lists each bad row with
// its first violations and a count of the others; the good row is stored,
// and the server allocates a bounded amount for the call.
func TestImportClientsAnswerBounded(t *testing.T) {
	e := newEnv(t)
	emptyRing := func() *dwellv1.LinearRing {
		r := &dwellv1.LinearRing{}
		for range 1000 {
			r.Vertices = append(r.Vertices, &dwellv1.LatLng{})
		}
		return r
	}
	bad := func(i int) *dwellv1.Client {
		pg := &dwellv1.Polygon{Shell: emptyRing()}
		for range 100 {
			pg.Holes = append(pg.Holes, emptyRing())
		}
		return &dwellv1.Client{Name: fmt.Sprintf("clients/bad-%d", i), DisplayName: "x", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
			Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: pg}}}
	}
	rows := []*dwellv1.Client{circleClient("good-1", -6.2, 106.8, 60)}
	for i := range 20 {
		rows = append(rows, bad(i))
	}
	req := &dwellv1.ImportClientsRequest{Clients: rows}
	wire, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	// Sent encoded already (rawCodec), so that what the call allocates is
	// the server's (and the answer's decoding).
	stream, err := e.dirc.ImportClients(e.admin(acme), grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before := allocated()
	if err := stream.SendMsg(wire); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	spent := allocated() - before
	if err != nil {
		t.Fatalf("an import of 21 rows (%d KB) with a default client: %v", len(wire)>>10, err)
	}
	t.Logf("request %d KB, answer %d bytes; the call allocated %d MB", len(wire)>>10, proto.Size(resp), spent>>20)
	if resp.GetReceived() != 21 || resp.GetStored() != 1 || len(resp.GetErrors()) != 20 {
		t.Fatalf("received %d stored %d, %d row errors; want 21, 1, 20", resp.GetReceived(), resp.GetStored(), len(resp.GetErrors()))
	}
	for _, re := range resp.GetErrors() {
		fe := re.GetFieldErrors()
		if len(fe) != 11 || fe[10].GetField() != "" {
			t.Fatalf("row %d lists %d field errors, want 10 and one counting the rest: %v", re.GetRow(), len(fe), fe)
		}
	}
	if n := proto.Size(resp); n > 64<<10 {
		t.Fatalf("the answer of 20 bad rows is %d bytes", n)
	}
	if spent > 600<<20 {
		t.Fatalf("an import of %d KB made the process allocate %d MB", len(wire)>>10, spent>>20)
	}
	cs, _, err := e.st.ListClients(t.Context(), acme, store.ClientFilter{}, store.Page{Limit: 100})
	if err != nil || len(cs) != 1 {
		t.Fatalf("clients stored: %d (%v), want 1", len(cs), err)
	}
}

// TestImportRepsAnswerBounded: reps of 100,000 empty working hours each
// (all invalid) get an answer that lists the first few of each.
func TestImportRepsAnswerBounded(t *testing.T) {
	e := newEnv(t)
	var rows []*dwellv1.Rep
	for i := range 10 {
		r := &dwellv1.Rep{Name: fmt.Sprintf("reps/r%d", i), DisplayName: "x", TimeZone: "Asia/Jakarta"}
		for range 100_000 {
			r.WorkingHours = append(r.WorkingHours, &dwellv1.WorkingHours{})
		}
		rows = append(rows, r)
	}
	stream, err := e.dirc.ImportReps(e.admin(acme))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&dwellv1.ImportRepsRequest{Reps: rows}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetErrors()) != 10 || resp.GetStored() != 0 {
		t.Fatalf("%d row errors, %d stored; want 10, 0", len(resp.GetErrors()), resp.GetStored())
	}
	if n := proto.Size(resp); n > 64<<10 {
		t.Fatalf("the answer of 10 bad rows is %d bytes", n)
	}
}
